"""Metric rollups: daily sums, duration histograms and one measured row per ticket.

Revision ID: 0001_metrics
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import madad.db

revision: str = "0001_metrics"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("metrics",)
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
DIMENSIONS = ("day", "channel", "team_id", "agent_id", "metric")


def _dimensions() -> list[sa.Column]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "metric_daily",
        *_dimensions(),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(*DIMENSIONS, name=op.f("pk_metric_daily")),
    )
    op.create_index("ix_metric_daily_metric_day", "metric_daily", ["metric", "day"])
    op.create_table(
        "metric_hist",
        *_dimensions(),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*DIMENSIONS, "bucket", name=op.f("pk_metric_hist")),
    )
    op.create_index("ix_metric_hist_metric_day", "metric_hist", ["metric", "day"])
    op.create_table(
        "metric_daily_total",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", "metric", name=op.f("pk_metric_daily_total")),
    )
    op.create_index("ix_metric_daily_total_metric_day", "metric_daily_total", ["metric", "day"])
    op.create_table(
        "metric_hist_total",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "metric", "bucket", name=op.f("pk_metric_hist_total")),
    )
    op.create_index("ix_metric_hist_total_metric_day", "metric_hist_total", ["metric", "day"])
    op.create_table(
        "metric_tickets",
        sa.Column("ticket_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=True),
        sa.Column("created_at", madad.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_response_s", sa.Float(), nullable=True),
        sa.Column("first_resolved_at", madad.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", madad.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution_s", sa.Float(), nullable=True),
        sa.Column("reopens", sa.Integer(), nullable=False),
        sa.Column("replies", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("fcr", sa.Boolean(), nullable=True),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        sa.Column("csat", sa.Float(), nullable=True),
        sa.Column("tags", JSON, nullable=False),
        sa.Column("contributed", JSON, nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name=op.f("pk_metric_tickets")),
    )
    op.create_index("ix_metric_tickets_contact", "metric_tickets", ["contact_id"])
    op.create_index(
        "ix_metric_tickets_resolved",
        "metric_tickets",
        ["resolved_at", "contact_id"],
        postgresql_include=["agent_id", "team_id", "channel"],
    )
    op.create_index("ix_metric_tickets_created", "metric_tickets", ["created_at"])


def downgrade() -> None:
    op.drop_table("metric_tickets")
    op.drop_table("metric_hist_total")
    op.drop_table("metric_daily_total")
    op.drop_table("metric_hist")
    op.drop_table("metric_daily")
