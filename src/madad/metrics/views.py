"""The reports pages: the KPI dashboard (period picker, headline KPIs with trends, charts, tables
by agent and team), one agent's report, the staffing planner, and the exports."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth import sessions
from madad.auth.models import Team, User
from madad.auth.permissions import Scope
from madad.db import Database
from madad.errors import Invalid, NotFound
from madad.metrics import business, charts, reports, wallboard
from madad.metrics.models import MetricTicket
from madad.metrics.rollups import bucket_value
from madad.web import i18n
from madad.web.console import Agent, require_page
from madad.web.deps import DB, PathId
from madad.web.i18n import gettext as _
from madad.web.labels import LABELS
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
Manager = Annotated[sessions.SignedIn, Depends(require_page(Scope.reports_read))]
DayQuery = Annotated[str | None, Query(max_length=10)]
PRESETS = (7, 30, 90)
MIN_PULSE_GROUP = 5  # the agents' pulse is shown only for groups at least this large


def parse_period(start: str | None, end: str | None, days: int | None) -> tuple[date, date]:
    """[from, to) from the form: explicit days, or the last `days` days up to today."""
    try:
        last = date.fromisoformat(end) if end else datetime.now(UTC).date() + timedelta(days=1)
        first = date.fromisoformat(start) if start else last - timedelta(days=days or 30)
    except ValueError:
        raise Invalid("from", _("Dates look like 2026-01-31.")) from None
    if first >= last:
        raise Invalid("from", _("The first day must come before the last."))
    if (last - first).days > 3660:
        raise Invalid("to", _("A period is at most ten years long."))
    return first, last


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return _("%(n)s s", n=i18n.fmt_number(round(seconds)))
    if seconds < 7200:
        return _("%(n)s min", n=i18n.fmt_number(round(seconds / 60, 1)))
    if seconds < 172800:
        return _("%(n)s h", n=i18n.fmt_number(round(seconds / 3600, 1)))
    return _("%(n)s d", n=i18n.fmt_number(round(seconds / 86400, 1)))


def fmt_ratio(value: float | None) -> str:
    return "–" if value is None else f"{i18n.fmt_number(round(100 * value, 1))} %"


def kpi_label(name: str) -> str:
    labels = {
        "first_response": _("First response time"),
        "csat": _("CSAT"),
        "resolution_full": _("Resolution time"),
        "resolution_first": _("First resolution time"),
        "fcr": _("First-contact resolution"),
        "one_touch": _("One-touch resolution"),
        "repeat": _("Repeat contact rate"),
        "escalated": _("Escalation rate"),
        "asa": _("Average speed of answer"),
        "service_level": _("Service level (20 s)"),
        "abandoned": _("Abandonment rate"),
        "hold": _("Hold time"),
        "handle": _("Handle time"),
        "ces": _("Customer effort (CES)"),
        "created": _("Tickets created"),
        "handled": _("Requests per agent per day"),
    }
    return labels[name]


def kpi_help(name: str) -> str:
    helps = {
        "first_response": _("Created → first public reply by an agent; bots and automatic "
                            "replies do not count."),
        "csat": _("Survey answers of 4 or 5 on a 1–5 scale, out of all answers."),
        "resolution_full": _("Created → last solve, for tickets that are resolved now."),
        "resolution_first": _("Created → first solve."),
        "fcr": _("Resolved with no reopen and no new ticket from the same customer on the same "
                 "topic within 7 days."),
        "one_touch": _("Resolved with exactly one agent reply. Easy to game: read it beside "
                       "first-contact resolution."),
        "repeat": _("New tickets that follow a resolved ticket of the same customer and topic "
                    "within 7 days."),
        "escalated": _("Tickets escalated to a higher tier or a manager."),
        "asa": _("Chat and phone: time from joining the queue to being answered."),
        "service_level": _("Answered within 20 s, out of answered and abandoned after more "
                           "than 5 s."),
        "abandoned": _("Left the queue before an answer (waits of 5 s or less not counted)."),
        "hold": _("Time on hold per answered call or chat."),
        "handle": _("Chat and phone: answered → ended, talking and on hold; the staffing "
                    "planner's handle time."),
        "ces": _("Mean answer on 1–7 to “the company made it easy to handle my issue”."),
        "created": _("New tickets on every channel."),
        "handled": _("Tickets an agent replied to, per day the agent replied."),
    }  # fmt: skip
    return helps[name]


def card(name: str, now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    meta = reports.BY_NAME[name]
    value, prev = reports.value_of(now, name), reports.value_of(before, name)
    fig = now.get(name) or {}
    if meta.unit == "seconds":
        shown, prev_shown = fmt_duration(value), fmt_duration(prev)
        detail = _(
            "median %(median)s · 90th percentile %(p90)s · %(n)s measured",
            median=fmt_duration(fig.get("median")),
            p90=fmt_duration(fig.get("p90")),
            n=i18n.fmt_number(fig.get("n", 0)),
        )
    elif meta.unit == "ratio":
        shown, prev_shown = fmt_ratio(value), fmt_ratio(prev)
        detail = _(
            "%(num)s of %(den)s",
            num=i18n.fmt_number(fig.get("numerator", 0)),
            den=i18n.fmt_number(fig.get("denominator", 0)),
        )
    else:
        rounded = None if value is None else round(value, 2)
        shown = "–" if rounded is None else i18n.fmt_number(rounded)
        prev_shown = "–" if prev is None else i18n.fmt_number(round(prev, 2))
        detail = ""
    trend, good = "", None
    if value is not None and prev is not None and value != prev:
        trend = "up" if value > prev else "down"
        if meta.better != "none":
            good = (value < prev) == (meta.better == "lower")
    return {
        "name": name,
        "label": kpi_label(name),
        "help": kpi_help(name),
        "value": shown,
        "previous": prev_shown,
        "detail": detail,
        "trend": trend,
        "good": good,
        "empty": value is None,
    }


async def read(request: Request, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """`work` in a read-only session of its own (for reads a page runs side by side)."""
    db: Database = request.app.state.db
    async with db.session(write=False) as session:
        return await work(session)


async def names(session: AsyncSession) -> tuple[dict[int, str], dict[int, str]]:
    users = dict((await session.execute(select(User.id, User.name))).all())
    teams = dict((await session.execute(select(Team.id, Team.name))).all())
    return users, teams


TABLE_MEDIANS = ("first_response", "resolution_full")


def _row(key: Any, label: str, k: dict[str, Any], href: str | None = None) -> dict[str, Any]:
    res = k.get("resolutions") or {}
    return {
        "key": key,
        "label": label,
        "href": href,
        "handled": (k.get("handled") or {}).get("tickets", 0),
        "first_response": fmt_duration((k.get("first_response") or {}).get("median")),
        "resolution": fmt_duration((k.get("resolution_full") or {}).get("median")),
        "fcr": fmt_ratio((k.get("fcr") or {}).get("value")),
        "csat": fmt_ratio((k.get("csat") or {}).get("value")),
        "resolved": res.get("tickets", 0),
        "reopens": (k.get("reopen_event") or {}).get("value", 0),
    }


def resolution_bins(buckets: dict[int, int]) -> list[tuple[str, float | None]]:
    edges = [
        (3600, _("< 1 h")),
        (4 * 3600, _("1–4 h")),
        (24 * 3600, _("4–24 h")),
        (3 * 86400, _("1–3 d")),
        (7 * 86400, _("3–7 d")),
        (float("inf"), _("> 7 d")),
    ]
    counts = [0] * len(edges)
    for b, n in buckets.items():
        v = bucket_value(b)
        counts[next(i for i, (edge, _label) in enumerate(edges) if v < edge)] += n
    return [(label, float(c)) for (_edge, label), c in zip(edges, counts, strict=True)]


@router.get("/reports", response_class=HTMLResponse)
async def dashboard(
    request: Request,
    session: DB,
    who: Manager,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    days: Annotated[int | None, Query(ge=1, le=3660)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    hours: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    try:
        first, last = parse_period(start, end, days)
    except Invalid as exc:
        first, last = parse_period(None, None, 30)
        error: str | None = exc.detail if not exc.errors else exc.errors[0].message
    else:
        error = None
    channel = channel or None
    period = reports.day_period(first, last)
    # The tables by agent and team show the medians of these two only (see _row).
    tables = {"compare": False, "totals": False, "group_medians_of": TABLE_MEDIANS}
    # Independent reads, each on a connection of its own: the database works on them at once.
    db: Database = request.app.state.db
    report, by_agent, by_team, series, slots, hist, backlog = await asyncio.gather(
        reports.kpis_side_by_side(db, period, channel=channel),
        reports.kpis_side_by_side(db, period, group_by="agent", channel=channel, **tables),
        reports.kpis_side_by_side(db, period, group_by="team", channel=channel, **tables),
        read(request, lambda s: reports.daily_series(
            s, period, ["created", "first_response", "csat", "asa", "service_level"])),
        read(request, lambda s: reports.arrivals_by_slot(s, period)),
        read(request, lambda s: reports.histogram(s, period, "resolution_full", channel=channel)),
        read(request, lambda s: reports.backlog(s, period)),
    )  # fmt: skip
    now, before = report["total"], report["previous"]["total"]
    users, teams = await names(session)
    days_list = [first + timedelta(days=i) for i in range((last - first).days)]

    def per_day(metric: str, how: str) -> list[tuple[str, float | None]]:
        got = {d: (n, t) for d, n, t in series.get(metric, [])}
        out = []
        for d in days_list:
            n, t = got.get(d, (0.0, 0.0))
            value = t if how == "sum" else (t / n if n else None)
            out.append((i18n.fmt_date(d, "short"), value))
        return out

    by_hour = [0.0] * 24
    for (_weekday, slot), n in slots.items():
        by_hour[slot // 2] += n
    chart = {
        "volume": charts.bars(per_day("created", "sum"), title=_("Tickets created per day"),
                              caption=_("New tickets on every channel, per UTC day.")),
        "hours": charts.bars([(f"{h:02d}", by_hour[h]) for h in range(24)],
                             title=_("Tickets created by hour of day"),
                             caption=_("Hours in UTC, all days of the period together.")),
        "frt": charts.line(per_day("first_response", "mean"), title=_("First response time"),
                           caption=_("Mean per day, in minutes."),
                           fmt=lambda v: f"{v / 60:,.0f}"),
        "csat": charts.line(per_day("csat", "mean"), title=_("CSAT over time"),
                            caption=_("Share of 4–5 answers per day, in %."),
                            fmt=lambda v: f"{100 * v:,.0f}"),
        "asa": charts.line(per_day("asa", "mean"), title=_("Average speed of answer"),
                           caption=_("Chat and phone, mean per day, in seconds.")),
        "sl": charts.line(per_day("service_level", "mean"), title=_("Service level"),
                          caption=_("Answered within 20 s per day, in %."),
                          fmt=lambda v: f"{100 * v:,.0f}"),
        "resolution": charts.bars(resolution_bins(hist), title=_("Resolution time distribution"),
                                  caption=_("Tickets resolved in the period, by time to resolve.")),
        "backlog": charts.line([(i18n.fmt_date(d, "short"),
                                 float(n)) for d, n in backlog],
                               title=_("Backlog"),
                               caption=_("Unresolved tickets at the end of each day.")),
    }  # fmt: skip
    agent_rows = [
        _row(g["key"], users.get(g["key"], _("Unassigned")), g["kpis"],
             f"/reports/agents/{g['key']}?from={first}&to={last}" if g["key"] else None)
        for g in by_agent.get("groups", [])
    ]  # fmt: skip
    team_rows = [
        _row(g["key"], teams.get(g["key"], _("No team")), g["kpis"])
        for g in by_team.get("groups", [])
    ]
    warnings = [
        _(
            "%(speed)s improved while %(quality)s dropped: faster is not better if customers are "
            "less satisfied or have to come back.",
            speed=kpi_label(w["faster"]),
            quality=kpi_label(w["worse"]),
        )
        for w in report.get("warnings", [])
    ]
    res, prev_res = now["resolutions"], before["resolutions"]
    business_view = None
    if hours:
        try:
            got = await business.report(session, period, hours, channel=channel)
        except Invalid as exc:
            error = exc.errors[0].message if exc.errors else exc.detail
        else:
            business_view = {
                "name": got["name"],
                "time_zone": got["time_zone"],
                "rows": [
                    (kpi_label(name), {
                        "mean": fmt_duration(got[name]["mean"]),
                        "median": fmt_duration(got[name]["median"]),
                        "p90": fmt_duration(got[name]["p90"]),
                        "n": i18n.fmt_number(got[name]["n"]),
                    })
                    for name in ("first_response", "resolution_full")
                ],
            }  # fmt: skip
    return render(
        request,
        "reports_dashboard.html",
        {
            "first": first,
            "last": last,
            "shown_last": last - timedelta(days=1),
            "queues": await business.queues(session),
            "hours_key": hours or "",
            "business": business_view,
            "channel": channel or "",
            "presets": PRESETS,
            "error": error,
            "cards": [card(k.name, now, before) for k in reports.KPIS],
            "warnings": warnings,
            "resolutions": res,
            "prev_resolutions": prev_res,
            "nps": now["nps"]["value"],
            "agent_satisfaction": fmt_ratio(now["agent_satisfaction"]["value"])
            if now["agent_satisfaction"]["denominator"] >= MIN_PULSE_GROUP
            else None,
            "pulse_answers": int(now["agent_satisfaction"]["denominator"]),
            "csat_response": fmt_ratio((now.get("responded:csat") or {}).get("value")),
            "csat_sent": int((now.get("responded:csat") or {}).get("denominator") or 0),
            "nps_response": fmt_ratio(now["nps_response"]["value"]),
            "retention": fmt_ratio(now["retention"]["value"]),
            "churn": fmt_ratio(now["churn"]["value"]),
            "prev_retention": fmt_ratio(before["retention"]["value"]),
            "chart": chart,
            "agent_rows": agent_rows,
            "team_rows": team_rows,
            "labels": LABELS,
            "query": f"from={first}&to={last}" + (f"&channel={channel}" if channel else ""),
        },
    )


@router.get("/reports/agents/{agent_id}", response_class=HTMLResponse)
async def agent_report(
    request: Request,
    session: DB,
    who: Manager,
    agent_id: PathId,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    agent = await session.get(User, agent_id)
    if agent is None:
        raise NotFound(f"agent {agent_id} not found")
    first, last = parse_period(start, end, 30)
    period = reports.day_period(first, last)
    report = await reports.kpis(session, period, agent_id=agent_id)
    now, before = report["total"], report["previous"]["total"]
    names_ = ["handled", "first_response", "csat", "resolution_full", "fcr", "one_touch"]
    reopened = (now.get("reopen_event") or {}).get("value", 0)
    solved = (now.get("solve_event") or {}).get("value", 0)
    recent = (
        await session.execute(
            select(MetricTicket)
            .where(
                MetricTicket.agent_id == agent_id,
                MetricTicket.resolved_at >= period.start,
                MetricTicket.resolved_at < period.end,
            )
            .order_by(MetricTicket.resolved_at.desc())
            .limit(25)
        )
    ).scalars()
    return render(
        request,
        "reports_agent.html",
        {
            "agent": agent,
            "first": first,
            "last": last,
            "shown_last": last - timedelta(days=1),
            "cards": [card(n, now, before) for n in names_],
            "reopened": reopened,
            "solved": solved,
            "reopen_rate": fmt_ratio(reopened / solved if solved else None),
            "recent": [
                {
                    "ticket_id": t.ticket_id,
                    "resolved_at": t.resolved_at,
                    "resolution": fmt_duration(t.resolution_s),
                    "first_response": fmt_duration(t.first_response_s),
                    "fcr": t.fcr,
                    "reopens": t.reopens,
                    "csat": t.csat,
                }
                for t in recent
            ],
        },
    )


@router.get("/reports/kpis.{fmt}")
async def export_kpis(
    session: DB,
    who: Manager,
    fmt: str,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    group_by: Annotated[str | None, Query(max_length=16)] = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    if fmt not in ("csv", "json"):
        raise NotFound("reports come as .csv or .json")
    if group_by not in (None, "", *reports.GROUPS):
        raise Invalid("group_by", "must be channel, team or agent")
    first, last = parse_period(start, end, 30)
    report = await reports.kpis(
        session,
        reports.day_period(first, last),
        group_by=group_by or None,
        channel=channel or None,
    )
    name = f"kpis-{first}-{last}"
    if fmt == "json":
        return Response(
            json.dumps(report, default=str),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
        )
    rows = reports.flat(report)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/reports/tickets.csv")
async def export_tickets(
    session: DB,
    who: Manager,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    first, last = parse_period(start, end, 30)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=reports.EXPORT_COLUMNS)
    writer.writeheader()
    count = 0
    async for row in reports.ticket_rows(session, reports.day_period(first, last)):
        writer.writerow(row)
        count += 1
        if count >= 200_000:
            raise Invalid("to", "more than 200,000 tickets: use the API or `madad report tickets`")
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tickets-{first}-{last}.csv"'},
    )


async def _board_context(session: AsyncSession, queue: str | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    b = await wallboard.board(session, now, queue or None)
    return {
        "b": b,
        "now": now,
        "wait": fmt_duration(b.longest_wait) if b.longest_wait is not None else "–",
        "sl": fmt_ratio(b.service_level),
        "asa": fmt_duration(b.asa_last_hour),
    }


@router.get("/wallboard", response_class=HTMLResponse)
async def wallboard_page(
    request: Request,
    session: DB,
    who: Agent,
    queue: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Full-screen live figures of the live queues (any agent may look)."""
    return render(request, "wallboard.html", await _board_context(session, queue))


@router.get("/wallboard/panel", response_class=HTMLResponse)
async def wallboard_panel(
    request: Request,
    session: DB,
    who: Agent,
    queue: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    return render(request, "wallboard_panel.html", await _board_context(session, queue))
