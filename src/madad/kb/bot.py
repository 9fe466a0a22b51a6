"""The answer bot: up to three published, public articles for a customer's question, offered
only when the knowledge base is confident it answers it — and the facts of what came of it.

`suggest(session, question, lang=…)` asks search for candidates, then scores each one itself
with `confidence` (a pure function): the share of the question's information the article
holds. Every content word of the question weighs its inverse document frequency in the
knowledge base (a word most articles use says little; a word the knowledge base has never seen
weighs most, so a question about something it does not cover scores low); a word found in the
article's title counts whole, found only in its text counts `BODY_CREDIT`. Greetings and
pleasantries ("hi", "thanks", "regards") are not content. The engines' own ranks are not used
as the confidence: bm25 and ts_rank are on different scales and comparable within one result
list only, whereas this score means the same on both databases and for every question.

`THRESHOLD` was chosen with `python bench/kb_search.py --bot` (the bench's 153 queries, its 54
questions again as short emails, and 30 questions the knowledge base does not answer; the same
figures on SQLite and PostgreSQL, table in docs/kb.md). Precision is flat, about 98 %, from
0.40 to 0.75, so the unanswerable questions set it: 0.50 is the lowest threshold that offers
none of them anything, and 0.55 keeps one step of margin above it. At 0.55 the bot answers
93 % of the answerable questions, 98 % of its offers hold an expected article, and it offers
nothing to the unanswerable ones. A phrase of the synonym table counts as what it means
(`kb.synonyms`: "money back" is weighed as "refund").

Facts (recorded through the functions below, by the chat and email channels):

- `kb.bot_offered`, channel `chat` | `email` | `portal`, ticket and contact when known, data
  `{"offer": token, "articles": [article ids, best first], "scores": [confidences],
  "score": the best confidence, "language", "session": the chat session's public id or null}`;
  the token (returned by `record_offered`) names the offer in its outcome.
- `kb.bot_resolved`: the customer said an offered article solved it; data `{"offer",
  "article_id": the article they chose, or null}`; same channel, ticket and contact as the offer.
- `kb.bot_handoff`: the customer asked for a person after an offer; data `{"offer",
  "reason": "asked" | "not_solved"}`. A handoff after a "that solved it" undoes the resolution
  in the metrics (see `metrics.kb`).
- `kb.bot_unanswered`: the bot was asked and found nothing it was confident about (the
  customer went to a person at once); data `{"question": the first QUESTION_KEPT characters,
  "language"}`, same channel, ticket and contact as an offer would have — the knowledge-base
  report lists them as articles to write.

The bot never writes a ticket message: what it offers is never an agent's reply and counts in
no agent metric (first response, requests per agent, one-touch read only `message.sent` facts
of author type `agent`). A channel that shows the bot's offer as a message stores it with author
type `bot`.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.activity.models import Activity
from madad.db import utcnow
from madad.errors import Invalid, NotFound
from madad.kb import search, service, synonyms
from madad.kb.content import check_language, words
from madad.kb.models import Article, SearchDocument

THRESHOLD = 0.55
MAX_SUGGESTIONS = 3
CANDIDATES = 10
BODY_CREDIT = 0.5  # a question word found in the article's text but not its title
CHANNELS = ("chat", "email", "portal")
HANDOFF_REASONS = ("asked", "not_solved")
OUTCOME_WINDOW = timedelta(days=7)  # an offer can be answered "solved" / "a person" this long
MAX_QUESTION = 4000  # characters of a question that are read (an email's first screens)
# Words of politeness and of the message itself: they say nothing about what is asked.
_CHATTER_EN = (
    "hi hello hey dear team thanks thank thx regards best kind kindly please pls help "
    "cheers sincerely greetings morning afternoon evening sir madam salam assalam "
    "alaikum wassalam asap urgent question query issue problem would like want wanted "
    "need could should know tell let just also still really very"
)
_CHATTER_UR = "السلام علیکم شکریہ براہ کرم مہربانی جناب مدد سوال مسئلہ"
CHATTER = {"en": frozenset(_CHATTER_EN.split()), "ur": frozenset(_CHATTER_UR.split())}


@dataclass(frozen=True)
class Term:
    """A content word of the question, the spellings that count as it, and its weight."""

    word: str
    spellings: tuple[str, ...]
    weight: float


@dataclass(frozen=True)
class Candidate:
    """An article search found, as the bot weighs it: the words of its title and text."""

    article_id: int
    slug: str
    language: str
    title: str
    title_words: frozenset[str]
    text_words: frozenset[str]


@dataclass(frozen=True)
class Suggestion:
    article_id: int
    slug: str
    language: str
    title: str
    path: str  # the article's page in the help centre, e.g. /help/articles/reset-your-password
    score: float  # confidence, 0–1


# --- the decision (pure) --------------------------------------------------------------------------


def same_word(a: str, b: str) -> bool:
    """Two words are one for the bot when equal, or when they share a beginning of at least
    four letters that leaves at most three letters of either ("refund" ~ "refunds", "charge" ~
    "charging", "cancel" ~ "cancelled"; "card" ≁ "care")."""
    if a == b:
        return True
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n >= 4 and len(a) - n <= 3 and len(b) - n <= 3


def _found(term: Term, vocabulary: frozenset[str]) -> bool:
    for spelling in term.spellings:
        if spelling in vocabulary or any(same_word(spelling, w) for w in vocabulary):
            return True
    return False


def confidence(terms: Sequence[Term], candidate: Candidate) -> float:
    """confidence = Σ weight(t) · credit(t) / Σ weight(t) over the question's content words t,
    credit 1 for a word in the title, BODY_CREDIT for one only in the text, 0 otherwise."""
    total = sum(t.weight for t in terms)
    if total <= 0:
        return 0.0
    got = 0.0
    for t in terms:
        if _found(t, candidate.title_words):
            got += t.weight
        elif _found(t, candidate.text_words):
            got += t.weight * BODY_CREDIT
    return got / total


def weight(document_frequency: int, documents: int) -> float:
    """Inverse document frequency, ln(1 + N / (1 + df)): a word no article has weighs most."""
    return math.log(1 + documents / (1 + document_frequency))


def decide(
    terms: Sequence[Term],
    candidates: Iterable[Candidate],
    *,
    threshold: float = THRESHOLD,
    limit: int = MAX_SUGGESTIONS,
) -> list[Suggestion]:
    """The candidates whose confidence reaches the threshold, most confident first (search's
    order among equals), at most `limit`."""
    scored = [(confidence(terms, c), i, c) for i, c in enumerate(candidates)]
    chosen = sorted((s for s in scored if s[0] >= threshold), key=lambda s: (-s[0], s[1]))
    return [
        Suggestion(
            c.article_id,
            c.slug,
            c.language,
            c.title,
            service.help_path(c.slug, c.language),
            round(score, 3),
        )
        for score, _, c in chosen[:limit]
    ]


_GREETING = re.compile(
    r"^(hi|hello|hey|dear|good (morning|afternoon|evening)|salam|assalam\S*|السلام)\b[^.?!]{0,40}$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^(thanks|thank you|many thanks|regards|kind regards|best( regards| wishes)?|cheers|"
    r"sincerely|yours( sincerely| truly)?|br|shukriya|شکریہ|والسلام)\b[^.?!]{0,30}$",
    re.IGNORECASE,
)


def question_of(message: str) -> str:
    """The question in a message: without a greeting line ("Hi Sana,") and without what
    follows a sign-off line ("Thanks,", "Regards," — and the name under it)."""
    lines = [line.strip() for line in message[:MAX_QUESTION].splitlines()]
    lines = [line for line in lines if line]
    if lines and _GREETING.match(lines[0].rstrip(",!")) and len(lines) > 1:
        lines = lines[1:]
    for i, line in enumerate(lines):
        if i > 0 and _SIGN_OFF.match(line.rstrip(",!.")):
            lines = lines[:i]
            break
    return "\n".join(lines)


def content_words(question: str, language: str) -> list[str]:
    """The words the bot weighs: search's terms of the question less the chatter of a
    message."""
    return [g[0] for g in content_groups(question, language)]


def _content(word: str, chatter: frozenset[str]) -> bool:
    # One letter alone is the tail of a contraction ("can't", "I'm"), not a word.
    return word not in chatter and (len(word) > 1 or word.isdigit())


def content_groups(question: str, language: str) -> list[list[str]]:
    """The question's content words, each with the synonyms that count as it (a phrase the
    synonym table knows stands for its meaning: "money back" is weighed as "refund")."""
    chatter = CHATTER.get(language, frozenset()) | CHATTER["en"]
    text = question_of(question)
    expanded = synonyms.expand(
        words(text),
        language,
        stop=search.STOPWORDS.get(language, frozenset()) | chatter,
        max_terms=search.MAX_TERMS,
        max_term=search.MAX_TERM,
    )
    if expanded is not None:
        return [g for g in expanded if _content(g[0], chatter)]
    return [[t] for t in search.terms_of(text, language) if _content(t, chatter)]


# --- fetching (the database around the decision) ------------------------------------------


async def _terms(session: AsyncSession, found: list[list[str]], language: str) -> list[Term]:
    vocab = await search.vocabulary(session, language)
    documents = max(1, await _documents(session, language))
    fixes = await search.corrections(session, [g[0] for g in found], language)
    out = []
    for word, *alternatives in found:
        spellings = tuple(dict.fromkeys((word, *alternatives, *fixes.get(word, ()))))
        df = max(vocab.frequency.get(s, 0) for s in spellings)
        out.append(Term(word, spellings, weight(df, documents)))
    return out


async def _documents(session: AsyncSession, language: str) -> int:
    vocab = await search.vocabulary(session, language)
    return int(vocab.stamp[0] or 0)  # the stamp's first part is the number of documents


async def candidates(
    session: AsyncSession, question: str, *, lang: str, limit: int = CANDIDATES
) -> list[Candidate]:
    """What search finds for the question among published, public articles, with their words."""
    found = await service.search_articles(
        session, question[:MAX_QUESTION], language=lang, include_internal=False, limit=limit
    )
    if not found.hits:
        return []
    keys = {(h.article_id, h.language) for h in found.hits}
    rows = await session.execute(
        select(
            SearchDocument.article_id,
            SearchDocument.language,
            SearchDocument.title,
            SearchDocument.text,
        )
        .join(Article, Article.id == SearchDocument.article_id)
        .where(
            SearchDocument.article_id.in_([k[0] for k in keys]),
            SearchDocument.internal.is_(False),
            Article.internal.is_(False),
        )
    )
    texts = {(a, lg): (t, x) for a, lg, t, x in rows if (a, lg) in keys}
    out = []
    for h in found.hits:
        if (h.article_id, h.language) not in texts:
            continue  # unpublished or made internal since search ran
        title, text = texts[(h.article_id, h.language)]
        out.append(
            Candidate(
                h.article_id,
                h.slug,
                h.language,
                h.title,
                frozenset(words(title)),
                frozenset(words(text)),
            )
        )
    return out


async def suggest(
    session: AsyncSession,
    question: str,
    *,
    lang: str,
    threshold: float = THRESHOLD,
    limit: int = MAX_SUGGESTIONS,
) -> list[Suggestion]:
    """Up to `limit` published, public articles that answer the question, only when confident
    (an empty list otherwise: the customer goes to a person as if there were no bot)."""
    check_language("lang", lang)
    found = await candidates(session, question_of(question), lang=lang)
    if not found:
        return []
    weighed: dict[str, list[Term]] = {}
    for language in {c.language for c in found}:
        weighed[language] = await _terms(session, content_groups(question, language), language)
    out: list[Suggestion] = []
    for language, terms in weighed.items():
        mine = [c for c in found if c.language == language]
        out += decide(terms, mine, threshold=threshold, limit=limit)
    order = {c.article_id: i for i, c in enumerate(found)}
    out.sort(key=lambda s: (-s.score, order[s.article_id]))
    return out[:limit]


def public_url(base_url: str, suggestion: Suggestion) -> str:
    """The suggestion's help-centre page as an absolute URL (for an email)."""
    return base_url.rstrip("/") + suggestion.path


