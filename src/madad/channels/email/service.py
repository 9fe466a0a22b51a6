"""Operations of the email channel for admins and agents: mailboxes (create, change, remove,
test the connection, poll now), the email behind a message (the original, viewable), and
quarantined mail.

Mailbox passwords are write-only: stored encrypted (passwords.py), never returned.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiosmtplib
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.auth import service as auth
from madad.auth.permissions import Actor, Scope
from madad.channels.email import passwords
from madad.channels.email.bodies import inline_images, safe_html
from madad.channels.email.imap import POLL_JOB, ImapConfig, ImapError, check_imap
from madad.channels.email.models import EmailRecord, Mailbox
from madad.channels.email.outbound import SendFailed, check_template, smtp_options
from madad.channels.email.parse import ParsedEmail, parse_email
from madad.config import Settings
from madad.db import utcnow
from madad.errors import Conflict, Invalid, NotFound
from madad.files import FileStore
from madad.tickets import queries
from madad.tickets.models import Attachment, Message

SECURITY = ("ssl", "starttls", "none")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$|^\[[0-9a-fA-F:.]+\]$")
_FOLDER = re.compile(r"^[\x20-\x7e]{1,200}$")
_TEXT_FIELDS = {
    "name": 100,
    "display_name": 200,
    "imap_username": 320,
    "smtp_username": 320,
    "ack_subject": 500,
    "ack_text": 20_000,
}


def _text_field(key: str, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > _TEXT_FIELDS[key]:
        raise Invalid(key, f"text of at most {_TEXT_FIELDS[key]} characters")
    if "\x00" in value or (key != "ack_text" and re.search(r"[\r\n]", value)):
        raise Invalid(key, "no line breaks or NUL characters")
    value = value if key == "ack_text" else value.strip()
    if key == "name" and not value:
        raise Invalid("name", "a mailbox needs a name")
    return value


def _address(key: str, value: Any) -> str:
    try:
        address = validate_email(
            str(value or "").strip(),
            check_deliverability=False,
            globally_deliverable=False,
            test_environment=True,
        ).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid(key, str(exc)) from exc
    if "+" in address.split("@")[0]:
        raise Invalid(key, "give the address without a +tag")
    return address


def _host(key: str, value: Any) -> Any:
    if value and (not isinstance(value, str) or not _HOST.match(value)):
        raise Invalid(key, "a host name or [IP address]")
    return value or None


def _port(key: str, value: Any) -> Any:
    if value is not None and (not isinstance(value, int) or not 1 <= value <= 65535):
        raise Invalid(key, "a port number, 1-65535")
    return value


def _choice(options: tuple[str, ...]) -> Any:
    def check(key: str, value: Any) -> Any:
        if value not in options:
            raise Invalid(key, "one of " + ", ".join(options))
        return value

    return check


def _folder(key: str, value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or not _FOLDER.match(value)):
        raise Invalid(key, "an ASCII folder name of at most 200 characters")
    return value


def _interval(key: str, value: Any) -> Any:
    if not isinstance(value, int) or not 10 <= value <= 86_400:
        raise Invalid(key, "10 to 86400 seconds")
    return value


def _flag(key: str, value: Any) -> Any:
    if not isinstance(value, bool):
        raise Invalid(key, "true or false")
    return value


def _password(key: str, value: Any) -> Any:
    if value is not None and (not isinstance(value, str) or len(value) > 1000 or "\x00" in value):
        raise Invalid(key, "at most 1000 characters")
    return value


_CHECKS: dict[str, Any] = {
    **{k: _text_field for k in _TEXT_FIELDS},
    "address": _address,
    "imap_host": _host,
    "smtp_host": _host,
    "imap_port": _port,
    "smtp_port": _port,
    "imap_security": _choice(SECURITY),
    "smtp_security": _choice(SECURITY),
    "imap_folder": _folder,
    "move_to_folder": _folder,
    "after_import": _choice(("seen", "move")),
    "poll_interval_seconds": _interval,
    "imap_password": _password,
    "smtp_password": _password,
    **{k: _flag for k in ("enabled", "is_default", "verify_tls", "plus_addressing", "ack_enabled")},
}


def _clean(values: Mapping[str, Any], secret_key: str) -> dict[str, Any]:
    """Validated column values from what an admin sent (passwords encrypted)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        check = _CHECKS.get(key)
        if check is None:
            raise Invalid(key, "unknown mailbox setting")
        value = check(key, value)
        if key in ("ack_subject", "ack_text") and value:
            problem = check_template(value)
            if problem:
                raise Invalid(key, f"not a valid template: {problem}")
        if key.endswith("_password") and value is not None:
            value = passwords.encrypt(secret_key, value) if value else None
        out[key] = value
    if "imap_folder" in out and out["imap_folder"] is None:
        out["imap_folder"] = "INBOX"
    return out


