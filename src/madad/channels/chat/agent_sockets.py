"""Chat's agents' WebSocket (the console's).

Agent socket `/api/v1/chat/agents/stream` (console session or API token): hears `queue`,
`offer` and `agents` changes; `{"type": "watch", "session"}` adds a chat's messages, state,
read receipts (`{"type": "chat", "kind": "seen"}`) and the visitor's typing;
`{"type": "typing", "session", "on"}` tells the visitor; `{"type": "seen", "session", "id"}`
says the agent saw the visitor's messages up to `id`.
"""

from __future__ import annotations

import asyncio
import contextlib

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from madad.auth.permissions import Actor, Scope
from madad.bus import Subscription
from madad.channels.chat import queue, service
from madad.channels.chat.models import ChatSession
from madad.channels.chat.sockets import error_frame, send
from madad.db import Database
from madad.errors import MadadError
from madad.web.deps import websocket_actor

router = APIRouter(tags=["chat"])


@router.websocket("/api/v1/chat/agents/stream")
async def agents_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        actor = await websocket_actor(websocket)
        actor.require(Scope.tickets_write)
    except MadadError as exc:
        await websocket.close(code=4401 if exc.status == 401 else 4403, reason=exc.detail[:120])
        return
    db: Database = websocket.app.state.db
    bus = websocket.app.state.bus
    sub: Subscription = await bus.subscribe("chats")
    watching: dict[str, ChatSession] = {}
    reader: asyncio.Task[None] | None = None
    try:
        async with db.session() as session:
            await queue.offer_waiting(session)
        await send(websocket, {"type": "ready"})
        reader = asyncio.create_task(_agent_frames(websocket, actor, sub, watching))
        async for topic, event in sub:
            if topic == "chats":
                await send(websocket, event)
                continue
            for chat in list(watching.values()):
                if topic == f"ticket:{chat.ticket_id}" and event.get("kind"):
                    await send(
                        websocket,
                        {"type": "chat", "session": chat.public_id, "kind": event["kind"]},
                    )
                elif topic == f"chat:{chat.public_id}":
                    if event.get("type") == "typing" and event.get("from") == "visitor":
                        await send(websocket, event)
                    elif event.get("type") == "state":
                        await send(
                            websocket, {"type": "chat", "session": chat.public_id, "kind": "state"}
                        )
                    elif event.get("type") == "seen" and event.get("from") == "visitor":
                        await send(
                            websocket, {"type": "chat", "session": chat.public_id, "kind": "seen"}
                        )
        if sub.overflowed:  # fell behind: the console reconnects and reloads its fragments
            await websocket.close(code=4408, reason="fell behind; reconnect")
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        await sub.close()


async def _agent_frames(
    websocket: WebSocket, actor: Actor, sub: Subscription, watching: dict[str, ChatSession]
) -> None:
    db: Database = websocket.app.state.db
    bus = websocket.app.state.bus
    try:
        while True:
            text = await websocket.receive_text()
            try:
                frame = orjson.loads(text)
            except orjson.JSONDecodeError:
                frame = None
            kind = frame.get("type") if isinstance(frame, dict) else None
            public_id = frame.get("session") if isinstance(frame, dict) else None
            if kind == "ping":
                await send(websocket, {"type": "pong"})
            elif kind == "watch" and isinstance(public_id, str) and len(public_id) <= 32:
                try:
                    async with db.session(write=False) as session:
                        chat = await queue.get_chat(session, actor, public_id)
                except MadadError as exc:
                    await send(websocket, error_frame(exc))
                    continue
                watching[chat.public_id] = chat
                await sub.add(f"ticket:{chat.ticket_id}", f"chat:{chat.public_id}")
                await send(websocket, {"type": "watching", "session": chat.public_id})
            elif kind == "seen" and isinstance(public_id, str) and public_id in watching:
                try:
                    async with db.session() as session:
                        await service.agent_saw(session, watching[public_id], frame.get("id"))  # type: ignore[union-attr]
                except MadadError as exc:
                    await send(websocket, error_frame(exc))
            elif kind == "typing" and isinstance(public_id, str) and public_id in watching:
                await bus.publish(
                    f"chat:{public_id}",
                    {
                        "type": "typing",
                        "from": "agent",
                        "session": public_id,
                        "name": actor.name,
                        "on": bool(frame.get("on")),  # type: ignore[union-attr]
                    },
                )
            else:
                await send(
                    websocket, {"type": "error", "code": "invalid", "detail": "unknown frame"}
                )
    except (WebSocketDisconnect, RuntimeError):
        await sub.close()
