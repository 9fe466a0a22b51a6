"""The rollups give the numbers the pure definitions give, for any stream of facts.

Random fact streams (hypothesis) are written to the real database, the worker's consumer reads
them in batches of any size (and twice), and the rollup report is compared with the pure
functions applied to the same facts; then a full rebuild must give the same report again.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from madad.activity import service as facts
from madad.activity.models import Activity
from madad.bus import MemoryBus
from madad.config import Settings
from madad.db import Database
from madad.metrics import definitions as d
from madad.metrics import rebuild, reports, rollups
from madad.metrics.models import (
    MetricDaily,
    MetricDailyAgent,
    MetricDailyTeam,
    MetricHist,
    MetricHistAgent,
    MetricHistTeam,
)

EXAMPLES = itertools.count(1)


@dataclass
class Spec:
    """One fact to record: offsets in minutes from the example's base time."""

    minute: int
    kind: str
    ticket: int
    contact: int | None
    agent: int | None = None
    team: int | None = None
    channel: str | None = None
    data: dict[str, Any] | None = None


@st.composite
def streams(draw: st.DrawFn) -> list[Spec]:
    specs: list[Spec] = []
    n_tickets = draw(st.integers(1, 6))
    for t in range(n_tickets):
        contact = draw(st.sampled_from([1, 2, 3, None]))
        channel = draw(st.sampled_from(["email", "chat", "phone"]))
        team = draw(st.sampled_from([None, 1, 2]))
        minute = draw(st.integers(0, 60 * 24 * 12))
        follow = draw(st.sampled_from([None, *range(t)]))
        specs.append(
            Spec(
                minute,
                "ticket.created",
                t,
                contact,
                team=team,
                channel=channel,
                data={"priority": "normal", "status": "new", "follow_up_of": follow},
            )
        )
        tags = draw(st.lists(st.sampled_from(["billing", "login"]), max_size=2, unique=True))
        if tags:
            specs.append(Spec(minute, "ticket.tags_changed", t, contact, team=team,
                              channel=channel, data={"added": tags, "removed": []}))  # fmt: skip
        status = "new"
        live_offered = channel != "email" and draw(st.booleans())
        if live_offered:
            specs.append(Spec(minute, "live.offered", t, contact, team=team, channel=channel))
        for step in draw(
            st.lists(
                st.sampled_from(
                    ["reply", "solve", "reopen", "escalate", "csat", "answer", "abandon",
                     "hold", "resume", "end", "untag", "ces", "survey"]
                ),
                max_size=10,
            )
        ):  # fmt: skip
            minute += (
                draw(st.integers(0, 60 * 24 * 3)) if step != "answer" else draw(st.integers(0, 2))
            )
            agent = draw(st.integers(1, 3))
            base = {"team": team, "channel": channel}
            if step == "reply":
                author = draw(st.sampled_from(["agent", "agent", "bot"]))
                specs.append(Spec(minute, "message.sent", t, contact, agent=agent, **base,
                                  data={"author_type": author}))  # fmt: skip
            elif step == "solve" and status not in ("solved", "closed"):
                to = draw(st.sampled_from(["solved", "closed"]))
                change = {"from": status, "to": to, "assignee_id": agent}
                specs.append(Spec(minute, "ticket.status_changed", t, contact, agent=agent,
                                  **base, data=change))  # fmt: skip
                status = to
            elif step == "reopen" and status == "solved":
                change = {"from": status, "to": "open", "assignee_id": agent}
                specs.append(Spec(minute, "ticket.status_changed", t, contact, agent=agent,
                                  **base, data=change))  # fmt: skip
                status = "open"
            elif step == "escalate":
                specs.append(Spec(minute, "ticket.escalated", t, contact, agent=agent, **base,
                                  data={"from": 0, "to": 1}))  # fmt: skip
            elif step in ("csat", "ces"):
                scale = 5 if step == "csat" else 7
                specs.append(Spec(minute, "survey.answered", t, contact, agent=agent, **base,
                                  data={"survey_id": f"{t}-{step}", "kind": step,
                                        "score": draw(st.integers(1, scale))}))  # fmt: skip
            elif step == "survey":
                specs.append(Spec(minute, "survey.sent", t, contact, **base,
                                  data={"survey_id": f"{t}-csat", "kind": "csat"}))  # fmt: skip
            elif step == "untag" and tags:
                specs.append(Spec(minute, "ticket.tags_changed", t, contact, **base,
                                  data={"added": [], "removed": tags[:1]}))  # fmt: skip
            elif live_offered and step in ("answer", "abandon", "hold", "resume", "end"):
                kind = {"answer": "live.answered", "abandon": "live.abandoned",
                        "hold": "live.hold", "resume": "live.resumed",
                        "end": "live.ended"}[step]  # fmt: skip
                specs.append(Spec(minute, kind, t, contact, agent=agent, **base))
    return specs


