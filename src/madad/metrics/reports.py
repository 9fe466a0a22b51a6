"""KPI reports read from the rollups: headline figures, breakdowns, period comparisons, export.

Report periods are whole UTC days, half-open: `[start, end)`. Every duration comes with its
mean, median and 90th percentile (the percentiles from 5 %-wide histogram buckets, so within
2.5 % of the exact value); every rate with its numerator and denominator.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Float, and_, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity.models import Activity
from madad.auth.models import Team, User
from madad.contacts.models import Contact
from madad.db import Database
from madad.metrics import definitions as d
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
from madad.metrics.rollups import DURATIONS, bucket_value
from madad.tickets.models import Ticket


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: str  # seconds | ratio | count | score | per_day
    better: str  # lower | higher | none
    definition: str


# The headline KPIs, in the order reports show them. Speed sits next to satisfaction.
KPIS: list[Kpi] = [
    Kpi("first_response", "First response time", "seconds", "lower",
        "Ticket created → first public reply by an agent (bots and auto-replies excluded)."),
    Kpi("csat", "CSAT", "ratio", "higher",
        "Survey answers of 4 or 5 on 1–5 / all answers."),
    Kpi("resolution_full", "Resolution time", "seconds", "lower",
        "Created → last solve, for tickets resolved now, in the period of the last solve."),
    Kpi("resolution_first", "First resolution time", "seconds", "lower",
        "Created → first solve, in the period of the first solve."),
    Kpi("fcr", "First-contact resolution", "ratio", "higher",
        "Resolved tickets with no reopen and no repeat contact on the same topic within 7 "
        "days / resolved tickets."),
    Kpi("one_touch", "One-touch resolution", "ratio", "none",
        "Resolved tickets with exactly one agent reply / resolved tickets. Shown beside FCR, "
        "never instead of it."),
    Kpi("repeat", "Repeat contact rate", "ratio", "lower",
        "Tickets following a resolved ticket of the same contact and topic within 7 days / "
        "tickets created."),
    Kpi("escalated", "Escalation rate", "ratio", "lower",
        "Tickets created in the period that were escalated / tickets created."),
    Kpi("asa", "Average speed of answer", "seconds", "lower",
        "Live contacts: answered − offered, over answered contacts (abandons excluded)."),
    Kpi("service_level", "Service level (20 s)", "ratio", "higher",
        "Answered within 20 s / (answered + abandoned after more than 5 s)."),
    Kpi("abandoned", "Abandonment rate", "ratio", "lower",
        "Abandoned / offered, short abandons (≤ 5 s) excluded from both."),
    Kpi("hold", "Hold time", "seconds", "lower",
        "Total time on hold per answered live contact."),
    Kpi("handle", "Handle time", "seconds", "none",
        "Live contacts: ended − answered (talking and on hold), the staffing planner's "
        "handle time."),
    Kpi("ces", "Customer effort (CES)", "score", "higher",
        "Mean answer on 1–7 to “the company made it easy to handle my issue”."),
    Kpi("created", "Tickets created", "count", "none", "New tickets in the period."),
    Kpi("handled", "Requests per agent per day", "per_day", "none",
        "Tickets with at least one public reply by the agent that day, averaged over the "
        "days the agent replied."),
]  # fmt: skip
BY_NAME = {k.name: k for k in KPIS}
RATES = {"csat", "fcr", "one_touch", "repeat", "escalated", "service_level", "abandoned"}
GROUPS = {
    "channel": MetricDaily.channel,
    "team": MetricDaily.team_id,
    "agent": MetricDaily.agent_id,
}


def day_period(start: date, end: date) -> d.Period:
    """The UTC days `[start, end)` as a period."""
    return d.Period(datetime.combine(start, time(), UTC), datetime.combine(end, time(), UTC))


def percentile(buckets: dict[int, int], q: float) -> float | None:
    """The q-quantile (nearest rank) of a histogram, as its bucket's middle value."""
    n = sum(buckets.values())
    if not n:
        return None
    rank, seen = max(1, math.ceil(q * n)), 0
    for b in sorted(buckets):
        seen += buckets[b]
        if seen >= rank:
            return bucket_value(b)
    return bucket_value(max(buckets))


def _where(period: d.Period, table: Any, filters: dict[str, Any]) -> list[Any]:
    where = [table.day >= period.start.date(), table.day < period.end.date()]
    for col, value in filters.items():
        if value is not None:
            where.append(getattr(table, col) == value)
    return where


