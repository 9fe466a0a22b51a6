"""Inbound email, from every source (IMAP, the SMTP listener, the raw-bytes API, files), into
the core's one ingress — exactly once.

Each email is identified by its Message-ID (a digest of the raw bytes when it has none, or when
a different message reuses one). It becomes one of:
- message: a ticket message, threaded by In-Reply-To/References (against the Message-IDs Madad
  stored and sent), then the plus-address ticket token, then the subject token (honoured only
  for the ticket's own contact);
- bounce: an RFC 3464 delivery report — the address is marked bouncing, the reply it reports
  on is marked failed and the ticket gets an internal note;
- own: Madad's own outbound mail come back (a loop), recorded and not stored again;
- quarantined: kept raw (no sender, empty, refused by the ingress), listed for admins.
The raw bytes are kept in the file store in every case.
"""

from __future__ import annotations

import asyncio
import html as html_lib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.activity import service as facts
from madad.auth.permissions import SYSTEM
from madad.channels.email.bodies import inline_images, message_body
from madad.channels.email.models import EmailRecord, Mailbox
from madad.channels.email.noise import automatic_reason
from madad.channels.email.parse import (
    ParsedEmail,
    clean_text,
    parse_email,
    sender_name_and_address,
)
from madad.channels.email.threads import (
    base_address,
    own_message_id,
    parse_own_message_id,
    ticket_in_addresses,
    ticket_in_subject,
)
from madad.config import Settings
from madad.contacts import service as contacts
from madad.db import Database, utcnow
from madad.errors import Conflict, MadadError
from madad.files import FileStore
from madad.tickets import changes
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, InboundAttachment, Received, Sender
from madad.tickets.models import Message, Status

log = logging.getLogger("madad.email")

CHANNEL = "email"
ACK_JOB = "email.ack"


@dataclass(frozen=True)
class Arrival:
    """One raw email as a source received it."""

    raw: bytes
    source: str  # imap | smtp | api | file
    mailbox_id: int | None = None
    envelope_sender: str | None = None
    envelope_recipients: tuple[str, ...] = ()
    backfill: bool = False  # a file import: the Date header dates the message
    too_large: int | None = None  # only the headers came: the message has this many bytes


@dataclass
class Ingested:
    disposition: str  # message | duplicate | bounce | own | quarantined
    ticket_id: int | None = None
    message_id: int | None = None
    contact_id: int | None = None
    new_ticket: bool = False
    reopened: bool = False
    auto: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.disposition != "duplicate"


# Called inside the batch's transaction (the IMAP poller advances its UID there).
AlsoWrite = Callable[[AsyncSession, list[Ingested]], Awaitable[None]]


@dataclass
class _Item:
    arrival: Arrival
    parsed: ParsedEmail
    external_id: str
    raw_key: str
    mailbox: Mailbox | None = None
    auto: str | None = None
    inbound: Inbound | None = None
    prepared: tickets.Prepared | None = None
    result: Ingested | None = None
    warnings: list[str] = field(default_factory=list)
    own_ticket: int | None = None  # the ticket of Madad's mail this one answers
    refs_known: bool = False  # it answers inbound mail Madad stored


def _external_id(parsed: ParsedEmail) -> str:
    return parsed.message_id or f"sha256:{parsed.digest}"


async def ingest(db: Database, arrival: Arrival, *, store: FileStore | None = None) -> Ingested:
    """Store one email (see the module docstring)."""
    return (await ingest_many(db, [arrival], store=store))[0]