def to_datetime(base: datetime, spec: Spec) -> datetime:
    return base + timedelta(minutes=spec.minute, seconds=spec.minute % 7 * 3.5)


async def write(db: Database, specs: list[Spec], base: datetime, ids: dict[str, int]) -> None:
    async with db.session() as session:
        for s in specs:
            facts.record(
                session,
                s.kind,
                ticket_id=ids["ticket"] + s.ticket,
                contact_id=None if s.contact is None else ids["contact"] + s.contact,
                agent_id=s.agent,
                team_id=s.team,
                channel=s.channel,
                data={
                    k: (ids["ticket"] + v if k == "follow_up_of" and v is not None else v)
                    for k, v in (s.data or {}).items()
                },
                at=to_datetime(base, s),
            )


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= max(1e-6, 1e-9 * abs(b))


def near(rolled: float | None, exact: float | None) -> bool:
    """A histogram percentile is the middle of a 5 % bucket: within 2.5 % (or ½ s under 1 s)."""
    if rolled is None or exact is None:
        return rolled is None and exact is None
    return abs(rolled - exact) <= max(0.5, 0.025 * exact)


def check(report: dict[str, Any], stored: list[Activity], period: d.Period, stage: str) -> None:
    total = report["total"]
    for name, fn in (
        ("first_response", d.first_response_time),
        ("resolution_first", d.resolution_time_first),
        ("resolution_full", d.resolution_time_full),
        ("asa", d.speed_of_answer),
        ("hold", d.hold_time),
        ("handle", d.handle_time),
    ):
        exact = fn(stored, period)
        got = total.get(name, {"n": 0, "mean": None, "median": None, "p90": None})
        assert got["n"] == exact.n, name
        assert close(got["mean"], exact.mean), (name, got, exact)
        assert near(got["median"], exact.median), (name, got, exact)
        assert near(got["p90"], exact.p90), (name, got, exact)
    for name, rate in (
        ("fcr", d.first_contact_resolution(stored, period)),
        ("one_touch", d.one_touch_resolution(stored, period)),
        ("repeat", d.repeat_contact_rate(stored, period)),
        ("escalated", d.escalation_rate(stored, period)),
        ("csat", d.csat(stored, period)),
        ("service_level", d.service_level(stored, period)),
        ("abandoned", d.abandonment_rate(stored, period)),
        ("responded:csat", d.survey_response_rate(stored, period, "csat")),
    ):
        got = total.get(name, {"numerator": 0, "denominator": 0})
        assert (got["numerator"], got["denominator"]) == (rate.numerator, rate.denominator), (
            name,
            stage,
        )
    assert close(total.get("ces", {}).get("value"), d.ces(stored, period))
    r = d.resolutions(stored, period)
    assert total["resolutions"] == {
        "events": r.events,
        "tickets": r.tickets,
        "contacts": r.contacts,
    }
    per_agent = d.requests_per_agent(stored, period)
    assert total.get("handled", {}).get("tickets", 0) == sum(
        x.numerator for x in per_agent.values()
    )
    assert total.get("handled", {}).get("agent_days", 0) == sum(
        x.denominator for x in per_agent.values()
    )


