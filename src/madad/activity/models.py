"""Tables of the activity domain: facts and the read positions of fact consumers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, FetchedValue, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, BigIntPK, utcnow


class Activity(Base):
    """One fact: `(id, at, kind, ticket_id, contact_id, agent_id, team_id, channel, data)`.

    Append-only. `txid` is the writing transaction on PostgreSQL (set by the database), which
    lets consumers read facts in commit order without gaps; on SQLite writers are serialised and
    `id` order is commit order.
    """

    __tablename__ = "activity"
    __table_args__ = (
        Index("ix_activity_ticket", "ticket_id", "id"),
        Index("ix_activity_contact", "contact_id", "id"),
        Index("ix_activity_kind_at", "kind", "at"),
        Index("ix_activity_at", "at"),
        Index("ix_activity_txid", "txid", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    txid: Mapped[int | None] = mapped_column(BigInteger, server_default=FetchedValue())


class FactCursor(Base):
    """How far a named consumer has read the facts."""

    __tablename__ = "fact_cursors"

    consumer: Mapped[str] = mapped_column(String(64), primary_key=True)
    txid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(2000))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set while something else (a rollup rebuild) owns this consumer's output: it reads nothing.
    paused_by: Mapped[str | None] = mapped_column(String(200))