async def ingest_many(
    db: Database,
    arrivals: Sequence[Arrival],
    *,
    store: FileStore | None = None,
    also: AlsoWrite | None = None,
    parsed: Sequence[ParsedEmail] | None = None,
) -> list[Ingested]:
    """Store a batch of emails in one transaction, in order; retried when a concurrent writer
    (another poller, the same email through another source) stored something first.

    `parsed` is what `parse_arrival` made of the arrivals, where the caller parsed them
    elsewhere (`bulk.ingest_batches` does, in a worker process)."""
    settings = db.settings
    files = store or FileStore(settings.files_dir)
    # The raw emails are written (and fsync'd, which releases the GIL) on threads while this
    # one parses them: the disk's wait and the parser's work overlap.
    writes = [asyncio.ensure_future(asyncio.to_thread(files.put, a.raw)) for a in arrivals]
    try:
        if parsed is None:
            parsed = [parse_arrival(a) for a in arrivals]
    finally:
        blobs = await asyncio.gather(*writes)
    items = [
        _Item(a, p, _external_id(p), blob.key, warnings=list(p.warnings))
        for a, p, blob in zip(arrivals, parsed, blobs, strict=True)
    ]
    for attempt in range(4):
        try:
            async with db.session() as session:
                results = await store_batch(session, items, settings, files)
                if also is not None:
                    await also(session, results)
            return results
        except (IntegrityError, DBAPIError) as exc:
            if attempt == 3:
                raise
            log.info("email batch collided (attempt %d): %s", attempt + 1, type(exc).__name__)
            for it in items:
                it.result, it.inbound, it.prepared = None, None, None
            await asyncio.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def parse_arrival(arrival: Arrival) -> ParsedEmail:
    """The parsed email, with what the envelope says of its sender."""
    parsed = parse_email(arrival.raw)
    parsed.envelope_sender = arrival.envelope_sender
    return parsed


async def store_batch(
    session: AsyncSession, items: list[_Item], settings: Settings, files: FileStore
) -> list[Ingested]:
    """The work of one transaction (the caller commits)."""
    secret = settings.resolved_secret_key()
    mailboxes = list((await session.execute(select(Mailbox))).scalars())
    for it in items:
        it.mailbox = _mailbox_for(it, mailboxes)
    await _known(session, items)
    pending = [it for it in items if it.result is None]
    for it in pending:
        it.auto = automatic_reason(it.parsed)
        own = parse_own_message_id(it.parsed.message_id or "", secret)
        if own is not None:
            it.result = Ingested("own", auto=it.auto, warnings=it.warnings)
            _record(session, it, "own")
        elif it.parsed.report is not None and it.parsed.report.recipients:
            await _bounce(session, it, secret)
        elif it.arrival.too_large is not None:
            _quarantine(
                session,
                it,
                f"the message is {it.arrival.too_large} bytes, over the limit of "
                f"{settings.email_max_message_bytes}; it was left on the server",
            )
        elif not it.arrival.raw.strip():
            _quarantine(session, it, "the message is empty")
    pending = [it for it in items if it.result is None]
    await _own_refs(session, pending, secret)
    await _to_inbound(session, pending, secret, settings)
    await _receive(session, [it for it in pending if it.result is None], files)
    await _acknowledge(session, [it for it in items if it.result is not None], settings)
    return [it.result for it in items if it.result is not None]


def _mailbox_for(it: _Item, mailboxes: list[Mailbox]) -> Mailbox | None:
    if it.arrival.mailbox_id is not None:
        return next((m for m in mailboxes if m.id == it.arrival.mailbox_id), None)
    wanted = [base_address(a) for a in [*it.arrival.envelope_recipients, *it.parsed.recipients()]]
    for address in wanted:
        for m in mailboxes:
            if m.address == address:
                return m
    return next((m for m in mailboxes if m.is_default), None)


async def _known(session: AsyncSession, items: list[_Item]) -> None:
    """Emails already recorded (received before, through any source) are duplicates; so are
    repeats within the batch. A different email reusing a Message-ID is told apart by digest."""
    first: dict[str, _Item] = {}
    for it in items:
        seen = first.get(it.external_id)
        if seen is None:
            first[it.external_id] = it
        elif seen.parsed.digest == it.parsed.digest:
            it.result = Ingested("duplicate", warnings=it.warnings)
        else:
            it.warnings.append("its Message-ID was already used by a different message")
            it.external_id = f"{it.external_id[:180]}#{it.parsed.digest[:32]}"
    ids = {it.external_id for it in items if it.result is None}
    if not ids:
        return
    rows = (
        await session.execute(
            select(EmailRecord).where(
                EmailRecord.direction == "inbound", EmailRecord.external_id.in_(ids)
            )
        )
    ).scalars()
    by_id = {r.external_id: r for r in rows}
    for it in items:
        row = by_id.get(it.external_id) if it.result is None else None
        if row is None:
            continue
        if row.kind == "message" and row.raw_sha256 != it.raw_key:
            continue  # the ingress compares the content: the same, or a reused Message-ID
        ticket = row.ticket_id
        if row.message_id is not None:
            ticket = await session.scalar(
                select(Message.ticket_id).where(Message.id == row.message_id)
            )
        it.result = Ingested(
            "duplicate", ticket_id=ticket, message_id=row.message_id, warnings=list(row.warnings)
        )


