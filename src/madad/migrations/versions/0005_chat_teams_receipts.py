"""Chat: transfer to a team, read receipts both ways, agents' pictures.

Revision ID: 0005_chat_teams_receipts
Revises: 0004_chat_identity
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_chat_teams_receipts"
down_revision: str | Sequence[str] | None = "0004_chat_identity"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("team_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("visitor_read_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("agent_read_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("chat_agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("avatar_url", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_agents", schema=None) as batch_op:
        batch_op.drop_column("avatar_url")
    with op.batch_alter_table("chat_sessions", schema=None) as batch_op:
        batch_op.drop_column("agent_read_id")
        batch_op.drop_column("visitor_read_id")
        batch_op.drop_column("team_id")
