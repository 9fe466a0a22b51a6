"""Synonyms: a paraphrase finds the article a lexical engine alone would miss, the words as
typed still count, and queries without a known word or phrase are searched as they were."""

from __future__ import annotations

import pytest

from madad.db import Database
from madad.kb import bot, synonyms
from madad.kb.search import MAX_TERM, MAX_TERMS, STOPWORDS
from tests.kb.conftest import find, write


def expand(q: str) -> list[list[str]] | None:
    return synonyms.expand(
        q.split(), "en", stop=STOPWORDS["en"], max_terms=MAX_TERMS, max_term=MAX_TERM
    )


def test_phrases_become_what_they_mean_and_words_get_alternatives() -> None:
    assert expand("money back") == [["refund"]]
    assert expand("receipt for my payment") == [["receipt", "invoice"], ["payment"]]
    assert expand("2fa") == [["two"], ["factor"]]
    assert expand("how long does delivery to the uk take") == [
        ["long"], ["delivery", "shipping"], ["united"], ["kingdom"], ["take"],
    ]  # fmt: skip
    assert expand("reset password") is None  # nothing known: searched as typed
    assert expand("ur") is None
    assert expand("uk uk uk") == [["united"], ["kingdom"]]


def test_the_bot_weighs_a_phrase_as_its_meaning() -> None:
    assert bot.content_groups("Hi,\nI want my money back.\nThanks,\nAli", "en") == [["refund"]]
    assert bot.content_words("reset my password", "en") == ["reset", "password"]


@pytest.fixture
async def kb(db: Database) -> Database:
    await write(db, "Request a refund", "Refunds are possible within 14 days of a payment.")
    await write(db, "Return a backpack", "Your money back for a backpack within 30 days.")
    await write(db, "Download an invoice", "Every invoice is a PDF under Billing.")
    await write(db, "Cancel your subscription", "Billing → Plan → Cancel.")
    await write(db, "Contact us", "Write to us any time.")
    return db


async def test_paraphrases_find_their_articles_first(kb: Database) -> None:
    assert (await find(kb, "money back"))[0] == "request-a-refund"
    assert "return-a-backpack" in await find(kb, "money back")  # the words as typed still count
    assert (await find(kb, "receipt"))[0] == "download-an-invoice"
    assert (await find(kb, "unsubscribe"))[0] == "cancel-your-subscription"
    assert (await find(kb, "contact us"))[0] == "contact-us"


async def test_the_bot_offers_the_meaning_of_a_paraphrase(kb: Database) -> None:
    async with kb.session(write=False) as session:
        got = await bot.suggest(session, "I want my money back", lang="en")
    assert [s.slug for s in got][:1] == ["request-a-refund"]
