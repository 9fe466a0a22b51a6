"""`madad import calls FILE.csv`: historical call logs, through the same service as live events
(see history.py for the columns)."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from madad.channels.phone import history, service
from madad.config import get_settings
from madad.db import Database
from madad.errors import MadadError

import_app = typer.Typer(help="Import historical data.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)
ROWS_PER_TRANSACTION = 200


@import_app.command("calls")
def import_calls(
    file: Annotated[Path, typer.Argument(help="a CSV file with a header row", exists=True)],
    time_zone: Annotated[
        str, typer.Option("--time-zone", help="the zone of times written without one")
    ] = "UTC",
) -> None:
    """Load a call log (columns: call_id, caller, queue, agent, queued_at, answered_at,
    ended_at, abandoned_at, hold_seconds). Bad rows are reported by line and skipped; the exit
    status is 1 if there were any. Importing a file again stores nothing twice."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(
            f"unknown time zone {time_zone!r}", param_hint="--time-zone"
        ) from None
    good: list[tuple[int, list[service.CallEvent]]] = []
    bad: list[tuple[int, str]] = []
    with file.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or []]
        missing = [c for c in history.REQUIRED if c not in header]
        if missing:
            err.print(f"[red]error:[/red] the header lacks {', '.join(missing)}")
            raise typer.Exit(1)
        reader.fieldnames = header
        try:
            for row in reader:
                line = reader.line_num
                try:
                    good.append((line, history.events_of_row(row, zone)))
                except MadadError as exc:
                    bad.append((line, _reason(exc)))
        except (csv.Error, UnicodeDecodeError) as exc:
            bad.append((reader.line_num, f"unreadable CSV: {exc}"))

    async def store() -> tuple[int, int, int]:
        db = Database(get_settings(), pooled=False)
        calls = stored = repeated = 0
        unknown: set[str] = set()
        try:
            with Progress(
                TextColumn("importing calls"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err,
            ) as bar:
                task = bar.add_task("calls", total=len(good))
                for i in range(0, len(good), ROWS_PER_TRANSACTION):
                    chunk = good[i : i + ROWS_PER_TRANSACTION]
                    try:
                        async with db.session() as session:
                            events = [e for _, row in chunk for e in row]
                            outcomes = await service.record_events(session, events)
                    except MadadError as exc:
                        # Rows were checked one by one already: what is left is a clash with
                        # stored data, reported for every row of the transaction.
                        bad.extend((line, _reason(exc)) for line, _ in chunk)
                        bar.update(task, advance=len(chunk))
                        continue
                    calls += len(chunk)
                    unknown.update(
                        e.agent
                        for e, o in zip(events, outcomes, strict=True)
                        if o.warnings and e.agent
                    )
                    stored += sum(1 for o in outcomes if o.stored)
                    repeated += sum(1 for o in outcomes if not o.stored)
                    bar.update(task, advance=len(chunk))
        finally:
            await db.dispose()
        if unknown:
            err.print(
                "agents not in Madad (stored without one): " + ", ".join(sorted(unknown)),
                markup=False,
                highlight=False,
            )
        return calls, stored, repeated

    calls, stored, repeated = asyncio.run(store()) if good else (0, 0, 0)
    out.print(
        f"Imported {calls} calls: {stored} events stored, {repeated} already stored; "
        f"{len(bad)} bad rows."
    )
    for line, reason in sorted(bad):
        err.print(f"line {line}: {reason}", markup=False, highlight=False)
    if bad:
        raise typer.Exit(1)


def _reason(exc: MadadError) -> str:
    if exc.errors:
        return "; ".join(f"{e.field}: {e.message}" for e in exc.errors)
    return exc.detail
