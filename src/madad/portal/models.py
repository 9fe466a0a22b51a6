"""Tables of the customer portal: sign-in links, customers' browser sessions, the portal's
setting per organisation, and the topics a new request can be about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, utcnow


class SignInLink(Base):
    """One request for a sign-in link. Every request is kept (for a day), known address or
    not, so that the rate limits answer the same for both; only a known contact's request
    gets a link (`contact_id`) and an email. The link is `{id}.{nonce}.{signature}`: the
    nonce alone does not sign anyone in."""

    __tablename__ = "portal_sign_in_links"
    __table_args__ = (
        Index("ix_portal_sign_in_links_address", "address_digest", "created_at"),
        Index("ix_portal_sign_in_links_client", "client_digest", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32))
    # Keyed hashes: enough to count requests per address and per client, not to read them.
    address_digest: Mapped[str] = mapped_column(String(64))
    client_digest: Mapped[str | None] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str | None] = mapped_column(String(320))  # known contacts only
    language: Mapped[str] = mapped_column(String(8), default="en")
    origin: Mapped[str | None] = mapped_column(String(300))  # the site the link points at
    next_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class CustomerSession(Base):
    """A signed-in customer's browser: the cookie carries a random token, the table its hash.
    Separate from the agents' sessions: a customer's cookie opens nothing in the console."""

    __tablename__ = "portal_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320))  # the email they signed in with
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(300))


class OrganisationSharing(Base):
    """Whether an organisation's members see each other's tickets in the portal (off unless
    an admin turns it on)."""

    __tablename__ = "portal_organisations"

    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    members_see_tickets: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Topic(Base):
    """A topic customers choose for a new request; it becomes the ticket's `topic:<key>` tag."""

    __tablename__ = "portal_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(48), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    titles: Mapped[dict[str, Any]]  # {"en": "Billing", "ur": "بلنگ"}
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