def _percentiles(hist: Any, group_by: str | None, where: list[Any]) -> Any:
    """Per group and metric: the buckets holding the median and the 90th percentile (nearest
    rank, as `percentile` finds them) and the count, computed in the database so that only a
    row per group and metric comes back instead of every bucket."""
    group = [getattr(hist, GROUPS[group_by].key)] if group_by else []
    per_bucket = (
        select(*group, hist.metric, hist.bucket, func.sum(hist.n).label("n"))
        .where(*where)
        .group_by(*group, hist.metric, hist.bucket)
        .subquery()
    )
    part = [*(per_bucket.c[c.key] for c in group), per_bucket.c.metric]
    ranked = select(
        *part,
        per_bucket.c.bucket,
        func.sum(per_bucket.c.n).over(partition_by=part, order_by=per_bucket.c.bucket).label("cum"),
        func.sum(per_bucket.c.n).over(partition_by=part).label("tot"),
    ).subquery()
    keys = [*(ranked.c[c.key] for c in group), ranked.c.metric]
    cum, tot = cast(ranked.c.cum, Float), cast(ranked.c.tot, Float)
    # seen ≥ ⌈q·n⌉ ⟺ seen ≥ q·n for whole counts; the same float product as in Python.
    return select(
        *keys,
        func.min(ranked.c.bucket).filter(cum >= tot * 0.5),
        func.min(ranked.c.bucket).filter(cum >= tot * 0.9),
        func.max(ranked.c.tot),
    ).group_by(*keys)


def _tables_for(group_by: str | None, filters: dict[str, Any]) -> tuple[Any, Any, dict[str, Any]]:
    """The smallest rollup tables (daily sums, histograms) that hold a report's figures, and
    the filters to apply to them."""
    channel, team, agent = filters.get("channel"), filters.get("team_id"), filters.get("agent_id")
    if group_by in (None, "channel") and team is None and agent is None:
        # Headline figures (no team or agent in sight): the all-teams tables; their
        # histograms do not keep the channel.
        keep_channel = group_by == "channel" or channel is not None
        return (
            MetricDailyTotal,
            MetricHist if keep_channel else MetricHistTotal,
            (filters if keep_channel else {"channel": channel}),
        )
    if channel is None and group_by in (None, "agent") and team is None:
        return MetricDailyAgent, MetricHistAgent, {"agent_id": agent}
    if channel is None and group_by in (None, "team") and agent is None:
        return MetricDailyTeam, MetricHistTeam, {"team_id": team}
    return MetricDaily, MetricHist, filters


GroupSums = dict[Any, dict[str, tuple[float, float]]]  # per group, per metric: (n, total)
Quantiles = dict[tuple[Any, str], tuple[float, float]]  # (group, metric) → (median, p90)
AgentDays = dict[Any, int]  # per group: agent-days with a reply


