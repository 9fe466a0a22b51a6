"""The phone channel: call events as received, and each call's derived state.

Revision ID: 0001_phone
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import madad.db

revision: str = "0001_phone"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("phone",)
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = madad.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "phone_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("call_id", sa.String(length=200), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("caller", sa.String(length=255), nullable=False),
        sa.Column("callee", sa.String(length=255), nullable=True),
        sa.Column("queue", sa.String(length=255), nullable=True),
        sa.Column("agent", sa.String(length=320), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("recording_url", sa.Text(), nullable=True),
        sa.Column("data", JSON, nullable=False),
        sa.Column("received_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_events")),
        sa.UniqueConstraint(
            "call_id", "event", "at", name=op.f("uq_phone_events_call_id_event_at")
        ),
    )
    op.create_table(
        "phone_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.String(length=200), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("caller", sa.String(length=255), nullable=False),
        sa.Column("callee", sa.String(length=255), nullable=True),
        sa.Column("queue", sa.String(length=255), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("queued_at", TIME, nullable=True),
        sa.Column("answered_at", TIME, nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("abandoned_at", TIME, nullable=True),
        sa.Column("hold_seconds", sa.Float(), nullable=False),
        sa.Column("recording_url", sa.Text(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_calls")),
        sa.UniqueConstraint("call_id", name=op.f("uq_phone_calls_call_id")),
    )
    op.create_index("ix_phone_calls_ticket", "phone_calls", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("ix_phone_calls_ticket", table_name="phone_calls")
    op.drop_table("phone_calls")
    op.drop_table("phone_events")
