"""What a channel hands to the one ingress: an `Inbound` message, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Sender:
    """Who wrote: any identities the channel knows, most trusted first."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    handle: str | None = None  # "platform:handle"
    language: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class Inbound:
    """One customer message from any channel.

    Threading, in order: `ticket_hint` (a ticket the channel identified, e.g. a token in the
    address; honoured only for the same contact), `in_reply_to` (external ids of earlier
    messages this one answers), `conversation_key` (the channel's own conversation id), and —
    when the channel has neither refs nor a conversation key and `thread_by_contact` is set —
    the contact's open ticket on the same channel. Otherwise a new ticket.
    """

    channel: str
    sender: Sender
    text: str = ""
    html: str | None = None
    subject: str | None = None
    external_id: str | None = None
    conversation_key: str | None = None
    in_reply_to: tuple[str, ...] = ()
    ticket_hint: int | None = None
    thread_by_contact: bool = True
    attachments: tuple[InboundAttachment, ...] = ()
    tags: tuple[str, ...] = ()
    priority: str | None = None
    custom_fields: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    received_at: datetime | None = None


@dataclass(frozen=True)
class Received:
    ticket_id: int
    message_id: int
    contact_id: int
    created: bool  # False: this external message was already stored; nothing changed
    new_ticket: bool = False
    reopened: bool = False
    follow_up_of: int | None = None
