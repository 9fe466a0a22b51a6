"""Rebuilding the rollups from all facts, in parts: on PostgreSQL in worker processes.

The facts are split into parts that are complete for what they add up: ranges of contact ids
(a ticket's contributions depend only on its contact's facts) and groups of tickets without a
contact. Each part is folded on its own and its tickets stored; the sums of all parts are
merged and written once.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as activity_service
from madad.activity.models import Activity
from madad.activity.service import FACT_COLUMNS, Fact
from madad.config import Settings
from madad.db import Database, utcnow
from madad.dialects import bulk_insert, is_postgres
from madad.errors import Invalid
from madad.metrics.models import MetricTicket
from madad.metrics.rollups import (
    CONSUMER,
    ROLLUP_TABLES,
    Sums,
    contributions,
    facts_of,
    fold,
    is_postgres_db,
    summary,
)

Progress = Callable[[int, int], None]
# ("contacts", (lo, hi)): the facts of contacts lo ≤ id < hi; ("tickets", [ids]): the facts of
# these tickets, which have no contact.
Part = tuple[Literal["contacts"], tuple[int, int]] | tuple[Literal["tickets"], list[int]]
Position = tuple[int, int]  # (txid, id) of the last fact a rebuild reads
MAX_PROCESSES = 4


@dataclass(frozen=True)
class Rebuilt:
    """What a rebuild read, how long it took, and in how many processes."""

    tickets: int
    facts: int
    seconds: float
    processes: int = 1


def parts_of(top: int, loose: Sequence[int], chunk: int) -> list[Part]:
    """Contact ids 0…top in ranges of `chunk` ids, then the contact-less tickets in groups of
    `chunk`: every contact id and every ticket of `loose` in exactly one part."""
    parts: list[Part] = [
        ("contacts", (lo, min(lo + chunk, top + 1))) for lo in range(0, top + 1, chunk)
    ]
    parts += [("tickets", list(loose[i : i + chunk])) for i in range(0, len(loose), chunk)]
    return parts


def default_processes(parts: int) -> int:
    """One process per core, at most four, and at least eight parts for each."""
    return max(1, min(MAX_PROCESSES, os.cpu_count() or 1, parts // 8))


async def rebuild(
    db: Database,
    *,
    progress: Progress | None = None,
    chunk: int = 2000,
    processes: int | None = None,
) -> Rebuilt:
    """Recompute every rollup from the facts up to now.

    The consumer is paused and set to the last visible fact first; the rollups are then
    rebuilt in short transactions (so other consumers, which read in commit order, are not held
    up by one long one) from the facts up to that position; then the consumer resumes after it.
    If a rebuild dies half-way, the consumer stays paused until the next rebuild completes.

    On PostgreSQL the parts are shared out among `processes` worker processes (default: see
    `default_processes`); on SQLite, whose writers take turns anyway, and with one process,
    this process does them all.
    """
    if processes is not None and processes < 1:
        raise Invalid("processes", "must be at least 1")
    started = datetime.now().timestamp()
    async with db.session() as session:
        await activity_service.hold_consumer(session, CONSUMER)
        last = await activity_service.last_position(session)
        await activity_service.pause_consumer(session, CONSUMER, f"rebuild since {utcnow():%c}")
        for table in (*ROLLUP_TABLES, MetricTicket):
            await session.execute(delete(table))
        if last is not None:
            await activity_service.move_consumer(session, CONSUMER, txid=last[0], last_id=last[1])
    if last is None:
        async with db.session() as session:
            await activity_service.pause_consumer(session, CONSUMER, None)
        return Rebuilt(0, 0, 0.0)
    async with db.session(write=False) as session:
        upto = activity_service.up_to(last, is_postgres(session))
        top = await session.scalar(select(func.max(Activity.contact_id)).where(upto)) or 0
        loose = sorted(
            (
                await session.execute(
                    select(Activity.ticket_id)
                    .where(Activity.contact_id.is_(None), Activity.ticket_id.is_not(None), upto)
                    .distinct()
                )
            ).scalars()
        )
    parts = parts_of(top, loose, chunk)
    wanted = processes if processes is not None else default_processes(len(parts))
    workers = min(wanted, len(parts)) if is_postgres_db(db) else 1
    if workers > 1:
        sums, tickets, facts = await _in_workers(db.settings, last, parts, workers, progress)
    else:
        sums = Sums()
        claims = iter(range(len(parts)))

        def finished(done: int) -> None:
            if progress:
                progress(done, len(parts))

        tickets, facts = await _work_through(
            db, last, parts, lambda: next(claims, None), finished, sums
        )
    async with db.session() as session:
        await sums.write(session, fresh=True)
        await activity_service.pause_consumer(session, CONSUMER, None)
    if is_postgres_db(db):
        async with db.engine.connect() as conn:  # statistics and visibility maps
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in (*ROLLUP_TABLES, MetricTicket):
                await conn.exec_driver_sql(f"VACUUM ANALYZE {table.__tablename__}")
    return Rebuilt(tickets, facts, datetime.now().timestamp() - started, workers)


async def _work_through(
    db: Database,
    last: Position,
    parts: Sequence[Part],
    claim: Callable[[], int | None],
    finished: Callable[[int], None],
    sums: Sums,
) -> tuple[int, int]:
    """Do the parts `claim` gives (their indexes; None or one past the end: no more): store
    their tickets, add their contributions to `sums`; return how many tickets and facts they
    had. `finished` hears how many parts this call has done."""
    tickets = facts = done = 0

    def fetch_next() -> asyncio.Task[list[Fact]] | None:
        i = claim()
        if i is None or i >= len(parts):
            return None
        return asyncio.create_task(_facts_of_part(db, last, parts[i]))

    # The database reads the next part while this process folds the current one.
    ahead = fetch_next()
    while ahead is not None:
        got = await ahead
        ahead = fetch_next()
        async with db.session() as session:
            tickets += await _rebuild_part(session, got, sums)
        facts += len(got)
        done += 1
        finished(done)
    return tickets, facts


async def _facts_of_part(db: Database, last: Position, part: Part) -> list[Fact]:
    async with db.session(write=False) as session:
        upto = activity_service.up_to(last, is_postgres(session))
        if part[0] == "tickets":
            return await facts_of(session, [], part[1], upto=upto)
        lo, hi = part[1]
        conn = await session.connection()
        stmt = select(*FACT_COLUMNS).where(
            Activity.contact_id >= lo,
            Activity.contact_id < hi,
            Activity.ticket_id.is_not(None),
            upto,
        )
        return [Fact(*row) for row in await conn.execute(stmt)]


async def _rebuild_part(session: AsyncSession, facts: list[Fact], sums: Sums) -> int:
    ctx = fold(facts)
    rows = []
    for t in ctx.tickets.values():
        new = contributions(t, ctx)
        sums.add(new)
        rows.append({**summary(t, ctx), "contributed": {"rows": [list(r) for r in new]}})
    if rows:
        columns = list(rows[0])
        await bulk_insert(
            session, MetricTicket.__table__, columns, [tuple(r[c] for c in columns) for r in rows]
        )
    return len(rows)


# --- worker processes ---------------------------------------------------------------------------


async def _in_workers(
    settings: Settings,
    last: Position,
    parts: list[Part],
    processes: int,
    progress: Progress | None,
) -> tuple[Sums, int, int]:
    """Share the parts out among worker processes, each with its own engine: each takes the
    next part not yet taken until none is left, then hands back its sums, which are merged
    here. If one fails, the others stop after the part they are doing."""
    ctx = multiprocessing.get_context("spawn")
    next_part, done, stop = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Event()
    with ProcessPoolExecutor(
        processes, mp_context=ctx, initializer=_share, initargs=(next_part, done, stop)
    ) as pool:
        futures = [
            asyncio.wrap_future(pool.submit(_work, settings, last, parts)) for _ in range(processes)
        ]
        try:
            pending: set[asyncio.Future[tuple[Sums, int, int]]] = set(futures)
            while pending:
                finished, pending = await asyncio.wait(pending, timeout=0.5)
                for f in finished:
                    f.result()  # a worker's error, raised here
                if progress:
                    progress(done.value, len(parts))
        except BaseException:
            stop.set()
            raise
    results = [f.result() for f in futures]
    sums = results[0][0]
    for other, _, _ in results[1:]:
        sums.merge(other)
    return sums, sum(r[1] for r in results), sum(r[2] for r in results)


# What the worker processes share: the next part to take, parts done, and a signal to stop.
_shared: dict[str, Any] = {}


def _share(next_part: Synchronized[int], done: Synchronized[int], stop: Event) -> None:
    _shared.update(next_part=next_part, done=done, stop=stop)


def _claim() -> int | None:
    next_part: Synchronized[int] = _shared["next_part"]
    if _shared["stop"].is_set():
        return None
    with next_part.get_lock():
        i = next_part.value
        next_part.value = i + 1
    return i


def _finished(_done_here: int) -> None:
    done: Synchronized[int] = _shared["done"]
    with done.get_lock():
        done.value += 1


def _work(settings: Settings, last: Position, parts: list[Part]) -> tuple[Sums, int, int]:
    """A worker process's task: do parts until none is left; its sums, tickets and facts."""

    async def run() -> tuple[Sums, int, int]:
        db = Database(settings)
        sums = Sums()
        try:
            tickets, facts = await _work_through(db, last, parts, _claim, _finished, sums)
        finally:
            await db.dispose()
        return sums, tickets, facts

    return asyncio.run(run())
