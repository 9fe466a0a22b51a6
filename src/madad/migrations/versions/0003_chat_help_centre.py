"""Chat: the inbox whose widget the help centre shows.

Revision ID: 0003_chat_help_centre
Revises: 0002_chat_widget
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_chat_help_centre"
down_revision: str | Sequence[str] | None = "0002_chat_widget"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_inboxes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("help_centre", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_inboxes", schema=None) as batch_op:
        batch_op.drop_column("help_centre")
