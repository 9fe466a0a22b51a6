"""The `madad` command: each subcommand is a thin call into a service.

Errors from services become a message on stderr and a non-zero exit status.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from madad import jobs, migrate
from madad.activity import service as activity
from madad.auth import service as auth
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, parse_scopes
from madad.bus import make_bus
from madad.channels.email import commands as email_commands
from madad.channels.phone import commands as phone_commands
from madad.config import Settings, get_settings
from madad.db import Database
from madad.demo import command as demo_command
from madad.errors import MadadError
from madad.metrics import commands as metrics_commands
from madad.metrics.staffing_cli import staffing as staffing_command
from madad.worker import run_worker

app = typer.Typer(
    help="Madad: the customer support desk.", no_args_is_help=True, add_completion=False
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="Agents and administrators.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
jobs_app = typer.Typer(help="The background job queue.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(jobs_app, name="jobs")
app.add_typer(email_commands.email_app, name="email")
app.add_typer(email_commands.mailboxes_app, name="mailboxes")
app.command("smtp")(email_commands.smtp)
app.add_typer(phone_commands.import_app, name="import")

app.command("demo")(demo_command.demo)
app.command("demo-link")(demo_command.demo_link)
app.add_typer(metrics_commands.metrics_app, name="metrics")
app.add_typer(metrics_commands.report_app, name="report")
app.command("staffing")(staffing_command)

out = Console()
err = Console(stderr=True)
T = TypeVar("T")


def _run(make: Callable[[Settings], Awaitable[T]]) -> T:
    """Run an async command; domain errors end the program with a message and status 1."""
    settings = get_settings()
    try:
        return asyncio.run(make(settings))
    except MadadError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from None


async def _with_db(settings: Settings, fn: Callable[[Database], Awaitable[T]]) -> T:
    db = Database(settings, pooled=False)
    try:
        return await fn(db)
    finally:
        await db.dispose()


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


# --- serving ----------------------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="address to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="port to listen on")] = None,
    workers: Annotated[int, typer.Option(help="web processes (share the database)")] = 1,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="run no background worker here")
    ] = False,
    demo: Annotated[
        bool, typer.Option("--demo", help="fill an empty database with the demo desk first")
    ] = False,
) -> None:
    """Serve the API (and, by default, run background work in the same process)."""
    settings = get_settings()
    _setup_logging(settings)
    if settings.auto_migrate:
        migrate.upgrade(settings)
    if no_worker:
        settings.embedded_worker = False
    listen_host = host or settings.host
    listen_port = port or settings.port
    if demo:
        demo_command.seed_if_empty(settings, listen_host, listen_port)
    out.print(
        f"Madad is serving on http://{listen_host}:{listen_port}/ "
        f"(API docs: /api/v1/docs, database: {_redacted(settings.database_url)})"
    )
    if workers > 1 or no_worker:
        # Child processes read their settings from the environment.
        os.environ["MADAD_EMBEDDED_WORKER"] = "false" if no_worker else "true"
    uvicorn.run(
        "madad.app:create_app",
        factory=True,
        host=listen_host,
        port=listen_port,
        workers=workers,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=True,
        ws_per_message_deflate=settings.ws_per_message_deflate,
    )


@app.command()
def worker() -> None:
    """Run background jobs and fact consumers (for processes separate from the web)."""
    settings = get_settings()
    _setup_logging(settings)

    async def main(s: Settings) -> None:
        bus = make_bus(s.redis_url)
        await bus.start()
        db = Database(s, bus=bus)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        out.print("Madad worker running; Ctrl-C to stop.")
        try:
            await run_worker(db, bus, s, stop)
        finally:
            await bus.stop()
            await db.dispose()

    _run(main)


def _redacted(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
    return url


# --- db ---------------------------------------------------------------------------------------


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date."""
    settings = get_settings()
    migrate.upgrade(settings)
    out.print(f"Database is at {', '.join(sorted(migrate.head_revisions()))}.")


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision the database is at."""
    current = _run(migrate.current_async)
    heads = migrate.head_revisions()
    out.print(
        f"current: {', '.join(sorted(current)) or '(empty)'}; latest: {', '.join(sorted(heads))}"
    )
    if current != heads:
        raise typer.Exit(1)


# --- users ------------------------------------------------------------------------------------


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="their login email")],
    name: Annotated[str, typer.Option(help="their display name")],
    role: Annotated[Role, typer.Option(help="owner, admin, supervisor or agent")] = Role.agent,
    password: Annotated[
        str | None,
        typer.Option(help="at least 8 characters; one is generated and printed if omitted"),
    ] = None,
) -> None:
    """Create an agent or administrator."""
    chosen = password or secrets.token_urlsafe(12)

    async def main(s: Settings) -> Any:
        async def work(db: Database) -> Any:
            async with db.session() as session:
                return await auth.create_user(
                    session, SYSTEM, email=email, name=name, role=role, password=chosen
                )

        return await _with_db(s, work)

    user = _run(main)
    out.print(f"Created {user.role} {user.name} <{user.email}> (id {user.id}).")
    if password is None:
        out.print(f"Password (shown once): [bold]{chosen}[/bold]")


@users_app.command("list")
def users_list() -> None:
    """List active users."""

    async def main(s: Settings) -> Any:
        async def work(db: Database) -> Any:
            async with db.session(write=False) as session:
                return await auth.list_users(session, include_inactive=True)

        return await _with_db(s, work)

    table = Table("id", "email", "name", "role", "active")
    for u in _run(main):
        table.add_row(str(u.id), u.email, u.name, u.role, "yes" if u.is_active else "no")
    out.print(table)


@users_app.command("set-password")
def users_set_password(
    email: Annotated[str, typer.Option(help="the user's login email")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Set a user's password."""

    async def main(s: Settings) -> Any:
        async def work(db: Database) -> Any:
            async with db.session() as session:
                user = await auth.get_user_by_email(session, email)
                await auth.update_user(session, SYSTEM, user.id, auth.UserPatch(password=password))

        return await _with_db(s, work)

    _run(main)
    out.print("Password changed.")


