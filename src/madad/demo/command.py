"""The `madad demo` command (and what `madad serve --demo` runs before serving)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from madad import migrate
from madad.activity import service as activity_service
from madad.bus import MemoryBus
from madad.config import Settings, get_settings
from madad.db import Database
from madad.demo.desk import PASSWORD, AlreadySeeded, Summary, build_demo, has_demo
from madad.files import FileStore
from madad.metrics import rollups

out = Console()
err = Console(stderr=True)


async def _seed(settings: Settings, **options: int) -> Summary:
    db = Database(settings, bus=MemoryBus())
    try:
        columns = (
            TextColumn("{task.description:<14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=out) as bar:
            tasks: dict[str, int] = {}

            def progress(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = bar.add_task(stage, total=total)
                bar.update(tasks[stage], completed=done)

            summary = await build_demo(
                db, FileStore(settings.files_dir), progress=progress, **options
            )
            # The history is not news: no survey goes out for a solve of weeks ago.
            async with db.session() as session:
                await activity_service.skip_to_end(session, "surveys")
            # The reports read rollups: build them now rather than leave it to the worker.
            await rollups.rebuild(db, progress=lambda done, total: progress("reports", done, total))
            return summary
    finally:
        await db.dispose()


async def _seeded(settings: Settings) -> bool:
    db = Database(settings, bus=MemoryBus())
    try:
        return await has_demo(db)
    finally:
        await db.dispose()


def print_logins(summary: Summary, settings: Settings, host: str, port: int) -> None:
    url = settings.base_url or f"http://{host}:{port}"
    table = Table("name", "email", "role", title=f"Demo logins (password: {PASSWORD})")
    for name, email, role in summary.users:
        table.add_row(name, email, role)
    out.print(table)
    out.print(
        f"{summary.organisations} organisations, {summary.contacts} contacts, "
        f"{summary.tickets} tickets, {summary.messages} messages in {summary.seconds:.1f} s"
    )
    out.print(f"Open {url}/login and sign in as any of them.")


def seed_if_empty(settings: Settings, host: str, port: int) -> None:
    """For `madad serve --demo`: seed once, then every later start just serves."""
    migrate.upgrade(settings)
    if asyncio.run(_seeded(settings)):
        out.print(f"The demo is already here (password for every demo login: {PASSWORD}).")
        return
    summary = asyncio.run(_seed(settings))
    print_logins(summary, settings, host, port)


def demo(
    tickets: Annotated[int, typer.Option(min=1, max=200_000, help="how many tickets")] = 6000,
    contacts: Annotated[int, typer.Option(min=1, max=100_000, help="how many customers")] = 2000,
    organisations: Annotated[int, typer.Option(min=1, max=10_000)] = 150,
    days: Annotated[int, typer.Option(min=1, max=730, help="length of the history")] = 90,
    seed: Annotated[int, typer.Option(help="random seed (same data each run)")] = 7,
) -> None:
    """Fill the database with a believable support desk: a team, customers, 90 days of work."""
    settings = get_settings()
    migrate.upgrade(settings)
    try:
        summary = asyncio.run(
            _seed(
                settings,
                tickets_wanted=tickets,
                contacts_wanted=contacts,
                organisations_wanted=organisations,
                days=days,
                seed=seed,
            )
        )
    except AlreadySeeded as exc:
        err.print(f"[red]{exc}[/red]; use a fresh database (MADAD_DATABASE_URL) for another.")
        raise typer.Exit(1) from exc
    print_logins(summary, settings, settings.host, settings.port)
