"""Durable jobs: the transactional outbox, the scheduler and the worker loop.

A job is a row written in the same transaction as the change that needs it, so a crash can
delay it but never lose it. Workers claim due jobs (`FOR UPDATE SKIP LOCKED` on PostgreSQL;
SQLite serialises writers) under a lease; a worker that dies mid-job leaves the lease to expire
and the job to be retried. Handlers must be idempotent: delivery is at least once, and the
handler's own database writes commit together with the job's completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, Integer, String, Text, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from madad.bus import Subscription
from madad.config import Settings
from madad.db import Base, BigIntPK, Database, after_commit, commit, tx_state, utcnow
from madad.dialects import insert_ignoring_conflicts

log = logging.getLogger("madad.jobs")

WAKE_TOPIC = "jobs"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "run_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    run_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    locked_by: Mapped[str | None] = mapped_column(String(100))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class RetryLater(Exception):
    """Raised by a handler that made progress worth keeping (e.g. a delivery log entry) but
    wants to run again later: its writes are committed and the job is rescheduled."""

    def __init__(self, reason: str, *, delay: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


@dataclass
class JobContext:
    """What a handler gets. `session` is the job's unit of work: its first statement opens a
    write transaction (which on SQLite holds the database's write lock), so a handler that waits
    on the network reads what it needs through `db` first and touches `session` only after."""

    session: AsyncSession
    db: Database
    job_id: int
    kind: str
    payload: dict[str, Any]
    attempt: int
    max_attempts: int
    settings: Settings

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


Handler = Callable[[JobContext], Awaitable[None]]


@dataclass
class _Periodic:
    name: str
    every: float
    kind: str


@dataclass
class Registry:
    handlers: dict[str, Handler] = field(default_factory=dict)
    periodic: list[_Periodic] = field(default_factory=list)


registry = Registry()


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind`."""

    def register(fn: Handler) -> Handler:
        existing = registry.handlers.get(kind)
        if existing is not None and existing is not fn:
            raise RuntimeError(f"two handlers for job kind {kind!r}")
        registry.handlers[kind] = fn
        return fn

    return register


def periodic(name: str, *, every_seconds: float) -> Callable[[Handler], Handler]:
    """Run the handler about every `every_seconds`, once per period across all workers."""

    def register(fn: Handler) -> Handler:
        kind = f"periodic:{name}"
        handler(kind)(fn)
        if not any(p.name == name for p in registry.periodic):
            registry.periodic.append(_Periodic(name, every_seconds, kind))
        return fn

    return register


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: ~10 s, 20 s, 40 s … capped at an hour."""
    base = min(10 * 2 ** max(attempt - 1, 0), 3600)
    return base * (0.75 + random.random() / 2)


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    delay: float | None = None,
    idempotency_key: str | None = None,
    max_attempts: int | None = None,
) -> None:
    """Add a job to the unit of work; it becomes visible to workers when the unit commits.

    With an idempotency key, enqueueing the same key twice (even in different transactions)
    keeps one job.
    """
    now = utcnow()
    when = run_at or (now + timedelta(seconds=delay) if delay else now)
    values = {
        "kind": kind,
        "payload": payload or {},
        "status": "pending",
        "run_at": when,
        "attempts": 0,
        "max_attempts": max_attempts or _default_max_attempts(session),
        "idempotency_key": idempotency_key,
        "created_at": now,
    }
    if idempotency_key:
        stmt = insert_ignoring_conflicts(
            session, Job.__table__, index_elements=["idempotency_key"]
        ).values(**values)
        await session.execute(stmt)
    else:
        session.add(Job(**values))
    if when <= now + timedelta(seconds=1):
        _wake_after_commit(session)


def _default_max_attempts(session: AsyncSession) -> int:
    settings: Settings | None = session.info.get("settings")
    return settings.job_max_attempts if settings else 8


def _wake_after_commit(session: AsyncSession) -> None:
    state = tx_state(session)
    bus = session.info.get("bus")
    if bus is None or state.get("jobs_wake"):
        return
    state["jobs_wake"] = True

    async def wake() -> None:
        await bus.publish(WAKE_TOPIC, {})

    after_commit(session, wake)


async def claim(session: AsyncSession, worker: str, limit: int, lease_seconds: float) -> list[Job]:
    """Mark up to `limit` due jobs as running for `worker` and return them (caller commits)."""
    now = utcnow()
    due = (
        select(Job.id)
        .where(Job.status == "pending", Job.run_at <= now)
        .order_by(Job.run_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list((await session.execute(due)).scalars())
    if not ids:
        return []
    stmt = (
        update(Job)
        .where(Job.id.in_(ids))
        .values(
            status="running",
            attempts=Job.attempts + 1,
            locked_by=worker,
            locked_until=now + timedelta(seconds=lease_seconds),
        )
        .returning(Job)
        .execution_options(synchronize_session=False)
    )
    return list((await session.execute(stmt)).scalars())


async def reclaim_expired(session: AsyncSession) -> int:
    """Return jobs whose worker vanished (lease expired) to the queue."""
    now = utcnow()
    result = await session.execute(
        update(Job)
        .where(Job.status == "running", Job.locked_until < now)
        .values(status="pending", run_at=now, locked_by=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


class Worker:
    """Claims and runs jobs until stopped. Several may run, in one process or many."""

    def __init__(self, db: Database, settings: Settings, *, name: str | None = None) -> None:
        self.db = db
        self.settings = settings
        self.name = name or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._slots = asyncio.Semaphore(settings.worker_concurrency)
        self._running: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._last_reclaim = 0.0
        self._next_periodic: dict[str, float] = {}

    def wake(self) -> None:
        self._wake.set()

    async def run(self, stop: asyncio.Event, wakeups: Subscription | None = None) -> None:
        listener = asyncio.create_task(self._listen(wakeups)) if wakeups else None
        try:
            while not stop.is_set():
                try:
                    started = await self.run_once()
                except Exception:
                    log.exception("worker iteration failed")
                    started = 0
                if started == 0:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(self.settings.worker_poll_seconds):
                            await _first(self._wake.wait(), stop.wait())
        finally:
            if listener:
                listener.cancel()
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)

    async def _listen(self, wakeups: Subscription) -> None:
        async for _ in wakeups:
            self._wake.set()

    async def run_once(self) -> int:
        """Claim what fits in the free slots and start it; return how many jobs started."""
        await self._housekeeping()
        free = self.settings.worker_concurrency - len(self._running)
        if free <= 0:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            return 1
        async with self.db.session() as session:
            jobs = await claim(
                session,
                self.name,
                min(free, self.settings.job_batch_size),
                self.settings.job_lease_seconds,
            )
        for job in jobs:
            task = asyncio.create_task(self._execute(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(jobs)

    async def drain(self, *, max_seconds: float = 30.0) -> int:
        """Run due jobs until none is left (tests and CLI); return how many ran."""
        ran = 0
        deadline = time.monotonic() + max_seconds
        while time.monotonic() < deadline:
            started = await self.run_once()
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            ran += started
            if started == 0:
                return ran
        return ran

    async def _housekeeping(self) -> None:
        now = time.monotonic()
        if now - self._last_reclaim > 15:
            self._last_reclaim = now
            async with self.db.session() as session:
                count = await reclaim_expired(session)
            if count:
                log.warning("reclaimed %d jobs whose lease expired", count)
        for p in registry.periodic:
            if self._next_periodic.get(p.name, 0) > now:
                continue
            self._next_periodic[p.name] = now + p.every
            slot = int(time.time() // p.every)
            async with self.db.session() as session:
                await enqueue(session, p.kind, {"slot": slot}, idempotency_key=f"{p.kind}:{slot}")

    async def _execute(self, job: Job) -> None:
        async with self._slots:
            fn = registry.handlers.get(job.kind)
            session = self.db.new_session()
            try:
                if fn is None:
                    raise LookupError(f"no handler for job kind {job.kind!r}")
                ctx = JobContext(
                    session=session,
                    db=self.db,
                    job_id=job.id,
                    kind=job.kind,
                    payload=job.payload,
                    attempt=job.attempts,
                    max_attempts=job.max_attempts,
                    settings=self.settings,
                )
                await fn(ctx)
                await session.execute(
                    update(Job)
                    .where(Job.id == job.id, Job.locked_by == self.name)
                    .values(status="done", finished_at=utcnow(), locked_until=None, last_error=None)
                    .execution_options(synchronize_session=False)
                )
                await commit(session)
            except RetryLater as retry:
                # Keep what the handler wrote, and reschedule in the same transaction.
                await self._reschedule(session, job, retry.reason, retry.delay)
                await commit(session)
            except asyncio.CancelledError:
                await session.rollback()
                raise
            except Exception as exc:
                await session.rollback()
                log.warning(
                    "job %s (%s) failed on attempt %d: %s",
                    job.id,
                    job.kind,
                    job.attempts,
                    _error_text(exc),
                )
                async with self.db.session() as fail_session:
                    await self._reschedule(
                        fail_session, job, _error_text(exc), None, fatal=fn is None
                    )
            finally:
                await session.close()

    async def _reschedule(
        self,
        session: AsyncSession,
        job: Job,
        reason: str,
        delay: float | None,
        *,
        fatal: bool = False,
    ) -> None:
        dead = fatal or job.attempts >= job.max_attempts
        values: dict[str, Any] = {
            "locked_by": None,
            "locked_until": None,
            "last_error": reason[:2000],
        }
        if dead:
            values.update(status="dead", finished_at=utcnow())
        else:
            wait = delay if delay is not None else backoff_seconds(job.attempts)
            values.update(status="pending", run_at=utcnow() + timedelta(seconds=wait))
        await session.execute(
            update(Job)
            .where(Job.id == job.id, Job.locked_by == self.name)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def _first(*aws: Awaitable[Any]) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


@periodic("jobs.purge", every_seconds=3600)
async def purge_finished_jobs(ctx: JobContext) -> None:
    """Delete jobs finished more than `jobs_keep_done_days` ago (dead ones stay for review)."""
    cutoff = utcnow() - timedelta(days=ctx.settings.jobs_keep_done_days)
    await ctx.session.execute(delete(Job).where(Job.status == "done", Job.finished_at < cutoff))


async def list_jobs(
    session: AsyncSession, *, status: str | None = None, limit: int = 50
) -> list[Job]:
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if status:
        stmt = stmt.where(Job.status == status)
    return list((await session.execute(stmt)).scalars())


async def retry_job(session: AsyncSession, job_id: int) -> bool:
    """Give a dead job a fresh set of attempts."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "dead")
        .values(status="pending", attempts=0, run_at=utcnow(), finished_at=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)