# --- tokens -----------------------------------------------------------------------------------


@tokens_app.command("create")
def tokens_create(
    user: Annotated[str, typer.Option(help="email of the user the token acts as")],
    scopes: Annotated[
        str, typer.Option(help="comma-separated, e.g. inbound:write,tickets:read — or 'all'")
    ],
    name: Annotated[str, typer.Option(help="what the token is for")] = "cli",
    expires_in_days: Annotated[int | None, typer.Option(help="expiry; none by default")] = None,
) -> None:
    """Create an API token and print it (once)."""
    try:
        wanted = parse_scopes(scopes)
    except ValueError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None

    async def main(s: Settings) -> Any:
        async def work(db: Database) -> Any:
            async with db.session() as session:
                owner = await auth.get_user_by_email(session, user)
                return await auth.create_token(
                    session,
                    SYSTEM,
                    user_id=owner.id,
                    name=name,
                    scopes=wanted,
                    expires_in_days=expires_in_days,
                )

        return await _with_db(s, work)

    token, plain = _run(main)
    err.print(
        f"Token {token.id} for {user} with scopes {', '.join(token.scopes)} "
        "(shown once, store it now):"
    )
    print(plain)


@tokens_app.command("list")
def tokens_list() -> None:
    """List API tokens (never their secrets)."""

    async def main(s: Settings) -> Any:
        async def work(db: Database) -> Any:
            async with db.session(write=False) as session:
                return await auth.list_tokens(session)

        return await _with_db(s, work)

    table = Table("id", "user", "name", "scopes", "last used", "revoked")
    for t in _run(main):
        table.add_row(
            str(t.id),
            str(t.user_id),
            t.name,
            ",".join(t.scopes),
            str(t.last_used_at or "-"),
            str(t.revoked_at or "-"),
        )
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: int) -> None:
    """Revoke an API token."""

    async def main(s: Settings) -> Any:
        async def work(db: Database) -> Any:
            async with db.session() as session:
                await auth.revoke_token(session, SYSTEM, token_id)

        return await _with_db(s, work)

    _run(main)
    out.print(f"Token {token_id} revoked.")


# --- jobs -------------------------------------------------------------------------------------


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="pending, running, done or dead")] = None,
    limit: int = 50,
) -> None:
    """Show recent jobs."""

    async def main(s: Settings) -> Any:
        async def work(db: Database) -> Any:
            async with db.session(write=False) as session:
                rows = await jobs.list_jobs(session, status=status, limit=limit)
                cursors = await activity.consumer_positions(session)
                return rows, cursors

        return await _with_db(s, work)

    rows, cursors = _run(main)
    table = Table("id", "kind", "status", "attempts", "run at", "last error")
    for j in rows:
        table.add_row(
            str(j.id),
            j.kind,
            j.status,
            f"{j.attempts}/{j.max_attempts}",
            j.run_at.isoformat(timespec="seconds"),
            (j.last_error or "")[:60],
        )
    out.print(table)
    for c in cursors:
        state = f"failing ({c.failures}×): {c.last_error}" if c.failures else "ok"
        out.print(f"fact consumer {c.consumer}: at fact {c.last_id}, {state}")


@jobs_app.command("retry")
def jobs_retry(job_id: int) -> None:
    """Give a dead job a fresh set of attempts."""

    async def main(s: Settings) -> Any:
        async def work(db: Database) -> Any:
            async with db.session() as session:
                return await jobs.retry_job(session, job_id)

        return await _with_db(s, work)

    if not _run(main):
        err.print(f"[red]error:[/red] job {job_id} is not a dead job")
        raise typer.Exit(1)
    out.print(f"Job {job_id} queued again.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