def _record(
    session: AsyncSession,
    it: _Item,
    kind: str,
    *,
    message_id: int | None = None,
    ticket_id: int | None = None,
    info: dict[str, Any] | None = None,
) -> None:
    p = it.parsed
    sender = sender_name_and_address(p)
    session.add(
        EmailRecord(
            direction="inbound",
            kind=kind,
            external_id=it.external_id,
            rfc_message_id=p.message_id,
            mailbox_id=it.mailbox.id if it.mailbox else None,
            message_id=message_id,
            ticket_id=ticket_id,
            source=it.arrival.source,
            peer_address=sender.address.lower()[:320] if sender else None,
            subject=p.subject[:500] or None,
            in_reply_to=p.in_reply_to[0] if p.in_reply_to else None,
            refs=p.references[-20:],
            recipients=p.recipients()[:50],
            raw_sha256=it.raw_key,
            raw_size=p.size,
            auto=it.auto,
            warnings=it.warnings[:50],
            info=info or {},
            created_at=utcnow(),
        )
    )


def _quarantine(session: AsyncSession, it: _Item, reason: str) -> None:
    it.warnings.append(reason)
    it.result = Ingested("quarantined", auto=it.auto, warnings=it.warnings)
    _record(session, it, "quarantined", info={"reason": reason})


# --- bounces ----------------------------------------------------------------------------------


async def _bounce(session: AsyncSession, it: _Item, secret: str) -> None:
    report = it.parsed.report
    assert report is not None
    refs = [
        r for r in [report.original_message_id, *it.parsed.in_reply_to, *it.parsed.references] if r
    ]
    original = await _outbound_by_ids(session, refs)
    failed = [r for r in report.recipients if r.permanent]
    for r in failed:
        await contacts.set_email_bouncing(
            session, r.address, bouncing=True, reason=f"{r.status} {r.diagnostic or ''}".strip()
        )
    ticket_id = original.ticket_id if original is not None else None
    summary = "; ".join(
        f"{r.address}: {r.action} {r.status} {r.diagnostic or ''}".strip()
        for r in report.recipients[:5]
    )
    if original is not None and original.message_id is not None and failed:
        message = await session.get(Message, original.message_id)
        if message is not None and message.delivery_status != "failed":
            await tickets.set_delivery_status(
                session, SYSTEM, message.id, status="failed", error=summary[:2000]
            )
    if ticket_id is not None and failed:
        await tickets.add_note(
            session, SYSTEM, ticket_id, text=f"Email delivery failed: {summary}"[:5000]
        )
    facts.record(
        session,
        "email.bounced",
        ticket_id=ticket_id,
        channel=CHANNEL,
        data={
            "recipients": [r.address for r in report.recipients][:20],
            "permanent": bool(failed),
            "original": report.original_message_id,
        },
    )
    it.result = Ingested("bounce", ticket_id=ticket_id, auto=it.auto, warnings=it.warnings)
    _record(session, it, "bounce", ticket_id=ticket_id, info={"report": summary[:2000]})


async def _outbound_by_ids(session: AsyncSession, refs: list[str]) -> EmailRecord | None:
    if not refs:
        return None
    return await session.scalar(
        select(EmailRecord)
        .where(EmailRecord.direction == "outbound", EmailRecord.rfc_message_id.in_(refs))
        .order_by(EmailRecord.id.desc())
        .limit(1)
    )