async def _for_reports(session: AsyncSession) -> None:
    """On PostgreSQL, for this read's transaction: no JIT (compiling the per-agent
    percentiles' plan took ~90 ms, every time) and room to hash a period's histogram rows in
    memory (the default 4 MB sorted the per-agent buckets on disk)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            select(func.set_config("jit", "off", True), func.set_config("work_mem", "32MB", True))
        )


async def _figures(
    session: AsyncSession,
    period: d.Period,
    group_by: str | None,
    filters: dict[str, Any],
    medians_of: Sequence[str] | None = None,
) -> dict[Any, dict[str, Any]]:
    """Per group: each metric's figure; medians and 90th percentiles only of `medians_of`, when
    given (per agent, the histograms are about as many rows as there are measurements)."""
    sums, days = await _sums(session, period, group_by, filters)
    return _assemble(sums, await _quantiles(session, period, group_by, filters, medians_of), days)


async def _sums(
    session: AsyncSession, period: d.Period, group_by: str | None, filters: dict[str, Any]
) -> tuple[GroupSums, AgentDays]:
    """Per group and metric, the daily sums of the period added up; and the agent-days."""
    daily, _hist, near = _tables_for(group_by, filters)
    sum_cols = [getattr(daily, GROUPS[group_by].key)] if group_by else []
    rows = await session.execute(
        select(*sum_cols, daily.metric, func.sum(daily.n), func.sum(daily.total))
        .where(*_where(period, daily, near), ~daily.metric.like("arrivals:%"))
        .group_by(*sum_cols, daily.metric)
    )
    sums: GroupSums = defaultdict(dict)
    for row in rows:
        key = row[0] if group_by else None
        sums[key][row[-3]] = (float(row[-2] or 0), float(row[-1] or 0))
    # Agent-days with a reply: from the agents' sums unless a channel or team is in sight (an
    # agent's day has a reply if any of its channels and teams has one: counts are never below
    # 0), else from the detailed sums.
    channel, team = filters.get("channel"), filters.get("team_id")
    per_agent = group_by in (None, "agent") and channel is None and team is None
    days_of: Any = MetricDailyAgent if per_agent else MetricDaily
    near_days = {"agent_id": filters.get("agent_id")} if per_agent else filters
    group_cols = [] if per_agent or group_by in (None, "agent") else [GROUPS[group_by]]
    active = (
        select(days_of.day, days_of.agent_id, *group_cols)
        .where(*_where(period, days_of, near_days))
        .where(days_of.metric == "handled", days_of.n > 0)
        .group_by(days_of.day, days_of.agent_id, *group_cols)
        .subquery()
    )
    active_group = [active.c[GROUPS[group_by].key]] if group_by else []
    agent_days = await session.execute(
        select(*active_group, func.count()).select_from(active).group_by(*active_group)
    )
    days = {(row[0] if group_by else None): int(row[-1]) for row in agent_days}
    return sums, days


async def _quantiles(
    session: AsyncSession,
    period: d.Period,
    group_by: str | None,
    filters: dict[str, Any],
    medians_of: Sequence[str] | None = None,
) -> Quantiles:
    """Per group and duration metric (of `medians_of`, when given): the median and the 90th
    percentile over the period."""
    _daily, hist, near = _tables_for(group_by, filters)
    where = _where(period, hist, near)
    if medians_of is not None:
        where.append(hist.metric.in_(list(medians_of)))
    quantiles: Quantiles = {}
    for row in await session.execute(_percentiles(hist, group_by, where)):
        key = row[0] if group_by else None
        median, p90, count = row[-3], row[-2], row[-1]
        if count and median is not None and p90 is not None:
            quantiles[(key, row[-4])] = (bucket_value(int(median)), bucket_value(int(p90)))
    return quantiles


def _assemble(sums: GroupSums, quantiles: Quantiles, days: AgentDays) -> dict[Any, dict[str, Any]]:
    """Per group: each metric's figure, from what `_sums` and `_quantiles` read."""
    out: dict[Any, dict[str, Any]] = {}
    for key, metrics in sums.items():
        figures: dict[str, Any] = {}
        for name, (n, total) in metrics.items():
            if name in DURATIONS:
                median, p90 = quantiles.get((key, name), (None, None))
                figures[name] = {
                    "n": int(n),
                    "mean": total / n if n else None,
                    "median": median,
                    "p90": p90,
                }
            elif name in RATES or name.startswith("responded:"):
                figures[name] = {
                    "numerator": total,
                    "denominator": n,
                    "value": total / n if n else None,
                }
            elif name == "ces":
                figures[name] = {"n": int(n), "value": total / n if n else None}
            elif name == "handled":
                ad = days.get(key, 0)
                figures[name] = {
                    "tickets": total,
                    "agent_days": ad,
                    "value": total / ad if ad else None,
                }
            else:
                figures[name] = {"value": total}
        out[key] = figures
    return out


async def _unique_contacts(
    session: AsyncSession, period: d.Period, group_by: str | None, filters: dict[str, Any]
) -> dict[Any, int]:
    col = {
        "channel": MetricTicket.channel,
        "team": MetricTicket.team_id,
        "agent": MetricTicket.agent_id,
    }
    where = [MetricTicket.resolved_at >= period.start, MetricTicket.resolved_at < period.end]
    for name, value in filters.items():
        if value is not None:
            where.append(getattr(MetricTicket, name) == value)
    group = [col[group_by]] if group_by else []
    rows = await session.execute(
        select(*group, func.count(func.distinct(MetricTicket.contact_id)))
        .where(*where)
        .group_by(*group)
    )
    out: dict[Any, int] = {}
    for row in rows:
        key = row[0] if group_by else None
        if group_by in ("team", "agent"):
            key = key or 0
        if group_by == "channel":
            key = key or ""
        out[key] = int(row[-1])
    return out


