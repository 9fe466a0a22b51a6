"""The rating in the widget when a chat ends: the chat ticket's one CSAT survey through the
surveys service (one per ticket, the quiet period per contact), its facts the surveys' own,
answered over the visitor's socket; an unanswered chat asks nothing. Both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from madad.activity.models import Activity
from madad.auth.models import Role
from madad.auth.permissions import actor_for
from madad.channels.chat import queue, rating, service
from madad.channels.chat.models import ChatSession
from madad.config import Settings
from madad.db import Database, utcnow
from madad.errors import Conflict, Invalid
from madad.surveys import service as surveys
from madad.surveys.models import Survey
from madad.tickets import service as tickets
from tests.channels.chat.test_queue import SECRET, agent, make_inbox, start
from tests.channels.chat.test_sockets import frames_until, is_type, new_inbox, visitor_hello, ws
from tests.conftest import make_person
from tests.servers import serve_here


async def survey_facts(db: Database) -> list[tuple[str, dict]]:
    async with db.session(write=False) as s:
        rows = await s.scalars(
            select(Activity).where(Activity.kind.startswith("survey.")).order_by(Activity.id)
        )
        return [(f.kind, f.data) for f in rows]


async def test_an_ended_chat_asks_for_its_rating_once_and_the_answer_is_the_tickets_csat(
    db: Database,
) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha")
    chat = await start(db, inbox)
    async with db.session() as session:
        await queue.accept(session, ayesha, chat.public_id)
        await queue.end(session, ayesha, chat.public_id)
    async with db.session(write=False) as session:
        survey = (await session.scalars(select(Survey))).one()
        row = await session.get(ChatSession, chat.id)
        assert row is not None
        shown = await rating.rating_of(session, row)
    assert (survey.kind, survey.via, survey.ticket_id, survey.agent_id, survey.channel) == (
        "csat", "chat", chat.ticket_id, ayesha.user_id, "chat",
    )  # fmt: skip
    assert survey.ask_ces is False
    assert shown == rating.Rating(score=None, comment=None, can_answer=True)
    async with db.session() as session:
        row = await session.get(ChatSession, chat.id)
        assert row is not None
        for bad in (0, 6, "five", None, 4.5):
            with pytest.raises(Invalid):
                await rating.rate(session, row, score=bad, comment=None)
    async with db.session() as session:
        row = await session.get(ChatSession, chat.id)
        assert row is not None
        answered = await rating.rate(session, row, score=5, comment="  Quick and kind <3  ")
    assert answered == rating.Rating(score=5, comment="Quick and kind <3", can_answer=True)
    assert await survey_facts(db) == [
        ("survey.sent", {"survey_id": str(survey.id), "kind": "csat", "via": "chat"}),
        ("survey.opened", {"survey_id": str(survey.id), "kind": "csat"}),
        ("survey.answered", {"survey_id": str(survey.id), "kind": "csat", "score": 5.0,
                             "comment": "Quick and kind <3"}),
    ]  # fmt: skip
    # Solving the ticket later asks nothing more: one survey per ticket.
    async with db.session() as session:
        await tickets.reply(session, ayesha, chat.ticket_id, text="Closing", status="solved")
    async with db.session() as session:
        assert await surveys.open_csat(session, chat.ticket_id) is None
        assert len(list(await session.scalars(select(Survey)))) == 1


async def test_nothing_to_rate_without_an_answer_or_within_the_quiet_period(
    db: Database,
) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha")
    unanswered = await start(db, inbox)
    async with db.session() as session:
        await queue.end(session, ayesha, unanswered.public_id)  # abandoned: nobody answered
    # The same visitor (one contact) chats twice: the second chat is within the quiet period.
    visitor, _ = service.issue_visitor_token(SECRET, inbox.key)
    chats = []
    for n in range(2):
        async with db.session() as session:
            chat, _ = await service.start_chat(session, inbox, visitor, text="hi", client_id=f"{n}")
        async with db.session() as session:
            await queue.accept(session, ayesha, chat.public_id)
            await queue.end(session, ayesha, chat.public_id)
        chats.append(chat)
    async with db.session(write=False) as session:
        asked = [s.ticket_id for s in await session.scalars(select(Survey))]
        second = await session.get(ChatSession, chats[1].id)
        assert second is not None and await rating.rating_of(session, second) is None
    assert asked == [chats[0].ticket_id]
    async with db.session() as session:
        second = await session.get(ChatSession, chats[1].id)
        assert second is not None
        with pytest.raises(Exception, match="no rating"):
            await rating.rate(session, second, score=4, comment=None)
    # A chat that is still open cannot be rated yet; an answer is changed only for a while.
    open_chat = await start(db, inbox, "still here")
    async with db.session() as session:
        with pytest.raises(Conflict):
            await rating.rate(session, open_chat, score=4, comment=None)
    async with db.session() as session:
        first = await session.get(ChatSession, chats[0].id)
        assert first is not None
        await rating.rate(session, first, score=2, comment=None)
        survey = await surveys.ticket_csat(session, first.ticket_id)
        assert survey is not None
        survey.answered_at = utcnow() - timedelta(days=30)
    async with db.session() as session:
        first = await session.get(ChatSession, chats[0].id)
        assert first is not None
        with pytest.raises(Conflict, match="no longer"):
            await rating.rate(session, first, score=5, comment=None)


async def test_the_visitor_rates_over_the_socket_when_the_visitor_ends_the_chat(
    settings: Settings,
) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        ayesha = await make_person(db, role=Role.agent, name="Ayesha")
        inbox = await new_inbox(base, admin)
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as v:
            await visitor_hello(v)
            await v.send(json.dumps({"type": "start", "id": "a", "text": "hello"}))
            queued = (await frames_until(v, is_type("state", state="queued")))[-1]
            assert queued["rating"] is None
            async with db.session() as session:
                await queue.accept(
                    session, actor_for(ayesha.id, "agent", "Ayesha"), queued["session"]
                )
            await frames_until(v, is_type("state", state="active"))
            await v.send(json.dumps({"type": "leave"}))
            ended = (await frames_until(v, is_type("state", state="ended")))[-1]
            assert ended["rating"] == {"score": None, "comment": None, "can_answer": True}
            await v.send(json.dumps({"type": "rating_shown"}))
            await v.send(json.dumps({"type": "rate", "score": 9}))
            assert (await frames_until(v, is_type("error")))[-1]["code"] == "invalid"
            await v.send(json.dumps({"type": "rate", "score": 4, "comment": "<b>ok</b>"}))
            rated = (await frames_until(v, lambda f: f.get("rating", {}) and f["rating"]["score"]))[
                -1
            ]
            assert rated["rating"] == {"score": 4, "comment": "<b>ok</b>", "can_answer": True}
        kinds = [k for k, _ in await survey_facts(db)]
        assert kinds == ["survey.sent", "survey.opened", "survey.answered"]
