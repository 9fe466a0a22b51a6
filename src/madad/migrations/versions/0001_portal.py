"""Customer portal: sign-in links, customers' sessions, the sharing setting per organisation,
the topics of a new request.

Revision ID: 0001_portal
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import madad.db

revision: str = "0001_portal"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("portal",)
depends_on: str | Sequence[str] | None = None

TIME = madad.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "portal_sign_in_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("address_digest", sa.String(length=64), nullable=False),
        sa.Column("client_digest", sa.String(length=64), nullable=True),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("origin", sa.String(length=300), nullable=True),
        sa.Column("next_path", sa.String(length=300), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("used_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_portal_sign_in_links_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sign_in_links")),
    )
    op.create_index(
        "ix_portal_sign_in_links_address",
        "portal_sign_in_links",
        ["address_digest", "created_at"],
    )
    op.create_index(
        "ix_portal_sign_in_links_client", "portal_sign_in_links", ["client_digest", "created_at"]
    )
    op.create_index(
        op.f("ix_portal_sign_in_links_contact_id"), "portal_sign_in_links", ["contact_id"]
    )
    op.create_table(
        "portal_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("last_seen_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("ended_at", TIME, nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_portal_sessions_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_sessions_token_hash")),
    )
    op.create_index(op.f("ix_portal_sessions_contact_id"), "portal_sessions", ["contact_id"])
    op.create_table(
        "portal_organisations",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("members_see_tickets", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", TIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_portal_organisations_organisation_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organisation_id", name=op.f("pk_portal_organisations")),
    )
    op.create_table(
        "portal_topics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=48), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("titles", madad.db.JSONType, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_topics")),
        sa.UniqueConstraint("key", name=op.f("uq_portal_topics_key")),
    )


def downgrade() -> None:
    op.drop_table("portal_topics")
    op.drop_table("portal_organisations")
    op.drop_index(op.f("ix_portal_sessions_contact_id"), table_name="portal_sessions")
    op.drop_table("portal_sessions")
    op.drop_index(op.f("ix_portal_sign_in_links_contact_id"), table_name="portal_sign_in_links")
    op.drop_index("ix_portal_sign_in_links_client", table_name="portal_sign_in_links")
    op.drop_index("ix_portal_sign_in_links_address", table_name="portal_sign_in_links")
    op.drop_table("portal_sign_in_links")
