"""Indexes for the console's inbox: live counts, the "newest" and "waiting longest" sorts.

Revision ID: 0003_inbox_indexes
Revises: 0002_web_sessions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_inbox_indexes"
down_revision: str | Sequence[str] | None = "0002_web_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSOLVED_LIVE = sa.text(
    "merged_into_id IS NULL AND status IN ('new', 'open', 'pending', 'on_hold')"
)


OPEN_LIVE = sa.text("merged_into_id IS NULL AND status IN ('new', 'open')")


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_unsolved_counts",
            ["status", "channel", "team_id", "assignee_id"],
            unique=False,
            postgresql_where=UNSOLVED_LIVE,
            sqlite_where=UNSOLVED_LIVE,
        )
        batch_op.create_index(
            "ix_tickets_status_created", ["status", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_tickets_status_waiting", ["status", "waiting_since", "id"], unique=False
        )
        batch_op.create_index(
            "ix_tickets_open_waiting",
            ["waiting_since", "id"],
            unique=False,
            postgresql_where=OPEN_LIVE,
            sqlite_where=OPEN_LIVE,
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_open_waiting")
        batch_op.drop_index("ix_tickets_status_waiting")
        batch_op.drop_index("ix_tickets_status_created")
        batch_op.drop_index("ix_tickets_unsolved_counts")
