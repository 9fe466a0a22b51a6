"""Chat: the address a chat was started from (a keyed hash, for the start limits) and the
messages left through the widget's form while the queue was closed.

Revision ID: 0002_chat_widget
Revises: 0001_chat
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import madad.db

revision: str = "0002_chat_widget"
down_revision: str | Sequence[str] | None = "0001_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = madad.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_chat_sessions_client", "chat_sessions", ["client_hash", "created_at"])
    op.create_table(
        "chat_messages_left",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("client_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["chat_inboxes.id"],
            name=op.f("fk_chat_messages_left_inbox_id_chat_inboxes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_messages_left")),
    )
    op.create_index(
        "ix_chat_messages_left_client", "chat_messages_left", ["client_hash", "created_at"]
    )
    op.create_index("ix_chat_messages_left_email", "chat_messages_left", ["email", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_chat_messages_left_email", table_name="chat_messages_left")
    op.drop_index("ix_chat_messages_left_client", table_name="chat_messages_left")
    op.drop_table("chat_messages_left")
    op.drop_index("ix_chat_sessions_client", table_name="chat_sessions")
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_column("client_hash")
