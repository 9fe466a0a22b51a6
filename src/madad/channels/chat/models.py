"""Tables of live chat: the inboxes a widget names, chat sessions, and agents' availability.

A chat session is the live wrapper of one ticket: the messages themselves are the ticket's
messages (the record); the session holds the queue state the `live.*` facts describe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, utcnow


class ChatInbox(Base):
    """What `/widget.js?inbox=KEY` names: a public key and the queue its chats enter."""

    __tablename__ = "chat_inboxes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(100))
    # The inbox whose widget the help centre shows (at most one).
    help_centre: Mapped[bool] = mapped_column(Boolean, default=False)
    # The answer bot offers articles for a visitor's first question before the queue.
    bot: Mapped[bool] = mapped_column(Boolean, default=False)
    # The identity secret is derived from the app's secret and this nonce (see identity.py);
    # None: the inbox verifies no identities. Rotating draws a new nonce.
    identity_nonce: Mapped[str | None] = mapped_column(String(64))
    identity_rotated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatSession(Base):
    __tablename__ = "chat_sessions"
    __table_args__ = (
        Index("ix_chat_sessions_visitor", "inbox_id", "visitor_id", "created_at"),
        Index("ix_chat_sessions_state", "state", "queued_at"),
        Index("ix_chat_sessions_agent", "agent_id", "state"),
        Index("ix_chat_sessions_client", "client_hash", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("chat_inboxes.id"))
    visitor_id: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[int] = mapped_column(Integer)
    # queued → active → ended, or queued → abandoned (the visitor left before an answer);
    # with the answer bot, bot → queued (a person) or bot → ended (an article solved it).
    state: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(200))
    # As typed (unverified) — or, with `user_id` set, the email the website signed.
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str | None] = mapped_column(String(16))
    agent_id: Mapped[int | None] = mapped_column(Integer)
    # Transferred to a team: offered only to that team's members until one accepts.
    team_id: Mapped[int | None] = mapped_column(Integer)
    offered_to: Mapped[int | None] = mapped_column(Integer)
    offered_at: Mapped[datetime | None]
    queued_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    visitor_seen_at: Mapped[datetime]
    # A keyed hash of the address the chat was started from: enough to count starts, not to
    # know who (see `service.client_digest`).
    client_hash: Mapped[str | None] = mapped_column(String(64))
    # The website's own user id, when the website signed who the visitor is (identity.py).
    user_id: Mapped[str | None] = mapped_column(String(200))
    # Read receipts: the last agent message the visitor saw, the last visitor message an agent
    # saw (message ids; messages up to them are seen).
    visitor_read_id: Mapped[int | None] = mapped_column(Integer)
    agent_read_id: Mapped[int | None] = mapped_column(Integer)
    # What the answer bot offered: {"offer": token, "articles": [{"id", "title", "path"}],
    # "outcome": null | "resolved" | "handoff"} (see answerbot.py).
    bot_offer: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatMessageLeft(Base):
    """A message left through the widget's form while the queue was closed: a ticket answered
    by email. Kept to count the form's use per address and per email (its rate limits)."""

    __tablename__ = "chat_messages_left"
    __table_args__ = (
        Index("ix_chat_messages_left_client", "client_hash", "created_at"),
        Index("ix_chat_messages_left_email", "email", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbox_id: Mapped[int] = mapped_column(ForeignKey("chat_inboxes.id"))
    ticket_id: Mapped[int | None] = mapped_column(Integer)
    email: Mapped[str] = mapped_column(String(320))  # as typed: unverified
    client_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatAgent(Base):
    """An agent's availability for chat and how many chats they take at once."""

    __tablename__ = "chat_agents"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # online | away | offline
    max_chats: Mapped[int] = mapped_column(Integer)
    # The picture visitors see beside the agent's messages (an http(s) image address); without
    # one, their initials.
    avatar_url: Mapped[str | None] = mapped_column(String(500))
    last_offered_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
