"""The email channel: mailboxes and the record of every email received or sent.

Revision ID: 0001_email
Revises: 0001_core
Create Date: 2026-11-23 03:29:07.074328
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import madad.db

revision: str = "0001_email"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("email",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("verify_tls", sa.Boolean(), nullable=False),
        sa.Column("imap_host", sa.String(length=253), nullable=True),
        sa.Column("imap_port", sa.Integer(), nullable=True),
        sa.Column("imap_security", sa.String(length=16), nullable=False),
        sa.Column("imap_username", sa.String(length=320), nullable=True),
        sa.Column("imap_password", sa.Text(), nullable=True),
        sa.Column("imap_folder", sa.String(length=200), nullable=False),
        sa.Column("after_import", sa.String(length=8), nullable=False),
        sa.Column("move_to_folder", sa.String(length=200), nullable=True),
        sa.Column("poll_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("smtp_host", sa.String(length=253), nullable=True),
        sa.Column("smtp_port", sa.Integer(), nullable=True),
        sa.Column("smtp_security", sa.String(length=16), nullable=False),
        sa.Column("smtp_username", sa.String(length=320), nullable=True),
        sa.Column("smtp_password", sa.Text(), nullable=True),
        sa.Column("plus_addressing", sa.Boolean(), nullable=False),
        sa.Column("ack_enabled", sa.Boolean(), nullable=False),
        sa.Column("ack_subject", sa.String(length=500), nullable=True),
        sa.Column("ack_text", sa.Text(), nullable=True),
        sa.Column("imap_uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("imap_last_uid", sa.BigInteger(), nullable=False),
        sa.Column("imap_marked_uid", sa.BigInteger(), nullable=False),
        sa.Column("last_poll_at", madad.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_poll_status", sa.String(length=16), nullable=False),
        sa.Column("last_poll_error", sa.Text(), nullable=True),
        sa.Column("last_poll_count", sa.Integer(), nullable=False),
        sa.Column("last_success_at", madad.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("poll_owner", sa.String(length=100), nullable=True),
        sa.Column("poll_lease_until", madad.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", madad.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", madad.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_mailboxes")),
        sa.UniqueConstraint("address", name=op.f("uq_email_mailboxes_address")),
        sa.UniqueConstraint("name", name=op.f("uq_email_mailboxes_name")),
    )
    op.create_table(
        "email_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("rfc_message_id", sa.String(length=255), nullable=True),
        sa.Column("mailbox_id", sa.Integer(), nullable=True),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("peer_address", sa.String(length=320), nullable=True),
        sa.Column("subject", sa.String(length=500), nullable=True),
        sa.Column("in_reply_to", sa.String(length=255), nullable=True),
        sa.Column(
            "refs",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "recipients",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("raw_sha256", sa.String(length=64), nullable=True),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("auto", sa.String(length=32), nullable=True),
        sa.Column(
            "warnings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "info",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", madad.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["email_mailboxes.id"],
            name=op.f("fk_email_records_mailbox_id_email_mailboxes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_email_records_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_email_records_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_records")),
        sa.UniqueConstraint(
            "direction", "external_id", name=op.f("uq_email_records_direction_external_id")
        ),
    )
    with op.batch_alter_table("email_records", schema=None) as batch_op:
        batch_op.create_index("ix_email_records_kind", ["kind", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_email_records_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            "ix_email_records_peer", ["peer_address", "kind", "created_at"], unique=False
        )
        batch_op.create_index("ix_email_records_rfc_message_id", ["rfc_message_id"], unique=False)
        batch_op.create_index("ix_email_records_ticket", ["ticket_id", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("email_records", schema=None) as batch_op:
        batch_op.drop_index("ix_email_records_ticket")
        batch_op.drop_index("ix_email_records_rfc_message_id")
        batch_op.drop_index("ix_email_records_peer")
        batch_op.drop_index(batch_op.f("ix_email_records_message_id"))
        batch_op.drop_index("ix_email_records_kind")

    op.drop_table("email_records")
    op.drop_table("email_mailboxes")
