"""Callbacks: customers' requests to be called back inside a live queue's hours.

Revision ID: 0002_callbacks
Revises: 0001_hours
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import madad.db

revision: str = "0002_callbacks"
down_revision: str | Sequence[str] | None = "0001_hours"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = madad.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "live_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("window_start", TIME, nullable=False),
        sa.Column("window_end", TIME, nullable=False),
        sa.Column("due_at", TIME, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("taken_at", TIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_at", TIME, nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("requester_ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["live_queues.id"],
            name=op.f("fk_live_callbacks_queue_id_live_queues"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_callbacks")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_live_callbacks_idempotency_key")),
    )
    op.create_index("ix_live_callbacks_status_due", "live_callbacks", ["status", "due_at"])
    op.create_index("ix_live_callbacks_phone_created", "live_callbacks", ["phone", "created_at"])
    op.create_index(
        "ix_live_callbacks_ip_created", "live_callbacks", ["requester_ip", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_live_callbacks_ip_created", table_name="live_callbacks")
    op.drop_index("ix_live_callbacks_phone_created", table_name="live_callbacks")
    op.drop_index("ix_live_callbacks_status_due", table_name="live_callbacks")
    op.drop_table("live_callbacks")
