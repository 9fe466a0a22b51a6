"""Chat sessions from the visitor's side: signed visitor tokens, inboxes, starting a chat,
the visitor's messages and the history the widget shows. The queue lives in `queue.py`.

A visitor is known only by a signed visitor token (HMAC-SHA256 with the app's secret over the
inbox key and a random visitor id); a token whose signature does not match is worth nothing.
The visitor's messages go through the one ingress (`tickets.service.receive`, channel `chat`,
idempotent by the client's message id); agents answer through `tickets.service.reply`, and the
widget hears both as the ticket's own facts (`ticket:{id}`) and reads them from the database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.activity import service as facts
from madad.auth.permissions import SYSTEM
from madad.channels.chat import files as chat_files
from madad.channels.chat import queue
from madad.channels.chat.identity import Identity, issue_visitor_token, visitor_of
from madad.channels.chat.inboxes import create_inbox, get_inbox, list_inboxes
from madad.channels.chat.lines import ChatLine, agent_saw, visitor_lines, visitor_saw
from madad.channels.chat.models import ChatInbox, ChatSession
from madad.channels.chat.queue import CHANNEL, OPEN_STATES
from madad.contacts.identities import normalise_email
from madad.db import settings_of, utcnow
from madad.dialects import lock_keys
from madad.errors import Conflict, Invalid, TooLarge, TooManyRequests
from madad.files import FileStore
from madad.kb.models import Article, Version
from madad.tickets import service as tickets
from madad.tickets.changes import update_ticket
from madad.tickets.delivery import register_deliverer
from madad.tickets.inbound import Inbound, Received, Sender
from madad.tickets.models import Message

__all__ = [
    "CHANNEL",
    "OPEN_STATES",
    "ChatLine",
    "agent_saw",
    "create_inbox",
    "get_inbox",
    "issue_visitor_token",
    "list_inboxes",
    "visitor_lines",
    "visitor_of",
    "visitor_saw",
]

MAX_TEXT = 4000  # characters in one chat message
MAX_CLIENT_ID = 64
LIMIT_WINDOW = timedelta(hours=1)  # chat starts are counted over the last hour
HELP_VISITOR = re.compile(r"[A-Za-z0-9-]{8,64}")  # the help centre's visitor id (help.js)


# --- limits ------------------------------------------------------------------------------------


def client_digest(session: AsyncSession, address: str | None) -> str | None:
    """A keyed hash of a client's address: enough to count what it started, not to know who."""
    if not address:
        return None
    key = settings_of(session).resolved_secret_key().encode()
    return hmac.new(key, f"chat-client\x00{address}".encode(), hashlib.sha256).hexdigest()


async def check_rate(
    session: AsyncSession,
    model: Any,
    where: Any,
    allowed: int,
    now: datetime,
    detail: str,
) -> None:
    """TooManyRequests once `allowed` rows of `model` matching `where` were created in the
    last LIMIT_WINDOW (counted from the stored rows, so across every process); `retry_after`
    is when the oldest of them stops counting. `allowed` 0 means no limit."""
    if allowed <= 0:
        return
    since = now - LIMIT_WINDOW
    count, oldest = (
        await session.execute(
            select(func.count(model.id), func.min(model.created_at)).where(
                where, model.created_at >= since
            )
        )
    ).one()
    if (count or 0) >= allowed:
        wait = (oldest + LIMIT_WINDOW - now).total_seconds() if oldest else LIMIT_WINDOW.seconds
        raise TooManyRequests(detail, retry_after=int(wait) + 1)


async def check_start_limits(
    session: AsyncSession, visitor_id: str, client_hash: str | None, now: datetime
) -> None:
    """A visitor token, and a client address, start at most so many chats an hour."""
    settings = settings_of(session)
    await check_rate(
        session,
        ChatSession,
        ChatSession.visitor_id == visitor_id,
        settings.chat_starts_per_visitor,
        now,
        "too many new chats from this visitor; try again later",
    )
    if client_hash is not None:
        await check_rate(
            session,
            ChatSession,
            ChatSession.client_hash == client_hash,
            settings.chat_starts_per_address,
            now,
            "too many new chats from this address; try again later",
        )


# --- validation --------------------------------------------------------------------------------