async def _direct(session: AsyncSession, period: d.Period) -> dict[str, Any]:
    """The figures that are not per ticket, computed from their (few) facts: NPS, agents'
    pulse and the retention of organisations."""
    survey_facts = list(
        (
            await session.execute(
                select(Activity).where(
                    Activity.kind.in_(["survey.sent", "survey.answered"]),
                    Activity.ticket_id.is_(None),
                    Activity.at < period.end,
                    Activity.at >= period.start - timedelta(days=400),
                )
            )
        ).scalars()
    )
    org_facts = list(
        (
            await session.execute(
                select(Activity).where(
                    Activity.kind.in_(
                        [
                            "organisation.created",
                            "organisation.churned",
                            "organisation.reactivated",
                            "organisation.deleted",
                        ]
                    ),
                    Activity.at < period.end,
                )
            )
        ).scalars()
    )
    pulse = d.agent_satisfaction(survey_facts, period)
    kept = d.retention(org_facts, period)
    return {
        "nps": {"value": d.nps(survey_facts, period)},
        "nps_response": _rate(d.survey_response_rate(survey_facts, period, "nps")),
        "agent_satisfaction": _rate(pulse),
        "retention": _rate(kept),
        "churn": {"value": 1 - kept.value if kept.value is not None else None},
    }


def _rate(r: d.Rate) -> dict[str, Any]:
    return {"numerator": r.numerator, "denominator": r.denominator, "value": r.value}


Work = Callable[[AsyncSession], Awaitable[Any]]


