"""Chat: identities a website signs — the inbox's secret nonce, and the website's user id on
the chat.

Revision ID: 0004_chat_identity
Revises: 0003_chat_help_centre
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import madad.db

revision: str = "0004_chat_identity"
down_revision: str | Sequence[str] | None = "0003_chat_help_centre"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = madad.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("chat_inboxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity_nonce", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("identity_rotated_at", TIME, nullable=True))
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_column("user_id")
    with op.batch_alter_table("chat_inboxes", schema=None) as batch_op:
        batch_op.drop_column("identity_rotated_at")
        batch_op.drop_column("identity_nonce")
