"""API shapes of the generic API channel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from madad.api_types import SafeStr, Strict
from madad.tickets.models import Priority
from madad.tickets.schemas import AttachmentIn


class ContactRef(Strict):
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    handle: str | None = Field(
        default=None, max_length=300, description='a social handle, "platform:handle"'
    )
    name: SafeStr | None = Field(default=None, max_length=200)
    language: str | None = Field(default=None, max_length=16)
    time_zone: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _one_identity(self) -> ContactRef:
        if not (self.email or self.phone or self.handle):
            raise ValueError("give the contact's email, phone or handle")
        return self


class InboundIn(Strict):
    external_id: SafeStr = Field(
        min_length=1,
        max_length=255,
        description="the message's id in the sending system: receiving it twice stores it once",
    )
    contact: ContactRef
    subject: SafeStr | None = Field(default=None, max_length=500)
    text: SafeStr = Field(default="", max_length=1_000_000)
    html: SafeStr | None = Field(default=None, max_length=2_000_000)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=20)
    conversation_id: SafeStr | None = Field(
        default=None,
        max_length=255,
        description="the conversation in the sending system; its messages share a ticket",
    )
    in_reply_to: SafeStr | None = Field(
        default=None, max_length=255, description="external_id of the message this answers"
    )
    source: str | None = Field(
        default=None, max_length=32, description="where it came from, e.g. twitter"
    )
    tags: list[SafeStr] = Field(default_factory=list, max_length=50)
    priority: Priority | None = None
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    received_at: AwareDatetime | None = Field(
        default=None, description="when it was sent (backfills); defaults to now"
    )


class InboundOut(BaseModel):
    ticket_id: int
    message_id: int
    contact_id: int
    created: bool = Field(description="false when this external message was already stored")
    new_ticket: bool
    reopened: bool
    follow_up_of: int | None = None


class DeliveryReport(Strict):
    status: str = Field(pattern="^(sent|delivered|read|failed)$")
    error: SafeStr | None = Field(default=None, max_length=2000)
    at: datetime | None = None