async def kpis(
    session: AsyncSession,
    period: d.Period,
    *,
    group_by: str | None = None,
    channel: str | None = None,
    team_id: int | None = None,
    agent_id: int | None = None,
    compare: bool = True,
    totals: bool = True,
    group_medians_of: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The KPI report for `period` (whole UTC days): totals, the previous period's totals for
    comparison, and, with `group_by` (channel | team | agent), one entry per group.
    `totals=False` leaves the totals out (a page that has them already); `group_medians_of`
    limits the groups' medians and percentiles to the metrics named (a table that shows no
    others)."""

    async def one_by_one(works: list[Work]) -> list[Any]:
        return [await work(session) for work in works]

    return await _kpis(
        one_by_one, period, group_by, channel, team_id, agent_id, compare, totals, group_medians_of
    )


async def kpis_side_by_side(
    db: Database,
    period: d.Period,
    *,
    group_by: str | None = None,
    channel: str | None = None,
    team_id: int | None = None,
    agent_id: int | None = None,
    compare: bool = True,
    totals: bool = True,
    group_medians_of: Sequence[str] | None = None,
) -> dict[str, Any]:
    """`kpis`, its parts (the period, the one before, the groups) read at once, each in a
    read-only session of its own, so that the database works on them side by side."""

    async def own_session(work: Work) -> Any:
        async with db.session(write=False) as session:
            return await work(session)

    async def side_by_side(works: list[Work]) -> list[Any]:
        return list(await asyncio.gather(*(own_session(w) for w in works)))

    return await _kpis(
        side_by_side, period, group_by, channel, team_id, agent_id, compare, totals,
        group_medians_of,
    )  # fmt: skip


async def _kpis(
    run: Callable[[list[Work]], Awaitable[list[Any]]],
    period: d.Period,
    group_by: str | None,
    channel: str | None,
    team_id: int | None,
    agent_id: int | None,
    compare: bool,
    totals: bool,
    group_medians_of: Sequence[str] | None,
) -> dict[str, Any]:
    if group_by is not None and group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    filters = {"channel": channel, "team_id": team_id, "agent_id": agent_id}
    prev_period = period.previous()

    async def total_of(session: AsyncSession, of: d.Period) -> dict[str, Any]:
        await _for_reports(session)
        total = (await _figures(session, of, None, filters)).get(None, {})
        contacts = (await _unique_contacts(session, of, None, filters)).get(None, 0)
        total["resolutions"] = _resolutions(total, contacts)
        return total | await _direct(session, of)

    # The groups' figures in two works, for `run` to read side by side: their histograms
    # (per agent, nearly a row per measurement) take as long as all the rest.
    async def group_sums(session: AsyncSession) -> tuple[GroupSums, AgentDays, dict[Any, int]]:
        await _for_reports(session)
        sums, days = await _sums(session, period, group_by, filters)
        return sums, days, await _unique_contacts(session, period, group_by, filters)

    async def group_quantiles(session: AsyncSession) -> Quantiles:
        await _for_reports(session)
        return await _quantiles(session, period, group_by, filters, group_medians_of)

    works: dict[str, Work] = {}
    if totals:
        works["total"] = lambda session: total_of(session, period)
    if compare and totals:
        works["previous"] = lambda session: total_of(session, prev_period)
    if group_by:
        works["group_sums"], works["group_quantiles"] = group_sums, group_quantiles
    got = dict(zip(works, await run(list(works.values())), strict=True))
    if group_by:
        sums, days, uniq = got.pop("group_sums")
        groups = _assemble(sums, got.pop("group_quantiles"), days)
        got["groups"] = [
            {"key": key, "kpis": figures | {"resolutions": _resolutions(figures, uniq.get(key, 0))}}
            for key, figures in sorted(groups.items(), key=lambda kv: str(kv[0]))
        ]
    report: dict[str, Any] = {
        "period": {"from": period.start.date().isoformat(), "to": period.end.date().isoformat()},
        "group_by": group_by,
    }
    if "total" in got:
        report["total"] = got["total"]
    if "previous" in got:
        report["previous"] = {
            "period": {
                "from": prev_period.start.date().isoformat(),
                "to": prev_period.end.date().isoformat(),
            },
            "total": got["previous"],
        }
        report["warnings"] = gaming_warnings(got["total"], got["previous"])
    if "groups" in got:
        report["groups"] = got["groups"]
    return report


def _resolutions(figures: dict[str, Any], contacts: int) -> dict[str, Any]:
    return {
        "events": int(figures.get("solve_event", {}).get("value") or 0),
        "tickets": int(figures.get("resolved", {}).get("value") or 0),
        "contacts": contacts,
    }


def value_of(figures: dict[str, Any], name: str) -> float | None:
    f = figures.get(name) or {}
    return (
        f.get("mean") if BY_NAME.get(name) and BY_NAME[name].unit == "seconds" else f.get("value")
    )


SPEED = ("first_response", "resolution_full", "asa")
QUALITY = ("csat", "fcr")


def gaming_warnings(now: dict[str, Any], before: dict[str, Any]) -> list[dict[str, Any]]:
    """When a speed metric improved while satisfaction or first-contact resolution dropped."""
    out = []
    for speed in SPEED:
        a, b = value_of(now, speed), value_of(before, speed)
        if a is None or b is None or a >= b:
            continue
        for quality in QUALITY:
            qa, qb = value_of(now, quality), value_of(before, quality)
            if qa is not None and qb is not None and qa < qb:
                out.append(
                    {"faster": speed, "worse": quality, "speed": [b, a], "quality": [qb, qa]}
                )
    return out


def flat(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per group (or one for the total): KPI columns with plain numbers."""
    groups = report.get("groups") or [{"key": "total", "kpis": report["total"]}]
    rows = []
    for g in groups:
        row: dict[str, Any] = {"group": g["key"]}
        for k in KPIS:
            f = g["kpis"].get(k.name) or {}
            if k.unit == "seconds":
                row[f"{k.name}_n"] = f.get("n", 0)
                row[f"{k.name}_mean_s"] = f.get("mean")
                row[f"{k.name}_median_s"] = f.get("median")
                row[f"{k.name}_p90_s"] = f.get("p90")
            else:
                row[k.name] = f.get("value")
        res = g["kpis"].get("resolutions") or {}
        row |= {f"resolution_{k}": v for k, v in res.items()}
        rows.append(row)
    return rows


# --- series for charts -----------------------------------------------------------------------


async def daily_series(
    session: AsyncSession, period: d.Period, metrics: list[str]
) -> dict[str, list[tuple[date, float, float]]]:
    """Per metric, per day: (day, n, total)."""
    rows = await session.execute(
        select(
            MetricDailyTotal.metric,
            MetricDailyTotal.day,
            func.sum(MetricDailyTotal.n),
            func.sum(MetricDailyTotal.total),
        )
        .where(*_where(period, MetricDailyTotal, {}), MetricDailyTotal.metric.in_(metrics))
        .group_by(MetricDailyTotal.metric, MetricDailyTotal.day)
        .order_by(MetricDailyTotal.day)
    )
    out: dict[str, list[tuple[date, float, float]]] = defaultdict(list)
    for metric, day, n, total in rows:
        out[metric].append((day, float(n or 0), float(total or 0)))
    return out


