"""The messages agents write — replies and internal notes — and the one ingress `receive`.

With `changes.py`, the only writer of the tickets tables. Each operation records its facts and
enqueues its jobs in the caller's transaction; the unit of work commits once and the facts are
published after.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.auth.permissions import Actor, Scope
from madad.db import settings_of, utcnow
from madad.errors import Conflict, Invalid, NotFound, TooLarge
from madad.files import FileStore, safe_filename
from madad.tickets.changes import (
    ensure_writable,
    get_ticket_row,
    record_fact,
    set_assignee,
    set_status,
)
from madad.tickets.delivery import deliverers
from madad.tickets.inbound import InboundAttachment
from madad.tickets.ingress import Prepared, prepare, receive, receive_many
from madad.tickets.models import (
    Attachment,
    Message,
    Status,
)
from madad.tickets.rules import (
    clean_status,
    message_content,
)

# The one ingress lives in ingress.py; `tickets.service.receive` is its documented name.
__all__ = [
    "Prepared",
    "add_note",
    "prepare",
    "receive",
    "receive_many",
    "reply",
    "set_delivery_status",
]

# --- attachments ------------------------------------------------------------------------------


async def _attach(
    session: AsyncSession,
    message: Message,
    attachments: Sequence[InboundAttachment],
    store: FileStore | None,
) -> list[Attachment]:
    if not attachments:
        return []
    settings = settings_of(session)
    if store is None:
        store = FileStore(settings.files_dir)
    if len(attachments) > settings.max_attachments_per_message:
        raise Invalid("attachments", f"at most {settings.max_attachments_per_message} files")
    rows = []
    for i, item in enumerate(attachments):
        if len(item.data) > settings.max_attachment_bytes:
            raise TooLarge(
                f"attachments[{i}] is {len(item.data)} bytes; "
                f"the limit is {settings.max_attachment_bytes}"
            )
        blob = store.put(item.data)
        row = Attachment(
            message_id=message.id,
            filename=safe_filename(item.filename),
            content_type=(item.content_type or "application/octet-stream")[:200],
            size=blob.size,
            sha256=blob.sha256,
            inline=item.inline,
            content_id=item.content_id,
        )
        session.add(row)
        rows.append(row)
    return rows


# --- agents' messages -------------------------------------------------------------------------


async def reply(
    session: AsyncSession,
    actor: Actor,
    ticket_id: int,
    *,
    text: str = "",
    html: str | None = None,
    attachments: Sequence[InboundAttachment] = (),
    status: str | None = None,
    store: FileStore | None = None,
    at: datetime | None = None,
) -> Message:
    """A public reply to the customer, delivered on the ticket's channel through the outbox."""
    actor.require(Scope.tickets_write)
    ticket = await get_ticket_row(session, ticket_id, lock=True)
    ensure_writable(ticket)
    if ticket.status == Status.closed:
        raise Conflict(f"ticket {ticket_id} is closed; open a follow-up ticket instead")
    body, clean_html = message_content(text, html)
    if not body and not attachments:
        raise Invalid("text", "a reply needs text or an attachment")
    now = at or utcnow()
    job_kind = deliverers.get(ticket.channel)
    message = Message(
        ticket_id=ticket.id,
        channel=ticket.channel,
        direction="outbound",
        visibility="public",
        author_type="system" if actor.is_system else "agent",
        author_user_id=actor.user_id,
        text=body,
        html=clean_html,
        delivery_status="queued",
        created_at=now,
    )
    session.add(message)
    await session.flush()
    await _attach(session, message, attachments, store)
    record_fact(
        session,
        "message.sent",
        ticket,
        agent_id=actor.user_id,
        at=now,
        data={
            "message_id": message.id,
            "author_type": message.author_type,
            "attachments": len(attachments),
        },
    )
    if job_kind is not None:
        await jobs.enqueue(
            session,
            job_kind,
            {"message_id": message.id},
            idempotency_key=f"deliver:{message.id}",
        )
    if ticket.assignee_id is None and actor.user_id is not None:
        await set_assignee(session, ticket, actor.user_id, agent_id=actor.user_id, at=now)
    ticket.waiting_since = None
    ticket.updated_at = now
    ticket.last_activity_at = max(ticket.last_activity_at, now)
    target = (
        clean_status(status)
        if status
        else (Status.open.value if ticket.status == Status.new else None)
    )
    if target and target != ticket.status:
        await set_status(session, ticket, target, agent_id=actor.user_id, at=now)
    return message


async def add_note(
    session: AsyncSession,
    actor: Actor,
    ticket_id: int,
    *,
    text: str = "",
    html: str | None = None,
    attachments: Sequence[InboundAttachment] = (),
    store: FileStore | None = None,
    at: datetime | None = None,
) -> Message:
    """An internal note: visible to agents only, never delivered."""
    actor.require(Scope.tickets_write)
    ticket = await get_ticket_row(session, ticket_id, lock=True)
    ensure_writable(ticket)
    body, clean_html = message_content(text, html)
    if not body and not attachments:
        raise Invalid("text", "a note needs text or an attachment")
    now = at or utcnow()
    message = Message(
        ticket_id=ticket.id,
        channel=ticket.channel,
        direction="outbound",
        visibility="note",
        author_type="system" if actor.is_system else "agent",
        author_user_id=actor.user_id,
        text=body,
        html=clean_html,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    await _attach(session, message, attachments, store)
    ticket.updated_at = now
    ticket.last_activity_at = max(ticket.last_activity_at, now)
    record_fact(
        session,
        "note.added",
        ticket,
        agent_id=actor.user_id,
        at=now,
        data={"message_id": message.id},
    )
    return message


async def set_delivery_status(
    session: AsyncSession,
    actor: Actor,
    message_id: int,
    *,
    status: str,
    error: str | None = None,
    at: datetime | None = None,
) -> Message:
    """An integration (or a channel job) reports what became of an outbound message."""
    actor.require(Scope.inbound)
    if status not in ("sent", "delivered", "read", "failed"):
        raise Invalid("status", "one of sent, delivered, read, failed")
    message = await session.get(Message, message_id)
    if message is None or message.direction != "outbound" or message.visibility != "public":
        raise NotFound(f"outbound message {message_id} does not exist")
    ticket = await get_ticket_row(session, message.ticket_id)
    message.delivery_status = status
    message.delivery_error = error[:2000] if error else None
    record_fact(
        session,
        "message.delivery",
        ticket,
        at=at,
        data={"message_id": message.id, "status": status, "error": message.delivery_error},
    )
    return message