async def check_projections(db: Database) -> None:
    """The per-agent and per-team sums are the detailed sums added up over the rest."""
    async with db.session(write=False) as session:
        for detail, projected, group in (
            (MetricDaily, MetricDailyAgent, "agent_id"),
            (MetricDaily, MetricDailyTeam, "team_id"),
        ):
            keys = (detail.day, getattr(detail, group), detail.metric)
            expected = {
                (day, g, m): (n, round(t, 6))
                for day, g, m, n, t in await session.execute(
                    select(*keys, func.sum(detail.n), func.sum(detail.total)).group_by(*keys)
                )
                if n or abs(t) > 1e-9
            }
            got = {
                (r.day, getattr(r, group), r.metric): (r.n, round(r.total, 6))
                for r in (await session.execute(select(projected))).scalars()
                if r.n or abs(r.total) > 1e-9
            }
            assert got == expected, (projected.__tablename__, group)
        for detail, projected, group in (
            (MetricHist, MetricHistAgent, "agent_id"),
            (MetricHist, MetricHistTeam, "team_id"),
        ):
            keys = (detail.day, getattr(detail, group), detail.metric, detail.bucket)
            expected = {
                tuple(k): n
                for *k, n in await session.execute(
                    select(*keys, func.sum(detail.n)).group_by(*keys)
                )
                if n
            }
            got = {
                (r.day, getattr(r, group), r.metric, r.bucket): r.n
                for r in (await session.execute(select(projected))).scalars()
                if r.n
            }
            assert got == expected, (projected.__tablename__, group)


async def run_example(settings: Settings, specs: list[Spec], splits: list[int]) -> None:
    k = next(EXAMPLES)
    base = datetime(2001, 1, 1, tzinfo=UTC) + timedelta(days=90 * k)
    ids = {"ticket": 100_000 * k, "contact": 100_000 * k}
    period = reports.day_period(base.date(), base.date() + timedelta(days=60))
    db = Database(settings, bus=MemoryBus())
    try:
        # Facts arrive in several transactions and the consumer reads them in pieces.
        cuts = [*sorted({min(s, len(specs)) for s in splits}), len(specs)]
        start = 0
        for cut in cuts:
            await write(db, specs[start:cut], base, ids)
            start = cut
            await facts.drain_consumers(db)
        async with db.session(write=False) as session:
            stored = list(
                (
                    await session.execute(
                        select(Activity).where(
                            Activity.ticket_id >= ids["ticket"],
                            Activity.ticket_id < ids["ticket"] + 100,
                        )
                    )
                ).scalars()
            )
        async with db.session() as session:
            await rollups.refresh(session, stored)  # a batch read twice changes nothing
        async with db.session(write=False) as session:
            check(await reports.kpis(session, period, compare=False), stored, period, "consumed")
        await check_projections(db)
        async with db.session(write=False) as session:
            by_channel = await reports.kpis(session, period, group_by="channel", compare=False)
        for group in by_channel["groups"]:
            mine = [f for f in stored if (f.channel or "") == group["key"]]
            assert group["kpis"].get("created", {}).get("value", 0) == sum(
                1 for f in mine if f.kind == "ticket.created" and f.at in period
            )
        await rebuild.rebuild(db)
        # A rebuild reads facts up to the horizon and leaves the rest to the consumers (another
        # test's leftover transaction can hold the horizon back): let them catch up.
        await facts.drain_consumers(db)
        async with db.session(write=False) as session:
            check(await reports.kpis(session, period, compare=False), stored, period, "rebuilt")
        await check_projections(db)
    finally:
        await db.dispose()


@hsettings(
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=streams(), splits=st.lists(st.integers(0, 40), max_size=3))
def test_rollups_equal_the_definitions(
    settings: Settings, specs: list[Spec], splits: list[int]
) -> None:
    asyncio.run(run_example(settings, specs, splits))


def test_bucket_bounds() -> None:
    for v in [0.0, 0.4, 1.0, 1.04, 1.06, 59.0, 3600.0, 86400.0 * 30]:
        b = rollups.bucket_of(v)
        assert near(rollups.bucket_value(b), v), v
    assert rollups.bucket_of(10.0) < rollups.bucket_of(11.0)


def test_day_period_is_half_open() -> None:
    p = reports.day_period(date(2026, 1, 1), date(2026, 1, 2))
    assert datetime(2026, 1, 1, tzinfo=UTC) in p
    assert datetime(2026, 1, 2, tzinfo=UTC) not in p