async def arrivals_by_slot(
    session: AsyncSession, period: d.Period, *, channel: str | None = None
) -> dict[tuple[int, int], float]:
    """Tickets created per (weekday 0 = Monday, half-hour slot 0–47, UTC) over the period."""
    rows = await session.execute(
        select(MetricDailyTotal.day, MetricDailyTotal.metric, func.sum(MetricDailyTotal.total))
        .where(
            *_where(period, MetricDailyTotal, {"channel": channel}),
            MetricDailyTotal.metric.like("arrivals:%"),
        )
        .group_by(MetricDailyTotal.day, MetricDailyTotal.metric)
    )
    out: dict[tuple[int, int], float] = defaultdict(float)
    for day, metric, total in rows:
        out[(day.weekday(), int(metric.split(":")[1]))] += float(total or 0)
    return out


async def observed_mean(
    session: AsyncSession, period: d.Period, metric: str, *, channel: str | None = None
) -> tuple[float | None, int]:
    """A metric's mean over the period from the all-teams sums, and how many measurements."""
    n, total = (
        await session.execute(
            select(func.sum(MetricDailyTotal.n), func.sum(MetricDailyTotal.total)).where(
                *_where(period, MetricDailyTotal, {"channel": channel}),
                MetricDailyTotal.metric == metric,
            )
        )
    ).one()
    count = int(n or 0)
    return (float(total) / count if count else None), count


async def histogram(
    session: AsyncSession, period: d.Period, metric: str, *, channel: str | None = None
) -> dict[int, int]:
    """A duration metric's histogram over the period: bucket → count."""
    table: Any = MetricHist if channel else MetricHistTotal
    rows = await session.execute(
        select(table.bucket, func.sum(table.n))
        .where(*_where(period, table, {"channel": channel}), table.metric == metric)
        .group_by(table.bucket)
    )
    return {int(b): int(n or 0) for b, n in rows}


async def backlog(session: AsyncSession, period: d.Period) -> list[tuple[date, int]]:
    """Unresolved tickets at the end of each day: Σ (created − solves + reopens) up to it."""
    deltas = await session.execute(
        select(MetricDailyTotal.day, MetricDailyTotal.metric, func.sum(MetricDailyTotal.total))
        .where(
            MetricDailyTotal.day < period.end.date(),
            MetricDailyTotal.metric.in_(["created", "solve_event", "reopen_event"]),
        )
        .group_by(MetricDailyTotal.day, MetricDailyTotal.metric)
        .order_by(MetricDailyTotal.day)
    )
    sign = {"created": 1, "solve_event": -1, "reopen_event": 1}
    per_day: dict[date, float] = defaultdict(float)
    for day, metric, total in deltas:
        per_day[day] += sign[metric] * float(total or 0)
    out, running = [], 0.0
    day = min(per_day, default=period.start.date())
    while day < period.end.date():
        running += per_day.get(day, 0.0)
        if day >= period.start.date():
            out.append((day, int(running)))
        day += timedelta(days=1)
    return out


# --- the one-row-per-ticket export ------------------------------------------------------------

EXPORT_COLUMNS = [
    "ticket",
    "customer",
    "channel",
    "team",
    "agent",
    "status",
    "priority",
    "tags",
    "created",
    "first_response_seconds",
    "resolved",
    "resolution_seconds",
    "reopens",
    "escalated",
    "fcr",
    "repeat_contact",
    "csat",
]


