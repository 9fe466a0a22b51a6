"""Tables of the email channel: the mailboxes Madad reads and sends from, and one record per
email it received or sent (Message-IDs for threading, the raw original, parse warnings)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, BigIntPK, JSONType, utcnow


class Mailbox(Base):
    """A support address: how to read it (IMAP), how to send from it (SMTP), what to answer."""

    __tablename__ = "email_mailboxes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    verify_tls: Mapped[bool] = mapped_column(Boolean, default=True)

    imap_host: Mapped[str | None] = mapped_column(String(253))
    imap_port: Mapped[int | None] = mapped_column(Integer)
    imap_security: Mapped[str] = mapped_column(String(16), default="ssl")  # ssl|starttls|none
    imap_username: Mapped[str | None] = mapped_column(String(320))
    imap_password: Mapped[str | None] = mapped_column(Text)  # encrypted, see passwords.py
    imap_folder: Mapped[str] = mapped_column(String(200), default="INBOX")
    after_import: Mapped[str] = mapped_column(String(8), default="seen")  # seen|move
    move_to_folder: Mapped[str | None] = mapped_column(String(200))
    poll_interval_seconds: Mapped[int] = mapped_column(Integer, default=60)

    smtp_host: Mapped[str | None] = mapped_column(String(253))
    smtp_port: Mapped[int | None] = mapped_column(Integer)
    smtp_security: Mapped[str] = mapped_column(String(16), default="starttls")
    smtp_username: Mapped[str | None] = mapped_column(String(320))
    smtp_password: Mapped[str | None] = mapped_column(Text)  # encrypted

    plus_addressing: Mapped[bool] = mapped_column(Boolean, default=True)
    ack_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    ack_subject: Mapped[str | None] = mapped_column(String(500))
    ack_text: Mapped[str | None] = mapped_column(Text)

    # IMAP state: the folder's UIDVALIDITY, the highest UID imported and the highest marked.
    imap_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    imap_last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    imap_marked_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    # The last poll: when, how it went, what it imported; and who is polling now (a lease).
    last_poll_at: Mapped[datetime | None]
    last_poll_status: Mapped[str] = mapped_column(String(16), default="never")  # never|ok|error
    last_poll_error: Mapped[str | None] = mapped_column(Text)
    last_poll_count: Mapped[int] = mapped_column(Integer, default=0)
    last_success_at: Mapped[datetime | None]
    poll_owner: Mapped[str | None] = mapped_column(String(100))
    poll_lease_until: Mapped[datetime | None]

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class EmailRecord(Base):
    """One email Madad received or sent.

    kind, inbound: message (stored as a ticket message), bounce (a delivery report), own (our
    own outbound mail come back), quarantined (kept, but could not become a ticket message);
    outbound: reply (an agent's reply), ack (an acknowledgement auto-reply).
    `external_id` is what identifies it for idempotency (the Message-ID, or a digest when it
    has none or reuses another message's); `rfc_message_id` is the header as written.
    """

    __tablename__ = "email_records"
    __table_args__ = (
        UniqueConstraint("direction", "external_id"),
        Index("ix_email_records_rfc_message_id", "rfc_message_id"),
        Index("ix_email_records_ticket", "ticket_id", "id"),
        Index("ix_email_records_peer", "peer_address", "kind", "created_at"),
        Index("ix_email_records_kind", "kind", "id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    kind: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(255))
    rfc_message_id: Mapped[str | None] = mapped_column(String(255))
    mailbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("email_mailboxes.id", ondelete="SET NULL")
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    source: Mapped[str] = mapped_column(String(16))  # imap|smtp|api|file|smtp-out
    # The customer's side: the sender of an inbound email, the recipient of an outbound one.
    peer_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(500))
    in_reply_to: Mapped[str | None] = mapped_column(String(255))
    refs: Mapped[list[str]] = mapped_column(JSONType, default=list)
    recipients: Mapped[list[str]] = mapped_column(JSONType, default=list)
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    auto: Mapped[str | None] = mapped_column(String(32))  # why it is automatic mail, if it is
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