def _check(box: Mailbox) -> None:
    if box.after_import == "move" and not box.move_to_folder:
        raise Invalid("move_to_folder", "name the folder imported mail is moved to")
    if box.imap_host and not box.imap_username:
        raise Invalid("imap_username", "IMAP needs a user name")


async def _unique(session: AsyncSession, box: Mailbox) -> None:
    # Not flushed first: the pending change would hit the unique constraint before the check.
    with session.no_autoflush:
        clash = await session.scalar(
            select(Mailbox.id).where(
                (Mailbox.name == box.name) | (Mailbox.address == box.address),
                Mailbox.id != box.id,
            )
        )
    if clash is not None:
        raise Conflict("another mailbox has this name or address")


async def _single_default(session: AsyncSession, box: Mailbox) -> None:
    if box.is_default:
        await session.execute(
            update(Mailbox)
            .where(Mailbox.id != box.id, Mailbox.is_default.is_(True))
            .values(is_default=False)
            .execution_options(synchronize_session=False)
        )


async def list_mailboxes(session: AsyncSession, actor: Actor) -> list[Mailbox]:
    """Every mailbox with its last poll status, by name."""
    actor.require(Scope.channels_manage)
    return list((await session.execute(select(Mailbox).order_by(Mailbox.name))).scalars())


async def get_mailbox(session: AsyncSession, actor: Actor, mailbox_id: int) -> Mailbox:
    actor.require(Scope.channels_manage)
    box = await session.get(Mailbox, mailbox_id)
    if box is None:
        raise NotFound(f"mailbox {mailbox_id} does not exist")
    return box


async def create_mailbox(session: AsyncSession, actor: Actor, values: Mapping[str, Any]) -> Mailbox:
    actor.require(Scope.channels_manage)
    settings: Settings = session.info["settings"]
    data = _clean(values, settings.resolved_secret_key())
    if "name" not in data or "address" not in data:
        raise Invalid("address", "a mailbox needs a name and an address")
    now = utcnow()
    box = Mailbox(
        enabled=True,
        is_default=False,
        verify_tls=True,
        imap_security="ssl",
        imap_folder="INBOX",
        after_import="seen",
        poll_interval_seconds=60,
        smtp_security="starttls",
        plus_addressing=True,
        ack_enabled=False,
        imap_last_uid=0,
        imap_marked_uid=0,
        last_poll_status="never",
        last_poll_count=0,
        created_at=now,
        updated_at=now,
    )
    for key, value in data.items():
        setattr(box, key, value)
    _check(box)
    await _unique(session, box)
    session.add(box)
    await session.flush()
    await _single_default(session, box)
    auth.audit(session, actor, "mailbox.created", "mailbox", box.id, {"address": box.address})
    return box


async def update_mailbox(
    session: AsyncSession, actor: Actor, mailbox_id: int, values: Mapping[str, Any]
) -> Mailbox:
    """Change settings; a changed server, user or folder starts the IMAP state afresh."""
    box = await get_mailbox(session, actor, mailbox_id)
    settings: Settings = session.info["settings"]
    data = _clean(values, settings.resolved_secret_key())
    moved = any(
        k in data and data[k] != getattr(box, k)
        for k in ("imap_host", "imap_username", "imap_folder")
    )
    for key, value in data.items():
        setattr(box, key, value)
    if moved:
        box.imap_uidvalidity, box.imap_last_uid, box.imap_marked_uid = None, 0, 0
    box.updated_at = utcnow()
    _check(box)
    await _unique(session, box)
    await session.flush()
    await _single_default(session, box)
    changed = sorted(k for k in data if not k.endswith("password")) + sorted(
        k for k in data if k.endswith("password")
    )
    auth.audit(session, actor, "mailbox.updated", "mailbox", box.id, {"fields": changed})
    return box


async def delete_mailbox(session: AsyncSession, actor: Actor, mailbox_id: int) -> None:
    """Remove a mailbox; the mail received through it stays (its records lose the link)."""
    box = await get_mailbox(session, actor, mailbox_id)
    await session.execute(
        update(EmailRecord)
        .where(EmailRecord.mailbox_id == box.id)
        .values(mailbox_id=None)
        .execution_options(synchronize_session=False)
    )
    await session.delete(box)
    auth.audit(session, actor, "mailbox.deleted", "mailbox", mailbox_id, {"address": box.address})


async def poll_now(session: AsyncSession, actor: Actor, mailbox_id: int) -> None:
    """Queue a poll of the mailbox now."""
    box = await get_mailbox(session, actor, mailbox_id)
    if not box.imap_host:
        raise Invalid("imap_host", "this mailbox has no IMAP server to poll")
    await jobs.enqueue(
        session,
        POLL_JOB,
        {"mailbox_id": box.id},
        idempotency_key=f"{POLL_JOB}:{box.id}:now:{int(time.time())}",
        max_attempts=1,
    )


# --- testing a connection ---------------------------------------------------------------------


@dataclass
class Check:
    ok: bool
    detail: str


