"""Chat: the answer bot per inbox, and what it offered a chat.

Revision ID: 0006_chat_bot
Revises: 0005_chat_teams_receipts
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_chat_bot"
down_revision: str | Sequence[str] | None = "0005_chat_teams_receipts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("chat_inboxes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("bot", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_offer", JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_column("bot_offer")
    with op.batch_alter_table("chat_inboxes", schema=None) as batch_op:
        batch_op.drop_column("bot")
