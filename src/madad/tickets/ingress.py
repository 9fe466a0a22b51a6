"""The one ingress: every customer message from every channel is stored here, exactly once.

`receive(session, inbound)` stores one message; `receive_many` stores a batch of them in a
bounded number of statements (the API groups concurrent requests into one transaction this way;
importers and mail pollers hand over what they fetched). Both follow the same rules:

1. A message whose (channel, external_id) is already stored is not stored again: the result
   names the stored one (`created=False`); the same external id with different content is a
   Conflict.
2. The sender is found by any identity they used, or created (see contacts.resolve_contacts).
3. The message continues a ticket — the ticket the channel hinted at (same contact only), the
   ticket of a message it answers, the ticket of its conversation, or (when the channel gives
   neither refs nor a conversation) the contact's open ticket on the channel — or opens one.
4. A message to a solved ticket reopens it within `reopen_window_days`; to a closed or
   long-solved ticket it opens a follow-up linked to the old one. A message to a pending or
   on-hold ticket sets it open: the customer has answered.
5. Facts are recorded in the caller's transaction, in message order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.config import Settings
from madad.contacts import service as contacts
from madad.contacts.identities import normalise_email, normalise_handle, normalise_phone
from madad.db import settings_of, utcnow
from madad.dialects import lock_keys
from madad.errors import Conflict, Invalid, MadadError, TooLarge
from madad.files import FileStore, safe_filename
from madad.tickets.content import fingerprint, subject_from_text
from madad.tickets.inbound import Inbound, Received
from madad.tickets.models import (
    OPEN_STATUSES,
    Attachment,
    Message,
    Priority,
    Status,
    Ticket,
    TicketLink,
    TicketTag,
)
from madad.tickets.rules import clean_priority, clean_subject, clean_tags, message_content

_CHANNEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_OPEN = [s.value for s in OPEN_STATUSES]


def pairs_in(first: Any, second: Any, pairs: set[tuple[str, str]]) -> ColumnElement[bool]:
    """(first, second) in pairs, written so that an index on (first, second) serves it:
    one `first = x AND second IN (...)` per distinct first value (a row-value IN is planned
    far worse by PostgreSQL)."""
    by_first: dict[str, list[str]] = {}
    for a, b in pairs:
        by_first.setdefault(a, []).append(b)
    return or_(*[and_(first == a, second.in_(bs)) for a, bs in sorted(by_first.items())])


@dataclass(frozen=True)
class Prepared:
    """An inbound message checked and normalised, before any database work."""

    inbound: Inbound
    sender: contacts.SenderIn
    text: str
    html: str | None
    subject: str | None
    tags: tuple[str, ...]
    priority: str
    custom: dict[str, Any]
    digest: str
    at: datetime | None


def prepare(inbound: Inbound, settings: Settings) -> Prepared:
    """Validate and normalise one message (no database); raises Invalid / TooLarge."""
    if not _CHANNEL.fullmatch(inbound.channel or ""):
        raise Invalid("channel", "a channel name is 1-32 lower-case letters, digits, _ or -")
    if inbound.external_id is not None and not 1 <= len(inbound.external_id) <= 255:
        raise Invalid("external_id", "1-255 characters")
    if not inbound.text and not inbound.html and not inbound.attachments:
        raise Invalid("text", "a message needs text, HTML or an attachment")
    if len(inbound.attachments) > settings.max_attachments_per_message:
        raise Invalid("attachments", f"at most {settings.max_attachments_per_message} files")
    for i, a in enumerate(inbound.attachments):
        if len(a.data) > settings.max_attachment_bytes:
            raise TooLarge(
                f"attachments[{i}] is {len(a.data)} bytes; "
                f"the limit is {settings.max_attachment_bytes}"
            )
    s = inbound.sender
    identities: list[contacts.Identity] = []
    if s.email:
        identities.append(contacts.Identity("email", normalise_email(s.email, "contact.email")))
    if s.phone:
        identities.append(contacts.Identity("phone", normalise_phone(s.phone, "contact.phone")))
    if s.handle:
        identities.append(
            contacts.Identity("handle", normalise_handle(s.handle, field="contact.handle"))
        )
    if not identities:
        raise Invalid("contact", "give the sender's email, phone or handle")
    text, html = message_content(inbound.text, inbound.html)
    digest = fingerprint(
        inbound.subject,
        inbound.text,
        inbound.html,
        *[fingerprint(a.filename, a.data.hex()) for a in inbound.attachments],
    )
    return Prepared(
        inbound=inbound,
        sender=contacts.SenderIn(
            identities=tuple(identities),
            name=contacts.clean_name(s.name, "contact.name"),
            language=contacts.clean_language(s.language, "contact.language"),
            time_zone=contacts.clean_time_zone(s.time_zone, "contact.time_zone"),
        ),
        text=text,
        html=html,
        subject=clean_subject(inbound.subject),
        tags=tuple(clean_tags(inbound.tags)),
        priority=clean_priority(inbound.priority) if inbound.priority else Priority.normal.value,
        custom=contacts.clean_custom(inbound.custom_fields, "custom_fields"),
        digest=digest,
        at=inbound.received_at,
    )


async def receive(
    session: AsyncSession, inbound: Inbound, *, store: FileStore | None = None
) -> Received:
    """Store one customer message (see the module docstring); raises Conflict on reuse of an
    external id for different content."""
    result = (await receive_many(session, [inbound], store=store))[0]
    if isinstance(result, MadadError):
        raise result
    return result


# --- the batch ---------------------------------------------------------------------------------

_TICKET_COLUMNS = (
    Ticket.id,
    Ticket.contact_id,
    Ticket.channel,
    Ticket.status,
    Ticket.solved_at,
    Ticket.assignee_id,
    Ticket.merged_into_id,
    Ticket.team_id,
    Ticket.waiting_since,
    Ticket.last_activity_at,
    Ticket.reopen_count,
    Ticket.conversation_key,
)


# One statement, executed once per changed ticket (executemany), keyed by id.
_T = Ticket.__table__.c
_UPDATE_TICKET = (
    update(Ticket.__table__)
    .where(_T.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        solved_at=bindparam("b_solved_at"),
        reopen_count=bindparam("b_reopen_count"),
        waiting_since=bindparam("b_waiting_since"),
        last_activity_at=bindparam("b_last_activity_at"),
        updated_at=bindparam("b_last_activity_at"),
    )
)


@dataclass
class _Known:
    """An existing ticket as this batch sees and changes it."""

    id: int
    contact_id: int
    channel: str
    status: str
    solved_at: datetime | None
    assignee_id: int | None
    team_id: int | None
    waiting_since: datetime | None
    last_activity_at: datetime
    reopen_count: int
    changed: bool = False


@dataclass
class _New:
    """A ticket this batch opens."""

    index: int  # the message that opens it
    values: dict[str, Any]
    follow_up_of: int | None
    id: int = 0


@dataclass
class _Item:
    index: int
    p: Prepared
    at: datetime
    contact_id: int = 0
    organisation_id: int | None = None
    ticket: _Known | _New | None = None
    new_ticket: bool = False
    reopened: bool = False
    follow_up_of: int | None = None
    status_change: tuple[str, str] | None = None
    message_id: int = 0
    facts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


async def _load_tickets(session: AsyncSession, ids: set[int], *, lock: bool) -> dict[int, Any]:
    """Ticket rows by id (locked in id order on PostgreSQL), following merges."""
    rows: dict[int, Any] = {}
    wanted = set(ids)
    conn = await session.connection()
    for _ in range(10):
        if not wanted:
            break
        stmt = select(*_TICKET_COLUMNS).where(Ticket.id.in_(wanted)).order_by(Ticket.id)
        if lock:
            stmt = stmt.with_for_update()
        found = (await conn.execute(stmt)).all()
        rows.update({r.id: r for r in found})
        wanted = {
            r.merged_into_id for r in found if r.merged_into_id and r.merged_into_id not in rows
        }
    return rows


def _follow(rows: dict[int, Any], ticket_id: int | None) -> Any | None:
    row, hops = rows.get(ticket_id) if ticket_id is not None else None, 0
    while row is not None and row.merged_into_id is not None and hops < 10:
        row, hops = rows.get(row.merged_into_id), hops + 1
    return row


async def receive_many(
    session: AsyncSession,
    inbounds: Sequence[Inbound | Prepared],
    *,
    store: FileStore | None = None,
) -> list[Received | MadadError]:
    """Store a batch of customer messages in one transaction, in order (see the module
    docstring). Returns, per message, what was stored or the Conflict that stopped it; a
    message that fails validation raises before anything is written."""
    settings = settings_of(session)
    now = utcnow()
    prepared = [p if isinstance(p, Prepared) else prepare(p, settings) for p in inbounds]
    # The batch reads and writes with Core statements, which do not autoflush: write what this
    # transaction changed through the ORM first, or it would be read stale and written back
    # over the batch's changes at commit.
    await session.flush()
    results: list[Received | MadadError | None] = [None] * len(prepared)

    # 1. What is already stored, and repeats within the batch.
    keys = {(p.inbound.channel, p.inbound.external_id) for p in prepared if p.inbound.external_id}
    stored: dict[tuple[str, str], Any] = {}
    if keys:
        conn = await session.connection()
        rows = await conn.execute(
            select(
                Message.channel,
                Message.external_id,
                Message.id,
                Message.ticket_id,
                Message.author_contact_id,
                Message.content_hash,
            ).where(pairs_in(Message.channel, Message.external_id, keys))
        )
        stored = {(r.channel, r.external_id): r for r in rows.all()}
    first_of: dict[tuple[str, str], int] = {}
    repeats: dict[int, int] = {}
    items: list[_Item] = []
    for n, p in enumerate(prepared):
        key = (p.inbound.channel, p.inbound.external_id or "")
        if p.inbound.external_id:
            seen = stored.get(key)
            if seen is not None:
                results[n] = (
                    Conflict(
                        f"external_id {p.inbound.external_id!r} was already used for a "
                        "different message"
                    )
                    if seen.content_hash is not None and seen.content_hash != p.digest
                    else Received(
                        seen.ticket_id, seen.id, seen.author_contact_id or 0, created=False
                    )
                )
                continue
            if key in first_of:
                repeats[n] = first_of[key]
                continue
            first_of[key] = n
        items.append(_Item(n, p, p.at or now))
    if items:
        await _store(session, items, settings, store, now)
        for it in items:
            assert it.ticket is not None
            results[it.index] = Received(
                ticket_id=it.ticket.id,
                message_id=it.message_id,
                contact_id=it.contact_id,
                created=True,
                new_ticket=it.new_ticket,
                reopened=it.reopened,
                follow_up_of=it.follow_up_of,
            )
    for n, first in repeats.items():
        original = results[first]
        if isinstance(original, Received):
            results[n] = (
                replace(
                    original, created=False, new_ticket=False, reopened=False, follow_up_of=None
                )
                if prepared[n].digest == prepared[first].digest
                else Conflict(
                    f"external_id {prepared[n].inbound.external_id!r} was already "
                    "used for a different message"
                )
            )
        else:
            results[n] = original
    return [r for r in results if r is not None]


async def _store(
    session: AsyncSession,
    items: list[_Item],
    settings: Settings,
    store: FileStore | None,
    now: datetime,
) -> None:
    # 2. Contacts; then serialise concurrent writers per contact and per conversation, so that
    # two messages of one customer or conversation never open two tickets (PostgreSQL).
    resolved = await contacts.resolve_contacts(session, [it.p.sender for it in items], at=now)
    await lock_keys(
        session,
        [f"contact:{r.contact_id}" for r in resolved if not r.created]
        + [
            f"conversation:{it.p.inbound.channel}:{it.p.inbound.conversation_key}"
            for it in items
            if it.p.inbound.conversation_key
        ],
    )
    for it, r in zip(items, resolved, strict=True):
        it.contact_id, it.organisation_id = r.contact_id, r.organisation_id

    # 3. Candidate tickets from the database, in at most four bounded queries.
    conn = await session.connection()
    hinted = {it.p.inbound.ticket_hint for it in items if it.p.inbound.ticket_hint is not None}
    refs = {(it.p.inbound.channel, ref) for it in items for ref in it.p.inbound.in_reply_to}
    convs = {
        (it.p.inbound.channel, it.p.inbound.conversation_key)
        for it in items
        if it.p.inbound.conversation_key
    }
    by_contact = {
        (it.contact_id, it.p.inbound.channel)
        for it in items
        if it.p.inbound.thread_by_contact
        and not it.p.inbound.in_reply_to
        and not it.p.inbound.conversation_key
    }
    ref_ticket: dict[tuple[str, str], int] = {}
    if refs:
        for r in (
            await conn.execute(
                select(Message.channel, Message.external_id, Message.ticket_id).where(
                    pairs_in(Message.channel, Message.external_id, refs)
                )
            )
        ).all():
            ref_ticket[(r.channel, r.external_id)] = r.ticket_id
    conv_ticket: dict[tuple[str, str], int] = {}
    if convs:
        for r in (
            await conn.execute(
                select(Ticket.id, Ticket.channel, Ticket.conversation_key).where(
                    pairs_in(Ticket.channel, Ticket.conversation_key, convs)
                )
            )
        ).all():
            key = (r.channel, r.conversation_key)
            conv_ticket[key] = max(conv_ticket.get(key, 0), r.id)
    # The contacts' open tickets, read fresh and locked (an agent may be changing them).
    open_ticket: dict[tuple[int, str], Any] = {}
    rows: dict[int, Any] = {}
    if by_contact:
        locked = await conn.execute(
            select(*_TICKET_COLUMNS)
            .where(
                Ticket.contact_id.in_({c for c, _ in by_contact}),
                Ticket.status.in_(_OPEN),
                Ticket.merged_into_id.is_(None),
            )
            .order_by(Ticket.id)
            .with_for_update()
        )
        for r in locked.all():
            rows[r.id] = r
            key = (r.contact_id, r.channel)
            best = open_ticket.get(key)
            if key in by_contact and (
                best is None or (r.last_activity_at, r.id) > (best.last_activity_at, best.id)
            ):
                open_ticket[key] = r
    others = (hinted | set(ref_ticket.values()) | set(conv_ticket.values())) - set(rows)
    if others:
        rows.update(await _load_tickets(session, others, lock=True))
    known: dict[int, _Known] = {}

    def as_known(row: Any) -> _Known:
        k = known.get(row.id)
        if k is None:
            k = known[row.id] = _Known(
                row.id,
                row.contact_id,
                row.channel,
                row.status,
                row.solved_at,
                row.assignee_id,
                row.team_id,
                row.waiting_since,
                row.last_activity_at,
                row.reopen_count,
            )
        return k

    # 4. Thread each message, in order; later messages of the batch see earlier ones.
    window = timedelta(days=settings.reopen_window_days)
    new_tickets: list[_New] = []
    batch_conv: dict[tuple[str, str], _Known | _New] = {}
    batch_contact: dict[tuple[int, str], _Known | _New] = {}
    batch_ext: dict[tuple[str, str], _Known | _New] = {}
    for it in items:
        inbound = it.p.inbound
        target: _Known | _New | None = None
        if inbound.ticket_hint is not None:
            row = _follow(rows, inbound.ticket_hint)
            if row is not None and row.contact_id == it.contact_id:
                target = as_known(row)
        if target is None and inbound.in_reply_to:
            for ref in inbound.in_reply_to:
                local = batch_ext.get((inbound.channel, ref))
                if local is not None:
                    target = local
                    break
            else:
                ids = [
                    ref_ticket[(inbound.channel, r)]
                    for r in inbound.in_reply_to
                    if (inbound.channel, r) in ref_ticket
                ]
                row = _follow(rows, max(ids)) if ids else None
                target = as_known(row) if row is not None else None
        if target is None and inbound.conversation_key:
            key = (inbound.channel, inbound.conversation_key)
            target = batch_conv.get(key)
            if target is None and key in conv_ticket:
                row = _follow(rows, conv_ticket[key])
                target = as_known(row) if row is not None else None
        if (
            target is None
            and inbound.thread_by_contact
            and not inbound.in_reply_to
            and not inbound.conversation_key
        ):
            key2 = (it.contact_id, inbound.channel)
            target = batch_contact.get(key2)
            if target is None and key2 in open_ticket:
                row = _follow(rows, open_ticket[key2].id)
                target = as_known(row) if row is not None else None

        if isinstance(target, _Known):
            solved_recently = (
                target.status == Status.solved
                and target.solved_at is not None
                and target.solved_at >= it.at - window
            )
            if target.status == Status.closed or (
                target.status == Status.solved and not solved_recently
            ):
                it.follow_up_of = target.id
                target = None
            elif target.status in (Status.solved, Status.pending, Status.on_hold):
                it.status_change = (target.status, Status.open.value)
                it.reopened = target.status == Status.solved
                target.status = Status.open.value
                if it.reopened:
                    target.reopen_count += 1
                    target.solved_at = None
        if target is None:
            p = it.p
            target = _New(
                it.index,
                {
                    "subject": p.subject or subject_from_text(p.text),
                    "status": Status.new.value,
                    "priority": p.priority,
                    "channel": inbound.channel,
                    "contact_id": it.contact_id,
                    "organisation_id": it.organisation_id,
                    "assignee_id": None,
                    "team_id": None,
                    "custom_fields": p.custom,
                    "escalation_level": 0,
                    "conversation_key": inbound.conversation_key,
                    "merged_into_id": None,
                    "reopen_count": 0,
                    "created_at": it.at,
                    "updated_at": it.at,
                    "last_activity_at": it.at,
                    "waiting_since": it.at,
                    "solved_at": None,
                },
                it.follow_up_of,
            )
            new_tickets.append(target)
            it.new_ticket = True
        else:
            if isinstance(target, _Known):
                target.changed = True
                target.last_activity_at = max(target.last_activity_at, it.at)
                if target.waiting_since is None:
                    target.waiting_since = it.at
        it.ticket = target
        if inbound.conversation_key:
            batch_conv[(inbound.channel, inbound.conversation_key)] = target
        batch_contact[(it.contact_id, inbound.channel)] = target
        if inbound.external_id:
            batch_ext[(inbound.channel, inbound.external_id)] = target

    # 5. Write: new tickets, their tags and links, messages, attachments, changed tickets.
    if new_tickets:
        ids = (
            (
                await conn.execute(
                    insert(Ticket).returning(Ticket.id, sort_by_parameter_order=True),
                    [t.values for t in new_tickets],
                )
            )
            .scalars()
            .all()
        )
        for t, tid in zip(new_tickets, ids, strict=True):
            t.id = tid
        links = [
            {
                "ticket_id": t.id,
                "other_id": t.follow_up_of,
                "kind": "follow_up",
                "created_by_id": None,
                "created_at": t.values["created_at"],
            }
            for t in new_tickets
            if t.follow_up_of is not None
        ]
        if links:
            await conn.execute(insert(TicketLink), links)
    existing_tags: dict[int, set[str]] = {}
    tagged_known = {it.ticket.id for it in items if it.p.tags and isinstance(it.ticket, _Known)}
    if tagged_known:
        for tid, tag in (
            await conn.execute(
                select(TicketTag.ticket_id, TicketTag.tag).where(
                    TicketTag.ticket_id.in_(tagged_known)
                )
            )
        ).all():
            existing_tags.setdefault(tid, set()).add(tag)
    tag_rows: list[dict[str, Any]] = []
    added_tags: dict[int, list[str]] = {}
    for it in items:
        assert it.ticket is not None
        have = existing_tags.setdefault(it.ticket.id, set())
        added = [t for t in it.p.tags if t not in have]
        have.update(added)
        added_tags[it.index] = added
        tag_rows += [{"ticket_id": it.ticket.id, "tag": t} for t in added]
    if tag_rows:
        await conn.execute(insert(TicketTag), tag_rows)

    message_rows = [
        {
            "ticket_id": it.ticket.id,  # type: ignore[union-attr]
            "channel": it.p.inbound.channel,
            "direction": "inbound",
            "visibility": "public",
            "author_type": "contact",
            "author_contact_id": it.contact_id,
            "author_user_id": None,
            "text": it.p.text,
            "html": it.p.html,
            "external_id": it.p.inbound.external_id,
            "content_hash": it.p.digest,
            "delivery_status": None,
            "delivery_error": None,
            "meta": it.p.inbound.meta,
            "created_at": it.at,
        }
        for it in items
    ]
    message_ids = (
        (
            await conn.execute(
                insert(Message).returning(Message.id, sort_by_parameter_order=True), message_rows
            )
        )
        .scalars()
        .all()
    )
    attachment_rows: list[dict[str, Any]] = []
    for it, mid in zip(items, message_ids, strict=True):
        it.message_id = mid
        if it.p.inbound.attachments:
            files = store or FileStore(settings.files_dir)
            for a in it.p.inbound.attachments:
                blob = files.put(a.data)
                attachment_rows.append(
                    {
                        "message_id": mid,
                        "filename": safe_filename(a.filename),
                        "content_type": (a.content_type or "application/octet-stream")[:200],
                        "size": blob.size,
                        "sha256": blob.sha256,
                        "inline": a.inline,
                        "content_id": a.content_id,
                        "created_at": it.at,
                    }
                )
    if attachment_rows:
        await conn.execute(insert(Attachment), attachment_rows)
    changed = [k for k in known.values() if k.changed]
    if changed:
        await conn.execute(
            _UPDATE_TICKET,
            [
                {
                    "b_id": k.id,
                    "b_status": k.status,
                    "b_solved_at": k.solved_at,
                    "b_reopen_count": k.reopen_count,
                    "b_waiting_since": k.waiting_since,
                    "b_last_activity_at": k.last_activity_at,
                }
                for k in changed
            ],
        )

    # 6. Facts, message by message.
    for it in items:
        t = it.ticket
        assert t is not None
        channel = it.p.inbound.channel
        team_id = t.team_id if isinstance(t, _Known) else None

        def fact(
            kind: str,
            data: dict[str, Any],
            it: _Item = it,
            tid: int = t.id,
            team: int | None = team_id,
            ch: str = channel,
        ) -> None:
            facts.record(
                session,
                kind,
                ticket_id=tid,
                contact_id=it.contact_id,
                team_id=team,
                channel=ch,
                data=data,
                at=it.at,
            )

        if isinstance(t, _New) and t.index == it.index:
            fact(
                "ticket.created",
                {
                    "subject": t.values["subject"],
                    "priority": t.values["priority"],
                    "status": Status.new.value,
                    "follow_up_of": t.follow_up_of,
                },
            )
        if it.status_change is not None:
            assignee = t.assignee_id if isinstance(t, _Known) else None
            fact(
                "ticket.status_changed",
                {
                    "from": it.status_change[0],
                    "to": it.status_change[1],
                    "by": "contact",
                    "assignee_id": assignee,
                },
            )
        if added_tags[it.index]:
            fact("ticket.tags_changed", {"added": added_tags[it.index], "removed": []})
        fact(
            "message.received",
            {
                "message_id": it.message_id,
                "attachments": len(it.p.inbound.attachments),
                "new_ticket": it.new_ticket,
            },
        )
