"""Bulk imports parse in a worker process while the database stores: the same outcome as one
process, in order, and nothing lost when the worker is killed mid-import."""

from __future__ import annotations

import multiprocessing
import os
import signal

from sqlalchemy import func, select

from madad.channels.email.bulk import ingest_batches
from madad.channels.email.ingest import Arrival, ingest_many
from madad.channels.email.models import EmailRecord
from madad.db import Database
from madad.tickets.models import Message
from tests.channels.email.conftest import CORPUS
from tests.channels.email.helpers import raw_email


def _corpus() -> list[bytes]:
    return [p.read_bytes() for p in sorted(CORPUS.glob("*.eml"))]


async def _dispositions(db: Database) -> list[tuple[str, str]]:
    async with db.session(write=False) as session:
        rows = await session.execute(
            select(EmailRecord.external_id, EmailRecord.kind)
            .where(EmailRecord.direction == "inbound")
            .order_by(EmailRecord.external_id)
        )
        return [(e, k) for e, k in rows]


async def test_a_parser_process_gives_what_one_process_gives(db: Database) -> None:
    raws = _corpus()
    batches = [[Arrival(r, "file") for r in raws[i : i + 7]] for i in range(0, len(raws), 7)]
    seen: list[str] = []
    async for batch, results in ingest_batches(db, batches, processes=1):
        assert len(results) == len(batch)
        seen += [r.disposition for r in results]
    stored = await _dispositions(db)
    assert len(seen) == len(raws) and "message" in seen and "bounce" in seen
    # The same emails again, parsed in this process: every one is known.
    again = await ingest_many(db, [Arrival(r, "file") for r in raws])
    assert {r.disposition for r in again} == {"duplicate"}
    assert await _dispositions(db) == stored


async def test_a_killed_parser_process_loses_nothing(db: Database) -> None:
    raws = [raw_email(message_id=f"bulk-{n}@example.com", subject=f"Order {n}") for n in range(60)]
    batches = [[Arrival(r, "file") for r in raws[i : i + 10]] for i in range(0, 60, 10)]
    results = []
    killed = False
    async for _batch, stored in ingest_batches(db, batches, processes=1):
        results += stored
        if not killed:
            workers = multiprocessing.active_children()
            assert workers, "the parser runs in a worker process"
            for worker in workers:
                os.kill(worker.pid, signal.SIGKILL)
            killed = True
    assert [r.disposition for r in results] == ["message"] * 60
    async with db.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 60
