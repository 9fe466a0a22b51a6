"""Messages left through the widget while the inbox's queue is closed ("leave a message"): each
becomes a ticket on the email channel, so that the agent's reply goes out by email.

The email address was typed into a public form, so it is a claim, not a proof. What is safe:

- The reply goes only to that address. Whoever typed someone else's address learns nothing
  from the answer; the address's owner gets an email they did not ask for, which the limits
  (per address and per client, per hour) keep rare.
- The ticket's contact is the one that address names (found, or created with it), exactly as
  for an email that arrives with that `From:` — which proves no more. The visitor's chat
  identity (their signed visitor token) is never joined to that contact, so an unverified
  address never links a browser to a customer's record or history.
- The ticket says so: `custom_fields.email_unverified` is true and a system note tells the
  agent the address was typed, not verified, before they act on what the message asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import SYSTEM
from madad.channels.chat import service
from madad.channels.chat.models import ChatInbox, ChatMessageLeft
from madad.contacts.identities import normalise_email
from madad.db import utcnow
from madad.dialects import lock_keys
from madad.errors import Invalid
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, Sender
from madad.tickets.models import Message

EMAIL_CHANNEL = "email"
PER_ADDRESS = 5  # messages left from one client address per hour
PER_EMAIL = 3  # messages left for one email address per hour


@dataclass(frozen=True)
class Left:
    message: ChatMessageLeft
    created: bool  # False: the same form sent again, answered with the first


def _required(value: Any, field: str, max_len: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field, "required")
    text = value.strip()
    if len(text) > max_len:
        raise Invalid(field, f"at most {max_len} characters")
    return service.storable(text, field)


def _subject(text: str) -> str:
    first = " ".join(text.split())
    return f"Message left on the website: {first[:80]}{'…' if len(first) > 80 else ''}"


async def leave_message(
    session: AsyncSession,
    inbox: ChatInbox,
    *,
    client_id: Any,
    name: Any,
    email: Any,
    text: Any,
    language: Any = None,
    client_address: str | None = None,
    at: datetime | None = None,
) -> Left:
    """Store a message left through the widget's form as a ticket answered by email (see the
    module docstring for what the typed address may and may not do)."""
    now = at or utcnow()
    client_id = service.clean_client_id(client_id)
    clean_name = _required(name, "name", 200)
    address = normalise_email(_required(email, "email", 320), "email")
    body = service.clean_text(text)
    _, _, lang = service.clean_visitor(None, None, language)
    external_id = f"chat-left:{inbox.id}:{client_id}"
    await lock_keys(session, [f"chat-left:{address}"])
    earlier = await session.scalar(
        select(ChatMessageLeft)
        .join(Message, Message.ticket_id == ChatMessageLeft.ticket_id)
        .where(Message.channel == EMAIL_CHANNEL, Message.external_id == external_id)
    )
    if earlier is not None:
        return Left(earlier, created=False)
    client_hash = service.client_digest(session, client_address)
    await service.check_rate(
        session,
        ChatMessageLeft,
        ChatMessageLeft.email == address,
        PER_EMAIL,
        now,
        "too many messages for this email address; try again later",
    )
    if client_hash is not None:
        await service.check_rate(
            session,
            ChatMessageLeft,
            ChatMessageLeft.client_hash == client_hash,
            PER_ADDRESS,
            now,
            "too many messages from this address; try again later",
        )
    row = ChatMessageLeft(inbox_id=inbox.id, email=address, client_hash=client_hash, created_at=now)
    session.add(row)
    await session.flush()
    received = await tickets.receive(
        session,
        Inbound(
            channel=EMAIL_CHANNEL,
            sender=Sender(email=address, name=clean_name, language=lang),
            subject=_subject(body),
            text=body,
            external_id=external_id,
            thread_by_contact=False,
            custom_fields={"email_unverified": True},
            meta={"source": "chat_form", "chat_inbox": inbox.key},
            received_at=now,
        ),
    )
    row.ticket_id = received.ticket_id
    await tickets.add_note(
        session,
        SYSTEM,
        received.ticket_id,
        text=(
            f"Left through the website chat ({inbox.name}) while it was closed. The email "
            f"address {address} was typed into the form and is not verified: the reply goes "
            "only to it."
        ),
        at=now,
    )
    await session.flush()
    return Left(row, created=True)
