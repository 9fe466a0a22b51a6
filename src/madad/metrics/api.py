"""Reports over HTTP: `GET /api/v1/reports/kpis` and the one-row-per-ticket export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from madad.auth.permissions import Actor, Scope
from madad.db import Database
from madad.errors import Invalid
from madad.metrics import business, reports
from madad.web.deps import DB, get_db, require

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

Reader = Annotated[Actor, Depends(require(Scope.reports_read))]
From = Annotated[date | None, Query(alias="from", description="first day (UTC), YYYY-MM-DD")]
To = Annotated[date | None, Query(alias="to", description="the day after the last, YYYY-MM-DD")]


def period_of(start: date | None, end: date | None) -> tuple[date, date]:
    """[from, to) in whole UTC days; the last 30 days when not given."""
    last = end or date.today() + timedelta(days=1)
    first = start or last - timedelta(days=30)
    if first >= last:
        raise Invalid("from", "must be before 'to' (the period is [from, to))")
    if (last - first).days > 3660:
        raise Invalid("to", "a period is at most ten years long")
    return first, last


@router.get("/kpis")
async def kpis(
    session: DB,
    db: Annotated[Database, Depends(get_db)],
    actor: Reader,
    start: From = None,
    end: To = None,
    group_by: Literal["channel", "team", "agent", "priority", "organisation", "tag"] | None = None,
    channel: Annotated[str | None, Query(max_length=32)] = None,
    team_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    agent_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    format: Literal["json", "csv"] = "json",
    business_hours: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The KPIs of a period with the previous period for comparison; `format=csv` gives one
    row per group (or the total). `group_by` priority, organisation or tag gives per-ticket
    figures of the tickets created in the period (JSON). `business_hours=KEY` adds first
    response and resolution time counted in that live queue's open hours (JSON)."""
    first, last = period_of(start, end)
    if group_by in reports.TICKET_GROUPS:
        rows = await reports.ticket_breakdown(session, reports.day_period(first, last), group_by)
        if format == "csv":
            return _csv(reports.flat_breakdown(rows), f"{group_by}-{first}-{last}.csv")
        body = {"period": {"from": str(first), "to": str(last)}, "group_by": group_by,
                "groups": rows}  # fmt: skip
        return Response(json.dumps(body, default=str), media_type="application/json")
    report = await reports.kpis_side_by_side(
        db,
        reports.day_period(first, last),
        group_by=group_by,
        channel=channel,
        team_id=team_id,
        agent_id=agent_id,
    )
    if format == "csv":
        return _csv(reports.flat(report), f"kpis-{first}-{last}.csv")
    if business_hours:
        report["business_hours"] = await business.report(
            session, reports.day_period(first, last), business_hours, channel=channel
        )
    return Response(json.dumps(report, default=str), media_type="application/json")


def _csv(rows: list[dict[str, Any]], name: str) -> Response:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["group"])
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/tickets")
async def tickets(
    actor: Reader,
    db: Annotated[Any, Depends(get_db)],
    start: From = None,
    end: To = None,
    format: Literal["json", "csv"] = "csv",
) -> StreamingResponse:
    """One row per ticket created in the period (CSV, or JSON lines with `format=json`)."""
    first, last = period_of(start, end)
    period = reports.day_period(first, last)

    async def body() -> AsyncIterator[str]:
        async with db.report_session() as session:
            if format == "csv":
                buf = io.StringIO()
                writer = csv.DictWriter(buf, fieldnames=reports.EXPORT_COLUMNS)
                writer.writeheader()
                yield buf.getvalue()
            async for row in reports.ticket_rows(session, period):
                if format == "json":
                    yield json.dumps(row) + "\n"
                    continue
                buf = io.StringIO()
                csv.DictWriter(buf, fieldnames=reports.EXPORT_COLUMNS).writerow(row)
                yield buf.getvalue()

    kind = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    name = f"tickets-{first}-{last}.{'csv' if format == 'csv' else 'jsonl'}"
    return StreamingResponse(
        body(), media_type=kind, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
