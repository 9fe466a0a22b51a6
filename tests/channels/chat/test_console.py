"""The console's chats page: waiting chats listed, availability, accept, reply, transfer, end —
and whatever a visitor typed shown back escaped, never a 500."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from markupsafe import escape
from sqlalchemy import select

from madad.auth.models import Role
from madad.auth.permissions import SYSTEM
from madad.channels.chat import service
from madad.channels.chat.models import ChatAgent, ChatSession
from madad.db import Database
from madad.errors import Invalid
from madad.tickets.models import Ticket
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in

NAUGHTY: list[str] = json.loads(
    (Path(__file__).parents[2] / "corpus" / "naughty-strings" / "blns.json").read_text()
)
SECRET = "test-secret-key-not-for-production"


async def start(app_db: Database, inbox, text: str, name: str | None = None) -> ChatSession:
    visitor, _ = service.issue_visitor_token(SECRET, inbox.key)
    async with app_db.session() as session:
        chat, _ = await service.start_chat(
            session, inbox, visitor, text=text, client_id="first", name=name
        )
    return chat


async def test_an_agent_takes_a_chat_from_the_console(client: httpx.AsyncClient, app) -> None:
    db: Database = app.state.db
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    bilal = await make_person(db, role=Role.agent, name="Bilal Agent", password=PASSWORD)
    async with db.session() as session:
        inbox = await service.create_inbox(session, SYSTEM, name="Site", queue="billing")
    chat = await start(db, inbox, "My bill is wrong", name="Zara <b>")
    me = await sign_in(client, ayesha)

    page = await me.get("/chats")
    assert page.status_code == 200
    assert 'data-waiting="1"' in page.text
    assert "Zara &lt;b&gt;" in page.text and "Zara <b>" not in page.text
    assert 'href="/chats"' in page.text and "/chats/agent.js" in page.text

    r = await me.post("/chats/availability", {"status": "online", "max_chats": "2"})
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/chats"
    async with db.session(write=False) as session:
        row = await session.get(ChatAgent, ayesha.id)
        assert row is not None and (row.status, row.max_chats) == ("online", 2)
        offered = await session.get(ChatSession, chat.id)
        assert offered is not None and offered.offered_to == ayesha.id  # going online offers it
    lists = await me.get("/chats/lists")
    assert "offered to you" in lists.text

    r = await me.post(f"/chats/{chat.public_id}/accept")
    assert r.headers["hx-redirect"] == f"/chats?s={chat.public_id}"
    again = await me.post(f"/chats/{chat.public_id}/accept")
    assert again.status_code == 409
    page = await me.get(f"/chats?s={chat.public_id}")
    assert "My bill is wrong" in page.text and 'data-session="' + chat.public_id in page.text

    r = await me.post(f"/chats/{chat.public_id}/reply", {"text": "Let me check <that>"})
    assert r.status_code == 200
    assert "Let me check &lt;that&gt;" in r.text and 'id="chat-log"' in r.text
    empty = await me.post(f"/chats/{chat.public_id}/reply", {"text": "  "})
    assert empty.status_code == 422
    too_long = await me.post(f"/chats/{chat.public_id}/reply", {"text": "x" * 4001})
    assert too_long.status_code == 422
    async with db.session(write=False) as session:
        stored = await session.get(ChatSession, chat.id)
        assert stored is not None
        lines = await service.visitor_lines(session, stored)
    assert [(x.author, x.name, x.text) for x in lines][-1] == (
        "agent",
        "Ayesha Agent",
        "Let me check <that>",
    )

    # Transfer: only to someone available; then the chat is theirs.
    offline = await me.post(f"/chats/{chat.public_id}/transfer", {"to": str(bilal.id)})
    assert offline.status_code == 409
    async with db.session() as session:
        await session.merge(ChatAgent(user_id=bilal.id, status="online", max_chats=3))
    r = await me.post(f"/chats/{chat.public_id}/transfer", {"to": str(bilal.id)})
    assert r.headers["hx-redirect"] == "/chats"
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, chat.ticket_id)
        assert ticket is not None and ticket.assignee_id == bilal.id
    # No longer hers to end; Bilal ends it.
    assert (await me.post(f"/chats/{chat.public_id}/end")).status_code == 403
    client.cookies.clear()
    him = await sign_in(client, bilal)
    page = await him.get(f"/chats?s={chat.public_id}")
    assert f'<option value="{ayesha.id}">Ayesha Agent (Online)</option>' in page.text
    r = await him.post(f"/chats/{chat.public_id}/end")
    assert r.headers["hx-redirect"] == f"/chats?s={chat.public_id}"
    async with db.session(write=False) as session:
        ended = await session.get(ChatSession, chat.id)
        assert ended is not None and ended.state == "ended"
    page = await him.get(f"/chats?s={chat.public_id}")
    assert 'id="chat-reply"' not in page.text  # nothing to answer in an ended chat


async def test_bad_availability_and_unknown_chats_are_clear_errors(
    client: httpx.AsyncClient, app
) -> None:
    ayesha = await make_person(app.state.db, role=Role.agent, name="Ayesha", password=PASSWORD)
    me = await sign_in(client, ayesha)
    assert (await me.post("/chats/availability", {"status": "asleep"})).status_code == 422
    assert (
        await me.post("/chats/availability", {"status": "online", "max_chats": "0"})
    ).status_code == 422
    assert (await me.post("/chats/nope/accept")).status_code == 404
    assert (await me.get("/chats?s=nope")).status_code == 200


async def test_every_naughty_string_is_shown_back_escaped(client: httpx.AsyncClient, app) -> None:
    db: Database = app.state.db
    ayesha = await make_person(db, role=Role.agent, name="Ayesha", password=PASSWORD)
    async with db.session() as session:
        inbox = await service.create_inbox(session, SYSTEM, name="Site")
    # Every string a message (in chats of 250; the console shows a chat's latest 300).
    chats: list[ChatSession] = []
    refused = 0
    for n in range(0, len(NAUGHTY), 250):
        chat = await start(db, inbox, f"chunk {n}")
        chats.append(chat)
        async with db.session() as session:
            row = await session.get(ChatSession, chat.id)
            assert row is not None
            for i, s in enumerate(NAUGHTY[n : n + 250], start=n):
                try:
                    await service.post_message(session, row, text=s, client_id=f"n{i}")
                except Invalid as exc:  # blank strings: refused, with the reason
                    assert not s.strip() and exc.detail.endswith("write a message first")
                    refused += 1
    # And as visitors' names, one chat each.
    named: list[str] = []
    for s in NAUGHTY[:200]:
        name, _, _ = service.clean_visitor(s[:200], None, None)  # longer names are refused
        if name:
            await start(db, inbox, "hi", name=s[:200])
            named.append(name)
    assert refused < 30
    me = await sign_in(client, ayesha)
    shown = 0
    for chat in chats:
        page = await me.get(f"/chats?s={chat.public_id}")
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        async with db.session(write=False) as session:
            lines = await service.visitor_lines(session, chat)
        for line in lines:
            assert str(escape(line.text)) in page.text, line.text
        shown += len(lines) - 1
    assert shown == len(NAUGHTY) - refused
    lists = await me.get("/chats/lists")
    assert lists.status_code == 200
    assert "<script>alert" not in lists.text
    for name in named:
        assert str(escape(name)) in lists.text, name
    async with db.session(write=False) as session:
        stored = (await session.scalars(select(ChatSession))).all()
    assert len(stored) == len(chats) + len(named)
