"""What one process keeps for all its visitors' sockets: the queue snapshot (read at most once
a second), the presence heartbeat of waiting visitors, and the one subscription to the queue's
changes that tells waiting visitors when their place moved."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from fastapi import WebSocket, WebSocketDisconnect

from madad.bus import Subscription
from madad.channels.chat import queue, service
from madad.db import Database

log = logging.getLogger("madad.chat")
HEARTBEAT_SECONDS = 20.0


class Visitor(Protocol):
    async def moved(self, board: queue.QueueBoard) -> None: ...


class Board:
    """The process's queue snapshot, read at most once a second however many visitors wait."""

    MAX_AGE = 1.0

    def __init__(self, db: Database) -> None:
        self.db = db
        self.board: queue.QueueBoard | None = None
        self.read_at = 0.0
        self.lock = asyncio.Lock()

    async def get(self, *, fresh: bool = False) -> queue.QueueBoard:
        """The snapshot, read again when older than MAX_AGE — or, `fresh`, when read before
        this call (a chat that has just entered the queue is not in an older one)."""
        loop = asyncio.get_running_loop()
        asked_at = loop.time()
        async with self.lock:
            stale = fresh and self.read_at < asked_at
            if self.board is None or stale or loop.time() - self.read_at > self.MAX_AGE:
                async with self.db.session(write=False) as session:
                    self.board = await queue.queue_board(session)
                self.read_at = loop.time()
            return self.board


class Presence:
    """Chats whose visitor is connected to this process; while they wait, one statement every
    HEARTBEAT_SECONDS says they are still there (a visitor gone too long has abandoned)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.chats: dict[int, int] = {}  # chat id → connections
        self.task: asyncio.Task[None] | None = None

    def add(self, chat_id: int) -> None:
        self.chats[chat_id] = self.chats.get(chat_id, 0) + 1
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._beat())

    def remove(self, chat_id: int) -> None:
        left = self.chats.get(chat_id, 0) - 1
        if left > 0:
            self.chats[chat_id] = left
        else:
            self.chats.pop(chat_id, None)

    async def _beat(self) -> None:
        while self.chats:
            try:
                async with self.db.session() as session:
                    await service.visitor_seen(session, list(self.chats))
            except Exception:
                log.exception("chat presence update failed")
            await asyncio.sleep(HEARTBEAT_SECONDS)


class Waiting:
    """This process's waiting visitors: one subscription to the queue's changes for all of
    them, and at most one update a second, sent only to those whose place changed (a queue
    that grows at the back moves nobody ahead)."""

    def __init__(self, bus: Any, board: Board) -> None:
        self.bus = bus
        self.board = board
        self.visitors: dict[int, Visitor] = {}
        self.running = False
        self.task: asyncio.Task[None] | None = None

    def add(self, v: Visitor) -> None:
        self.visitors[id(v)] = v
        if not self.running:
            self.running = True
            self.task = asyncio.get_running_loop().create_task(self._watch())

    def remove(self, v: Visitor) -> None:
        self.visitors.pop(id(v), None)

    async def _watch(self) -> None:
        sub: Subscription = await self.bus.subscribe("chats")
        try:
            while True:
                if not self.visitors:
                    self.running = False  # checked and cleared with no await between
                    return
                try:
                    async with asyncio.timeout(HEARTBEAT_SECONDS):
                        item = await sub.get()
                except TimeoutError:
                    continue
                if item is None:  # fell behind: subscribe afresh, then update everyone
                    await sub.close()
                    sub = await self.bus.subscribe("chats")
                await asyncio.sleep(Board.MAX_AGE)  # let a burst of changes pile up
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                board = await self.board.get(fresh=True)  # a snapshot from after the changes
                for v in list(self.visitors.values()):
                    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                        await v.moved(board)
        except Exception:
            self.running = False
            log.exception("chat queue watcher failed")
        finally:
            await sub.close()


def shared(ws: WebSocket) -> tuple[Board, Presence, Waiting]:
    state = ws.app.state
    if getattr(state, "chat_board", None) is None:
        state.chat_board = Board(state.db)
        state.chat_waiting = Waiting(state.bus, state.chat_board)
        state.chat_presence = Presence(state.db)
    return state.chat_board, state.chat_presence, state.chat_waiting
