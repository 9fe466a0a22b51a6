"""What keeps the chat cheap under many sockets: a visitor's own message is echoed from what
was stored, never read back from the database (while another tab of the same visitor still
hears it), and served sockets are not compressed."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import event
from websockets.asyncio.client import connect

from madad.auth.models import Role
from madad.config import Settings
from madad.db import Database
from tests.channels.chat.test_sockets import frames_until, is_type, new_inbox, visitor_hello, ws
from tests.conftest import make_person
from tests.servers import serve_here, settings_env, spawn_server


class LineReads:
    """Counts the statements that read a chat's lines (service.visitor_lines)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)
        self.db = db

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM messages" in statement and "chat_agents" in statement:
            self.count += 1

    def stop(self) -> None:
        event.remove(self.db.engine.sync_engine, "before_cursor_execute", self._seen)


async def test_a_visitors_message_is_echoed_once_without_reading_it_back(
    settings: Settings,
) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as tab:
            token, _ = await visitor_hello(tab)
            await tab.send(json.dumps({"type": "start", "id": "s", "text": "hello"}))
            await frames_until(tab, is_type("state", state="queued"))
            reads = LineReads(db)
            try:
                for n in range(5):
                    await tab.send(json.dumps({"type": "message", "id": f"m{n}", "text": f"#{n}"}))
                await tab.send(json.dumps({"type": "ping"}))
                got = await frames_until(tab, is_type("pong"))
            finally:
                reads.stop()
            lines = [f for f in got if f["type"] == "message"]
            acks = [f for f in got if f["type"] == "ack"]
            assert [f["client_id"] for f in lines] == [f"m{n}" for n in range(5)]
            assert [f["id"] for f in lines] == [f["id"] for f in acks]
            assert reads.count == 0  # every echo came from what was just stored

            # A second tab of the same visitor hears the first tab's messages (read once each).
            resume = ws(base, "/api/v1/chat/visitor", inbox=inbox["key"], token=token)
            async with connect(resume) as other:
                _, replayed = await visitor_hello(other)
                last = max(f["id"] for f in replayed if f["type"] == "message")
                reads = LineReads(db)
                try:
                    await tab.send(json.dumps({"type": "message", "id": "x", "text": "both"}))
                    mine = await frames_until(tab, is_type("message", client_id="x"))
                    theirs = await frames_until(other, is_type("message", client_id="x"))
                    # And what the other tab sends reaches the first one.
                    await other.send(json.dumps({"type": "message", "id": "y", "text": "back"}))
                    back = await frames_until(tab, is_type("message", client_id="y"))
                    await frames_until(other, is_type("message", client_id="y"))
                    await tab.send(json.dumps({"type": "ping"}))
                    rest = await frames_until(tab, is_type("pong"))
                finally:
                    reads.stop()
                assert mine[-1]["id"] == theirs[-1]["id"] > last
                assert theirs[-1]["text"] == "both"
                assert back[-1]["text"] == "back"
                assert not [f for f in rest if f["type"] == "message"]  # nothing twice
                assert reads.count == 2  # each tab read only the other's message


async def test_served_sockets_decline_compression_unless_configured(
    settings: Settings, db: Database
) -> None:
    admin = await make_person(db, role=Role.admin)
    for configured, negotiated in (("false", False), ("true", True)):
        env = settings_env(settings, MADAD_WS_PER_MESSAGE_DEFLATE=configured)
        with spawn_server(env, "--no-worker") as base:
            inbox = await new_inbox(base, admin)
            # The client offers permessage-deflate, as browsers always do.
            async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as sock:
                await visitor_hello(sock)
                assert sock.response is not None
                extensions = sock.response.headers.get("Sec-WebSocket-Extensions") or ""
                assert ("permessage-deflate" in extensions) is negotiated
