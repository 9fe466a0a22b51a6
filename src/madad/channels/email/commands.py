"""The email channel's commands: `madad smtp`, `madad email ingest FILE_OR_MAILDIR...` and
`madad mailboxes ...`. Each is a thin call into the channel's services; `madad.cli` mounts them.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from madad.auth.permissions import SYSTEM
from madad.bus import make_bus
from madad.channels.email import bulk, service, smtp_server
from madad.channels.email.imap import poll_mailbox
from madad.channels.email.ingest import Arrival
from madad.config import Settings, get_settings
from madad.db import Database
from madad.errors import MadadError
from madad.files import FileStore

email_app = typer.Typer(help="The email channel.", no_args_is_help=True)
mailboxes_app = typer.Typer(help="Support mailboxes (IMAP in, SMTP out).", no_args_is_help=True)

out = Console()
err = Console(stderr=True)
T = TypeVar("T")
BATCH = 50


def _run(work: Callable[[Database, Settings], Awaitable[T]]) -> T:
    settings = get_settings()

    async def main() -> T:
        bus = make_bus(settings.redis_url)
        await bus.start()
        db = Database(settings, bus=bus, pooled=False)
        try:
            return await work(db, settings)
        finally:
            await db.dispose()
            await bus.stop()

    try:
        return asyncio.run(main())
    except MadadError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None


def smtp(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
) -> None:
    """Receive mail over SMTP for the configured mailboxes (MX or forwarding setups)."""
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper())
    listen_host = host or settings.email_smtp_listen_host
    listen_port = port or settings.email_smtp_listen_port

    async def work(db: Database, s: Settings) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        out.print(f"Madad SMTP listener on {listen_host}:{listen_port}; Ctrl-C to stop.")
        await smtp_server.serve(
            db, FileStore(s.files_dir), host=listen_host, port=listen_port, stop=stop
        )

    _run(work)


def _files(paths: list[Path]) -> Iterator[Path]:
    """Files to import: each file given, and every file in a directory (a Maildir's cur/ and
    new/ included), in name order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
            )
        elif path.is_file():
            yield path
        else:
            raise typer.BadParameter(f"{path} is neither a file nor a directory")


@email_app.command("ingest")
def ingest_files(
    paths: Annotated[list[Path], typer.Argument(help="files (.eml) or Maildir/directories")],
    mailbox: Annotated[int | None, typer.Option(help="the mailbox id they were sent to")] = None,
    keep_dates: Annotated[
        bool, typer.Option(help="date the messages by their Date header (a backfill)")
    ] = False,
) -> None:
    """Store emails from files; each is stored once however often it is imported."""
    files = list(_files(paths))
    counts: Counter[str] = Counter()

    async def work(db: Database, s: Settings) -> None:
        def batches() -> Iterator[list[Arrival]]:
            for start in range(0, len(files), BATCH):
                arrivals = []
                for f in files[start : start + BATCH]:
                    raw = f.read_bytes()
                    if len(raw) > s.email_max_message_bytes:
                        counts["too large (skipped)"] += 1
                        progress.advance(task)
                        continue
                    arrivals.append(Arrival(raw, "file", mailbox_id=mailbox, backfill=keep_dates))
                yield arrivals

        with Progress(console=err) as progress:
            task = progress.add_task("importing", total=len(files))
            stored = bulk.ingest_batches(db, batches(), store=FileStore(s.files_dir))
            async for batch, results in stored:
                counts.update(r.disposition for r in results)
                progress.advance(task, len(batch))

    _run(work)
    summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing"
    out.print(f"{len(files)} files: {summary}.")


# --- mailboxes --------------------------------------------------------------------------------


@mailboxes_app.command("list")
def mailboxes_list() -> None:
    """Mailboxes and how their last poll went."""

    async def work(db: Database, s: Settings) -> Any:
        async with db.session(write=False) as session:
            return await service.list_mailboxes(session, SYSTEM)

    table = Table("id", "name", "address", "imap", "smtp", "last poll", "status", "error")
    for b in _run(work):
        table.add_row(
            str(b.id),
            b.name,
            b.address,
            f"{b.imap_host}:{b.imap_port or ''}" if b.imap_host else "-",
            f"{b.smtp_host}:{b.smtp_port or ''}" if b.smtp_host else "-",
            b.last_poll_at.isoformat(timespec="seconds") if b.last_poll_at else "-",
            b.last_poll_status,
            (b.last_poll_error or "")[:60],
        )
    out.print(table)


