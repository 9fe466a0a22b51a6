"""The ingress's group commit: a burst shares few transactions, each message stored once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from madad.channels.intake import IntakeBatcher
from madad.db import Database
from madad.files import FileStore
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, Sender
from madad.tickets.models import Message


async def test_a_burst_of_300_messages_commits_in_a_few_batches(db: Database) -> None:
    intake = IntakeBatcher(db, FileStore(db.settings.files_dir))
    intake.start()
    try:
        prepared = [
            tickets.prepare(
                Inbound(
                    channel="api",
                    sender=Sender(handle=f"burst-{n % 40}"),
                    text=f"message {n}",
                    external_id=f"burst:{n}",
                ),
                db.settings,
            )
            for n in range(300)
        ]
        received = await asyncio.gather(*(intake.submit(p) for p in prepared))
    finally:
        await intake.stop()
    assert all(r.created for r in received)
    assert len({r.message_id for r in received}) == 300
    # Under load a batch grows past the old cap of 64: the queue is drained, not trickled.
    assert intake.messages == 300
    assert intake.batches <= 3
    async with db.session(write=False) as session:
        stored = await session.scalar(
            select(func.count(Message.id)).where(Message.external_id.like("burst:%"))
        )
    assert stored == 300
