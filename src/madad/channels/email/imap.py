"""IMAP polling: the worker fetches new mail of each mailbox, stores it through the ingest, and
then marks it seen (or moves it) on the server.

Exactly once: the highest imported UID advances in the same transaction as the messages it
covers, so an interrupted poll re-fetches nothing it stored and loses nothing it did not;
Message-IDs catch everything else (a changed UIDVALIDITY, the same mail through the webhook).
Marking seen happens after the commit and is tracked separately, so an interrupted poll's
marking is finished by the next one. A lease on the mailbox row keeps two workers from polling
one mailbox at once.

The client is the standard library's imaplib, run in a thread: mature, no extra dependency,
and a poll is a short sequence of blocking round trips (see docs/email.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import imaplib
import logging
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.channels.email import passwords
from madad.channels.email.ingest import Arrival, Ingested, ingest_many
from madad.channels.email.models import Mailbox
from madad.channels.email.outbound import tls_context
from madad.config import Settings
from madad.db import Database, utcnow
from madad.files import FileStore

log = logging.getLogger("madad.email.imap")

POLL_JOB = "email.poll_mailbox"
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(Exception):
    """The server refused something (login, folder, command)."""


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str  # ssl | starttls | none
    username: str
    password: str
    folder: str
    verify_tls: bool
    timeout: float
    after_import: str = "seen"
    move_to: str | None = None

    @staticmethod
    def of(box: Mailbox, settings: Settings) -> ImapConfig:
        if not box.imap_host or not box.imap_username:
            raise ImapError("the mailbox has no IMAP server or user name")
        return ImapConfig(
            host=box.imap_host,
            port=box.imap_port or (993 if box.imap_security == "ssl" else 143),
            security=box.imap_security,
            username=box.imap_username,
            password=passwords.decrypt(settings.resolved_secret_key(), box.imap_password) or "",
            folder=box.imap_folder or "INBOX",
            verify_tls=box.verify_tls,
            timeout=settings.email_network_timeout_seconds,
            after_import=box.after_import,
            move_to=box.move_to_folder,
        )


@dataclass(frozen=True)
class FolderState:
    uidvalidity: int
    exists: int


def uid_set(uids: Sequence[int]) -> str:
    """1,2,3,5 → "1:3,5"."""
    ordered = sorted(set(uids))
    parts: list[str] = []
    start = prev = ordered[0]
    for u in ordered[1:]:
        if u == prev + 1:
            prev = u
            continue
        parts.append(f"{start}:{prev}" if prev != start else str(start))
        start = prev = u
    parts.append(f"{start}:{prev}" if prev != start else str(start))
    return ",".join(parts)


def _quote(folder: str) -> str:
    if not folder.isascii():
        raise ImapError("folder names must be ASCII")
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapClient:
    """A blocking IMAP session (run its methods in a thread)."""

    def __init__(self, config: ImapConfig) -> None:
        self.config = config
        self.conn: imaplib.IMAP4 | None = None

    def connect(self) -> None:
        c = self.config
        try:
            if c.security == "ssl":
                self.conn = imaplib.IMAP4_SSL(
                    c.host, c.port, ssl_context=tls_context(c.verify_tls), timeout=c.timeout
                )
            else:
                self.conn = imaplib.IMAP4(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    self.conn.starttls(ssl_context=tls_context(c.verify_tls))
            self.conn.login(c.username, c.password)
        except imaplib.IMAP4.error as exc:
            raise ImapError(_text(exc)) from exc

    def _ok(self, typ: str, data: list, what: str) -> list:
        if typ != "OK":
            raise ImapError(f"{what}: {_text(data)}")
        return data

    @property
    def c(self) -> imaplib.IMAP4:
        assert self.conn is not None, "not connected"
        return self.conn

    def select(self, folder: str, *, readonly: bool = False) -> FolderState:
        data = self._ok(*self.c.select(_quote(folder), readonly=readonly), f"open {folder!r}")
        _, validity = self.c.response("UIDVALIDITY")
        if not validity or validity[0] is None:
            raise ImapError("the server gave no UIDVALIDITY")
        return FolderState(int(validity[-1]), int(data[0] or 0))

    def search(self, *criteria: str) -> list[int]:
        data = self._ok(*self.c.uid("SEARCH", *criteria), "search")
        return sorted({int(x) for x in (data[0] or b"").split()})

    def _fetch(self, uids: Sequence[int], what: str) -> list[tuple[bytes, bytes | None]]:
        data = self._ok(*self.c.uid("FETCH", uid_set(uids), what), "fetch")
        out: list[tuple[bytes, bytes | None]] = []
        for item in data:
            if isinstance(item, tuple):
                out.append((item[0], item[1]))
            elif isinstance(item, bytes) and b"UID" in item:
                out.append((item, None))
        return out

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for head, _ in self._fetch(uids, "(UID RFC822.SIZE)"):
            u, s = _UID.search(head), _SIZE.search(head)
            if u and s:
                out[int(u.group(1))] = int(s.group(1))
        return out

    def fetch(self, uids: Sequence[int], *, headers_only: bool = False) -> dict[int, bytes]:
        what = "(UID BODY.PEEK[HEADER])" if headers_only else "(UID BODY.PEEK[])"
        out: dict[int, bytes] = {}
        for head, body in self._fetch(uids, what):
            u = _UID.search(head)
            if u and body is not None:
                out[int(u.group(1))] = body
        return out

    def mark_seen(self, uids: Sequence[int]) -> None:
        self._ok(*self.c.uid("STORE", uid_set(uids), "+FLAGS.SILENT", r"(\Seen)"), "mark seen")

    def move(self, uids: Sequence[int], folder: str) -> None:
        target = _quote(folder)
        caps = {c.upper() for c in self.c.capabilities}
        if "MOVE" in caps:
            self._ok(*self.c.uid("MOVE", uid_set(uids), target), f"move to {folder!r}")
            return
        self._ok(*self.c.uid("COPY", uid_set(uids), target), f"copy to {folder!r}")
        self._ok(*self.c.uid("STORE", uid_set(uids), "+FLAGS.SILENT", r"(\Deleted)"), "delete")
        if "UIDPLUS" in caps:
            self._ok(*self.c.uid("EXPUNGE", uid_set(uids)), "expunge")
        else:
            self._ok(*self.c.expunge(), "expunge")

    def settle(self, uids: Sequence[int]) -> None:
        """What happens to imported mail on the server: seen, or moved away."""
        if not uids:
            return
        if self.config.after_import == "move" and self.config.move_to:
            self.move(uids, self.config.move_to)
        else:
            self.mark_seen(uids)

    def close(self) -> None:
        if self.conn is None:
            return
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            self.conn.logout()
        self.conn = None


def _text(value: object) -> str:
    if isinstance(value, BaseException) and len(value.args) == 1:
        value = value.args[0]  # imaplib's errors carry the server's words as bytes
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes)) or str(value)
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value)[:500]


def check_imap(config: ImapConfig) -> str:
    """Log in and open the folder (read-only); what the server said, or raises ImapError."""
    client = ImapClient(config)
    try:
        client.connect()
        state = client.select(config.folder, readonly=True)
        return f"logged in; {state.exists} messages in {config.folder}"
    finally:
        client.close()


# --- polling ----------------------------------------------------------------------------------


@dataclass
class PollResult:
    mailbox_id: int
    imported: int = 0
    duplicates: int = 0
    quarantined: int = 0
    fetched: int = 0
    skipped: str | None = None
    error: str | None = None
    uidvalidity_changed: bool = False
    uids: list[int] = field(default_factory=list)


AfterBatch = Callable[[list[int]], Awaitable[None]]


def poller_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def _lease(db: Database, mailbox_id: int, owner: str) -> Mailbox | None:
    """Take the mailbox's poll lease; the mailbox as it is now, or None when another poller
    holds the lease (or the mailbox does not poll)."""
    now = utcnow()
    async with db.session() as session:
        taken = await session.execute(
            update(Mailbox)
            .where(
                Mailbox.id == mailbox_id,
                Mailbox.enabled.is_(True),
                Mailbox.imap_host.is_not(None),
                or_(Mailbox.poll_lease_until.is_(None), Mailbox.poll_lease_until < now),
            )
            .values(
                poll_owner=owner,
                poll_lease_until=now + timedelta(seconds=db.settings.email_poll_lease_seconds),
            )
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            return None
        return await session.get(Mailbox, mailbox_id)


async def _finish(db: Database, result: PollResult, owner: str) -> None:
    now = utcnow()
    values: dict[str, object] = {
        "last_poll_at": now,
        "last_poll_status": "error" if result.error else "ok",
        "last_poll_error": result.error,
        "last_poll_count": result.imported,
        "poll_owner": None,
        "poll_lease_until": None,
    }
    if not result.error:
        values["last_success_at"] = now
    async with db.session() as session:
        await session.execute(
            update(Mailbox)
            .where(Mailbox.id == result.mailbox_id, Mailbox.poll_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def _set_state(db: Database, mailbox_id: int, owner: str, **values: object) -> None:
    async with db.session() as session:
        await _update_state(session, mailbox_id, owner, **values)


async def _update_state(
    session: AsyncSession, mailbox_id: int, owner: str, **values: object
) -> None:
    lease = utcnow() + timedelta(seconds=session.info["settings"].email_poll_lease_seconds)
    done = await session.execute(
        update(Mailbox)
        .where(Mailbox.id == mailbox_id, Mailbox.poll_owner == owner)
        .values(poll_lease_until=lease, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        # Our lease expired and another poller took over: stop, storing nothing more.
        raise ImapError("the poll lease was lost to another poller")


async def poll_mailbox(
    db: Database,
    mailbox_id: int,
    *,
    store: FileStore | None = None,
    owner: str | None = None,
    before_settle: AfterBatch | None = None,
) -> PollResult:
    """Import a mailbox's new mail once; records how it went on the mailbox (never raises for
    server or network trouble: that is the poll's status). `before_settle` is called with each
    batch's UIDs after they are stored and before they are marked on the server."""
    owner = owner or f"{poller_name()}:{id(asyncio.current_task()):x}"
    result = PollResult(mailbox_id)
    box = await _lease(db, mailbox_id, owner)
    if box is None:
        result.skipped = "not polling (disabled, no IMAP server, or another poller is at it)"
        return result
    store = store or FileStore(db.settings.files_dir)
    try:
        config = ImapConfig.of(box, db.settings)
        await _poll(db, box, config, result, owner, store, before_settle)
    except (ImapError, OSError, imaplib.IMAP4.error, TimeoutError) as exc:
        result.error = f"{type(exc).__name__}: {_text(exc)}"
    except Exception as exc:  # recorded for the admin page, and logged for the operator
        log.exception("poll of mailbox %s failed", mailbox_id)
        result.error = f"{type(exc).__name__}: {_text(exc)}"
    await _finish(db, result, owner)
    return result