# --- the facts -----------------------------------------------------------------------------------


def _channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise Invalid("channel", f"one of {', '.join(CHANNELS)}")
    return channel


QUESTION_KEPT = 500


def record_unanswered(
    session: AsyncSession,
    question: str,
    *,
    channel: str,
    language: str,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    at: datetime | None = None,
) -> None:
    """Record that the bot had no confident answer to this question."""
    facts.record(
        session,
        "kb.bot_unanswered",
        ticket_id=ticket_id,
        contact_id=contact_id,
        channel=_channel(channel),
        at=at,
        data={
            "question": " ".join((question or "").split())[:QUESTION_KEPT],
            "language": check_language("language", language),
        },
    )


def record_offered(
    session: AsyncSession,
    suggestions: Sequence[Suggestion],
    *,
    channel: str,
    language: str,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    chat_session: str | None = None,
    at: datetime | None = None,
) -> str:
    """Record that the bot offered these articles; returns the offer's token, which names it in
    `record_resolved` / `record_handoff`."""
    if not suggestions:
        raise Invalid("suggestions", "an offer has at least one article")
    if chat_session is not None and not (1 <= len(chat_session) <= 64):
        raise Invalid("chat_session", "a chat session's public id")
    token = secrets.token_hex(12)
    facts.record(
        session,
        "kb.bot_offered",
        ticket_id=ticket_id,
        contact_id=contact_id,
        channel=_channel(channel),
        at=at,
        data={
            "offer": token,
            "articles": [s.article_id for s in suggestions],
            "scores": [s.score for s in suggestions],
            "score": max(s.score for s in suggestions),
            "language": check_language("language", language),
            "session": chat_session,
        },
    )
    return token


