"""Survey requests (one row per question sent, with its standing answer) and who has taken the
agents' pulse (kept apart from the answers, which are anonymous)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, utcnow


class Survey(Base):
    """A survey sent to a customer: CSAT (with an optional CES question) after a ticket, or NPS
    to a contact. The link carries `id`, `nonce` and a signature; see tokens.py."""

    __tablename__ = "surveys"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", name="uq_surveys_ticket_kind"),
        Index("ix_surveys_contact_kind_sent", "contact_id", "kind", "sent_at"),
        Index("ix_surveys_answered", "answered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # csat | nps
    nonce: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16), default="link")  # email | link
    language: Mapped[str] = mapped_column(String(8), default="en")
    ask_ces: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]  # first answer; changes allowed for a window after it
    changed_at: Mapped[datetime | None]
    score: Mapped[float | None] = mapped_column(Float)
    ces_score: Mapped[float | None] = mapped_column(Float)
    comment: Mapped[str | None] = mapped_column(Text)
    follow_up_by: Mapped[int | None] = mapped_column(Integer)  # supervisor who took a low score
    delivery_error: Mapped[str | None] = mapped_column(String(500))


class PulseTaken(Base):
    """That an agent answered the pulse of a period — not what they answered."""

    __tablename__ = "pulse_taken"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    period: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO week, 2026-W48
    taken_at: Mapped[datetime] = mapped_column(default=utcnow)