async def _poll(
    db: Database,
    box: Mailbox,
    config: ImapConfig,
    result: PollResult,
    owner: str,
    store: FileStore,
    before_settle: AfterBatch | None,
) -> None:
    client = ImapClient(config)
    run = asyncio.to_thread
    await run(client.connect)
    try:
        state = await run(client.select, config.folder)
        last_uid, marked_uid = box.imap_last_uid, box.imap_marked_uid
        if box.imap_uidvalidity != state.uidvalidity:
            # New folder, or the server renumbered it: take what is there (Message-IDs tell
            # what was stored before); on the very first poll, only unread mail.
            result.uidvalidity_changed = box.imap_uidvalidity is not None
            first = box.imap_uidvalidity is None and config.after_import == "seen"
            everything = await run(client.search, "ALL")
            uids = await run(client.search, "UNSEEN") if first else everything
            # Read mail already there on the first poll is history: start after it.
            floor = max(everything, default=0) if first else 0
            last_uid = marked_uid = 0
            await _set_state(
                db,
                box.id,
                owner,
                imap_uidvalidity=state.uidvalidity,
                imap_last_uid=0,
                imap_marked_uid=0,
            )
        else:
            if marked_uid < last_uid:  # an earlier poll stored mail but did not settle it
                left = await run(client.search, "UID", f"{marked_uid + 1}:{last_uid}")
                left = [u for u in left if marked_uid < u <= last_uid]
                await run(client.settle, left)
                await _set_state(db, box.id, owner, imap_marked_uid=last_uid)
            floor = 0
            uids = [u for u in await run(client.search, "UID", f"{last_uid + 1}:*") if u > last_uid]
        result.uids = uids
        batch = max(1, db.settings.email_poll_batch)
        for start in range(0, len(uids), batch):
            chunk = uids[start : start + batch]
            await _import_chunk(db, box.id, client, chunk, result, owner, store, before_settle)
        if floor > max(uids, default=0):
            await _set_state(db, box.id, owner, imap_last_uid=floor, imap_marked_uid=floor)
    finally:
        await run(client.close)


