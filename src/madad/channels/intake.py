"""Group commit for the ingress: concurrent requests of one process share transactions.

Each request validates its message (`tickets.prepare`) and submits it; a few intake tasks take
whatever has queued up and store it with `tickets.receive_many` in one transaction, then answer
every request. Under light load a batch is one message and nothing waits; under heavy load the
cost of a transaction is shared by everything that arrived meanwhile. A batch that collides with
another writer is retried, then split, so that one bad message cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from madad.db import Database
from madad.errors import MadadError
from madad.files import FileStore
from madad.tickets import service as tickets
from madad.tickets.inbound import Received

log = logging.getLogger("madad.intake")

# Called inside the batch's transaction with the message's result, to write what must commit
# with it (e.g. the remembered answer to an Idempotency-Key).
AlsoWrite = Callable[[AsyncSession, Received], None]


@dataclass
class _Request:
    prepared: tickets.Prepared
    also: AlsoWrite | None
    answer: asyncio.Future[Received]


class IntakeBatcher:
    def __init__(
        self, db: Database, store: FileStore, *, max_batch: int = 256, tasks: int = 1
    ) -> None:
        self.db = db
        self.store = store
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Request] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._n_tasks = tasks
        self.batches = 0
        self.messages = 0

    def start(self) -> None:
        for n in range(self._n_tasks):
            self._tasks.append(asyncio.create_task(self._work(), name=f"madad-intake-{n}"))

    async def stop(self) -> None:
        """Finish what was submitted, then stop."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(30):
                await self._queue.join()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def submit(
        self, prepared: tickets.Prepared, *, also: AlsoWrite | None = None
    ) -> Received:
        """Store the message; returns once its transaction committed (or raises what stopped it:
        a MadadError, or IntegrityError when a concurrent writer won a race — look again)."""
        if not self._tasks:
            raise RuntimeError("the intake batcher is not running")
        answer: asyncio.Future[Received] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Request(prepared, also, answer))
        return await answer

    async def _work(self) -> None:
        while True:
            first = await self._queue.get()
            # Let requests that are already being parsed join this batch.
            await asyncio.sleep(0)
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._store(batch)
            except Exception as exc:  # never let the task die: answer everyone
                log.exception("intake batch failed")
                for r in batch:
                    if not r.answer.done():
                        r.answer.set_exception(exc)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _store(self, batch: list[_Request]) -> None:
        for attempt in range(3):
            try:
                results = await self._transaction(batch)
            except (IntegrityError, DBAPIError) as exc:
                # Another process stored the same message or contact first, or a deadlock was
                # broken: the next attempt reads what it committed.
                log.info(
                    "intake batch of %d collided (attempt %d): %s",
                    len(batch),
                    attempt + 1,
                    type(exc).__name__,
                )
                await asyncio.sleep(0.005 * (attempt + 1))
                continue
            for r, result in zip(batch, results, strict=True):
                if isinstance(result, MadadError):
                    r.answer.set_exception(result)
                else:
                    r.answer.set_result(result)
            return
        if len(batch) == 1:
            try:
                results = await self._transaction(batch)
            except Exception as exc:
                batch[0].answer.set_exception(exc)
                return
            result = results[0]
            if isinstance(result, MadadError):
                batch[0].answer.set_exception(result)
            else:
                batch[0].answer.set_result(result)
            return
        # Split: a message that keeps failing must not take its neighbours with it.
        middle = len(batch) // 2
        await self._store(batch[:middle])
        await self._store(batch[middle:])

    async def _transaction(self, batch: list[_Request]) -> list[Received | MadadError]:
        async with self.db.session() as session:
            results = await tickets.receive_many(
                session, [r.prepared for r in batch], store=self.store
            )
            for r, result in zip(batch, results, strict=True):
                if r.also is not None and isinstance(result, Received):
                    r.also(session, result)
        self.batches += 1
        self.messages += len(batch)
        return results