@dataclass
class ConnectionReport:
    imap: Check | None = None
    smtp: Check | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in (self.imap, self.smtp) if c is not None)


async def test_connection(box: Mailbox, settings: Settings) -> ConnectionReport:
    """Log in to the mailbox's IMAP and SMTP servers (nothing is read, changed or sent)."""
    report = ConnectionReport()
    if box.imap_host:
        try:
            detail = await asyncio.to_thread(check_imap, ImapConfig.of(box, settings))
            report.imap = Check(True, detail)
        except (ImapError, OSError, TimeoutError, Invalid) as exc:
            report.imap = Check(False, _problem(exc))
    if box.smtp_host:
        report.smtp = await _check_smtp(box, settings)
    return report


async def _check_smtp(box: Mailbox, settings: Settings) -> Check:
    try:
        options = smtp_options(
            box, settings.resolved_secret_key(), settings.email_network_timeout_seconds
        )
        username, password = options.pop("username", None), options.pop("password", None)
        client = aiosmtplib.SMTP(**options)  # type: ignore[arg-type]
        await client.connect()
        try:
            # Greet it ourselves: without TLS or a login, connecting alone sends no EHLO.
            greeting = await client.ehlo()
            server = (greeting.message.split() or ["the server"])[0]
            if username:
                await client.login(str(username), str(password))
            logged_in = " and logged in" if username else ""
            return Check(True, f"connected; {server} accepted EHLO ({greeting.code}){logged_in}")
        finally:
            try:
                await client.quit()
            except aiosmtplib.SMTPException:
                client.close()
    except (aiosmtplib.SMTPException, OSError, TimeoutError, SendFailed, Invalid) as exc:
        return Check(False, _problem(exc))


def _problem(exc: BaseException) -> str:
    detail = getattr(exc, "detail", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {detail}"[:500]


# --- the original email behind a message ------------------------------------------------------


@dataclass
class Original:
    """An email as it arrived (or left): headers, the full text and HTML, and warnings."""

    record: EmailRecord
    raw: bytes
    parsed: ParsedEmail
    html: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)


async def original_of_message(
    session: AsyncSession, actor: Actor, message_id: int, store: FileStore
) -> Original:
    actor.require(Scope.tickets_read)
    record = await session.scalar(
        select(EmailRecord)
        .where(EmailRecord.message_id == message_id, EmailRecord.raw_sha256.is_not(None))
        .order_by(EmailRecord.id)
        .limit(1)
    )
    if record is None or await session.get(Message, message_id) is None:
        raise NotFound(f"message {message_id} has no original email")
    return _original(record, store)


async def original_of_record(
    session: AsyncSession, actor: Actor, record_id: int, store: FileStore
) -> Original:
    actor.require(Scope.channels_manage)
    record = await session.get(EmailRecord, record_id)
    if record is None or record.raw_sha256 is None:
        raise NotFound(f"email {record_id} does not exist")
    return _original(record, store)


def _original(record: EmailRecord, store: FileStore) -> Original:
    assert record.raw_sha256 is not None
    try:
        raw = store.get(record.raw_sha256)
    except FileNotFoundError as exc:
        raise NotFound("the original email is no longer in the file store") from exc
    parsed = parse_email(raw)
    shown = [
        (name, value)
        for name, value in (
            ("From", parsed.sender.address if parsed.sender else ""),
            ("To", ", ".join(a.address for a in parsed.to)),
            ("Cc", ", ".join(a.address for a in parsed.cc)),
            ("Subject", parsed.subject),
            ("Date", parsed.date.isoformat() if parsed.date else ""),
            ("Message-ID", parsed.message_id or ""),
        )
        if value
    ]
    return Original(
        record,
        raw,
        parsed,
        html=safe_html(parsed.html, inline_images(parsed.attachments)) if parsed.html else None,
        headers=shown,
    )


async def inline_attachment(session: AsyncSession, actor: Actor, sha256: str) -> Attachment:
    """A stored part of an email that its HTML can show (it has a Content-ID), by content."""
    found = await session.scalar(
        select(Attachment.id)
        .where(Attachment.sha256 == sha256, Attachment.content_id.is_not(None))
        .order_by(Attachment.id)
        .limit(1)
    )
    if found is None:
        actor.require(Scope.tickets_read)
        raise NotFound("no inline image has this content")
    return await queries.get_attachment(session, actor, found)


async def list_quarantined(
    session: AsyncSession, actor: Actor, *, before_id: int | None = None, limit: int = 50
) -> list[EmailRecord]:
    """Mail that was kept but could not become a ticket message, newest first."""
    actor.require(Scope.channels_manage)
    stmt = select(EmailRecord).where(EmailRecord.kind == "quarantined")
    if before_id is not None:
        stmt = stmt.where(EmailRecord.id < before_id)
    stmt = stmt.order_by(EmailRecord.id.desc()).limit(max(1, min(limit, 200)))
    return list((await session.execute(stmt)).scalars())