async def _import_chunk(
    db: Database,
    mailbox_id: int,
    client: ImapClient,
    chunk: list[int],
    result: PollResult,
    owner: str,
    store: FileStore,
    before_settle: AfterBatch | None,
) -> None:
    run = asyncio.to_thread
    limit = db.settings.email_max_message_bytes
    sizes = await run(client.sizes, chunk)
    big = [u for u in chunk if sizes.get(u, 0) > limit]
    small = [u for u in chunk if u not in big]
    raws = await run(client.fetch, small) if small else {}
    heads = await run(client.fetch, big, headers_only=True) if big else {}
    arrivals: list[Arrival] = []
    for u in chunk:
        if u in heads:
            arrivals.append(
                Arrival(heads[u], "imap", mailbox_id=mailbox_id, too_large=sizes.get(u, 0))
            )
        elif u in raws:
            arrivals.append(Arrival(raws[u], "imap", mailbox_id=mailbox_id))
    result.fetched += len(arrivals)
    top = max(chunk)

    async def advance(session: AsyncSession, results: list[Ingested]) -> None:
        await _update_state(session, mailbox_id, owner, imap_last_uid=top)

    stored = await ingest_many(db, arrivals, store=store, also=advance) if arrivals else []
    if not arrivals:
        await _set_state(db, mailbox_id, owner, imap_last_uid=top)
    for r in stored:
        if r.disposition == "duplicate":
            result.duplicates += 1
        elif r.disposition == "quarantined":
            result.quarantined += 1
        else:
            result.imported += 1
    if before_settle is not None:
        await before_settle(chunk)
    # Mail too large to import stays on the server, unread, for a person to look at.
    await run(client.settle, small)
    await _set_state(db, mailbox_id, owner, imap_marked_uid=top)


