"""The `madad demo` command (and what `madad serve --demo` runs before serving)."""

from __future__ import annotations

import asyncio
import contextlib
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
from madad.demo.signin import NotADemoCustomer, PortalLink, portal_link
from madad.files import FileStore
from madad.metrics import rebuild

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
            await rebuild.rebuild(db, progress=lambda done, total: progress("reports", done, total))
            return summary
    finally:
        await db.dispose()


async def _seeded(settings: Settings) -> bool:
    db = Database(settings, bus=MemoryBus())
    try:
        return await has_demo(db)
    finally:
        await db.dispose()


PAGES = [
    ("Agent console: the inbox (email, chat, phone, portal, API)", "/inbox"),
    ("Live chats (set yourself available to take chats)", "/chats"),
    ("Callbacks customers asked for", "/callbacks"),
    ("Help centre", "/help"),
    ("Help centre in Urdu", "/help/ur"),
    ("Demo shop with the chat widget (open it in another browser)", "/demo/shop"),
    ("Demo shop in Urdu", "/demo/shop/ur"),
    ("Customer portal (sign-in link below)", "/portal"),
    ("Reports: KPIs with charts", "/reports"),
    ("Knowledge-base report", "/reports/knowledge-base"),
    ("Staffing planner", "/reports/staffing"),
    ("Wallboard", "/wallboard"),
    ("Live queues and their hours", "/admin/live-queues"),
]


def _url(settings: Settings, host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return (settings.base_url or f"http://{shown}:{port}").rstrip("/")


def print_logins(summary: Summary, settings: Settings, host: str, port: int) -> None:
    table = Table("name", "email", "role", title=f"Demo logins (password: {PASSWORD})")
    for name, email, role in summary.users:
        table.add_row(name, email, role)
    out.print(table)
    read = summary.help_centre
    out.print(
        f"{summary.organisations} organisations, {summary.contacts} contacts, "
        f"{summary.tickets} tickets, {summary.messages} messages; {summary.articles} articles "
        f"({summary.articles_ur} also in Urdu, {summary.internal_articles} for agents only), "
        f"{read.get('views', 0)} article views, {read.get('searches', 0)} searches, "
        f"{read.get('bot offers', 0)} answer-bot offers, {summary.callbacks} callbacks "
        f"in {summary.seconds:.1f} s"
    )


def print_tour(settings: Settings, host: str, port: int, links: list[PortalLink]) -> None:
    """Where everything is, who to sign in as, and how to get into the customer portal."""
    url = _url(settings, host, port)
    out.print("[bold]The demo desk[/bold]")
    for what, path in PAGES:
        out.print(f"  {what}: {url}{path}", soft_wrap=True)
    out.print(
        f"Staff: sign in at {url}/login as nadia@ (owner), kamran@ (admin), zainab@ "
        f"(supervisor) or an agent such as ayesha@ — all @demo.madad.example, password "
        f"{PASSWORD}. To chat: open the demo shop in one browser (or a private window), "
        f"sign in as an agent in another, open /chats and make yourself available."
    )
    if links:
        out.print(
            "Customer portal: the portal signs customers in with a link sent by email, and "
            "the demo has no mailbox, so here are links for two demo customers (each works "
            "once, for 30 minutes; `madad demo-link` prints a fresh one):"
        )
        for link in links:
            out.print(
                f"  {link.name} <{link.email}>, {link.requests} requests: {link.url}",
                soft_wrap=True,
            )


async def _links(settings: Settings, origin: str) -> list[PortalLink]:
    db = Database(settings, bus=MemoryBus())
    links = []
    try:
        for language in ("en", "ur"):
            with contextlib.suppress(NotADemoCustomer):  # a tiny demo may have none in Urdu
                links.append(await portal_link(db, origin, language=language))
    finally:
        await db.dispose()
    return links


def seed_if_empty(settings: Settings, host: str, port: int) -> None:
    """For `madad serve --demo`: seed once, then every later start just serves."""
    migrate.upgrade(settings)
    if asyncio.run(_seeded(settings)):
        out.print(f"The demo is already here (password for every demo login: {PASSWORD}).")
    else:
        summary = asyncio.run(_seed(settings))
        print_logins(summary, settings, host, port)
    print_tour(settings, host, port, asyncio.run(_links(settings, _url(settings, host, port))))


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
    print_tour(settings, settings.host, settings.port, [])


def demo_link(
    email: Annotated[
        str | None, typer.Option(help="a demo customer's email (default: one with requests)")
    ] = None,
    language: Annotated[str, typer.Option(help="en or ur: the portal's language")] = "en",
) -> None:
    """Print a sign-in link to the customer portal for a demo customer (the demo sends no email)."""
    settings = get_settings()
    if language not in ("en", "ur"):
        err.print("[red]--language is en or ur[/red]")
        raise typer.Exit(2)

    async def run() -> PortalLink:
        db = Database(settings, bus=MemoryBus())
        try:
            if not await has_demo(db):
                raise NotADemoCustomer("this database holds no demo")
            return await portal_link(
                db, _url(settings, settings.host, settings.port), email=email, language=language
            )
        finally:
            await db.dispose()

    try:
        link = asyncio.run(run())
    except NotADemoCustomer as exc:
        err.print(f"[red]No sign-in link: {exc}[/red]")
        raise typer.Exit(1) from exc
    out.print(f"{link.name} <{link.email}> (works once, for 30 minutes):")
    out.print(link.url, soft_wrap=True)
