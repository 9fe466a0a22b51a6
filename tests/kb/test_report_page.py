"""The knowledge-base report page (`/reports/knowledge-base`) for supervisors: the period's
figures from the facts, articles by reads, the failed searches shown as text, the bot, in
English and Urdu; CSV and JSON exports; bad periods are a form error, agents are refused."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from madad.activity import service as facts
from madad.auth.models import Role, User
from madad.db import Database
from madad.errors import Invalid
from madad.kb import bot
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in
from tests.kb.conftest import write

XSS_QUERY = '<img src=x onerror=alert(1)> "gift" cards'
NAUGHTY = json.loads(Path("/work/shared/data/naughty-strings/blns.json").read_text())


async def seed_kb_facts(db: Database) -> dict[str, int]:
    """Two articles read yesterday (A three times, B once), votes, searches, a contact from A,
    three bot offers; figures: 5 views, 4 reads (median 40 s), 2 of 3 helpful, deflection 2 of
    3 visits, bot resolution 1 of 3 and handoff 1 of 3."""
    a = (await write(db, "Request a refund", "Refunds within 14 days.")).article.id
    b = (await write(db, "Track your order", "Tracking numbers.")).article.id
    at = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0) - timedelta(days=1)

    def visit(n: int) -> dict[str, str]:
        return {"visitor": f"visitor-{n}", "help_session": f"session-{n}"}

    rows = [
        ("kb.view", None, {"article_id": a, **visit(1)}),
        ("kb.view", None, {"article_id": a, **visit(2)}),
        ("kb.view", None, {"article_id": a, **visit(3)}),
        ("kb.view", None, {"article_id": a, **visit(3)}),
        ("kb.view", None, {"article_id": b, **visit(3)}),
        ("kb.read", None, {"article_id": a, "read_seconds": 20.0, **visit(1)}),
        ("kb.read", None, {"article_id": a, "read_seconds": 40.0, **visit(2)}),
        ("kb.read", None, {"article_id": a, "read_seconds": 90.0, **visit(3)}),
        ("kb.read", None, {"article_id": b, "read_seconds": 65.0, **visit(3)}),
        ("kb.vote", None, {"article_id": a, "helpful": True}),
        ("kb.vote", None, {"article_id": a, "helpful": False}),
        ("kb.vote", None, {"article_id": b, "helpful": True}),
        ("kb.search", None, {"query": "refund", "results": 2}),
        ("kb.search", None, {"query": XSS_QUERY, "results": 0}),
        ("kb.search", None, {"query": XSS_QUERY, "results": 0}),
        ("kb.search", None, {"query": "wifi router", "results": 0}),
        ("kb.contact_started", "portal", {"article_id": a, **visit(2)}),
        ("kb.bot_offered", "chat", {"offer": "o1", "articles": [a]}),
        ("kb.bot_offered", "chat", {"offer": "o2", "articles": [b]}),
        ("kb.bot_offered", "email", {"offer": "o3", "articles": [a]}),
        ("kb.bot_resolved", "chat", {"offer": "o1", "article_id": a}),
        ("kb.bot_handoff", "chat", {"offer": "o2", "reason": "asked"}),
    ]
    async with db.session() as session:
        for i, (kind, channel, data) in enumerate(rows):
            facts.record(session, kind, channel=channel, data=data, at=at + timedelta(minutes=i))
    return {"a": a, "b": b}


async def test_a_supervisor_reads_the_knowledge_base_report(
    client: httpx.AsyncClient, db: Database
) -> None:
    await seed_kb_facts(db)
    boss = await make_person(db, role=Role.supervisor, name="Zainab", password=PASSWORD)
    browser = await sign_in(client, boss)
    r = await browser.get("/reports/knowledge-base?days=7")
    assert r.status_code == 200
    page = r.text
    assert 'aria-current="page">Knowledge base</a>' in page
    for shown in ("Article views", "Median read time", "40 s", "66.7 %", "Deflection"):
        assert shown in page, shown
    assert "2 of 3" in page  # helpful votes, and deflection (visits 1 and 3 of 1–3)
    assert page.index("Request a refund") < page.index("Track your order")
    assert '<a href="/help/articles/request-a-refund">Request a refund</a>' in page
    # A failed search is shown as text, whole, and never as markup.
    assert "&lt;img src=x onerror=alert(1)&gt; &#34;gift&#34; cards" in page
    assert "<img src=x" not in page
    assert "wifi router" in page
    assert "33.3 %" in page  # bot resolution and handoff, 1 of 3 each

    async with db.session() as session:
        user = await session.get(User, boss.id)
        assert user is not None
        user.language = "ur"
    urdu = (await browser.get("/reports/knowledge-base?days=7")).text
    assert 'dir="rtl"' in urdu and "Article views" not in urdu
    assert "&lt;img src=x onerror=alert(1)&gt;" in urdu


async def test_exports_and_bad_input(client: httpx.AsyncClient, db: Database) -> None:
    await seed_kb_facts(db)
    boss = await make_person(db, role=Role.supervisor, name="Zainab", password=PASSWORD)
    browser = await sign_in(client, boss)
    got = await browser.get("/reports/knowledge-base.csv?days=7")
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(got.text)))
    assert [(r["title"], r["reads"], r["contacts_started"]) for r in rows] == [
        ("Request a refund", "3", "1"),
        ("Track your order", "1", "0"),
    ]
    searches = await browser.get("/reports/knowledge-base.csv?days=7&table=searches")
    assert next(csv.DictReader(io.StringIO(searches.text))) == {
        "query": XSS_QUERY.casefold(),
        "times": "2",
    }
    as_json = (await browser.get("/reports/knowledge-base.json?days=7")).json()
    assert as_json["total"]["reads"] == 4 and as_json["total"]["bot"]["offers"] == 3
    assert as_json["total"]["deflection"]["value"] == 2 / 3
    assert (await browser.get("/reports/knowledge-base.xml")).status_code == 404
    bad = await browser.get("/reports/knowledge-base.csv?table=nope")
    assert bad.status_code == 422
    for value in ("2026-02-30", "yesterday", *NAUGHTY[:40]):
        r = await browser.get("/reports/knowledge-base", params={"from": value[:10]})
        assert r.status_code in (200, 422), (value, r.status_code)
        if r.status_code == 200 and value[:10].strip():
            assert 'role="alert"' in r.text or "Article views" in r.text
    r = await browser.get(
        "/reports/knowledge-base", params={"from": "2026-03-01", "to": "2026-02-01"}
    )
    assert r.status_code == 200 and "The first day must come before the last." in r.text


async def test_agents_cannot_read_it(client: httpx.AsyncClient, db: Database) -> None:
    agent = await make_person(db, role=Role.agent, name="Ayesha", password=PASSWORD)
    browser = await sign_in(client, agent)
    assert (await browser.get("/reports/knowledge-base")).status_code == 403
    assert (await browser.get("/reports/knowledge-base.json")).status_code == 403


async def test_the_report_over_the_api(client: httpx.AsyncClient, db: Database) -> None:
    await seed_kb_facts(db)
    boss = await make_person(db, role=Role.supervisor, name="Zainab")
    agent = await make_person(db, role=Role.agent, name="Ayesha")
    r = await client.get("/api/v1/reports/knowledge-base", headers=boss.headers)
    assert r.status_code == 200, r.text
    assert r.json()["total"]["reads"] == 4 and r.json()["total"]["bot"]["offers"] == 3
    denied = await client.get("/api/v1/reports/knowledge-base", headers=agent.headers)
    assert denied.status_code == 403
    bad = await client.get(
        "/api/v1/reports/knowledge-base",
        params={"from": "2026-03-01", "to": "2026-02-01"},
        headers=boss.headers,
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"


async def test_the_questions_the_bot_could_not_answer(
    client: httpx.AsyncClient, db: Database
) -> None:
    """Three offers (seed) and two questions with no confident answer: the bot answered 3 of 5
    questions; the questions are listed newest first, as text, with their tickets, and export."""
    await seed_kb_facts(db)
    at = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    async with db.session() as session:
        bot.record_unanswered(session, "Can I bring my   dog?", channel="email", language="en",
                              ticket_id=41, at=at)  # fmt: skip
        bot.record_unanswered(session, XSS_QUERY, channel="chat", language="en", ticket_id=42,
                              at=at + timedelta(minutes=1))  # fmt: skip
        bot.record_unanswered(session, "old", channel="chat", language="en",
                              at=at - timedelta(days=30))  # fmt: skip
    boss = await make_person(db, role=Role.supervisor, name="Zainab", password=PASSWORD)
    browser = await sign_in(client, boss)
    got = (await browser.get("/reports/knowledge-base.json?days=7")).json()
    assert got["total"]["bot"]["unanswered"] == 2
    assert got["total"]["bot"]["answered"]["value"] == 3 / 5
    assert got["total"]["bot"]["by_channel"]["chat"]["unanswered"] == 1
    assert [(q["question"], q["ticket_id"]) for q in got["unanswered_questions"]] == [
        (XSS_QUERY, 42),
        ("Can I bring my dog?", 41),
    ]
    page = (await browser.get("/reports/knowledge-base?days=7")).text
    assert "Latest questions the bot had no answer for" in page and "<td>60 %</td>" in page
    assert '<a href="/tickets/41">#41</a>' in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page
    exported = await browser.get("/reports/knowledge-base.csv?days=7&table=questions")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["channel"], r["ticket_id"], r["question"]) for r in rows] == [
        ("chat", "42", XSS_QUERY),
        ("email", "41", "Can I bring my dog?"),
    ]
    async with db.session() as session:
        with pytest.raises(Invalid):
            bot.record_unanswered(session, "x", channel="fax", language="en")
