"""Two `madad serve` processes receiving the same customers at once, each message sent twice.

What the ingress promises under races: one contact per customer, one ticket per conversation,
every message stored exactly once, and every answer naming the ticket it was stored in.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict

import httpx
from sqlalchemy import func, select

from madad.auth.models import Role
from madad.auth.permissions import Scope
from madad.config import Settings
from madad.contacts.models import Contact
from madad.db import Database
from madad.tickets.models import Message, Ticket
from tests.conftest import make_person
from tests.servers import settings_env, spawn_server

CUSTOMERS = 4
CONVERSATIONS = 2  # per customer
MESSAGES = 6  # per conversation


async def test_racing_processes_store_each_message_once_in_the_right_ticket(
    settings: Settings, db: Database
) -> None:
    integration = await make_person(db, role=Role.admin, scopes=[Scope.inbound])
    bodies = [
        {
            "external_id": f"c{c}-v{v}-m{m}",
            "contact": {"email": f"customer{c}@example.com", "name": f"Customer {c}"},
            "conversation_id": f"c{c}-v{v}",
            "text": f"message {m} of conversation {v}",
        }
        for c in range(CUSTOMERS)
        for v in range(CONVERSATIONS)
        for m in range(MESSAGES)
    ]
    sends = bodies * 2  # every message twice, to either process
    random.Random(7).shuffle(sends)
    with spawn_server(settings_env(settings)) as one, spawn_server(settings_env(settings)) as two:
        limit = asyncio.Semaphore(16)
        async with httpx.AsyncClient(headers=integration.headers, timeout=30) as client:

            async def send(n: int, body: dict) -> tuple[str, dict]:
                async with limit:
                    base = (one, two)[n % 2]
                    r = await client.post(base + "/api/v1/inbound", json=body)
                    assert r.status_code in (200, 201), r.text
                    return body["external_id"], r.json()

            answers = await asyncio.gather(*(send(n, b) for n, b in enumerate(sends)))

    by_message: dict[str, list[dict]] = defaultdict(list)
    for external_id, answer in answers:
        by_message[external_id].append(answer)
    for external_id, pair in by_message.items():
        assert len(pair) == 2
        assert pair[0]["message_id"] == pair[1]["message_id"], external_id
        assert pair[0]["ticket_id"] == pair[1]["ticket_id"], external_id
        assert sorted(a["created"] for a in pair) == [False, True], external_id

    async with db.session(write=False) as session:
        assert (await session.execute(select(func.count(Contact.id)))).scalar_one() == CUSTOMERS
        tickets = (await session.execute(select(func.count(Ticket.id)))).scalar_one()
        assert tickets == CUSTOMERS * CONVERSATIONS
        rows = (
            await session.execute(
                select(Message.external_id, Message.ticket_id, Ticket.conversation_key).join(
                    Ticket, Ticket.id == Message.ticket_id
                )
            )
        ).all()
    assert len(rows) == len(bodies)
    for external_id, ticket_id, conversation in rows:
        assert external_id.rsplit("-", 1)[0] == conversation
        assert by_message[external_id][0]["ticket_id"] == ticket_id
