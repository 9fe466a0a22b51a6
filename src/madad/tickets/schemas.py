"""API shapes of the tickets domain."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from madad.api_types import SafeStr, Strict
from madad.errors import Invalid
from madad.tickets.inbound import InboundAttachment
from madad.tickets.models import Attachment, Message, Priority, Status, TicketLink
from madad.tickets.queries import ContactSummary, MessageView, TicketView


class AttachmentIn(Strict):
    filename: SafeStr = Field(min_length=1, max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=200)
    data: str = Field(description="the file's bytes, base64-encoded")

    def decoded(self, index: int) -> InboundAttachment:
        try:
            raw = base64.b64decode(self.data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid(f"attachments[{index}].data", "not valid base64") from exc
        return InboundAttachment(filename=self.filename, content_type=self.content_type, data=raw)


def decode_attachments(items: list[AttachmentIn]) -> list[InboundAttachment]:
    return [a.decoded(i) for i, a in enumerate(items)]


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    inline: bool
    url: str

    @classmethod
    def of(cls, a: Attachment) -> AttachmentOut:
        return cls(
            id=a.id,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            inline=a.inline,
            url=f"/api/v1/attachments/{a.id}",
        )


class MessageOut(BaseModel):
    id: int
    ticket_id: int
    channel: str
    direction: str
    visibility: str
    author_type: str
    author_user_id: int | None
    author_contact_id: int | None
    text: str
    html: str | None
    external_id: str | None
    delivery_status: str | None
    delivery_error: str | None
    created_at: datetime
    attachments: list[AttachmentOut] = []

    @classmethod
    def of(cls, m: Message, attachments: list[Attachment] | None = None) -> MessageOut:
        return cls(
            id=m.id,
            ticket_id=m.ticket_id,
            channel=m.channel,
            direction=m.direction,
            visibility=m.visibility,
            author_type=m.author_type,
            author_user_id=m.author_user_id,
            author_contact_id=m.author_contact_id,
            text=m.text,
            html=m.html,
            external_id=m.external_id,
            delivery_status=m.delivery_status,
            delivery_error=m.delivery_error,
            created_at=m.created_at,
            attachments=[AttachmentOut.of(a) for a in attachments or []],
        )

    @classmethod
    def of_view(cls, v: MessageView) -> MessageOut:
        return cls.of(v.message, v.attachments)


class ContactSummaryOut(BaseModel):
    id: int
    name: str | None
    email: str | None
    phone: str | None
    handle: str | None

    @classmethod
    def of(cls, c: ContactSummary) -> ContactSummaryOut:
        return cls(id=c.id, name=c.name, email=c.email, phone=c.phone, handle=c.handle)


class LinkOut(BaseModel):
    ticket_id: int
    other_id: int
    kind: str

    @classmethod
    def of(cls, link: TicketLink) -> LinkOut:
        return cls(ticket_id=link.ticket_id, other_id=link.other_id, kind=link.kind)


class TicketOut(BaseModel):
    id: int
    subject: str
    status: Status
    priority: Priority
    channel: str
    contact_id: int
    organisation_id: int | None
    assignee_id: int | None
    team_id: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    escalation_level: int
    merged_into_id: int | None
    reopen_count: int
    created_at: datetime
    updated_at: datetime
    last_activity_at: datetime
    waiting_since: datetime | None
    solved_at: datetime | None
    contact: ContactSummaryOut | None = None
    links: list[LinkOut] = []

    @classmethod
    def of(cls, v: TicketView) -> TicketOut:
        t = v.ticket
        return cls(
            id=t.id,
            subject=t.subject,
            status=Status(t.status),
            priority=Priority(t.priority),
            channel=t.channel,
            contact_id=t.contact_id,
            organisation_id=t.organisation_id,
            assignee_id=t.assignee_id,
            team_id=t.team_id,
            tags=v.tags,
            custom_fields=t.custom_fields or {},
            escalation_level=t.escalation_level,
            merged_into_id=t.merged_into_id,
            reopen_count=t.reopen_count,
            created_at=t.created_at,
            updated_at=t.updated_at,
            last_activity_at=t.last_activity_at,
            waiting_since=t.waiting_since,
            solved_at=t.solved_at,
            contact=ContactSummaryOut.of(v.contact) if v.contact else None,
            links=[LinkOut.of(link) for link in v.links],
        )


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None = None


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None = None


class TicketPatch(Strict):
    subject: SafeStr | None = Field(default=None, max_length=500)
    status: Status | None = None
    priority: Priority | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    tags: list[SafeStr] | None = Field(default=None, max_length=50)
    add_tags: list[SafeStr] | None = Field(default=None, max_length=50)
    remove_tags: list[SafeStr] | None = Field(default=None, max_length=50)
    custom_fields: dict[str, Any] | None = None
    escalation_level: int | None = Field(default=None, ge=0, le=3)
    escalation_reason: SafeStr | None = Field(default=None, max_length=2000)


class ReplyIn(Strict):
    text: SafeStr = Field(default="", max_length=1_000_000)
    html: SafeStr | None = Field(default=None, max_length=2_000_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    status: Status | None = Field(
        default=None, description="set the ticket's status with the reply"
    )


class NoteIn(Strict):
    text: SafeStr = Field(default="", max_length=1_000_000)
    html: SafeStr | None = Field(default=None, max_length=2_000_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class MergeIn(Strict):
    into: int = Field(description="the ticket that absorbs this one")


class LinkIn(Strict):
    other_id: int


class CountOut(BaseModel):
    count: int
