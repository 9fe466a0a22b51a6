"""Tables of the tickets domain: tickets, tags, links, messages, attachments."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, BigIntPK, utcnow


class Status(StrEnum):
    new = "new"
    open = "open"
    pending = "pending"
    on_hold = "on_hold"
    solved = "solved"
    closed = "closed"


OPEN_STATUSES = (Status.new, Status.open, Status.pending, Status.on_hold)


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


PRIORITY_RANK = {Priority.low: 0, Priority.normal: 1, Priority.high: 2, Priority.urgent: 3}


UNSOLVED_LIVE = text("merged_into_id IS NULL AND status IN ('new', 'open', 'pending', 'on_hold')")


OPEN_LIVE = text("merged_into_id IS NULL AND status IN ('new', 'open')")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The inbox views: by status (and assignee), newest activity first.
        Index(
            "ix_tickets_status_assignee_activity", "status", "assignee_id", "last_activity_at", "id"
        ),
        Index("ix_tickets_assignee_status_activity", "assignee_id", "status", "last_activity_at"),
        Index("ix_tickets_team_status_activity", "team_id", "status", "last_activity_at"),
        Index("ix_tickets_status_activity", "status", "last_activity_at", "id"),
        Index("ix_tickets_activity", "last_activity_at", "id"),
        Index("ix_tickets_contact", "contact_id", "created_at"),
        Index("ix_tickets_organisation", "organisation_id", "created_at"),
        Index("ix_tickets_conversation", "channel", "conversation_key"),
        # The console's live counts: an index-only pass over the unsolved tickets.
        Index(
            "ix_tickets_unsolved_counts",
            "status",
            "channel",
            "team_id",
            "assignee_id",
            postgresql_where=UNSOLVED_LIVE,
            sqlite_where=UNSOLVED_LIVE,
        ),
        Index("ix_tickets_status_created", "status", "created_at", "id"),
        # "Waiting longest": per status, and across the open views (new + open) at once.
        Index("ix_tickets_status_waiting", "status", "waiting_since", "id"),
        Index(
            "ix_tickets_open_waiting",
            "waiting_since",
            "id",
            postgresql_where=OPEN_LIVE,
            sqlite_where=OPEN_LIVE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=Status.new.value)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.normal.value)
    channel: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"))
    custom_fields: Mapped[dict[str, Any]] = mapped_column(default=dict)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    conversation_key: Mapped[str | None] = mapped_column(String(255))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set while the customer's latest message awaits an agent's public reply.
    waiting_since: Mapped[datetime | None]
    solved_at: Mapped[datetime | None]


class TicketTag(Base):
    __tablename__ = "ticket_tags"
    __table_args__ = (Index("ix_ticket_tags_tag", "tag", "ticket_id"),)

    ticket_id: Mapped[int] = mapped_column(
        ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class TicketLink(Base):
    __tablename__ = "ticket_links"
    __table_args__ = (UniqueConstraint("ticket_id", "other_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    # related | follow_up (ticket follows other) | merged (ticket was merged into other)
    kind: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        Index("ix_messages_ticket", "ticket_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    channel: Mapped[str] = mapped_column(String(32))
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    visibility: Mapped[str] = mapped_column(String(8))  # public | note
    author_type: Mapped[str] = mapped_column(String(8))  # contact | agent | bot | system
    author_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text, default="")
    html: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # Outbound only: queued | sent | delivered | read | failed
    delivery_status: Mapped[str | None] = mapped_column(String(16))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    inline: Mapped[bool] = mapped_column(Boolean, default=False)
    content_id: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
