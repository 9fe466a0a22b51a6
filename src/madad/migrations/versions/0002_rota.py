"""Staffing rotas: the agents rostered per half hour of a week, per channel.

Revision ID: 0002_rota
Revises: 0001_metrics
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import madad.db

revision: str = "0002_rota"
down_revision: str | Sequence[str] | None = "0001_metrics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staffing_rotas",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("updated_at", madad.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_staffing_rotas")),
    )


def downgrade() -> None:
    op.drop_table("staffing_rotas")
