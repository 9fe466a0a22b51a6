"""Fact consumers can be paused (while a rebuild owns their output).

Revision ID: 0004_consumer_pause
Revises: 0003_inbox_indexes
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_consumer_pause"
down_revision: str | Sequence[str] | None = "0003_inbox_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fact_cursors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("paused_by", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fact_cursors", schema=None) as batch_op:
        batch_op.drop_column("paused_by")
