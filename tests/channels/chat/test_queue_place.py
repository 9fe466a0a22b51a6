"""A visitor back in the queue (a transfer) is told their place at once, even when this
process read its queue snapshot a moment before, while they were still with an agent."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect

from madad.auth.models import Role
from madad.channels.chat import queue, transfers
from madad.config import Settings
from madad.db import Database
from tests.channels.chat.test_queue import agent
from tests.channels.chat.test_sockets import frames_until, is_type, new_inbox, visitor_hello, ws
from tests.channels.chat.test_teams_faces_receipts import team_of
from tests.conftest import make_person
from tests.servers import serve_here


async def test_a_transferred_visitor_hears_their_place_in_the_queue(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        ayesha = await agent(db, "Ayesha")
        billing = await team_of(db, "Billing", await agent(db, "Bilal", status="away"))
        url = ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])
        async with connect(url) as first, connect(url) as second:
            await visitor_hello(first)
            await visitor_hello(second)
            await first.send(json.dumps({"type": "start", "id": "a", "text": "first"}))
            started = await frames_until(first, is_type("state", state="queued", position=1))
            public_id = started[-1]["session"]
            async with db.session() as session:
                await queue.accept(session, ayesha, public_id)
            await frames_until(first, is_type("state", state="active"))
            # The second visitor's start reads the snapshot: the first is not waiting in it.
            await second.send(json.dumps({"type": "start", "id": "b", "text": "second"}))
            await frames_until(second, is_type("state", state="queued", position=1))
            async with db.session() as session:
                await transfers.transfer_to_team(session, ayesha, public_id, team_id=billing)
            back = await frames_until(first, is_type("state", state="queued"))
            assert back[-1]["team"] == "Billing"
            assert back[-1]["position"] in (1, 2)  # not None: "number  in the queue"