# --- threading --------------------------------------------------------------------------------


def _refs(p: ParsedEmail) -> list[str]:
    out: list[str] = []
    for r in [*p.in_reply_to, *reversed(p.references)]:
        if r not in out:
            out.append(r)
    return out[:30]


async def _own_refs(session: AsyncSession, items: list[_Item], secret: str) -> None:
    """Which references name mail Madad sent (its ticket), and which name stored inbound mail;
    and emails that are Madad's own outbound mail come back."""
    ids = {r for it in items for r in _refs(it.parsed)}
    mids = {it.parsed.message_id for it in items if it.parsed.message_id}
    if not ids and not mids:
        return
    outbound: dict[str, int | None] = {}
    for rfc, ticket in (
        await session.execute(
            select(EmailRecord.rfc_message_id, EmailRecord.ticket_id).where(
                EmailRecord.direction == "outbound", EmailRecord.rfc_message_id.in_(ids | mids)
            )
        )
    ).all():
        outbound[rfc] = ticket
    stored: set[str] = set()
    if ids:
        stored = set(
            (
                await session.execute(
                    select(Message.external_id).where(
                        Message.channel == CHANNEL, Message.external_id.in_(ids)
                    )
                )
            ).scalars()
        )
    for it in items:
        if it.parsed.message_id in outbound:
            it.result = Ingested("own", auto=it.auto, warnings=it.warnings)
            _record(session, it, "own", ticket_id=outbound[it.parsed.message_id])
            continue
        refs = _refs(it.parsed)
        it.own_ticket = next((outbound[r] for r in refs if outbound.get(r) is not None), None)
        it.refs_known = any(r in stored for r in refs)


async def _to_inbound(
    session: AsyncSession, items: list[_Item], secret: str, settings: Settings
) -> None:
    for it in items:
        if it.result is not None:
            continue
        p = it.parsed
        who = sender_name_and_address(p)
        if who is None:
            _quarantine(session, it, "no sender address")
            continue
        hint = it.own_ticket
        if hint is None and not it.refs_known:
            hint = ticket_in_addresses(
                [*it.arrival.envelope_recipients, *p.recipients()], secret
            ) or ticket_in_subject(p.subject)
        files, dropped = _attachments(it, settings)
        body = message_body(p, it.warnings, inline_images(files))
        text = body.text
        if not text and not body.html and not files:
            text = "(empty message)" if not dropped else "(attachments too large; see original)"
        meta: dict[str, Any] = {
            "email": {
                "message_id": p.message_id,
                "from": who.address,
                "from_name": who.name,
                "to": [a.address for a in p.to][:20],
                "cc": [a.address for a in p.cc][:20],
                "mailbox_id": it.mailbox.id if it.mailbox else None,
                "source": it.arrival.source,
                "quoted": body.quoted,
                "auto": it.auto,
                "warnings": it.warnings[:20],
            }
        }
        at = p.date if it.arrival.backfill and p.date and p.date <= utcnow() else None
        it.inbound = Inbound(
            channel=CHANNEL,
            sender=Sender(name=who.name, email=who.address),
            text=text,
            html=body.html,
            subject=clean_text(p.subject)[:500] or None,
            external_id=it.external_id,
            in_reply_to=tuple(_refs(p)),
            ticket_hint=hint,
            thread_by_contact=False,
            attachments=tuple(files),
            tags=("auto-reply",) if it.auto and it.auto != "list" else (),
            meta=meta,
            received_at=at,
        )


def _attachments(it: _Item, settings: Settings) -> tuple[list[InboundAttachment], int]:
    """The files to attach, within the limits (what is left out stays in the original)."""
    max_bytes, max_count = settings.max_attachment_bytes, settings.max_attachments_per_message
    out: list[InboundAttachment] = []
    dropped = 0
    for f in it.parsed.attachments:
        if len(f.data) > max_bytes or len(out) >= max_count:
            dropped += 1
            it.warnings.append(
                f"attachment {f.filename[:80]!r} ({len(f.data)} bytes) is not attached: over "
                "the limits; it is kept in the original message"
            )
            continue
        out.append(InboundAttachment(f.filename, f.content_type, f.data, f.inline, f.content_id))
    return out, dropped


