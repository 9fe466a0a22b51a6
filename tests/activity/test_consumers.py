"""Fact consumers read every fact once, in commit order — even when ids commit out of order."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.activity.models import Activity
from madad.db import Database, commit

seen: list[tuple[int, str]] = []


@facts.consumer("test.collector")
async def collect(session: AsyncSession, batch: list[facts.Fact]) -> None:
    seen.extend((f.id, f.kind) for f in batch if f.kind.startswith("test."))


async def consume(db: Database) -> int:
    return await facts.consume_once(db, facts.consumers["test.collector"])


async def test_each_fact_reaches_a_consumer_once(db: Database) -> None:
    seen.clear()
    async with db.session() as session:
        for i in range(5):
            facts.record(session, f"test.{i}")
    assert await consume(db) >= 5
    assert await consume(db) == 0
    async with db.session() as session:
        facts.record(session, "test.later")
    await consume(db)
    assert [k for _, k in seen] == ["test.0", "test.1", "test.2", "test.3", "test.4", "test.later"]


async def test_a_consumer_that_fails_does_not_advance(db: Database) -> None:
    calls = []

    @facts.consumer("test.failing_once")
    async def failing(session: AsyncSession, batch: list[facts.Fact]) -> None:
        calls.append([f.kind for f in batch])
        if len(calls) == 1:
            raise RuntimeError("broken handler")

    try:
        async with db.session() as session:
            facts.record(session, "test.x")
        with pytest.raises(RuntimeError):
            await facts.consume_once(db, facts.consumers["test.failing_once"])
        async with db.session(write=False) as session:
            positions = {c.consumer: c for c in await facts.consumer_positions(session)}
        assert positions["test.failing_once"].failures == 1
        assert "broken handler" in (positions["test.failing_once"].last_error or "")
        await facts.consume_once(db, facts.consumers["test.failing_once"])
        assert calls[0] == calls[1]  # the same facts again, not skipped
    finally:
        del facts.consumers["test.failing_once"]


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
async def test_a_fact_that_commits_late_is_not_skipped(db: Database) -> None:
    """On PostgreSQL ids are handed out at insert: a transaction holding a smaller id can commit
    after a larger id was already visible. A consumer that followed ids alone would skip it."""
    seen.clear()
    slow = db.new_session()
    try:
        facts.record(slow, "test.slow")
        await facts.flush_facts(slow)  # takes the smaller id, not yet committed
        slow_id = (
            await slow.execute(select(Activity.id).where(Activity.kind == "test.slow"))
        ).scalar_one()
        async with db.session() as fast:
            facts.record(fast, "test.fast")
        await consume(db)
        # The fast fact is visible, but reading it now would leave the slow one behind.
        assert "test.slow" not in [k for _, k in seen]
        await commit(slow)
    finally:
        await slow.close()
    for _ in range(3):
        await consume(db)
        await asyncio.sleep(0)
    kinds = [k for _, k in seen]
    assert kinds.count("test.slow") == 1 and kinds.count("test.fast") == 1
    assert kinds.index("test.slow") < kinds.index("test.fast")
    assert slow_id < max(i for i, k in seen if k == "test.fast")


@pytest.mark.parametrize("dialect", ["postgres"])  # SQLite: a database per file, nothing shared
async def test_a_long_transaction_in_another_database_holds_nothing_back(db: Database) -> None:
    """Transaction ids are shared by every database of a PostgreSQL server; a writer that stays
    open elsewhere (another application, a migration, a report) must not stall Madad's
    consumers."""
    url = db.settings.database_url.replace("+asyncpg", "")
    other = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        elsewhere = other.transaction()
        await elsewhere.start()
        await other.fetchval("SELECT pg_current_xact_id()")  # holds a transaction id open
        seen.clear()
        async with db.session() as session:
            facts.record(session, "test.meanwhile")
        await consume(db)
        assert [k for _, k in seen] == ["test.meanwhile"]
        await elsewhere.rollback()
    finally:
        await other.close()


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
async def test_draining_names_the_transaction_that_holds_facts_back(db: Database) -> None:
    """A drain that cannot catch up says who holds it back instead of returning as if done."""
    url = db.settings.database_url.replace("+asyncpg", "")
    holder = await asyncpg.connect(url, server_settings={"application_name": "long report"})
    try:
        open_tx = holder.transaction()
        await open_tx.start()
        pid = await holder.fetchval("SELECT pg_backend_pid()")
        await holder.fetchval("SELECT pg_current_xact_id()")  # a transaction id, held open
        async with db.session() as session:
            facts.record(session, "test.after")  # committed, but after the holder began
        with pytest.raises(facts.FactsHeldBack, match=rf"pid {pid} \(long report, idle in tr"):
            await facts.drain_consumers(db, settle_seconds=0.3)
        await open_tx.rollback()
        seen.clear()
        await facts.drain_consumers(db, settle_seconds=0.3)
        assert "test.after" in [k for _, k in seen]
    finally:
        await holder.close()
