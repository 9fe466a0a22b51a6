"""Chat over real sockets: a visitor and an agent hold a conversation; typing both ways; history
survives reconnects (resume after the last message id); forged tokens are worth nothing; bad
and oversized input is refused clearly; two app processes over Redis carry it all."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from madad.auth.models import Role
from madad.auth.permissions import actor_for
from madad.channels.chat import queue, service
from madad.channels.chat.models import ChatSession
from madad.config import Settings
from madad.db import Database
from tests.conftest import Person, make_person
from tests.servers import serve_here, settings_env, spawn_server


def ws(base: str, path: str, **params: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return base.replace("http://", "ws://") + path + (f"?{query}" if query else "")


async def frames_until(
    sock: ClientConnection, predicate: Any, timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Frames received until one satisfies `predicate` (that one included)."""
    got: list[dict[str, Any]] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await sock.recv())
            got.append(frame)
            if predicate(frame):
                return got


def is_type(kind: str, **match: object) -> Any:
    return lambda f: f["type"] == kind and all(f.get(k) == v for k, v in match.items())


async def new_inbox(base: str, admin: Person, queue_name: str = "support") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, headers=admin.headers) as c:
        r = await c.post("/api/v1/chat/inboxes", json={"name": "Website", "queue": queue_name})
        assert r.status_code == 201, r.text
        return r.json()


async def visitor_hello(sock: ClientConnection) -> tuple[str, list[dict[str, Any]]]:
    got = await frames_until(sock, is_type("ready"))
    assert got[0]["type"] == "hello"
    return got[0]["token"], got[1:-1]


async def reply(base: str, who: Person, ticket_id: int, text: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, headers=who.headers) as c:
        r = await c.post(f"/api/v1/tickets/{ticket_id}/reply", json={"text": text})
        assert r.status_code == 201, r.text
        return r.json()


async def test_a_visitor_and_an_agent_hold_a_conversation(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent")
        inbox = await new_inbox(base, admin)
        async with db.session() as session:
            await queue.set_availability(
                session, actor_for(ayesha.id, "agent", "Ayesha Agent"), status="online"
            )
        agent_url = ws(base, "/api/v1/chat/agents/stream")
        async with (
            connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as visitor,
            connect(agent_url, additional_headers=ayesha.headers) as agent,
        ):
            token, first = await visitor_hello(visitor)
            assert first == [{"type": "state", "state": "none"}]
            await frames_until(agent, is_type("ready"))

            await visitor.send(
                json.dumps({"type": "start", "id": "c1", "text": "Hi there", "name": "Zara"})
            )
            got = await frames_until(visitor, is_type("state", state="queued"))
            ack = next(f for f in got if f["type"] == "ack")
            line = next(f for f in got if f["type"] == "message")
            assert (line["from"], line["text"], line["client_id"], line["id"]) == (
                "visitor",
                "Hi there",
                "c1",
                ack["id"],
            )
            queued = got[-1]
            assert queued["position"] == 1
            # The agent hears the queue change and the offer made to them (round robin of one).
            offer = await frames_until(agent, is_type("offer"))
            assert offer[-1]["agent_id"] == ayesha.id
            session_id = queued["session"]

            await agent.send(json.dumps({"type": "watch", "session": session_id}))
            await frames_until(agent, is_type("watching"))
            async with db.session() as session:
                chat = await queue.accept(
                    session, actor_for(ayesha.id, "agent", "Ayesha Agent"), session_id
                )
            active = await frames_until(visitor, is_type("state", state="active"))
            assert active[-1]["agent"] == "Ayesha Agent"

            # Typing, both ways.
            await agent.send(json.dumps({"type": "typing", "session": session_id, "on": True}))
            typing = await frames_until(visitor, is_type("typing"))
            assert typing[-1] == {"type": "typing", "on": True, "name": "Ayesha Agent"}
            await visitor.send(json.dumps({"type": "typing", "on": True}))
            seen = await frames_until(agent, is_type("typing"))
            assert seen[-1]["from"] == "visitor" and seen[-1]["on"] is True

            # The agent answers through the ordinary reply path; the visitor sees it live.
            await reply(base, ayesha, chat.ticket_id, "Hello Zara, how can I help?")
            got = await frames_until(visitor, is_type("message", **{"from": "agent"}))
            assert got[-1]["name"] == "Ayesha Agent"
            assert got[-1]["text"] == "Hello Zara, how can I help?"
            # Sending the same client message twice stores it once.
            for _ in range(2):
                await visitor.send(json.dumps({"type": "message", "id": "c2", "text": "Order 7"}))
            acks = []
            async with asyncio.timeout(10):
                while len(acks) < 2:
                    f = json.loads(await visitor.recv())
                    if f["type"] == "ack":
                        acks.append(f["id"])
            assert acks[0] == acks[1]
            changed = await frames_until(agent, lambda f: f.get("kind") == "message.received")
            assert changed[-1]["session"] == session_id

        # History is kept: a new page load with the token sees everything, in order.
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"], token=token)) as v:
            again, frames = await visitor_hello(v)
            assert again == token
            texts = [(f["from"], f["text"]) for f in frames if f["type"] == "message"]
            assert texts == [
                ("visitor", "Hi there"),
                ("agent", "Hello Zara, how can I help?"),
                ("visitor", "Order 7"),
            ]
            assert frames[-1]["state"] == "active"


async def test_reconnecting_resumes_after_the_last_message_and_loses_nothing(
    settings: Settings,
) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent")
        inbox = await new_inbox(base, admin)
        url = ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])
        async with connect(url) as v:
            token, _ = await visitor_hello(v)
            await v.send(json.dumps({"type": "start", "id": "a", "text": "one"}))
            got = await frames_until(v, is_type("state", state="queued"))
            last = max(f["id"] for f in got if f["type"] == "message")
            session_id = got[-1]["session"]
        async with db.session() as session:
            chat = await queue.accept(
                session, actor_for(ayesha.id, "agent", "Ayesha Agent"), session_id
            )
        # While the visitor's socket is down, the agent writes twice.
        await reply(base, ayesha, chat.ticket_id, "missed one")
        await reply(base, ayesha, chat.ticket_id, "missed two")
        resume = ws(base, "/api/v1/chat/visitor", inbox=inbox["key"], token=token, after=last)
        async with connect(resume) as v:
            _, frames = await visitor_hello(v)
            assert [f["text"] for f in frames if f["type"] == "message"] == [
                "missed one",
                "missed two",
            ]
            await reply(base, ayesha, chat.ticket_id, "and live again")
            got = await frames_until(v, is_type("message"))
            assert got[-1]["text"] == "and live again"