# Automatic mail that may still be a person writing: through a mailing list.
_PEOPLE_ANYWAY = ("list", "precedence-list")
# The statuses an automatic reply must not change: solved (reopen) and waiting on the customer.
_SETTLED = (Status.solved.value, Status.pending.value, Status.on_hold.value)


async def _automatic_on_settled(
    session: AsyncSession, items: list[_Item], files: FileStore
) -> None:
    """Automatic mail (an out-of-office, an auto-reply) answering a ticket that is solved or
    waiting on the customer is kept on that ticket as a system note and changes nothing: a
    machine answering is not the customer answering. (The ingress would reopen the ticket or
    set it open; it has no notion of automatic messages.) Only mail whose references name the
    ticket's mail qualifies: RFC 3834 auto-responders set In-Reply-To."""
    candidates = [
        it
        for it in items
        if it.inbound is not None and it.auto is not None and it.auto not in _PEOPLE_ANYWAY
    ]
    if not candidates:
        return
    refs = {r for it in candidates for r in _refs(it.parsed)}
    by_ref: dict[str, int] = {}
    if refs:
        rows = await session.execute(
            select(Message.external_id, Message.ticket_id).where(
                Message.channel == CHANNEL, Message.external_id.in_(refs)
            )
        )
        by_ref = {ext: tid for ext, tid in rows.all() if ext is not None}
    # The same email stored before (as a note, with other transport headers): a duplicate.
    earlier = dict(
        (
            await session.execute(
                select(EmailRecord.external_id, EmailRecord.message_id).where(
                    EmailRecord.direction == "inbound",
                    EmailRecord.kind == "message",
                    EmailRecord.external_id.in_({it.external_id for it in candidates}),
                )
            )
        ).all()
    )
    for it in candidates:
        assert it.inbound is not None
        ticket_id = it.own_ticket or next(
            (by_ref[r] for r in _refs(it.parsed) if r in by_ref), None
        )
        if ticket_id is None:
            continue
        ticket = await changes.live_ticket(session, ticket_id)
        if ticket.status not in _SETTLED:
            continue
        if it.external_id in earlier:
            it.result = Ingested(
                "duplicate",
                ticket_id=ticket.id,
                message_id=earlier[it.external_id],
                auto=it.auto,
                warnings=it.warnings,
            )
            continue
        sender = it.inbound.sender.email or "?"
        head = f"Automatic reply from {sender} ({it.auto}): kept without changing the status."
        html = it.inbound.html
        note = await tickets.add_note(
            session,
            SYSTEM,
            ticket.id,
            text=f"{head}\n\n{it.inbound.text}".strip(),
            html=f"<p>{html_lib.escape(head)}</p>{html}" if html else None,
            attachments=it.inbound.attachments,
            store=files,
            at=it.inbound.received_at,
        )
        it.warnings.append(f"automatic mail on a {ticket.status} ticket: kept as a note")
        it.result = Ingested(
            "message",
            ticket_id=ticket.id,
            message_id=note.id,
            contact_id=ticket.contact_id,
            auto=it.auto,
            warnings=it.warnings,
        )
        _record(
            session,
            it,
            "message",
            message_id=note.id,
            ticket_id=ticket.id,
            info={"kept_as": "note", "status": ticket.status},
        )


