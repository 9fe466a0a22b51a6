"""Knowledge-base metrics: views, reads and read time, helpfulness, contacts started from
articles, searches with no result, deflection and the bot's resolution and handoff — the pure
definitions against a hand-worked fact stream, and the report from the database (both
engines) giving the same numbers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from madad.activity import service as facts
from madad.activity.models import Activity
from madad.db import Database
from madad.errors import Invalid, NotFound
from madad.kb import reading
from madad.metrics import kb, kb_report
from madad.metrics.definitions import Period
from tests.kb.conftest import write

DAY = datetime(2025, 3, 3, tzinfo=UTC)
PERIOD = Period(DAY, DAY + timedelta(days=1))
H = timedelta(hours=1)


@dataclass
class F:
    at: datetime
    kind: str
    channel: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    ticket_id: int | None = None
    contact_id: int | None = None
    agent_id: int | None = None
    team_id: int | None = None


def stream(a: int, b: int) -> list[F]:
    """Two articles A and B, four visits s1–s4 (visitors v1–v4) on 3 March 2025, bot offers."""

    def read(at: datetime, article: int, seconds: float, n: int) -> F:
        return F(
            at,
            "kb.read",
            data={"article_id": article, "read_seconds": seconds, "visitor": f"v{n}-visitor",
                  "help_session": f"s{n}-session"},
        )  # fmt: skip

    def ids(n: int) -> dict[str, str]:
        return {"visitor": f"v{n}-visitor", "help_session": f"s{n}-session"}

    t = DAY + 9 * H
    return [
        F(DAY - H, "kb.view", data={"article_id": a, **ids(1)}),  # the day before: not counted
        F(DAY - H, "kb.read", data={"article_id": a, "read_seconds": 500.0, **ids(9)}),
        F(t, "kb.view", data={"article_id": a, **ids(1)}),
        F(t, "kb.view", data={"article_id": a, **ids(2)}),
        F(t, "kb.view", data={"article_id": a, **ids(3)}),
        F(t, "kb.view", data={"article_id": b, **ids(4)}),
        read(t + H, a, 20.0, 1),
        read(t + H, a, 40.0, 2),
        read(t + 2 * H, a, 100.0, 3),
        read(t + 3 * H, a, 60.0, 3),  # s3's second read: the visit counts once
        read(t + 3 * H, b, 12.0, 4),
        F(t, "kb.vote", data={"article_id": a, "helpful": True}),
        F(t, "kb.vote", data={"article_id": a, "helpful": False}),
        F(t, "kb.vote", data={"article_id": b, "helpful": True}),
        F(t, "kb.search", data={"query": "refund", "results": 3}),
        F(t, "kb.search", data={"query": "Laptop bag", "results": 0}),
        F(t, "kb.search", data={"query": "laptop bag", "results": 0}),
        F(t, "kb.search", data={"query": "wifi", "results": 0}),
        # v2 asks from article A two hours after reading it: s2 is not deflected.
        F(t + 3 * H, "kb.contact_started", "portal", {"article_id": a, **ids(2)}),
        # v3 opens a chat from the help centre's home, no article: s3 is not deflected either.
        F(
            t + 3 * H,
            "kb.contact_started",
            "chat",
            {"article_id": None, "visitor": "v3-visitor", "help_session": None},
        ),
        # v4 writes 25 hours after reading: outside the window (and the period): deflected.
        F(t + 28 * H, "kb.contact_started", "chat", {"article_id": b, **ids(4)}),
        F(t, "kb.bot_offered", "chat", {"offer": "o1", "articles": [a]}),
        F(t, "kb.bot_offered", "chat", {"offer": "o2", "articles": [a]}),
        F(t, "kb.bot_offered", "email", {"offer": "o3", "articles": [b]}),
        F(t, "kb.bot_offered", "chat", {"offer": "o4", "articles": [b]}),
        F(t + H, "kb.bot_resolved", "chat", {"offer": "o1", "article_id": a}),
        F(t + H, "kb.bot_resolved", "chat", {"offer": "o2", "article_id": None}),
        F(t + 2 * H, "kb.bot_handoff", "chat", {"offer": "o2", "reason": "not_solved"}),
        F(t + 20 * H, "kb.bot_handoff", "chat", {"offer": "o4", "reason": "asked"}),  # next day
    ]


def test_the_definitions_on_a_hand_worked_stream() -> None:
    s = stream(1, 2)
    assert kb.article_views(s, PERIOD) == 4
    assert kb.article_reads(s, PERIOD) == 5
    t = kb.read_time(s, PERIOD)
    assert (t.n, t.median, t.p90) == (5, 40.0, 100.0)  # 12 20 40 60 100, nearest rank
    assert kb.helpful_votes(s, PERIOD).value == pytest.approx(2 / 3)
    assert kb.contacts_from_articles(s, PERIOD) == {"portal": 1}
    found = kb.searches(s, PERIOD)
    assert (found.total, found.no_result) == (4, 3)
    assert found.failed == [("laptop bag", 2), ("wifi", 1)]
    d = kb.deflection(s, PERIOD)  # s1 and s4 of s1–s4
    assert (d.numerator, d.denominator) == (2, 4)
    bot = kb.bot_outcomes(s, PERIOD)
    assert (bot.offers, bot.resolved, bot.handoffs) == (4, 1, 2)
    assert bot.resolution_rate.value == 0.25 and bot.handoff_rate.value == 0.5
    email = kb.bot_outcomes(s, PERIOD, channel="email")
    assert (email.offers, email.resolved, email.handoffs) == (1, 0, 0)
    per = kb.article_figures(s, PERIOD)
    assert (per[1].views, per[1].reads, per[1].read_time.median) == (3, 4, 40.0)  # 20 40 60 100
    assert (per[1].helpful, per[1].votes, dict(per[1].contacts)) == (1, 2, {"portal": 1})
    assert (per[2].views, per[2].reads, per[2].votes, dict(per[2].contacts)) == (1, 1, 1, {})


def test_deflection_without_a_visit_id_counts_nothing_and_a_long_wait_is_still_deflected() -> None:
    read = F(DAY + H, "kb.read", data={"article_id": 1, "read_seconds": 30.0, "visitor": None,
                                       "help_session": None})  # fmt: skip
    assert kb.deflection([read], PERIOD).denominator == 0
    visit = {"visitor": "v1-visitor", "help_session": "s1-session"}
    read = F(DAY + H, "kb.read", data={"article_id": 1, "read_seconds": 30.0, **visit})
    before = F(DAY, "kb.contact_started", "portal", {"article_id": 1, **visit})
    just_in = F(DAY + 25 * H - timedelta(seconds=1), "kb.contact_started", "chat", visit)
    just_out = F(DAY + 25 * H, "kb.contact_started", "chat", visit)
    assert kb.deflection([read, before], PERIOD).value == 1.0  # before the read: not after it
    assert kb.deflection([read, just_in], PERIOD).value == 0.0
    assert kb.deflection([read, just_out], PERIOD).value == 1.0


async def test_the_report_from_the_database_gives_the_same_numbers(db: Database) -> None:
    a = (await write(db, "Request a refund", "Refunds within 14 days.")).article.id
    b = (await write(db, "Track your order", "Tracking numbers.")).article.id
    async with db.session() as session:
        for f in stream(a, b):
            facts.record(session, f.kind, channel=f.channel, data=f.data, at=f.at)
        # Something of another kind, and a read long after: neither is in the figures.
        facts.record(session, "ticket.created", at=DAY + H, data={})
        late = {"visitor": "late-visitor", "help_session": "late-visit"}
        late_read = {"article_id": a, "read_seconds": 15.0, **late}
        facts.record(session, "kb.read", at=DAY + 40 * H, data=late_read)
    async with db.session(write=False) as session:
        got = await kb_report.report(session, PERIOD)
    total = got["total"]
    assert (total["views"], total["reads"], total["searches"]) == (4, 5, 4)
    assert total["read_time"]["median"] == 40.0
    assert (total["helpful"]["numerator"], total["helpful"]["denominator"]) == (2, 3)
    assert total["contacts"] == {"portal": 1}
    assert total["no_result"]["numerator"] == 3
    assert (total["deflection"]["numerator"], total["deflection"]["denominator"]) == (2, 4)
    assert total["bot"]["offers"] == 4
    assert total["bot"]["resolution"]["value"] == 0.25
    assert total["bot"]["handoff"]["value"] == 0.5
    assert set(total["bot"]["by_channel"]) == {"chat", "email"}
    assert got["failed_searches"] == [
        {"query": "laptop bag", "times": 2},
        {"query": "wifi", "times": 1},
    ]
    assert [(r["title"], r["reads"], r["contacts_total"]) for r in got["articles"]] == [
        ("Request a refund", 4, 1),
        ("Track your order", 1, 0),
    ]
    assert got["previous"]["views"] == 1 and got["previous"]["reads"] == 1
    # The same as the definitions over every fact.
    every = stream(a, b)
    assert total["deflection"]["value"] == kb.deflection(every, PERIOD).value
    assert kb_report.flat_articles(got)[0]["helpful_share"] == 0.5


async def test_contacts_started_are_recorded_for_public_articles_only(db: Database) -> None:
    a = (await write(db, "Request a refund", "Refunds.")).article.id
    hidden = (await write(db, "Override", "Agents only.", internal=True)).article.id
    async with db.session() as session:
        await reading.record_contact_started(
            session, channel="chat", language="ur", article_id=a, ticket_id=5, contact_id=6,
            visitor="v1-visitor", help_session="s1-session",
        )  # fmt: skip
    async with db.session(write=False) as session:
        [fact] = (
            await session.scalars(select(Activity).where(Activity.kind == "kb.contact_started"))
        ).all()
    assert (fact.channel, fact.ticket_id, fact.contact_id) == ("chat", 5, 6)
    assert fact.data == {
        "article_id": a, "language": "ur", "channel": "chat",
        "visitor": "v1-visitor", "help_session": "s1-session",
    }  # fmt: skip
    async with db.session() as session:
        with pytest.raises(NotFound):
            await reading.record_contact_started(
                session, channel="chat", language="en", article_id=hidden
            )
        with pytest.raises(Invalid):
            await reading.record_contact_started(session, channel="fax", language="en")
        with pytest.raises(Invalid):
            await reading.record_contact_started(
                session, channel="portal", language="en", help_session="<script>"
            )


async def test_the_database_report_equals_the_definitions_on_a_random_stream(
    db: Database,
) -> None:
    """Hundreds of facts of every kind, at random times around the period (some before, some
    after, some without ids or with odd values): the report measured in SQL gives exactly what
    the pure definitions give over the same facts."""
    rng = random.Random(6)
    articles = [(await write(db, f"Article {i}", "Text.")).article.id for i in range(4)]
    stream: list[F] = []
    for _ in range(600):
        at = DAY - 6 * H + timedelta(seconds=rng.randrange(40 * 3600))
        n = rng.randrange(30)
        ids = {
            "visitor": None if n == 0 else f"visitor-{n}",
            "help_session": None if n < 2 else f"visit-{n}-{rng.randrange(3)}",
        }
        kind = rng.choice(
            ["kb.view", "kb.read", "kb.read", "kb.vote", "kb.search", "kb.contact_started",
             "kb.bot_offered", "kb.bot_resolved", "kb.bot_handoff"]
        )  # fmt: skip
        article = rng.choice([*articles, None])
        data: dict[str, Any] = {"article_id": article, **ids}
        channel = None
        if kind == "kb.read":
            data["read_seconds"] = round(rng.uniform(10, 1800), 1)
        elif kind == "kb.vote":
            data["helpful"] = rng.random() < 0.6
        elif kind == "kb.search":
            data = {
                "query": rng.choice(["Wifi", "wifi", "refund", "Ärger"]),
                "results": rng.choice([0, 0, 2]),
                **ids,
            }
        elif kind == "kb.contact_started":
            channel = rng.choice(["portal", "chat"])
        elif kind.startswith("kb.bot"):
            channel = rng.choice(["chat", "email"])
            data = {"offer": f"o{rng.randrange(40)}", "articles": [articles[0]]}
        stream.append(F(at, kind, channel, data))
    async with db.session() as session:
        for f in stream:
            facts.record(session, f.kind, channel=f.channel, data=f.data, at=f.at)
    async with db.session(write=False) as session:
        got = await kb_report.report(session, PERIOD)
    total = got["total"]
    assert total["views"] == kb.article_views(stream, PERIOD)
    assert total["reads"] == kb.article_reads(stream, PERIOD)
    rt = kb.read_time(stream, PERIOD)
    assert total["read_time"]["median"] == rt.median and total["read_time"]["n"] == rt.n
    assert total["helpful"]["value"] == kb.helpful_votes(stream, PERIOD).value
    assert total["contacts"] == dict(kb.contacts_from_articles(stream, PERIOD))
    found = kb.searches(stream, PERIOD)
    assert (total["searches"], total["no_result"]["numerator"]) == (found.total, found.no_result)
    assert [(s["query"], s["times"]) for s in got["failed_searches"]] == found.failed
    d = kb.deflection(stream, PERIOD)
    assert (total["deflection"]["numerator"], total["deflection"]["denominator"]) == (
        d.numerator, d.denominator,
    )  # fmt: skip
    bot = kb.bot_outcomes(stream, PERIOD)
    assert total["bot"]["offers"] == bot.offers
    assert total["bot"]["resolution"]["numerator"] == bot.resolved
    assert total["bot"]["handoff"]["numerator"] == bot.handoffs
    per = kb.article_figures(stream, PERIOD)
    for row in got["articles"]:
        f = per[row["article_id"]]
        assert (row["views"], row["reads"], row["contacts"]) == (f.views, f.reads, dict(f.contacts))
        assert row["read_time"]["median"] == f.read_time.median
        assert row["helpful"]["numerator"] == f.helpful
    assert total["deflection"]["denominator"] > 10 and found.no_result > 10  # not vacuous
