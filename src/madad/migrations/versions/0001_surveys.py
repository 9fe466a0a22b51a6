"""Surveys: requests with their standing answers, and who took the agents' pulse.

Revision ID: 0001_surveys
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import madad.db

revision: str = "0001_surveys"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("surveys",)
depends_on: str | Sequence[str] | None = None


def when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, madad.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("ask_ces", sa.Boolean(), nullable=False),
        when("sent_at", False),
        when("expires_at", False),
        when("opened_at"),
        when("answered_at"),
        when("changed_at"),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("ces_score", sa.Float(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("follow_up_by", sa.Integer(), nullable=True),
        sa.Column("delivery_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
        sa.UniqueConstraint("ticket_id", "kind", name="uq_surveys_ticket_kind"),
    )
    op.create_index("ix_surveys_contact_kind_sent", "surveys", ["contact_id", "kind", "sent_at"])
    op.create_index("ix_surveys_answered", "surveys", ["answered_at"])
    op.create_table(
        "pulse_taken",
        sa.Column("user_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        when("taken_at", False),
        sa.PrimaryKeyConstraint("user_id", "period", name=op.f("pk_pulse_taken")),
    )

    # Surveys start with this version: the solves of the past are not news (without this, an
    # existing desk would queue a survey job for every ticket it ever solved).
    op.execute(
        sa.text(
            "INSERT INTO fact_cursors (consumer, txid, last_id, failures, updated_at) "
            "SELECT 'surveys', COALESCE(MAX(txid), 0), COALESCE(MAX(id), 0), 0, CURRENT_TIMESTAMP "
            "FROM activity"
        )
    )


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM fact_cursors WHERE consumer = 'surveys'"))
    op.drop_table("pulse_taken")
    op.drop_table("surveys")
