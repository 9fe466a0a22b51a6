"""Transfer to a team (the chat waits again for that team's members only, keeping its first
answer), agents' pictures or initials beside their messages, and read receipts both ways over
real sockets. Both databases."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from madad.auth import service as auth
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, actor_for
from madad.channels.chat import queue, service, transfers
from madad.channels.chat.models import ChatAgent, ChatSession
from madad.db import Database
from madad.errors import Conflict, Forbidden, Invalid
from madad.metrics.definitions import live_contacts
from madad.tickets import service as tickets
from madad.tickets.models import Message, Ticket
from tests.channels.chat.test_queue import T0, agent, live_facts, make_inbox, start
from tests.channels.chat.test_sockets import frames_until, is_type, new_inbox, visitor_hello, ws
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in
from tests.servers import serve_here


async def team_of(db: Database, name: str, *members: object) -> int:
    async with db.session() as session:
        team = await auth.create_team(session, SYSTEM, name=name)
        await auth.update_team(
            session,
            SYSTEM,
            team.id,
            member_ids=[m.user_id for m in members],  # type: ignore[attr-defined]
        )
        return team.id


async def test_a_chat_transferred_to_a_team_waits_for_its_members_only(db: Database) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha")
    bilal = await agent(db, "Bilal")  # online, but not in Billing
    chand = await agent(db, "Chand", max_chats=1)
    billing = await team_of(db, "Billing", chand)
    chat = await start(db, inbox, at=T0)
    async with db.session() as session:
        await queue.accept(session, ayesha, chat.public_id, at=T0 + timedelta(seconds=20))
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await transfers.transfer_to_team(session, bilal, chat.public_id, team_id=billing)
        with pytest.raises(Invalid, match="no such team"):
            await transfers.transfer_to_team(session, ayesha, chat.public_id, team_id=999999)
    async with db.session() as session:
        await transfers.transfer_to_team(
            session, ayesha, chat.public_id, team_id=billing, at=T0 + timedelta(seconds=60)
        )
    async with db.session() as session:
        made = await queue.offer_waiting(session, at=T0 + timedelta(seconds=61))
    assert made == [(chat.public_id, chand.user_id)]  # never Bilal, nor Ayesha
    async with db.session(write=False) as session:
        row = await session.get(ChatSession, chat.id)
        ticket = await session.get(Ticket, chat.ticket_id)
        assert row is not None and ticket is not None
        assert (row.state, row.agent_id, row.team_id) == ("queued", None, billing)
        assert (ticket.team_id, ticket.assignee_id) == (billing, None)
        assert row.queued_at == T0  # its place in the queue is kept
    # With Chand busy, nobody else is offered it.
    other = await start(db, inbox, at=T0 + timedelta(seconds=62))
    async with db.session() as session:
        await queue.accept(session, chand, other.public_id, at=T0 + timedelta(seconds=63))
    async with db.session() as session:
        await queue.offer_waiting(session, at=T0 + timedelta(seconds=200))
        row = await session.get(ChatSession, chat.id)
        assert row is not None and row.offered_to is None
    async with db.session() as session:
        await queue.end(session, chand, other.public_id)
    async with db.session() as session:
        await queue.accept(session, chand, chat.public_id, at=T0 + timedelta(seconds=300))
    kinds = [
        (f.kind, f.agent_id, f.team_id)
        for f in await live_facts(db)
        if f.ticket_id == chat.ticket_id
    ]
    assert kinds == [
        ("live.offered", None, None),
        ("live.answered", ayesha.user_id, None),
        ("live.transferred", ayesha.user_id, billing),
    ]
    transferred = next(f for f in await live_facts(db) if f.kind == "live.transferred")
    assert transferred.data["to_team"] == "Billing"
    # The metric engine sees one contact answered after 20 s.
    [contact] = [c for c in live_contacts(await live_facts(db)) if c.key[0] == chat.ticket_id]
    assert contact.wait == 20.0 and contact.agent_id == ayesha.user_id
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, chat.ticket_id)
        assert ticket is not None and ticket.assignee_id == chand.user_id


async def test_leaving_while_waiting_after_a_transfer_ends_the_chat(db: Database) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha")
    billing = await team_of(db, "Billing")
    chat = await start(db, inbox, at=T0)
    async with db.session() as session:
        await queue.accept(session, ayesha, chat.public_id, at=T0 + timedelta(seconds=5))
        await transfers.transfer_to_team(session, ayesha, chat.public_id, team_id=billing)
    async with db.session() as session:
        row = await session.get(ChatSession, chat.id)
        assert row is not None
        await service.leave(session, row, at=T0 + timedelta(seconds=90))
    async with db.session() as session:
        row = await session.get(ChatSession, chat.id)
        assert row is not None and row.state == "ended"
        with pytest.raises(Conflict):
            await transfers.transfer_to_team(session, ayesha, chat.public_id, team_id=billing)
    kinds = [f.kind for f in await live_facts(db)]
    assert kinds[-1] == "live.ended" and "live.abandoned" not in kinds


async def test_an_agents_picture_or_initials_go_with_their_messages(db: Database) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha Khan")
    bilal = await agent(db, "bilal")
    for bad in ("javascript:alert(1)", "data:image/png;base64,AA", "https://x/a b.png",
                'https://x/"onerror=1', "ftp://x/a.png", "https://" + "a" * 500):  # fmt: skip
        async with db.session() as session:
            with pytest.raises(Invalid):
                await queue.set_availability(session, ayesha, status="online", avatar_url=bad)
    async with db.session() as session:
        await queue.set_availability(
            session, ayesha, status="online", avatar_url=" https://cdn.example.com/ayesha.png "
        )
    chat = await start(db, inbox)
    async with db.session() as session:
        await queue.accept(session, ayesha, chat.public_id)
        await tickets.reply(session, ayesha, chat.ticket_id, text="Hi")
        await tickets.reply(session, bilal, chat.ticket_id, text="Me too")
    async with db.session(write=False) as session:
        lines = await service.visitor_lines(session, chat)
    events = [x.as_event() for x in lines]
    assert "avatar" not in events[0]  # the visitor's own line
    assert (events[1]["avatar"], events[1]["initials"]) == (
        "https://cdn.example.com/ayesha.png",
        "AK",
    )
    assert (events[2]["avatar"], events[2]["initials"]) == (None, "B")
    async with db.session() as session:
        await queue.set_availability(session, ayesha, status="online", avatar_url="")
        row = await session.get(ChatAgent, ayesha.user_id)
        assert row is not None and row.avatar_url is None


async def test_read_receipts_both_ways(settings) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent")
        actor = actor_for(ayesha.id, "agent", "Ayesha Agent")
        inbox = await new_inbox(base, admin)
        async with (
            connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as visitor,
            connect(
                ws(base, "/api/v1/chat/agents/stream"), additional_headers=ayesha.headers
            ) as agent_ws,
        ):
            token, _ = await visitor_hello(visitor)
            await frames_until(agent_ws, is_type("ready"))
            await visitor.send(json.dumps({"type": "start", "id": "v1", "text": "Hello"}))
            queued = (await frames_until(visitor, is_type("state", state="queued")))[-1]
            public_id = queued["session"]
            async with db.session() as session:
                chat = await queue.accept(session, actor, public_id)
                first = await tickets.reply(session, actor, chat.ticket_id, text="Hi")
                second = await tickets.reply(session, actor, chat.ticket_id, text="How can I help?")
            await frames_until(visitor, lambda f: f.get("text") == "How can I help?")
            await agent_ws.send(json.dumps({"type": "watch", "session": public_id}))
            await frames_until(agent_ws, is_type("watching"))

            # The visitor saw the first reply: it is read, the agent hears it.
            await visitor.send(json.dumps({"type": "seen", "id": first.id}))
            await frames_until(agent_ws, lambda f: f.get("kind") == "seen")
            async with db.session(write=False) as session:
                row = await session.get(ChatSession, chat.id)
                statuses = {
                    m.id: m.delivery_status
                    for m in await session.scalars(
                        select(Message).where(Message.ticket_id == chat.ticket_id)
                    )
                }
            assert row is not None and row.visitor_read_id == first.id
            assert statuses[first.id] == "read" and statuses[second.id] != "read"
            # Going back is no news; an id beyond the last reply reads only what exists.
            await visitor.send(json.dumps({"type": "seen", "id": 1}))
            await visitor.send(json.dumps({"type": "seen", "id": second.id + 1000}))
            await visitor.send(json.dumps({"type": "seen", "id": "x"}))
            error = (await frames_until(visitor, is_type("error")))[-1]
            assert error["code"] == "invalid"
            async with db.session(write=False) as session:
                row = await session.get(ChatSession, chat.id)
                assert row is not None and row.visitor_read_id == second.id

            # The agent saw the visitor's message: the visitor is told.
            hello_id = next(iter(await _inbound_ids(db, chat.ticket_id)))
            await agent_ws.send(json.dumps({"type": "seen", "session": public_id, "id": hello_id}))
            seen = (await frames_until(visitor, is_type("seen")))[-1]
            assert seen == {"type": "seen", "id": hello_id}
        # After a reload the state says so too.
        async with connect(
            ws(base, "/api/v1/chat/visitor", inbox=inbox["key"], token=token)
        ) as again:
            _, frames = await visitor_hello(again)
            assert frames[-1]["seen"] == hello_id

        # The console marks the last reply the visitor saw.
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://madad.test"
        ) as c:  # type: ignore[arg-type]
            person = await make_person(db, role=Role.agent, name="Chand", password=PASSWORD)
            me = await sign_in(c, person)
            page = await me.get(f"/chats/{public_id}/conversation")
        assert page.text.count("data-seen") == 1
        marked = page.text.split("data-seen")[0].rsplit('data-id="', 1)[1].split('"')[0]
        assert int(marked) == second.id


async def _inbound_ids(db: Database, ticket_id: int) -> list[int]:
    async with db.session(write=False) as session:
        return list(
            await session.scalars(
                select(Message.id).where(
                    Message.ticket_id == ticket_id, Message.direction == "inbound"
                )
            )
        )


async def test_the_console_transfers_to_a_team_and_saves_a_picture(
    client: httpx.AsyncClient, app
) -> None:
    db: Database = app.state.db
    ayesha = await make_person(db, role=Role.agent, name="Ayesha", password=PASSWORD)
    actor = actor_for(ayesha.id, "agent", "Ayesha")
    async with db.session() as session:
        team = await auth.create_team(session, SYSTEM, name="Billing <b>")
        inbox = await service.create_inbox(session, SYSTEM, name="Site")
    me = await sign_in(client, ayesha)
    r = await me.post(
        "/chats/availability", {"status": "online", "avatar_url": "https://cdn.example.com/a.png"}
    )
    assert r.status_code == 204
    bad = await me.post("/chats/availability", {"status": "online", "avatar_url": "javascript:x"})
    assert bad.status_code == 422
    chat = await start(db, inbox)
    async with db.session() as session:
        await queue.accept(session, actor, chat.public_id)
    page = await me.get(f"/chats?s={chat.public_id}")
    assert "Billing &lt;b&gt;" in page.text and 'value="https://cdn.example.com/a.png"' in page.text
    r = await me.post(f"/chats/{chat.public_id}/transfer-team", {"team": str(team.id)})
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/chats"
    lists = await me.get("/chats/lists")
    assert "for team Billing &lt;b&gt;" in lists.text
    again = await me.post(f"/chats/{chat.public_id}/transfer-team", {"team": str(team.id)})
    assert again.status_code == 409
    missing = await me.post(f"/chats/{chat.public_id}/transfer-team", {"team": "nope"})
    assert missing.status_code == 422