# --- the worker's schedule --------------------------------------------------------------------


@jobs.periodic("email.poll", every_seconds=30)
async def schedule_polls(ctx: jobs.JobContext) -> None:
    """Queue a poll of every enabled IMAP mailbox whose interval has passed."""
    now = utcnow()
    boxes = (
        await ctx.session.execute(
            select(Mailbox.id, Mailbox.poll_interval_seconds, Mailbox.last_poll_at).where(
                Mailbox.enabled.is_(True), Mailbox.imap_host.is_not(None)
            )
        )
    ).all()
    for box_id, interval, last in boxes:
        every = max(10, interval or 60)
        if last is not None and last + timedelta(seconds=every) > now:
            continue
        slot = int(time.time() // every)
        await jobs.enqueue(
            ctx.session,
            POLL_JOB,
            {"mailbox_id": box_id},
            idempotency_key=f"{POLL_JOB}:{box_id}:{slot}",
            max_attempts=1,
        )


@jobs.handler(POLL_JOB)
async def poll_job(ctx: jobs.JobContext) -> None:
    result = await poll_mailbox(
        ctx.db, int(ctx.payload["mailbox_id"]), store=FileStore(ctx.settings.files_dir)
    )
    if result.error:
        log.warning("poll of mailbox %s: %s", result.mailbox_id, result.error)
