"""Tables of the API channel: remembered responses for `Idempotency-Key` requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, utcnow


class IdempotentRequest(Base):
    __tablename__ = "idempotent_requests"
    __table_args__ = (Index("ix_idempotent_requests_created", "created_at"),)

    principal: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
