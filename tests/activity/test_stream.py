"""The realtime stream over a real WebSocket: live events, resume without gaps, and events
crossing from one app process to another through Redis."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from madad.auth.models import Role
from madad.auth.permissions import Scope
from madad.config import Settings
from madad.db import Database
from tests.conftest import Person, make_person
from tests.servers import serve_here, settings_env, spawn_server


def ws_url(base: str, **params: object) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return base.replace("http://", "ws://") + "/api/v1/stream" + (f"?{query}" if query else "")


async def events_until(ws, predicate, timeout: float = 10.0) -> list[dict]:
    got: list[dict] = []
    async with asyncio.timeout(timeout):
        while True:
            frame = json.loads(await ws.recv())
            if frame["type"] == "event":
                got.append(frame)
                if predicate(got):
                    return got


async def post_message(base: str, who: Person, external_id: str, text: str) -> dict:
    async with httpx.AsyncClient(base_url=base) as c:
        r = await c.post(
            "/api/v1/inbound",
            headers=who.headers,
            json={
                "external_id": external_id,
                "contact": {"email": "live@example.com"},
                "text": text,
            },
        )
        assert r.status_code == 201, r.text
        return r.json()


async def test_events_stream_live_and_resume_without_gaps(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        agent = await make_person(app.state.db, role=Role.agent)  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {agent.token}"}
        async with connect(ws_url(base), additional_headers=headers) as ws:
            assert json.loads(await ws.recv()) == {"type": "ready", "replayed": 0}
            first = await post_message(base, agent, "m1", "first")
            got = await events_until(ws, lambda e: any(x["kind"] == "message.received" for x in e))
            assert {e["kind"] for e in got} >= {"ticket.created", "message.received"}
            assert all(e["ticket_id"] == first["ticket_id"] for e in got)
            last_seen = max(e["id"] for e in got)
        # While disconnected, things happen.
        for i in range(5):
            await post_message(base, agent, f"m-gap-{i}", f"while you were away {i}")
        async with httpx.AsyncClient(base_url=base, headers=headers) as c:
            stored = (await c.get(f"/api/v1/activity?after_id={last_seen}")).json()["items"]
        expected = [f["id"] for f in stored if f["ticket_id"] is not None]
        assert len(expected) >= 5
        async with connect(ws_url(base, last_event_id=last_seen), additional_headers=headers) as ws:
            replayed = []
            while True:
                frame = json.loads(await ws.recv())
                if frame["type"] == "ready":
                    break
                replayed.append(frame["id"])
            assert [i for i in replayed if i > last_seen] == expected
            # …and the stream goes on live after the replay.
            await post_message(base, agent, "after", "back again")
            live = await events_until(ws, lambda e: any(x["kind"] == "message.received" for x in e))
            assert min(e["id"] for e in live) > max(expected)


async def test_a_ticket_stream_carries_only_that_ticket(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        agent = await make_person(app.state.db, role=Role.agent)  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {agent.token}"}
        mine = await post_message(base, agent, "a", "mine")
        async with connect(
            ws_url(base, ticket_id=mine["ticket_id"]), additional_headers=headers
        ) as ws:
            await ws.recv()  # ready
            async with httpx.AsyncClient(base_url=base) as c:
                await c.post(
                    "/api/v1/inbound",
                    headers=agent.headers,
                    json={
                        "external_id": "b",
                        "contact": {"email": "other@example.com"},
                        "text": "someone else",
                    },
                )
                await c.post(
                    f"/api/v1/tickets/{mine['ticket_id']}/notes",
                    headers=agent.headers,
                    json={"text": "looking"},
                )
            got = await events_until(ws, lambda e: any(x["kind"] == "note.added" for x in e))
            assert {e["ticket_id"] for e in got} == {mine["ticket_id"]}
            await ws.send(json.dumps({"type": "ping"}))
            assert json.loads(await ws.recv()) == {"type": "pong"}


async def test_the_stream_needs_a_valid_token(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        integration = await make_person(
            app.state.db,
            role=Role.agent,  # type: ignore[attr-defined]
            scopes=[Scope.inbound],
        )
        for headers, code in (
            ({}, 4401),
            ({"Authorization": "Bearer mdd_x_y"}, 4401),
            ({"Authorization": f"Bearer {integration.token}"}, 4403),
        ):
            async with connect(ws_url(base), additional_headers=headers) as ws:
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == code


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
async def test_an_event_from_one_process_reaches_a_client_of_another(
    settings: Settings, db: Database, redis_url: str
) -> None:
    agent = await make_person(db, role=Role.agent)
    shared = settings.model_copy(update={"redis_url": redis_url})
    env = settings_env(shared)
    with spawn_server(env) as one, spawn_server(env) as two:
        headers = {"Authorization": f"Bearer {agent.token}"}
        async with connect(ws_url(two), additional_headers=headers) as ws:
            assert json.loads(await ws.recv())["type"] == "ready"
            posted = await post_message(one, agent, "x-proc", "via process one")
            got = await events_until(
                ws, lambda e: any(x["kind"] == "message.received" for x in e), timeout=15
            )
            assert got[-1]["ticket_id"] == posted["ticket_id"]
