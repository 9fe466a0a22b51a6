"""The staffing planner page: agents needed per half hour of the week from the observed arrivals
and handle time (Erlang C with shrinkage and a maximum occupancy), and the rota against it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth import sessions
from madad.auth.permissions import Scope
from madad.db import utcnow
from madad.errors import Invalid
from madad.metrics import reports, staffing
from madad.metrics.models import StaffingRota
from madad.metrics.rota import RotaError, check_rota, parse_rota
from madad.web import i18n
from madad.web.console import require_page, see_other
from madad.web.deps import DB
from madad.web.labels import LABELS
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
Manager = Annotated[sessions.SignedIn, Depends(require_page(Scope.reports_read))]
CHANNELS = ("email", "chat", "phone", "api", "portal")
DEFAULT_AHT = 300.0


def _channel(value: str | None) -> str:
    if value and value not in CHANNELS:
        raise Invalid("channel", f"one of {', '.join(CHANNELS)}, or empty for all")
    return value or ""


async def _page(
    request: Request,
    session: AsyncSession,
    *,
    weeks: int,
    aht: float | None,
    target_seconds: float,
    service_level: float,
    shrinkage: float,
    max_occupancy: float,
    channel: str,
    draft: str | None = None,
    error: str | None = None,
) -> Response:
    today = datetime.now(UTC).date()
    period = reports.day_period(today - timedelta(days=7 * weeks), today)
    observed = await reports.arrivals_by_slot(session, period, channel=channel or None)
    pattern = {key: n / weeks for key, n in observed.items()}
    handle, handled = await reports.observed_mean(
        session, period, "handle", channel=channel or None
    )
    used = aht if aht is not None else (handle if handle else DEFAULT_AHT)
    target = staffing.StaffingTarget(
        service_level=service_level, target_seconds=target_seconds, max_occupancy=max_occupancy
    )
    plan = staffing.plan_week(pattern, aht=used, target=target, shrinkage=shrinkage)
    stored = await session.get(StaffingRota, channel)
    spec = draft if draft is not None else (stored.spec if stored else "")
    rostered = parse_rota(stored.spec) if stored is not None and stored.spec.strip() else None
    check = check_rota(plan, rostered) if rostered is not None else None
    grid = [[p for p in plan if p.weekday == wd] for wd in range(7)]
    peak = max((p.scheduled for p in plan), default=0)
    today_short = []
    if check is not None and rostered is not None:
        for p in grid[today.weekday()]:
            if check.missing[p.interval]:
                today_short.append((p.slot, p.scheduled, rostered[p.interval]))
    return render(
        request,
        "reports_staffing.html",
        {
            "weeks": weeks,
            "aht": aht,
            "aht_used": used,
            "handle": handle,
            "handled": handled,
            "target_seconds": target_seconds,
            "service_level": service_level,
            "shrinkage": shrinkage,
            "max_occupancy": max_occupancy,
            "channel": channel,
            "grid": grid,
            "peak": peak,
            "total_arrivals": sum(p.arrivals for p in plan),
            "agent_hours": sum(p.scheduled for p in plan) / 2,
            "weekdays": [i18n.weekday_name(wd) for wd in range(7)],
            "today_name": i18n.weekday_name(today.weekday(), "wide"),
            "labels": LABELS,
            "spec": spec,
            "check": check,
            "rostered": rostered,
            "today_short": today_short,
            "rota_saved": stored.updated_at if stored else None,
            "error": error,
        },
        422 if error else 200,
    )


@router.get("/reports/staffing", response_class=HTMLResponse)
async def staffing_planner(
    request: Request,
    session: DB,
    who: Manager,
    weeks: Annotated[int, Query(ge=1, le=26)] = 4,
    aht: Annotated[float | None, Query(gt=0, le=86400)] = None,
    target_seconds: Annotated[float, Query(gt=0, le=86400)] = 20.0,
    service_level: Annotated[float, Query(gt=0, lt=1)] = 0.8,
    shrinkage: Annotated[float, Query(ge=0, lt=1)] = 0.3,
    max_occupancy: Annotated[float, Query(gt=0, le=1)] = 0.85,
    channel: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    return await _page(request, session, weeks=weeks, aht=aht, target_seconds=target_seconds,
                       service_level=service_level, shrinkage=shrinkage,
                       max_occupancy=max_occupancy, channel=_channel(channel))  # fmt: skip


@router.post("/reports/staffing/rota", response_class=HTMLResponse)
async def save_rota(
    request: Request,
    session: DB,
    who: Manager,
    spec: Annotated[str, Form(max_length=20_000)] = "",
    channel: Annotated[str | None, Form(max_length=32)] = None,
) -> Response:
    ch = _channel(channel)
    try:
        parse_rota(spec)
    except RotaError as exc:
        return await _page(request, session, weeks=4, aht=None, target_seconds=20.0,
                           service_level=0.8, shrinkage=0.3, max_occupancy=0.85, channel=ch,
                           draft=spec, error=str(exc))  # fmt: skip
    row = await session.get(StaffingRota, ch)
    if row is None:
        row = StaffingRota(channel=ch, spec=spec)
        session.add(row)
    row.spec, row.updated_at, row.updated_by_id = spec, utcnow(), who.user.id
    suffix = f"?channel={ch}" if ch else ""
    return see_other(request, f"/reports/staffing{suffix}")
