"""Tables of the phone channel: every call event as received, and each call's derived state.

`phone_events` is the record (one row per (call, event, timestamp): the same event sent twice is
stored once); `phone_calls` is derived from it, recomputed from all of a call's events whenever
one arrives, so that the order in which a phone system delivers them does not matter.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, BigIntPK, utcnow


class PhoneEvent(Base):
    __tablename__ = "phone_events"
    __table_args__ = (UniqueConstraint("call_id", "event", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(200))
    event: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    caller: Mapped[str] = mapped_column(String(255))
    callee: Mapped[str | None] = mapped_column(String(255))
    queue: Mapped[str | None] = mapped_column(String(255))
    agent: Mapped[str | None] = mapped_column(String(320))  # as the phone system named them
    agent_id: Mapped[int | None] = mapped_column(Integer)  # the Madad user, when known
    recording_url: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class PhoneCall(Base):
    __tablename__ = "phone_calls"
    __table_args__ = (Index("ix_phone_calls_ticket", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(200), unique=True)
    ticket_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    caller: Mapped[str] = mapped_column(String(255))
    callee: Mapped[str | None] = mapped_column(String(255))
    queue: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    queued_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    agent_id: Mapped[int | None] = mapped_column(Integer)
    ended_at: Mapped[datetime | None]
    abandoned_at: Mapped[datetime | None]
    hold_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    recording_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
