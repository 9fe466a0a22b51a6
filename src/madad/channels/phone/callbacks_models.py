"""The callback table: a customer's request to be called back inside a live queue's hours,
worked by agents (take, call, log the outcome) until someone reached them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, utcnow

# open: waiting for an agent · taken: an agent is on it · not_reached: the last try failed
# (no answer, voicemail) and it may be retried · done: reached, or the number was wrong.
ACTIVE = ("open", "taken", "not_reached")
STATUSES = (*ACTIVE, "done")


class Callback(Base):
    __tablename__ = "live_callbacks"
    __table_args__ = (
        Index("ix_live_callbacks_status_due", "status", "due_at"),
        Index("ix_live_callbacks_phone_created", "phone", "created_at"),
        Index("ix_live_callbacks_ip_created", "requester_ip", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    queue_id: Mapped[int] = mapped_column(ForeignKey("live_queues.id", ondelete="CASCADE"))
    queue: Mapped[str] = mapped_column(String(100))  # the queue's name when requested
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))  # normalised
    email: Mapped[str | None] = mapped_column(String(320))
    note: Mapped[str | None] = mapped_column(Text)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    due_at: Mapped[datetime]  # call by then: the end of the customer's window
    status: Mapped[str] = mapped_column(String(16), default="open")
    agent_id: Mapped[int | None] = mapped_column(Integer)  # who took it
    taken_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # outcomes logged
    outcome: Mapped[str | None] = mapped_column(String(16))  # the last one
    outcome_at: Mapped[datetime | None]
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    requester_ip: Mapped[str | None] = mapped_column(String(64))  # a keyed hash, not the address
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
