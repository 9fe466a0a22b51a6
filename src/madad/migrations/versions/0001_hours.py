"""Posted business hours: the live queues with their calendars.

Revision ID: 0001_hours
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import madad.db

revision: str = "0001_hours"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("hours",)
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = madad.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "live_queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("weekly_hours", JSON, nullable=False),
        sa.Column("holidays", JSON, nullable=False),
        sa.Column("callbacks_enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_queues")),
        sa.UniqueConstraint("key", name=op.f("uq_live_queues_key")),
        sa.UniqueConstraint("name", name=op.f("uq_live_queues_name")),
    )


def downgrade() -> None:
    op.drop_table("live_queues")