async def test_a_forged_token_is_a_new_anonymous_visitor(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        url = ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])
        async with connect(url) as v:
            token, _ = await visitor_hello(v)
            await v.send(json.dumps({"type": "start", "id": "a", "text": "my secret order"}))
            await frames_until(v, is_type("state", state="queued"))
        visitor_id = token.split(".")[0]
        for forged in (visitor_id, visitor_id + ".AAAA", visitor_id + "." + "x" * 43):
            async with connect(
                ws(base, "/api/v1/chat/visitor", inbox=inbox["key"], token=forged)
            ) as v:
                new_token, frames = await visitor_hello(v)
                assert new_token != token and new_token.split(".")[0] != visitor_id
                assert frames == [{"type": "state", "state": "none"}]
        # A token is bound to its inbox.
        other = await new_inbox(base, admin)
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=other["key"], token=token)) as v:
            new_token, frames = await visitor_hello(v)
            assert new_token != token and frames == [{"type": "state", "state": "none"}]


async def test_bad_frames_and_oversized_messages_are_refused_clearly(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        async with connect(ws(base, "/api/v1/chat/visitor", inbox="nope")) as v:
            await v.wait_closed()
            assert v.close_code == 4404
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as v:
            await visitor_hello(v)
            await v.send(json.dumps({"type": "message", "id": "x", "text": "before start"}))
            assert (await frames_until(v, is_type("error")))[-1]["code"] == "notfound"
            await v.send(json.dumps({"type": "start", "id": "big", "text": "x" * 4001}))
            error = (await frames_until(v, is_type("error")))[-1]
            assert error["code"] == "too_large" and error["client_id"] == "big"
            assert "at most 4000 characters" in error["detail"]
            await v.send("x" * 40_000)
            error = (await frames_until(v, is_type("error")))[-1]
            assert error["code"] == "too_large" and "frame" in error["detail"]
            for bad in ("not json", "[1,2]", '{"type": "start", "id": 5, "text": "hi"}'):
                await v.send(bad)
                assert (await frames_until(v, is_type("error")))[-1]["code"] in ("invalid",)
            await v.send(json.dumps({"type": "start", "id": "e", "text": "hi", "email": "no"}))
            error = (await frames_until(v, is_type("error")))[-1]
            assert error["code"] == "invalid" and error["client_id"] == "e"
            # Still usable afterwards.
            await v.send(json.dumps({"type": "start", "id": "ok", "text": "fine"}))
            await frames_until(v, is_type("state", state="queued"))


async def test_the_widget_script_is_small_and_names_its_inbox(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        async with httpx.AsyncClient(base_url=base) as c:
            missing = await c.get("/widget.js?inbox=nope")
            assert missing.status_code == 404
            assert missing.headers["content-type"].startswith("text/javascript")
            r = await c.get(f"/widget.js?inbox={inbox['key']}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/javascript")
        assert json.dumps(inbox["key"]) in r.text and "__MADAD_CONFIG__" not in r.text
        assert '"ur":{' in r.text and '"en":{' in r.text
        assert inbox["snippet"].endswith(f'/widget.js?inbox={inbox["key"]}" async></script>')
        size = len(gzip.compress(r.content, 9))
        assert size < 20_000, f"widget.js is {size} bytes gzipped"


async def test_two_processes_over_redis_visitor_on_one_agent_on_the_other(
    settings: Settings, db: Database, redis_url: str
) -> None:
    admin = await make_person(db, role=Role.admin)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent")
    shared = settings.model_copy(update={"redis_url": redis_url})
    env = settings_env(shared, MADAD_EMBEDDED_WORKER="false")
    with spawn_server(env) as one, spawn_server(env) as two:
        inbox = await new_inbox(one, admin)
        async with (
            connect(ws(one, "/api/v1/chat/visitor", inbox=inbox["key"])) as visitor,
            connect(
                ws(two, "/api/v1/chat/agents/stream"), additional_headers=ayesha.headers
            ) as agent,
        ):
            await visitor_hello(visitor)
            await frames_until(agent, is_type("ready"))
            await visitor.send(json.dumps({"type": "start", "id": "r1", "text": "via one"}))
            queued = (await frames_until(visitor, is_type("state", state="queued")))[-1]
            await frames_until(agent, is_type("queue"))  # crossed from one to two
            session_id = queued["session"]
            await agent.send(json.dumps({"type": "watch", "session": session_id}))
            await frames_until(agent, is_type("watching"))
            async with db.session() as session:
                chat = await queue.accept(
                    session, actor_for(ayesha.id, "agent", "Ayesha Agent"), session_id
                )
            await reply(two, ayesha, chat.ticket_id, "answered from two")
            got = await frames_until(visitor, is_type("message", **{"from": "agent"}))
            assert got[-1]["text"] == "answered from two"
            await agent.send(json.dumps({"type": "typing", "session": session_id, "on": True}))
            assert (await frames_until(visitor, is_type("typing")))[-1]["on"] is True
            await visitor.send(json.dumps({"type": "typing", "on": True}))
            assert (await frames_until(agent, is_type("typing")))[-1]["from"] == "visitor"


NAUGHTY: list[str] = json.loads(
    (Path(__file__).parents[2] / "corpus" / "naughty-strings" / "blns.json").read_text()
)


async def test_every_naughty_string_round_trips_through_the_visitor_socket(
    settings: Settings,
) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as v:
            await visitor_hello(v)
            name = NAUGHTY[-1][:200]
            await v.send(json.dumps({"type": "start", "id": "s", "text": "hi", "name": name}))
            await frames_until(v, is_type("state", state="queued"))
            echoed: dict[str, str] = {}
            refused: list[str] = []
            for i, s in enumerate(NAUGHTY):
                await v.send(json.dumps({"type": "message", "id": f"n{i}", "text": s}))
                got = await frames_until(
                    v,
                    lambda f, cid=f"n{i}": (
                        f["type"] in ("ack", "error") and f.get("client_id") == cid
                    ),
                )
                for f in got:  # an echo may follow its ack: it is among the next frames
                    if f["type"] == "message":
                        echoed[f["client_id"]] = f["text"]
                if got[-1]["type"] == "error":
                    assert got[-1]["code"] == "invalid" and not s.strip(), (i, got[-1])
                    refused.append(s)
            await v.send(json.dumps({"type": "ping"}))
            for f in await frames_until(v, is_type("pong")):
                if f["type"] == "message":
                    echoed[f["client_id"]] = f["text"]
        assert len(refused) < 30
        for i, s in enumerate(NAUGHTY):
            if s not in refused:
                assert echoed[f"n{i}"] == s, i
        # Reloaded, the history holds them all exactly, and the name as typed.
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as v:
            await visitor_hello(v)  # a new visitor: nothing of the other's
        async with db.session(write=False) as session:
            chat = (await session.scalars(select(ChatSession))).one()
            lines = await service.visitor_lines(session, chat, limit=1000)
        assert [x.text for x in lines[1:]] == [s for s in NAUGHTY if s not in refused]
        assert chat.name == name.strip()


async def test_a_waiting_visitor_moves_up_when_someone_ahead_leaves(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        url = ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])
        async with connect(url) as first, connect(url) as second:
            await visitor_hello(first)
            await visitor_hello(second)
            await first.send(json.dumps({"type": "start", "id": "a", "text": "first"}))
            await frames_until(first, is_type("state", state="queued", position=1))
            await second.send(json.dumps({"type": "start", "id": "b", "text": "second"}))
            queued = await frames_until(second, is_type("state", state="queued", position=2))
            await first.send(json.dumps({"type": "leave"}))
            await frames_until(first, is_type("state", state="abandoned"))
            moved = await frames_until(second, is_type("state", state="queued", position=1))
            assert moved[-1]["session"] == queued[-1]["session"]
