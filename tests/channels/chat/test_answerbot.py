"""The answer bot in the chat: with the inbox's bot on, the first question gets the knowledge
base's confident articles as the bot's offer (never an agent's message, no reply, no live
contact); "That solved it" records the resolution and ends the chat; "Talk to a person", at any
time, puts the chat with its whole conversation in the queue. Both databases."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from madad.activity.models import Activity
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM
from madad.channels.chat import answerbot, inboxes, service
from madad.channels.chat.models import ChatSession
from madad.config import Settings
from madad.db import Database
from madad.errors import Conflict
from madad.tickets.models import Message, Ticket
from tests.channels.chat.test_queue import SECRET
from tests.channels.chat.test_sockets import frames_until, is_type, new_inbox, visitor_hello, ws
from tests.conftest import make_person
from tests.kb.conftest import write
from tests.servers import serve_here


async def kinds(db: Database, ticket_id: int) -> list[str]:
    async with db.session(write=False) as s:
        rows = await s.scalars(
            select(Activity.kind).where(Activity.ticket_id == ticket_id).order_by(Activity.id)
        )
        return [k for k in rows if k.startswith(("live.", "kb.", "message.", "note."))]


async def seed(db: Database) -> None:
    await write(db, "Reset your password", "Use the link on the sign-in page to get an email.")
    await write(db, "Track your order", "Every order ships with a tracking number.")


async def test_the_bot_answers_the_first_question_and_the_visitor_says_it_solved_it(
    settings: Settings,
) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        await seed(db)
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        async with db.session() as s:
            await inboxes.update_inbox(s, SYSTEM, inbox["id"], bot=True)
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as v:
            token, _ = await visitor_hello(v)
            await v.send(
                json.dumps({"type": "start", "id": "q", "text": "How do I reset my password?"})
            )
            offered = (await frames_until(v, lambda f: f["type"] == "state" and f.get("bot")))[-1]
            assert offered["state"] == "bot" and offered["position"] is None
            [article] = [a for a in offered["bot"]["articles"] if "password" in a["title"]]
            assert article["url"] == "/help/articles/reset-your-password"
            assert offered["bot"]["outcome"] is None
            await v.send(json.dumps({"type": "solved", "article": article["id"]}))
            ended = (await frames_until(v, is_type("state", state="ended")))[-1]
            assert ended["bot"]["outcome"] == "resolved" and ended["rating"] is None
        async with db.session(write=False) as s:
            chat = (await s.scalars(select(ChatSession))).one()
            ticket = await s.get(Ticket, chat.ticket_id)
            messages = list(
                await s.scalars(select(Message).where(Message.ticket_id == chat.ticket_id))
            )
            offer = await s.scalar(select(Activity).where(Activity.kind == "kb.bot_offered"))
        assert ticket is not None and ticket.status == "solved"
        # The bot wrote no reply: the visitor's question and a note for agents, nothing else.
        assert [(m.direction, m.visibility, m.author_type) for m in messages] == [
            ("inbound", "public", "contact"),
            ("outbound", "note", "system"),
        ]
        assert "Reset your password" in messages[1].text
        assert offer is not None and offer.data["session"] == chat.public_id
        assert offer.channel == "chat" and offer.ticket_id == chat.ticket_id
        assert await kinds(db, chat.ticket_id) == [
            "message.received",
            "kb.bot_offered",
            "note.added",
            "kb.bot_resolved",
        ]  # fmt: skip  (never a live contact: nothing was offered to the queue)

        # It did not help after all: "Talk to a person" puts the same chat in the queue.
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"], token=token)) as v:
            _, frames = await visitor_hello(v)
            assert [f["text"] for f in frames if f["type"] == "message"] == [
                "How do I reset my password?"
            ]
            await v.send(json.dumps({"type": "human"}))
            queued = (await frames_until(v, is_type("state", state="queued")))[-1]
            assert queued["position"] == 1 and queued["bot"]["outcome"] == "handoff"
        async with db.session(write=False) as s:
            ticket = await s.get(Ticket, chat.ticket_id)
            handoff = await s.scalar(select(Activity).where(Activity.kind == "kb.bot_handoff"))
        assert ticket is not None and ticket.status == "open"
        assert handoff is not None and handoff.data["reason"] == "not_solved"
        assert (await kinds(db, chat.ticket_id))[-2:] == ["kb.bot_handoff", "live.offered"]


async def test_talking_to_a_person_before_the_bot_answers_or_with_no_article(
    db: Database,
) -> None:
    await seed(db)
    async with db.session() as s:
        inbox = await service.create_inbox(s, SYSTEM, name="Shop")
        await inboxes.update_inbox(s, SYSTEM, inbox.id, bot=True)
    # Asked for a person before the bot answered: the late answer changes nothing.
    visitor, _ = service.issue_visitor_token(SECRET, inbox.key)
    async with db.session() as s:
        chat, _ = await service.start_chat(
            s, inbox, visitor, text="Where is my order tracking?", client_id="a"
        )
    assert chat.state == "bot"
    async with db.session(write=False) as s:
        found = await answerbot.suggestions(s, chat, "Where is my order tracking?")
    assert found
    async with db.session() as s:
        assert await answerbot.to_queue(s, chat) is True
    async with db.session() as s:
        assert await answerbot.first_answer(s, chat, found) is False
        assert await answerbot.to_queue(s, chat) is False  # already there
    async with db.session(write=False) as s:
        row = await s.get(ChatSession, chat.id)
        assert row is not None and (row.state, row.bot_offer) == ("queued", None)
    assert await kinds(db, chat.ticket_id) == ["message.received", "live.offered"]

    # A question the knowledge base does not answer goes straight to the queue.
    other, _ = service.issue_visitor_token(SECRET, inbox.key)
    async with db.session() as s:
        chat, _ = await service.start_chat(
            s, inbox, other, text="can i bring my dog to your office", client_id="b"
        )
    async with db.session(write=False) as s:
        found = await answerbot.suggestions(s, chat, "can i bring my dog to your office")
    async with db.session() as s:
        assert await answerbot.first_answer(s, chat, found) is False
    async with db.session(write=False) as s:
        row = await s.get(ChatSession, chat.id)
        assert row is not None and row.state == "queued"
    assert await kinds(db, chat.ticket_id) == [
        "message.received",
        "kb.bot_unanswered",  # kept for the knowledge-base report: an article to write
        "live.offered",
    ]
    async with db.session(write=False) as s:
        kept = await s.scalar(
            select(Activity).where(
                Activity.ticket_id == chat.ticket_id, Activity.kind == "kb.bot_unanswered"
            )
        )
    assert kept is not None and kept.channel == "chat"
    assert kept.data == {"question": "can i bring my dog to your office", "language": "en"}


async def test_without_the_bot_nothing_changes_and_solved_needs_an_offer(db: Database) -> None:
    async with db.session() as s:
        inbox = await service.create_inbox(s, SYSTEM, name="Shop")
    visitor, _ = service.issue_visitor_token(SECRET, inbox.key)
    async with db.session() as s:
        chat, _ = await service.start_chat(
            s, inbox, visitor, text="Reset my password", client_id="a"
        )
    assert chat.state == "queued"
    async with db.session() as s:
        with pytest.raises(Conflict, match="offered nothing"):
            await answerbot.solved(s, chat)
    async with db.session() as s:
        assert await answerbot.to_queue(s, chat) is False
