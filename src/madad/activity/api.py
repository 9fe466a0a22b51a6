"""The facts over HTTP: a filtered, paginated list, and the realtime stream (WebSocket).

Stream protocol (JSON text frames):
  server → client  {"type": "event", "id": …, "kind": …, "ticket_id": …, …}   one fact
                   {"type": "ready", "replayed": n}   replay after last_event_id is complete
                   {"type": "resync"}   the client fell too far behind: reconnect and resume
                   {"type": "presence", "ticket_id": …, "user_id": …, "name": …, "state": …}
                   another agent is viewing / typing on / has left a ticket this client follows
  client → server  {"type": "subscribe", "ticket_id": 42}   add a ticket's events
                   {"type": "presence", "ticket_id": 42, "state": "viewing"|"typing"|"left"}
                   tell the other agents on that ticket (collision detection; any process)
                   {"type": "ping"}   answered with {"type": "pong"}
Connect to /api/v1/stream?last_event_id=N to resume: facts after N are replayed first (and,
on PostgreSQL, a short window before N, because ids are handed out before commit) — clients
drop ids they already have.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections import OrderedDict
from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, WebSocket, WebSocketDisconnect

from madad.activity import service
from madad.activity.schemas import FactOut, FactPage
from madad.auth.permissions import Actor, Scope
from madad.bus import Subscription
from madad.errors import MadadError
from madad.web.deps import DB, require, websocket_actor

router = APIRouter(prefix="/api/v1", tags=["activity"])

Reader = Annotated[Actor, Depends(require(Scope.activity_read))]


@router.get("/activity", response_model=FactPage)
async def list_activity(
    session: DB,
    actor: Reader,
    kind: str | None = None,
    kind_prefix: str | None = None,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    agent_id: int | None = None,
    channel: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    after_id: Annotated[int | None, Query(description="facts after this id (ascending)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FactPage:
    f = service.FactFilter(
        kind=kind,
        kind_prefix=kind_prefix,
        ticket_id=ticket_id,
        contact_id=contact_id,
        agent_id=agent_id,
        channel=channel,
        since=since,
        until=until,
    )
    rows = await service.list_facts(session, f, after_id=after_id, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return FactPage(
        items=[FactOut.of(r) for r in rows], next_cursor=str(rows[-1].id) if more and rows else None
    )


class _Seen:
    """Ids recently sent on one connection, so replay and live events never repeat."""

    def __init__(self, size: int = 20_000) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def add(self, fact_id: int) -> bool:
        if fact_id in self._ids:
            return False
        self._ids[fact_id] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


async def _send(ws: WebSocket, payload: dict[str, Any]) -> None:
    await ws.send_text(orjson.dumps(payload).decode())


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    # Accept first, so that a refusal reaches the client as a close code it can read
    # (4401 unauthenticated, 4403 forbidden, 4400 bad parameters) rather than a bare HTTP 403.
    await websocket.accept()
    try:
        actor = await websocket_actor(websocket)
        actor.require(Scope.tickets_read)
    except MadadError as exc:
        await websocket.close(code=4401 if exc.status == 401 else 4403, reason=exc.detail[:120])
        return
    raw_last = websocket.query_params.get("last_event_id")
    raw_ticket = websocket.query_params.get("ticket_id")
    if (raw_last and not raw_last.isdigit()) or (raw_ticket and not raw_ticket.isdigit()):
        await websocket.close(code=4400, reason="last_event_id and ticket_id are numbers")
        return
    ticket_id = int(raw_ticket) if raw_ticket else None
    topics = [f"ticket:{ticket_id}", f"presence:{ticket_id}"] if ticket_id else ["tickets"]
    connection = secrets.token_hex(8)
    bus = websocket.app.state.bus
    db = websocket.app.state.db
    # Subscribe before reading the database: nothing committed after the read is missed.
    sub: Subscription = await bus.subscribe(*topics)
    seen = _Seen()
    try:
        replayed = 0
        if raw_last:
            async with db.session(write=False) as session:
                missed = await service.replay_since(session, int(raw_last), ticket_id=ticket_id)
            for fact in missed:
                if seen.add(fact.id):
                    await _send(websocket, {"type": "event", **service.event_of(fact)})
                    replayed += 1
        await _send(websocket, {"type": "ready", "replayed": replayed})
        reader = asyncio.create_task(_client_messages(websocket, sub, actor, connection))
        try:
            async for _topic, event in sub:
                if event.get("type") == "presence":
                    if event.get("connection") != connection:
                        await _send(
                            websocket, {k: v for k, v in event.items() if k != "connection"}
                        )
                    continue
                if seen.add(event["id"]):
                    await _send(websocket, {"type": "event", **event})
            if sub.overflowed:
                await _send(websocket, {"type": "resync"})
                await websocket.close(code=4408, reason="fell behind; reconnect and resume")
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
    except WebSocketDisconnect:
        pass
    finally:
        await sub.close()


PRESENCE_STATES = {"viewing", "typing", "left"}


async def _client_messages(
    websocket: WebSocket, sub: Subscription, actor: Actor, connection: str
) -> None:
    bus = websocket.app.state.bus
    try:
        while True:
            text = await websocket.receive_text()
            try:
                message = orjson.loads(text)
            except orjson.JSONDecodeError:
                await _send(websocket, {"type": "error", "detail": "frames are JSON"})
                continue
            kind = message.get("type") if isinstance(message, dict) else None
            if kind == "ping":
                await _send(websocket, {"type": "pong"})
            elif kind == "subscribe" and isinstance(message.get("ticket_id"), int):
                await sub.add(f"ticket:{message['ticket_id']}", f"presence:{message['ticket_id']}")
                await _send(websocket, {"type": "subscribed", "ticket_id": message["ticket_id"]})
            elif (
                kind == "presence"
                and isinstance(message.get("ticket_id"), int)
                and message.get("state") in PRESENCE_STATES
                and actor.user_id is not None
            ):
                await bus.publish(
                    f"presence:{message['ticket_id']}",
                    {
                        "type": "presence",
                        "ticket_id": message["ticket_id"],
                        "user_id": actor.user_id,
                        "name": actor.name,
                        "state": message["state"],
                        "connection": connection,
                    },
                )
            else:
                await _send(websocket, {"type": "error", "detail": "unknown message"})
    except WebSocketDisconnect:
        await sub.close()
