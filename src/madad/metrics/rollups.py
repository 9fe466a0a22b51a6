"""Rollups kept current from facts: what every ticket contributes to the per-day sums.

A ticket's contributions are a pure function of its contact's facts (`contributions`). The
worker's `metrics` consumer recomputes them for every contact a new fact touches, compares them
with what the ticket contributed last time (kept in `metric_tickets.contributed`) and adds the
difference to `metric_daily` / `metric_hist` — so applying a batch twice, or in pieces, gives
the same sums, and a fact that changes a ticket's past (a reopen, a repeat contact a week later)
moves the ticket's old contribution instead of adding a second one.

`madad.metrics.rebuild` throws the sums away and recomputes them from all facts.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as activity_service
from madad.activity.models import Activity
from madad.activity.service import FACT_COLUMNS, Fact
from madad.db import Database
from madad.dialects import bulk_insert, upsert
from madad.metrics.definitions import (
    REPEAT_WINDOW,
    FactLike,
    LiveContact,
    TicketHistory,
    live_contacts,
    repeats_of,
    survey_answers,
    ticket_histories,
)
from madad.metrics.models import (
    MetricDaily,
    MetricDailyAgent,
    MetricDailyTeam,
    MetricDailyTotal,
    MetricHist,
    MetricHistAgent,
    MetricHistTeam,
    MetricHistTotal,
    MetricTicket,
)

ROLLUP_TABLES = (
    MetricDaily,
    MetricHist,
    MetricDailyTotal,
    MetricHistTotal,
    MetricDailyAgent,
    MetricHistAgent,
    MetricDailyTeam,
    MetricHistTeam,
)

CONSUMER = "metrics"
SERVICE_LEVEL_SECONDS = 20.0

# Metrics whose values are durations: they also get a histogram for medians and percentiles.
DURATIONS = frozenset(
    {
        "first_response",
        "resolution_first",
        "resolution_full",
        "asa",
        "hold",
        "handle",
        "abandon_wait",
    }
)
BUCKET_BASE = 1.05  # each histogram bucket spans 5 %: a percentile is off by at most 2.5 %


def bucket_of(seconds: float) -> int:
    """0 for under a second, else 1 + ⌊log₁.₀₅ seconds⌋."""
    if seconds < 1:
        return 0
    return 1 + math.floor(math.log(seconds) / math.log(BUCKET_BASE) + 1e-9)


def bucket_value(bucket: int) -> float:
    """The value reported for a bucket: the middle of its range (geometric for b ≥ 1)."""
    if bucket <= 0:
        return 0.5
    low = BUCKET_BASE ** (bucket - 1)
    return low * math.sqrt(BUCKET_BASE)


# (day ordinal, channel, team, agent, metric, value)
Row = tuple[int, str, int, int, str, float]


def slot_of(at: datetime) -> int:
    """The half-hour of the UTC day, 0–47."""
    return at.hour * 2 + at.minute // 30


@dataclass
class ContactTickets:
    tickets: dict[int, TicketHistory]
    live: dict[int, list[LiveContact]]
    csat: dict[int, list[tuple[datetime, float, int | None]]]
    ces: dict[int, list[tuple[datetime, float, int | None]]]
    sent: dict[int, list[tuple[datetime, str, str]]]
    answered: dict[int, set[str]]
    repeating: set[int]
    repeated: set[int]


def fold(facts: Sequence[FactLike], window: timedelta = REPEAT_WINDOW) -> ContactTickets:
    """Everything the contributions need from a set of facts (whole contacts' facts)."""
    tickets = ticket_histories(facts)
    live: dict[int, list[LiveContact]] = defaultdict(list)
    for c in live_contacts(facts):
        live[c.key[0]].append(c)
    csat: dict[int, list[tuple[datetime, float, int | None]]] = defaultdict(list)
    ces: dict[int, list[tuple[datetime, float, int | None]]] = defaultdict(list)
    answered: dict[int, set[str]] = defaultdict(set)
    for a in survey_answers(facts):
        if a.ticket_id is not None:
            answered[a.ticket_id].add(a.survey_id)
        if a.ticket_id is not None and a.kind in ("csat", "ces"):
            (csat if a.kind == "csat" else ces)[a.ticket_id].append((a.at, a.score, a.agent_id))
    sent: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    seen: set[tuple[int, str]] = set()
    sends = (f for f in facts if f.kind == "survey.sent" and f.ticket_id is not None)
    for f in sorted(sends, key=lambda f: (f.at, getattr(f, "id", 0) or 0)):
        survey = str(f.data.get("survey_id"))
        if (f.ticket_id, survey) not in seen:
            seen.add((f.ticket_id, survey))  # the first send; reminders are not more surveys
            sent[f.ticket_id].append((f.at, str(f.data.get("kind")), survey))
    repeating, repeated = repeats_of(tickets, window)
    return ContactTickets(tickets, live, csat, ces, sent, answered, repeating, repeated)


def contributions(t: TicketHistory, ctx: ContactTickets) -> list[Row]:
    """What one ticket adds to the daily sums, each row at the day its measurement completes."""
    if t.created_at is None:
        return []
    ch, team = t.channel or "", t.team_id or 0
    rows: list[Row] = []

    def add(at: datetime, metric: str, value: float, agent: int | None = None) -> None:
        rows.append((at.date().toordinal(), ch, team, agent or 0, metric, float(value)))

    created = t.created_at
    add(created, "created", 1)
    add(created, f"arrivals:{slot_of(created)}", 1)
    add(created, "escalated", 1 if t.escalations else 0)
    add(created, "repeat", 1 if t.id in ctx.repeating else 0)
    if t.replies:
        at, agent = t.replies[0]
        add(at, "first_response", (at - created).total_seconds(), agent)
    for at, agent in sorted({(at.date(), agent) for at, agent in t.replies}):
        rows.append((at.toordinal(), ch, team, agent, "handled", 1.0))
    for i, (at, agent) in enumerate(t.solves):
        add(at, "solve_event", 1, agent)
        if i == 0:
            add(at, "resolution_first", (at - created).total_seconds(), agent)
    for at in t.reopens:
        # A reopen counts against whoever solved the ticket last before it.
        before = [agent for solved, agent in t.solves if solved <= at]
        add(at, "reopen_event", 1, before[-1] if before else None)
    if t.resolved:
        at, agent = t.solves[-1]
        add(at, "resolution_full", (at - created).total_seconds(), agent)
        add(at, "resolved", 1, agent)
        add(at, "fcr", 1 if not t.reopens and t.id not in ctx.repeated else 0, agent)
        add(at, "one_touch", 1 if len(t.replies) == 1 else 0, agent)
    for c in ctx.live.get(t.id, []):
        assert c.offered_at is not None
        offered, agent = c.offered_at, c.agent_id
        if c.answered_at is not None:
            wait = c.wait or 0.0
            add(offered, "asa", wait, agent)
            add(offered, "hold", c.hold_seconds, agent)
            if c.ended_at is not None and c.ended_at >= c.answered_at:
                add(offered, "handle", (c.ended_at - c.answered_at).total_seconds(), agent)
            add(offered, "service_level", 1 if wait <= SERVICE_LEVEL_SECONDS else 0, agent)
            add(offered, "abandoned", 0, agent)
        elif c.abandoned_at is not None and not c.short_abandon:
            add(offered, "abandon_wait", c.wait or 0.0)
            add(offered, "service_level", 0)
            add(offered, "abandoned", 1)
        elif c.abandoned_at is None:
            add(offered, "abandoned", 0)  # still waiting: offered, not (yet) abandoned
    for at, score, agent in ctx.csat.get(t.id, []):
        add(at, "csat", 1 if score >= 4 else 0, agent)
    for at, score, agent in ctx.ces.get(t.id, []):
        add(at, "ces", score, agent)
    answered = ctx.answered.get(t.id, set())
    for at, kind, survey in ctx.sent.get(t.id, []):
        # A response rate belongs to the day the survey was sent.
        add(at, f"responded:{kind}", 1 if survey in answered else 0)
    return sorted(rows)


def summary(t: TicketHistory, ctx: ContactTickets) -> dict[str, Any]:
    """The ticket's row in `metric_tickets` (without its contributions)."""
    resolved_at = t.solves[-1][0] if t.resolved else None
    agent = (t.solves[-1][1] if t.solves else None) or (t.replies[-1][1] if t.replies else None)
    csat = ctx.csat.get(t.id)
    return {
        "ticket_id": t.id,
        "contact_id": t.contact_id,
        "channel": t.channel,
        "team_id": t.team_id,
        "agent_id": agent,
        "priority": t.priority,
        "created_at": t.created_at,
        "first_response_s": (t.replies[0][0] - t.created_at).total_seconds()  # type: ignore[operator]
        if t.replies
        else None,
        "first_resolved_at": t.solves[0][0] if t.solves else None,
        "resolved_at": resolved_at,
        "resolution_s": (resolved_at - t.created_at).total_seconds()  # type: ignore[operator]
        if resolved_at
        else None,
        "reopens": len(t.reopens),
        "replies": len(t.replies),
        "escalated": bool(t.escalations),
        "fcr": (not t.reopens and t.id not in ctx.repeated) if resolved_at else None,
        "repeat": t.id in ctx.repeating,
        "csat": csat[-1][1] if csat else None,
        "tags": {"tags": sorted(t.tags)},
    }


# --- applying contributions -------------------------------------------------------------------


DAILY_COLUMNS = ["day", "channel", "team_id", "agent_id", "metric", "n", "total"]
HIST_COLUMNS = ["day", "channel", "team_id", "agent_id", "metric", "bucket", "n"]
# Each level of the sums: its tables, and the key columns of its daily sums (the histograms'
# add the bucket). Detail is day × channel × team × agent; the others sum over the rest.
LEVELS: dict[str, tuple[Any, Any, list[str]]] = {
    "detail": (MetricDaily, MetricHist, ["day", "channel", "team_id", "agent_id", "metric"]),
    "total": (MetricDailyTotal, MetricHistTotal, ["day", "channel", "metric"]),
    "agent": (MetricDailyAgent, MetricHistAgent, ["day", "agent_id", "metric"]),
    "team": (MetricDailyTeam, MetricHistTeam, ["day", "team_id", "metric"]),
}


MICRO = 1_000_000


def _empty_cell() -> list[int]:
    return [0, 0]


class Sums:
    """Changes to the daily sums and histograms, added up before they are written.

    Totals are kept in whole millionths (every value is a count, a score or a duration to
    the microsecond), so they add up exactly and in any order: sums added up in parts and
    merged are the sums added up in one pass. Picklable, for a rebuild's worker processes."""

    def __init__(self) -> None:
        self.daily: dict[tuple[int, str, int, int, str], list[int]] = defaultdict(_empty_cell)
        self.hist: Counter[tuple[int, str, int, int, str, int]] = Counter()

    def add(self, rows: Iterable[Row], sign: int = 1) -> None:
        for day, ch, team, agent, metric, value in rows:
            cell = self.daily[(day, ch, team, agent, metric)]
            cell[0] += sign
            cell[1] += sign * round(value * MICRO)
            if metric in DURATIONS:
                self.hist[(day, ch, team, agent, metric, bucket_of(value))] += sign

    def merge(self, other: Sums) -> None:
        """Add another set of changes to these."""
        for key, (n, total) in other.daily.items():
            cell = self.daily[key]
            cell[0] += n
            cell[1] += total
        self.hist.update(other.hist)

    def __len__(self) -> int:
        return len(self.daily)

    def levels(self) -> dict[str, tuple[list[tuple], list[tuple]]]:
        """Per level, the changed rows of its daily sums and histograms (key columns, then n
        and total or n), in key order. The all-teams, per-agent and per-team sums are the
        detailed cells added up (sums are linear: a change's projection is the projection's
        change). The all-teams histograms keep no channel."""
        daily: dict[str, dict[tuple, list[int]]] = {
            level: defaultdict(_empty_cell) for level in ("total", "agent", "team")
        }
        hist: dict[str, Counter[tuple]] = {level: Counter() for level in ("total", "agent", "team")}
        for (day, ch, team, agent, metric), (n, total) in self.daily.items():
            for level, key in (
                ("total", (day, ch, metric)),
                ("agent", (day, agent, metric)),
                ("team", (day, team, metric)),
            ):
                cell = daily[level][key]
                cell[0] += n
                cell[1] += total
        for (day, _ch, team, agent, metric, b), n in self.hist.items():
            hist["total"][(day, metric, b)] += n
            hist["agent"][(day, agent, metric, b)] += n
            hist["team"][(day, team, metric, b)] += n

        def rows_of(cells: dict[tuple, Any], width: int) -> list[tuple]:
            out = []
            for key in sorted(cells):
                value = cells[key]
                if width == 2 and (value[0] or value[1]):
                    out.append((date.fromordinal(key[0]), *key[1:], value[0], value[1] / MICRO))
                elif width == 1 and value:
                    out.append((date.fromordinal(key[0]), *key[1:], value))
            return out

        out = {"detail": (rows_of(self.daily, 2), rows_of(self.hist, 1))}
        for level in ("total", "agent", "team"):
            out[level] = (rows_of(daily[level], 2), rows_of(hist[level], 1))
        return out

    async def write(self, session: AsyncSession, chunk: int = 2000, *, fresh: bool = False) -> None:
        """Add the changes to the stored sums; `fresh`: the tables are empty (a rebuild), and
        the sums are inserted as they are."""
        for level, (daily_rows, hist_rows) in self.levels().items():
            daily_table, hist_table, keys = LEVELS[level]
            hist_keys = [k for k in keys if level != "total" or k != "channel"] + ["bucket"]
            for rows, table, columns, adding in (
                (daily_rows, daily_table.__table__, [*keys, "n", "total"], ["n", "total"]),
                (hist_rows, hist_table.__table__, [*hist_keys, "n"], ["n"]),
            ):
                if fresh:
                    await bulk_insert(session, table, columns, rows)
                    continue
                stmt = upsert(session, table, index_elements=columns[: -len(adding)], adding=adding)
                for i in range(0, len(rows), chunk):
                    await session.execute(
                        stmt, [dict(zip(columns, r, strict=True)) for r in rows[i : i + chunk]]
                    )
        self.daily.clear()
        self.hist.clear()


TICKET_COLUMNS = [c.name for c in MetricTicket.__table__.columns if c.name != "ticket_id"]


async def _store_tickets(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    stmt = upsert(
        session, MetricTicket.__table__, index_elements=["ticket_id"], replacing=TICKET_COLUMNS
    )
    for i in range(0, len(rows), 1000):
        await session.execute(stmt, rows[i : i + 1000])


def _as_rows(stored: dict[str, Any] | None) -> list[Row]:
    return [tuple(r) for r in (stored or {}).get("rows", [])]  # type: ignore[misc]


async def facts_of(
    session: AsyncSession,
    contact_ids: Iterable[int],
    ticket_ids: Iterable[int],
    *,
    upto: Any = None,
) -> list[Fact]:
    """Every ticket fact of these contacts, and of these contact-less tickets (plain rows)."""
    out: list[Fact] = []
    contacts, tickets = sorted(set(contact_ids)), sorted(set(ticket_ids))
    conn = await session.connection()
    extra = [upto] if upto is not None else []
    for i in range(0, len(contacts), 500):
        stmt = select(*FACT_COLUMNS).where(
            Activity.contact_id.in_(contacts[i : i + 500]), Activity.ticket_id.is_not(None), *extra
        )
        out += [Fact(*row) for row in await conn.execute(stmt)]
    for i in range(0, len(tickets), 500):
        stmt = select(*FACT_COLUMNS).where(Activity.ticket_id.in_(tickets[i : i + 500]), *extra)
        out += [Fact(*row) for row in await conn.execute(stmt)]
    return out


async def refresh(session: AsyncSession, facts: Sequence[FactLike]) -> int:
    """Bring the rollups up to date for every ticket whose contact these facts touch; return
    how many tickets were recomputed. Idempotent."""
    contact_ids = {f.contact_id for f in facts if f.ticket_id is not None and f.contact_id}
    loose = {f.ticket_id for f in facts if f.ticket_id is not None and not f.contact_id}
    if not contact_ids and not loose:
        return 0
    everything = await facts_of(session, contact_ids, loose)  # type: ignore[arg-type]
    ctx = fold(everything)
    ids = sorted(ctx.tickets)
    stored: dict[int, dict[str, Any]] = {}
    for i in range(0, len(ids), 1000):
        stmt = select(MetricTicket.ticket_id, MetricTicket.contributed).where(
            MetricTicket.ticket_id.in_(ids[i : i + 1000])
        )
        stored.update({tid: c for tid, c in await session.execute(stmt)})
    sums, rows = Sums(), []
    for tid in ids:
        t = ctx.tickets[tid]
        new = contributions(t, ctx)
        old = _as_rows(stored.get(tid))
        if new != old:
            sums.add(old, -1)
            sums.add(new, +1)
        rows.append({**summary(t, ctx), "contributed": {"rows": [list(r) for r in new]}})
    await sums.write(session)
    await _store_tickets(session, rows)
    return len(ids)


@activity_service.consumer(CONSUMER, batch=1000)
async def on_facts(session: AsyncSession, batch: list[Fact]) -> None:
    await refresh(session, batch)


def is_postgres_db(db: Database) -> bool:
    return db.engine.dialect.name == "postgresql"