@mailboxes_app.command("add")
def mailboxes_add(
    name: Annotated[str, typer.Option(help="a name for the mailbox")],
    address: Annotated[str, typer.Option(help="its email address")],
    imap_host: Annotated[str | None, typer.Option()] = None,
    imap_port: Annotated[int | None, typer.Option()] = None,
    imap_security: Annotated[str, typer.Option(help="ssl, starttls or none")] = "ssl",
    imap_user: Annotated[str | None, typer.Option()] = None,
    imap_password: Annotated[str | None, typer.Option(envvar="MADAD_IMAP_PASSWORD")] = None,
    folder: Annotated[str, typer.Option()] = "INBOX",
    smtp_host: Annotated[str | None, typer.Option()] = None,
    smtp_port: Annotated[int | None, typer.Option()] = None,
    smtp_security: Annotated[str, typer.Option(help="ssl, starttls or none")] = "starttls",
    smtp_user: Annotated[str | None, typer.Option()] = None,
    smtp_password: Annotated[str | None, typer.Option(envvar="MADAD_SMTP_PASSWORD")] = None,
    default: Annotated[bool, typer.Option(help="send from it when nothing says otherwise")] = False,
) -> None:
    """Add a mailbox (passwords may come from MADAD_IMAP_PASSWORD / MADAD_SMTP_PASSWORD)."""
    values: dict[str, Any] = {
        "name": name,
        "address": address,
        "imap_host": imap_host,
        "imap_port": imap_port,
        "imap_security": imap_security,
        "imap_username": imap_user,
        "imap_password": imap_password,
        "imap_folder": folder,
        "smtp_host": smtp_host,
        "smtp_port": smtp_port,
        "smtp_security": smtp_security,
        "smtp_username": smtp_user,
        "smtp_password": smtp_password,
        "is_default": default,
    }

    async def work(db: Database, s: Settings) -> Any:
        async with db.session() as session:
            box = await service.create_mailbox(session, SYSTEM, values)
            return box.id

    out.print(f"Mailbox {_run(work)} added.")


@mailboxes_app.command("test")
def mailboxes_test(mailbox_id: int) -> None:
    """Log in to the mailbox's IMAP and SMTP servers."""

    async def work(db: Database, s: Settings) -> Any:
        async with db.session(write=False) as session:
            box = await service.get_mailbox(session, SYSTEM, mailbox_id)
        return await service.test_connection(box, s)

    report = _run(work)
    for name, check in (("IMAP", report.imap), ("SMTP", report.smtp)):
        if check is not None:
            out.print(f"{name}: {'ok' if check.ok else 'FAILED'} — {check.detail}")
    if not report.ok:
        raise typer.Exit(1)


@mailboxes_app.command("poll")
def mailboxes_poll(mailbox_id: int) -> None:
    """Poll the mailbox once, now, in this process."""

    async def work(db: Database, s: Settings) -> Any:
        return await poll_mailbox(db, mailbox_id, store=FileStore(s.files_dir))

    result = _run(work)
    if result.skipped:
        out.print(f"Skipped: {result.skipped}")
        return
    out.print(
        f"{result.imported} imported, {result.duplicates} already stored, "
        f"{result.quarantined} quarantined."
    )
    if result.error:
        err.print(f"[red]error:[/red] {result.error}")
        raise typer.Exit(1)


@mailboxes_app.command("remove")
def mailboxes_remove(mailbox_id: int) -> None:
    """Remove a mailbox (the mail received through it stays)."""

    async def work(db: Database, s: Settings) -> None:
        async with db.session() as session:
            await service.delete_mailbox(session, SYSTEM, mailbox_id)

    _run(work)
    out.print(f"Mailbox {mailbox_id} removed.")
