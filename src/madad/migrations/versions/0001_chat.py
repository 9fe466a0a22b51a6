"""Live chat: inboxes the widget names, chat sessions, agents' availability.

Revision ID: 0001_chat
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import madad.db

revision: str = "0001_chat"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("chat",)
depends_on: str | Sequence[str] | None = None

TIME = madad.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_inboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("queue", sa.String(length=100), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_inboxes")),
        sa.UniqueConstraint("key", name=op.f("uq_chat_inboxes_key")),
    )
    op.create_table(
        "chat_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.Column("visitor_id", sa.String(length=64), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("offered_to", sa.Integer(), nullable=True),
        sa.Column("offered_at", TIME, nullable=True),
        sa.Column("queued_at", TIME, nullable=False),
        sa.Column("answered_at", TIME, nullable=True),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("visitor_seen_at", TIME, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["chat_inboxes.id"],
            name=op.f("fk_chat_sessions_inbox_id_chat_inboxes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_sessions")),
        sa.UniqueConstraint("public_id", name=op.f("uq_chat_sessions_public_id")),
    )
    op.create_index(
        "ix_chat_sessions_visitor", "chat_sessions", ["inbox_id", "visitor_id", "created_at"]
    )
    op.create_index("ix_chat_sessions_state", "chat_sessions", ["state", "queued_at"])
    op.create_index("ix_chat_sessions_agent", "chat_sessions", ["agent_id", "state"])
    op.create_table(
        "chat_agents",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("max_chats", sa.Integer(), nullable=False),
        sa.Column("last_offered_at", TIME, nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_chat_agents")),
    )


def downgrade() -> None:
    op.drop_table("chat_agents")
    op.drop_index("ix_chat_sessions_agent", table_name="chat_sessions")
    op.drop_index("ix_chat_sessions_state", table_name="chat_sessions")
    op.drop_index("ix_chat_sessions_visitor", table_name="chat_sessions")
    op.drop_table("chat_sessions")
    op.drop_table("chat_inboxes")