async def _offer(
    session: AsyncSession, offer: str, at: datetime | None = None
) -> tuple[Activity, set[str]]:
    """The offer's fact and the outcomes already recorded for it."""
    if not isinstance(offer, str) or not 1 <= len(offer) <= 64:
        raise Invalid("offer", "an offer's token")
    await facts.flush_facts(session)  # an offer recorded in this transaction counts
    since = (at or utcnow()) - OUTCOME_WINDOW
    rows = (
        await session.scalars(
            select(Activity).where(
                Activity.kind.in_(("kb.bot_offered", "kb.bot_resolved", "kb.bot_handoff")),
                Activity.at >= since,
                Activity.data["offer"].as_string() == offer,
            )
        )
    ).all()
    offered = next((r for r in rows if r.kind == "kb.bot_offered"), None)
    if offered is None:
        raise NotFound("no such offer (or older than a week)")
    return offered, {r.kind for r in rows if r.kind != "kb.bot_offered"}


def _same_place(fact: Activity) -> dict[str, Any]:
    return {"ticket_id": fact.ticket_id, "contact_id": fact.contact_id, "channel": fact.channel}


async def record_resolved(
    session: AsyncSession,
    *,
    offer: str,
    article_id: int | None = None,
    at: datetime | None = None,
) -> bool:
    """The customer said the offer solved it (once per offer: False when already recorded)."""
    offered, done = await _offer(session, offer, at)
    if article_id is not None and article_id not in offered.data.get("articles", []):
        raise Invalid("article_id", "not one of the offered articles")
    if "kb.bot_resolved" in done:
        return False
    facts.record(
        session,
        "kb.bot_resolved",
        **_same_place(offered),
        at=at,
        data={"offer": offer, "article_id": article_id},
    )
    return True


async def record_handoff(
    session: AsyncSession, *, offer: str, reason: str = "asked", at: datetime | None = None
) -> bool:
    """The customer asked for a person after the offer (once per offer: False when already)."""
    if reason not in HANDOFF_REASONS:
        raise Invalid("reason", f"one of {', '.join(HANDOFF_REASONS)}")
    offered, done = await _offer(session, offer, at)
    if "kb.bot_handoff" in done:
        return False
    facts.record(
        session,
        "kb.bot_handoff",
        **_same_place(offered),
        at=at,
        data={"offer": offer, "reason": reason},
    )
    return True