def storable(value: str, field: str) -> str:
    if "\x00" in value:
        raise Invalid(field, "must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(field, "must be valid Unicode") from None
    return value


def clean_text(value: Any) -> str:
    if not isinstance(value, str):
        raise Invalid("text", "a message is text")
    if len(value) > MAX_TEXT:
        raise TooLarge(
            f"a chat message is at most {MAX_TEXT} characters; this one has {len(value)}"
        )
    storable(value, "text")
    if not value.strip():
        raise Invalid("text", "write a message first")
    return value


def clean_client_id(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_CLIENT_ID:
        raise Invalid("id", f"each message carries its own id of 1-{MAX_CLIENT_ID} characters")
    if not value.isascii() or not value.isprintable():
        raise Invalid("id", "a message id is printable ASCII")
    return value


def clean_visitor(name: Any, email: Any, language: Any) -> tuple[str | None, str | None, str]:
    """The pre-chat form: name and email are optional; the email is kept as typed (unverified)."""
    if name is not None and not isinstance(name, str):
        raise Invalid("name", "a name is text")
    if email is not None and not isinstance(email, str):
        raise Invalid("email", "an email address is text")
    clean_name = (name or "").strip() or None
    if clean_name is not None:
        if len(clean_name) > 200:
            raise Invalid("name", "at most 200 characters")
        storable(clean_name, "name")
    clean_email = (email or "").strip() or None
    if clean_email is not None:
        if len(clean_email) > 320:
            raise Invalid("email", "at most 320 characters")
        clean_email = normalise_email(storable(clean_email, "email"), "email")
    lang = language if isinstance(language, str) else ""
    lang = "ur" if lang.lower().startswith("ur") else "en"
    return clean_name, clean_email, lang


# --- the visitor's side ------------------------------------------------------------------------


async def current_chat(
    session: AsyncSession, inbox: ChatInbox, visitor_id: str
) -> ChatSession | None:
    """The visitor's latest chat in this inbox (open or not: its history stays visible)."""
    return await session.scalar(
        select(ChatSession)
        .where(ChatSession.inbox_id == inbox.id, ChatSession.visitor_id == visitor_id)
        .order_by(ChatSession.created_at.desc(), ChatSession.id.desc())
        .limit(1)
    )


def _inbound(
    chat_public_id: str,
    visitor_id: str,
    *,
    text: str,
    client_id: str,
    name: str | None,
    language: str | None,
    at: datetime,
    verified_email: str | None = None,
) -> Inbound:
    return Inbound(
        channel=CHANNEL,
        # An anonymous visitor's contact is the visitor token's identity only: a typed email
        # is an unsigned claim and never joins the chat to an existing customer's record. An
        # email the website signed (see identity.py) comes first: that customer's contact.
        sender=Sender(
            email=verified_email, handle=f"chat:{visitor_id}", name=name, language=language
        ),
        text=text,
        external_id=f"chat:{visitor_id}:{client_id}",
        conversation_key=f"chat:{chat_public_id}",
        thread_by_contact=False,
        meta={"chat_session": chat_public_id},
        received_at=at,
    )


async def start_chat(
    session: AsyncSession,
    inbox: ChatInbox,
    visitor_id: str,
    *,
    text: Any,
    client_id: Any,
    name: Any = None,
    email: Any = None,
    language: Any = None,
    client_address: str | None = None,
    article: Any = None,
    help_visitor: Any = None,
    identity: Identity | None = None,
    at: datetime | None = None,
) -> tuple[ChatSession, Received]:
    """The pre-chat form and the first message: a ticket, a session in the inbox's queue, and
    `live.offered`. A visitor with a chat still open just continues it (a repeated start —
    a reload mid-request — is the same message, stored once). New chats are limited per
    visitor and per client address (`check_start_limits`). Started from a help-centre article
    (`article`: its id), the ticket names it (`custom_fields.kb_article_id`) and the fact
    `kb.contact_started` records it, with the help centre's visitor id when given.

    With an `identity` the website signed, the chat is that user's: the contact is the one of
    their email (the typed name and email are not used)."""
    text = clean_text(text)
    client_id = clean_client_id(client_id)
    name, email, language = clean_visitor(name, email, language)
    if identity is not None:
        name, email = identity.name or name, identity.email
    await lock_keys(session, [f"chat-visitor:{visitor_id}"])
    chat = await current_chat(session, inbox, visitor_id)
    if chat is not None and chat.state in OPEN_STATES:
        return chat, await post_message(session, chat, text=text, client_id=client_id)
    now = at or utcnow()
    client_hash = client_digest(session, client_address)
    repeat = await session.scalar(
        select(Message.id).where(
            Message.channel == CHANNEL,
            Message.external_id == f"chat:{visitor_id}:{client_id}",
        )
    )
    if repeat is None:  # a repeated start is answered below, never refused
        await check_start_limits(session, visitor_id, client_hash, now)
    public_id = secrets.token_hex(12)
    received = await tickets.receive(
        session,
        _inbound(
            public_id,
            visitor_id,
            text=text,
            client_id=client_id,
            name=name,
            language=language,
            at=now,
            verified_email=identity.email if identity else None,
        ),
    )
    if not received.created:  # the start was sent before: that chat is the visitor's
        existing = await session.scalar(
            select(ChatSession).where(ChatSession.ticket_id == received.ticket_id)
        )
        if existing is not None:
            return existing, received
    article_id = await public_article_id(session, article)
    custom: dict[str, Any] = {}
    if email and identity is None:
        custom["chat_email"] = email
    if article_id is not None:
        custom["kb_article_id"] = article_id
    if custom:
        await update_ticket(session, SYSTEM, received.ticket_id, {"custom_fields": custom}, at=now)
    chat = ChatSession(
        public_id=public_id,
        inbox_id=inbox.id,
        visitor_id=visitor_id,
        ticket_id=received.ticket_id,
        contact_id=received.contact_id,
        # With the answer bot the chat waits for its suggestions first (answerbot.py).
        state="bot" if inbox.bot else "queued",
        name=name,
        email=email,
        language=language,
        queued_at=now,
        visitor_seen_at=now,
        client_hash=client_hash,
        user_id=identity.user_id if identity else None,
        created_at=now,
    )
    session.add(chat)
    await session.flush()
    if chat.state == "queued":  # with the bot, it is offered when the visitor asks for a person
        queue.fact(session, "live.offered", chat, inbox.queue, at=now)
    if article_id is not None:
        facts.record(
            session,
            "kb.contact_started",
            ticket_id=chat.ticket_id,
            contact_id=chat.contact_id,
            channel=CHANNEL,
            data={
                "article_id": article_id,
                "language": language,
                "channel": CHANNEL,
                "visitor": help_visitor
                if isinstance(help_visitor, str) and HELP_VISITOR.fullmatch(help_visitor)
                else None,
                "session": public_id,
            },
            at=now,
        )
    queue.changed(session, chat)
    return chat, received


async def public_article_id(session: AsyncSession, value: Any) -> int | None:
    """The help-centre article a chat was started from, if it is published and public (any
    other value is ignored: it never stops the visitor from chatting)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value < 2**31:
        return None
    return await session.scalar(
        select(Article.id)
        .join(Version, Version.article_id == Article.id)
        .where(Article.id == value, Article.internal.is_(False), Version.status == "published")
        .limit(1)
    )


def message_inbound(
    chat: ChatSession, *, text: Any, client_id: Any, at: datetime | None = None
) -> Inbound:
    """A visitor's message in an open chat, checked, as the ingress takes it."""
    text = clean_text(text)
    client_id = clean_client_id(client_id)
    if chat.state not in OPEN_STATES:
        raise Conflict("this chat has ended; start a new one")
    return _inbound(
        chat.public_id,
        chat.visitor_id,
        text=text,
        client_id=client_id,
        name=chat.name,
        language=chat.language,
        at=at or utcnow(),
        verified_email=chat.email if chat.user_id is not None else None,
    )


async def post_file(
    session: AsyncSession,
    chat: ChatSession,
    *,
    client_id: Any,
    filename: str | None,
    data: bytes,
    store: FileStore | None = None,
    at: datetime | None = None,
) -> Received:
    """A file the visitor sends in an open chat (a message with the attachment), stored once
    per client message id."""
    client_id = clean_client_id(client_id)
    if chat.state not in OPEN_STATES:
        raise Conflict("this chat has ended; start a new one")
    attachment = chat_files.check_file(session, filename, data)
    inbound = _inbound(
        chat.public_id,
        chat.visitor_id,
        text="",
        client_id=client_id,
        name=chat.name,
        language=chat.language,
        at=at or utcnow(),
        verified_email=chat.email if chat.user_id is not None else None,
    )
    return await tickets.receive(
        session, dataclasses.replace(inbound, attachments=(attachment,)), store=store
    )


async def post_message(
    session: AsyncSession,
    chat: ChatSession,
    *,
    text: Any,
    client_id: Any,
    at: datetime | None = None,
) -> Received:
    """A visitor's message in an open chat, stored once per client message id."""
    return await tickets.receive(
        session, message_inbound(chat, text=text, client_id=client_id, at=at)
    )


async def visitor_seen(
    session: AsyncSession, chat_ids: Sequence[int], at: datetime | None = None
) -> None:
    """Waiting visitors are still there (their widgets are connected): one statement for all
    of a process's."""
    if not chat_ids:
        return
    await session.execute(
        update(ChatSession)
        .where(ChatSession.id.in_(list(chat_ids)), ChatSession.state.in_(("queued", "bot")))
        .values(visitor_seen_at=at or utcnow())
    )


async def leave(session: AsyncSession, chat: ChatSession, *, at: datetime | None = None) -> None:
    """The visitor ends the chat: unanswered, that is an abandoned contact."""
    await queue.close(session, chat, by=None, at=at or utcnow())


# --- delivery ----------------------------------------------------------------------------------

DELIVER_JOB = "chat.deliver"
register_deliverer(CHANNEL, DELIVER_JOB)


@jobs.handler(DELIVER_JOB)
async def deliver(ctx: jobs.JobContext) -> None:
    """An agent's reply reached the visitor's widget through the bus the moment it committed
    (the ticket's `message.sent` fact); this marks it sent so that the console can say so.
    A visitor who was away reads it from the database when the widget reconnects."""
    message = await ctx.session.get(Message, ctx.payload["message_id"])
    if message is not None and message.delivery_status == "queued":
        await tickets.set_delivery_status(ctx.session, SYSTEM, message.id, status="sent")


def settings_secret(session: AsyncSession) -> str:
    return settings_of(session).resolved_secret_key()
