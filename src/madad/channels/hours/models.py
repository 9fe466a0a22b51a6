"""Tables of posted hours: the live queues, each with its calendar (zone, weekly hours,
holidays) stored as readable JSON and read into a `calendar.Calendar` when used."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, JSONType, utcnow


class LiveQueue(Base):
    """A live queue ("billing"): `name` is what phone events and chat call the queue, `key` the
    public handle a widget or the help centre uses in URLs.

    `weekly_hours` is {"monday": ["09:00-17:00", …], …}; `holidays` is
    [{"date": "2026-12-25", "hours": [] | ["10:00-14:00"], "name": "…"}, …]."""

    __tablename__ = "live_queues"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    weekly_hours: Mapped[dict[str, Any]]
    holidays: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    callbacks_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