async def ticket_rows(
    session: AsyncSession, period: d.Period, *, batch: int = 2000
) -> AsyncIterator[dict[str, Any]]:
    """One row per ticket created in the period, with its measurements (streamed by id)."""
    after = 0
    while True:
        stmt = (
            select(MetricTicket, Ticket.status, Contact.name, Team.name, User.name)
            .outerjoin(Ticket, Ticket.id == MetricTicket.ticket_id)
            .outerjoin(Contact, Contact.id == MetricTicket.contact_id)
            .outerjoin(Team, Team.id == MetricTicket.team_id)
            .outerjoin(User, User.id == MetricTicket.agent_id)
            .where(
                and_(MetricTicket.created_at >= period.start, MetricTicket.created_at < period.end),
                MetricTicket.ticket_id > after,
            )
            .order_by(MetricTicket.ticket_id)
            .limit(batch)
        )
        rows = (await session.execute(stmt)).all()
        if not rows:
            return
        for m, status, customer, team, agent in rows:
            yield {
                "ticket": m.ticket_id,
                "customer": customer,
                "channel": m.channel,
                "team": team,
                "agent": agent,
                "status": status,
                "priority": m.priority,
                "tags": " ".join(m.tags.get("tags", [])),
                "created": m.created_at.isoformat() if m.created_at else None,
                "first_response_seconds": m.first_response_s,
                "resolved": m.resolved_at.isoformat() if m.resolved_at else None,
                "resolution_seconds": m.resolution_s,
                "reopens": m.reopens,
                "escalated": m.escalated,
                "fcr": m.fcr,
                "repeat_contact": m.repeat,
                "csat": m.csat,
            }
        after = rows[-1][0].ticket_id


# --- breakdowns by what a ticket is (priority, organisation, tag) ---------------------------------

TICKET_GROUPS = ("priority", "organisation", "tag")


async def ticket_breakdown(
    session: AsyncSession, period: d.Period, by: str, *, batch: int = 5000
) -> list[dict[str, Any]]:
    """Per priority, organisation or tag, over tickets created in the period: tickets,
    resolved, first response and resolution (mean, median), FCR, reopens and CSAT — from the
    one-row-per-ticket table. A ticket with two tags counts under each."""
    if by not in TICKET_GROUPS:
        raise ValueError(f"by must be one of {', '.join(TICKET_GROUPS)}")
    groups: dict[Any, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    after = 0
    while True:
        stmt = (
            select(MetricTicket, Contact.organisation_id)
            .outerjoin(Contact, Contact.id == MetricTicket.contact_id)
            .where(
                MetricTicket.created_at >= period.start,
                MetricTicket.created_at < period.end,
                MetricTicket.ticket_id > after,
            )
            .order_by(MetricTicket.ticket_id)
            .limit(batch)
        )
        rows = (await session.execute(stmt)).all()
        if not rows:
            break
        for m, org in rows:
            keys: list[Any] = (
                [m.priority]
                if by == "priority"
                else [org]
                if by == "organisation"
                else list(m.tags.get("tags", [])) or [None]
            )
            for key in keys:
                g = groups[key]
                g["tickets"].append(1)
                g["reopens"].append(m.reopens)
                if m.first_response_s is not None:
                    g["first_response"].append(m.first_response_s)
                if m.resolution_s is not None:
                    g["resolution"].append(m.resolution_s)
                if m.fcr is not None:
                    g["fcr"].append(1.0 if m.fcr else 0.0)
                if m.csat is not None:
                    g["csat"].append(1.0 if m.csat >= 4 else 0.0)
        after = rows[-1][0].ticket_id
    out = []
    for key, g in groups.items():
        frt, res = d.Durations.of(g["first_response"]), d.Durations.of(g["resolution"])
        out.append(
            {
                "key": key,
                "tickets": len(g["tickets"]),
                "resolved": len(g["resolution"]),
                "reopens": int(sum(g["reopens"])),
                "first_response": {"n": frt.n, "mean": frt.mean, "median": frt.median},
                "resolution_full": {"n": res.n, "mean": res.mean, "median": res.median},
                "fcr": _share(g["fcr"]),
                "csat": _share(g["csat"]),
            }
        )
    return sorted(out, key=lambda r: (-r["tickets"], str(r["key"])))


def _share(values: list[float]) -> dict[str, Any]:
    return {
        "numerator": sum(values),
        "denominator": len(values),
        "value": sum(values) / len(values) if values else None,
    }


def flat_breakdown(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A breakdown as CSV rows."""
    return [
        {
            "group": r["key"],
            "tickets": r["tickets"],
            "resolved": r["resolved"],
            "reopens": r["reopens"],
            "first_response_mean_s": r["first_response"]["mean"],
            "first_response_median_s": r["first_response"]["median"],
            "resolution_mean_s": r["resolution_full"]["mean"],
            "resolution_median_s": r["resolution_full"]["median"],
            "fcr": r["fcr"]["value"],
            "csat": r["csat"]["value"],
        }
        for r in rows
    ]
