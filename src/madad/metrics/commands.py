"""`madad metrics rebuild`, `madad report kpis` and `madad report tickets`."""

from __future__ import annotations

import asyncio
import csv
import json
import sys
from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from madad.config import get_settings
from madad.db import Database
from madad.metrics import rebuild, reports

metrics_app = typer.Typer(help="Metric rollups.", no_args_is_help=True)
report_app = typer.Typer(help="Reports: KPIs and the per-ticket export.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


@metrics_app.command("rebuild")
def rebuild_rollups(
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes on PostgreSQL (default: one per core, at most 4); "
            "SQLite rebuilds in this process.",
        ),
    ] = None,
) -> None:
    """Recompute every rollup from the facts (the worker's consumer waits meanwhile)."""

    async def main() -> rebuild.Rebuilt:
        db = Database(get_settings(), pooled=False)
        try:
            with Progress(
                TextColumn("rebuilding rollups"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=err,
            ) as bar:
                task = bar.add_task("rebuild", total=None)
                return await rebuild.rebuild(
                    db,
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                    processes=processes,
                )
        finally:
            await db.dispose()

    done = asyncio.run(main())
    out.print(
        f"Rebuilt rollups from {done.facts:,} facts of {done.tickets:,} tickets "
        f"in {done.seconds:.1f} s"
        + (f" ({done.processes} processes)." if done.processes > 1 else ".")
    )


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date like 2026-01-31", param_hint=option
        ) from None


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    last = _day(end, "--to") if end else date.today() + timedelta(days=1)
    first = _day(start, "--from") if start else last - timedelta(days=30)
    if first >= last:
        raise typer.BadParameter("--from must be before --to (the period is [from, to))")
    if (last - first).days > 3660:
        raise typer.BadParameter("a period is at most ten years long")
    return first, last


def _fmt(kpi: str, figure: dict[str, Any] | None) -> str:
    if not figure:
        return "–"
    meta = reports.BY_NAME.get(kpi)
    if meta and meta.unit == "seconds":
        if figure.get("mean") is None:
            return "–"
        return (
            f"{_dur(figure['mean'])} (median {_dur(figure['median'])}, p90 {_dur(figure['p90'])})"
        )
    value = figure.get("value")
    if value is None:
        return "–"
    if meta and meta.unit == "ratio":
        return f"{value:.1%} ({figure['numerator']:g}/{figure['denominator']:g})"
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{value:,g}"


def _rate(figure: dict[str, Any] | None) -> str:
    if not figure or figure.get("value") is None:
        return "–"
    return f"{figure['value']:.1%} ({figure['numerator']:g}/{figure['denominator']:g})"


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


@report_app.command("kpis")
def kpis(
    start: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--to", help="day after the last, YYYY-MM-DD")] = None,
    group_by: Annotated[
        str | None, typer.Option("--group-by", help="channel | team | agent")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
) -> None:
    """The KPIs of a period ([from, to), whole UTC days; default the last 30 days)."""
    if group_by is not None and group_by not in reports.GROUPS:
        raise typer.BadParameter("must be channel, team or agent", param_hint="--group-by")
    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("must be table, json or csv", param_hint="--format")
    first, last = _period(start, end)

    async def main() -> dict[str, Any]:
        db = Database(get_settings(), pooled=False)
        try:
            async with db.report_session() as session:
                return await reports.kpis(
                    session, reports.day_period(first, last), group_by=group_by
                )
        finally:
            await db.dispose()

    report = asyncio.run(main())
    if fmt == "json":
        sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
        return
    if fmt == "csv":
        rows = reports.flat(report)
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return
    groups = report.get("groups") or []
    table = Table(title=f"KPIs {first} – {last} (to exclusive)")
    table.add_column("KPI")
    table.add_column("this period" if not groups else "total")
    if not groups:
        table.add_column("previous period")
    for g in groups:
        table.add_column(str(g["key"]))
    prev = report.get("previous", {}).get("total", {})
    for k in reports.KPIS:
        cells = [k.label, _fmt(k.name, report["total"].get(k.name))]
        if not groups:
            cells.append(_fmt(k.name, prev.get(k.name)))
        cells += [_fmt(k.name, g["kpis"].get(k.name)) for g in groups]
        table.add_row(*cells)
    res = report["total"]["resolutions"]
    cells = ["Resolutions: events / tickets / contacts",
             f"{res['events']} / {res['tickets']} / {res['contacts']}"]  # fmt: skip
    if not groups:
        p = prev.get("resolutions", {})
        cells.append(f"{p.get('events', 0)} / {p.get('tickets', 0)} / {p.get('contacts', 0)}")
    cells += [
        "{events} / {tickets} / {contacts}".format(**g["kpis"]["resolutions"]) for g in groups
    ]
    table.add_row(*cells)
    for name, label in (("nps", "NPS"), ("agent_satisfaction", "Agent satisfaction"),
                        ("retention", "Retention of organisations")):  # fmt: skip
        f = report["total"].get(name) or {}
        v = f.get("value")
        shown = "–" if v is None else (f"{v:.0f}" if name == "nps" else f"{v:.1%}")
        pv = (prev.get(name) or {}).get("value")
        pshown = "–" if pv is None else (f"{pv:.0f}" if name == "nps" else f"{pv:.1%}")
        table.add_row(label, shown, *([pshown] if not groups else ["" for _ in groups]))
    for name, label in (("responded:csat", "CSAT response rate"),
                        ("responded:ces", "CES response rate"),
                        ("nps_response", "NPS response rate")):  # fmt: skip
        cells = [label, _rate(report["total"].get(name))]
        if not groups:
            cells.append(_rate(prev.get(name)))
        cells += [_rate(g["kpis"].get(name)) for g in groups]
        table.add_row(*cells)
    out.print(table)
    for w in report.get("warnings", []):
        out.print(
            f"[yellow]Careful:[/yellow] {reports.BY_NAME[w['faster']].label} improved while "
            f"{reports.BY_NAME[w['worse']].label} dropped."
        )


@report_app.command("tickets")
def tickets(
    start: Annotated[str | None, typer.Option("--from", help="first day, YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--to", help="day after the last, YYYY-MM-DD")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv | json")] = "csv",
) -> None:
    """One row per ticket created in the period, with its measurements (for your own analysis)."""
    if fmt not in ("csv", "json"):
        raise typer.BadParameter("must be csv or json", param_hint="--format")
    first, last = _period(start, end)

    async def main() -> None:
        db = Database(get_settings(), pooled=False)
        try:
            async with db.report_session() as session:
                writer = csv.DictWriter(sys.stdout, fieldnames=reports.EXPORT_COLUMNS)
                if fmt == "csv":
                    writer.writeheader()
                async for row in reports.ticket_rows(session, reports.day_period(first, last)):
                    if fmt == "csv":
                        writer.writerow(row)
                    else:
                        sys.stdout.write(json.dumps(row) + "\n")
        finally:
            await db.dispose()

    asyncio.run(main())