async def _receive(session: AsyncSession, items: list[_Item], files: FileStore) -> None:
    if not items:
        return
    settings: Settings = session.info["settings"]
    await _automatic_on_settled(session, items, files)
    ready: list[_Item] = []
    for it in items:
        if it.inbound is None or it.result is not None:
            continue
        try:
            it.prepared = tickets.prepare(it.inbound, settings)
        except MadadError as exc:
            _quarantine(session, it, f"refused: {exc.detail}"[:500])
            continue
        ready.append(it)
    if not ready:
        return
    results = await tickets.receive_many(session, [it.prepared for it in ready], store=files)
    again: list[_Item] = []
    for it, result in zip(ready, results, strict=True):
        if isinstance(result, Conflict):
            # Another email reused this Message-ID: this one is told apart by its content.
            assert it.inbound is not None
            it.warnings.append("its Message-ID was already used by a different message")
            it.external_id = f"{it.external_id[:180]}#{it.parsed.digest[:32]}"
            it.inbound = replace(it.inbound, external_id=it.external_id)
            it.prepared = tickets.prepare(it.inbound, settings)
            again.append(it)
        elif isinstance(result, MadadError):
            _quarantine(session, it, f"refused: {result.detail}"[:500])
        else:
            _received(session, it, result)
    if again:
        for it, result in zip(
            again,
            await tickets.receive_many(session, [it.prepared for it in again], store=files),
            strict=True,
        ):
            if isinstance(result, MadadError):
                _quarantine(session, it, f"refused: {result.detail}"[:500])
            else:
                _received(session, it, result)


def _received(session: AsyncSession, it: _Item, r: Received) -> None:
    it.result = Ingested(
        "message" if r.created else "duplicate",
        ticket_id=r.ticket_id,
        message_id=r.message_id,
        contact_id=r.contact_id,
        new_ticket=r.new_ticket,
        reopened=r.reopened,
        auto=it.auto,
        warnings=it.warnings,
    )
    if r.created:
        _record(session, it, "message", message_id=r.message_id, ticket_id=r.ticket_id)


# --- acknowledgements -------------------------------------------------------------------------


async def acks_sent(session: AsyncSession, address: str, settings: Settings) -> int:
    """Acknowledgements sent (or queued) to `address` within the rate-limit window."""
    since = utcnow() - timedelta(hours=settings.email_ack_window_hours)
    return (
        await session.scalar(
            select(func.count())
            .select_from(EmailRecord)
            .where(
                EmailRecord.peer_address == address.lower(),
                EmailRecord.kind == "ack",
                EmailRecord.created_at >= since,
            )
        )
        or 0
    )


async def _acknowledge(session: AsyncSession, items: list[_Item], settings: Settings) -> None:
    """Queue the mailbox's acknowledgement for new tickets opened by a person (never for
    automatic mail, never beyond the per-sender limit)."""
    planned: dict[str, int] = {}
    secret = settings.resolved_secret_key()
    for it in items:
        r = it.result
        box = it.mailbox
        if (
            r is None
            or r.disposition != "message"
            or not r.new_ticket
            or it.auto is not None
            or box is None
            or not box.ack_enabled
            or not box.enabled
        ):
            continue
        who = sender_name_and_address(it.parsed)
        if who is None or base_address(who.address) == box.address:
            continue
        address = who.address.lower()
        if address not in planned:
            planned[address] = await acks_sent(session, address, settings)
        if planned[address] >= settings.email_ack_per_sender:
            continue
        planned[address] += 1
        # The acknowledgement is recorded now (its slot in the per-sender limit is taken in
        # this transaction); the job sends it and completes the record.
        mid = own_message_id("a", r.message_id or 0, box.address.rpartition("@")[2], secret)
        session.add(
            EmailRecord(
                direction="outbound",
                kind="ack",
                external_id=mid,
                rfc_message_id=mid,
                mailbox_id=box.id,
                ticket_id=r.ticket_id,
                source="smtp-out",
                peer_address=address,
                refs=[],
                recipients=[address],
                raw_size=0,
                warnings=[],
                info={"answers_message_id": r.message_id, "state": "queued"},
                created_at=utcnow(),
            )
        )
        await jobs.enqueue(
            session,
            ACK_JOB,
            {"message_id": r.message_id, "mailbox_id": box.id, "to": address},
            idempotency_key=f"email.ack:{r.message_id}",
        )


async def records_for_messages(
    session: AsyncSession, message_ids: Sequence[int]
) -> dict[int, EmailRecord]:
    if not message_ids:
        return {}
    rows = await session.execute(
        select(EmailRecord).where(EmailRecord.message_id.in_(list(message_ids)))
    )
    return {r.message_id: r for r in rows.scalars() if r.message_id is not None}
