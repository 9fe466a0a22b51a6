"""The answer bot in the chat: for an inbox with the bot on, the visitor's first question is
answered first by up to three help-centre articles (`kb.bot.suggest`), shown in the widget as
the bot's — never as an agent's message, never a reply, counting in no agent metric. The
visitor says "That solved it" (`kb.bot.record_resolved`; the chat ends and its ticket is solved)
or "Talk to a person" at any time, before the bot has answered too (`kb.bot.record_handoff`
when it had offered something): the chat, with everything said so far, enters the queue and
`live.offered` is written then — a chat the bot resolved was never a live contact.

The offer is kept on the chat (`bot_offer`) for the widget and the console, and on the ticket
as a system's internal note for the agent who takes it over.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import SYSTEM
from madad.channels.chat import queue
from madad.channels.chat.models import ChatSession
from madad.db import utcnow
from madad.dialects import lock_keys
from madad.errors import Conflict, Invalid
from madad.kb import bot as kb_bot
from madad.tickets import service as tickets
from madad.tickets.changes import update_ticket
from madad.tickets.models import Message


async def _reload(session: AsyncSession, chat: ChatSession, *, lock: bool = False) -> ChatSession:
    """The chat as stored; with `lock`, held until the transaction ends (the bot's answer and
    the visitor's "Talk to a person" may race: one of them finds the other's result)."""
    if lock:
        await lock_keys(session, [f"chat-bot:{chat.id}"])
    fresh = await session.get(ChatSession, chat.id, populate_existing=True)
    assert fresh is not None
    return fresh


async def suggestions(
    session: AsyncSession, chat: ChatSession, question: str
) -> list[kb_bot.Suggestion]:
    """What the knowledge base confidently offers for the visitor's question (read only)."""
    return await kb_bot.suggest(session, question, lang=chat.language or "en")


async def first_answer(
    session: AsyncSession,
    chat: ChatSession,
    found: list[kb_bot.Suggestion],
    *,
    at: datetime | None = None,
) -> bool:
    """The bot's answer to the visitor's first question (`found`: `suggestions`): True when it
    offered articles; with none the chat goes straight to the queue (as if there were no
    bot)."""
    chat = await _reload(session, chat, lock=True)
    if chat.state != "bot" or chat.bot_offer is not None:
        return False  # the visitor asked for a person meanwhile
    if not found:
        question = await session.scalar(
            select(Message.text)
            .where(Message.ticket_id == chat.ticket_id, Message.direction == "inbound")
            .order_by(Message.id)
            .limit(1)
        )
        kb_bot.record_unanswered(
            session,
            question or "",
            channel=queue.CHANNEL,
            language=chat.language or "en",
            ticket_id=chat.ticket_id,
            contact_id=chat.contact_id,
            at=at,
        )
        await to_queue(session, chat, at=at)
        return False
    token = kb_bot.record_offered(
        session,
        found,
        channel=queue.CHANNEL,
        language=chat.language or "en",
        ticket_id=chat.ticket_id,
        contact_id=chat.contact_id,
        chat_session=chat.public_id,
    )
    chat.bot_offer = {
        "offer": token,
        "articles": [{"id": s.article_id, "title": s.title, "path": s.path} for s in found],
        "outcome": None,
    }
    await tickets.add_note(
        session,
        SYSTEM,
        chat.ticket_id,
        text="The answer bot offered: " + "; ".join(f"{s.title} ({s.path})" for s in found),
        at=at,
    )
    queue.changed(session, chat)
    return True


async def to_queue(session: AsyncSession, chat: ChatSession, *, at: datetime | None = None) -> bool:
    """ "Talk to a person": the chat with the bot (or one an article had solved) enters the
    queue, keeping the whole conversation. False when it is not the bot's any more."""
    now = at or utcnow()
    chat = await _reload(session, chat, lock=True)
    offer = chat.bot_offer or {}
    resolved = chat.state == "ended" and offer.get("outcome") == "resolved"
    if chat.state != "bot" and not resolved:
        return False
    moved = await session.execute(
        update(ChatSession)
        .where(ChatSession.id == chat.id, ChatSession.state == chat.state)
        .values(state="queued", queued_at=now, visitor_seen_at=now, ended_at=None)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        return False
    chat = await _reload(session, chat)
    if offer.get("offer") and offer.get("outcome") != "handoff":
        reason = "not_solved" if resolved else "asked"
        await kb_bot.record_handoff(session, offer=offer["offer"], reason=reason)
        chat.bot_offer = {**offer, "outcome": "handoff"}
    if resolved:
        await update_ticket(session, SYSTEM, chat.ticket_id, {"status": "open"}, at=now)
    queue.fact(session, "live.offered", chat, await queue.queue_of(session, chat), at=now)
    queue.changed(session, chat)
    return True


async def solved(
    session: AsyncSession, chat: ChatSession, *, article: Any = None, at: datetime | None = None
) -> None:
    """ "That solved it": the resolution is recorded, the chat ends and its ticket is solved."""
    now = at or utcnow()
    chat = await _reload(session, chat, lock=True)
    offer = chat.bot_offer or {}
    if chat.state != "bot" or not offer.get("offer"):
        raise Conflict("the bot has offered nothing to this chat")
    if article is not None and (not isinstance(article, int) or isinstance(article, bool)):
        raise Invalid("article", "the id of one of the offered articles")
    await kb_bot.record_resolved(session, offer=offer["offer"], article_id=article)
    moved = await session.execute(
        update(ChatSession)
        .where(ChatSession.id == chat.id, ChatSession.state == "bot")
        .values(state="ended", ended_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this chat changed meanwhile")
    chat = await _reload(session, chat)
    chat.bot_offer = {**offer, "outcome": "resolved"}
    await update_ticket(session, SYSTEM, chat.ticket_id, {"status": "solved"}, at=now)
    queue.changed(session, chat)
