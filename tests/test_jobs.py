"""Durable jobs: outbox semantics, retries with backoff, dead jobs, leases — and real processes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from madad import jobs
from madad.activity import service as facts
from madad.activity.models import Activity
from madad.config import Settings
from madad.db import Database, utcnow
from madad.jobs import Job
from tests import worker_process  # noqa: F401 - registers the test.* job kinds

ROOT = Path(__file__).resolve().parents[1]
calls: list[int] = []


@jobs.handler("test.flaky")
async def flaky(ctx: jobs.JobContext) -> None:
    calls.append(ctx.attempt)
    if ctx.attempt < int(ctx.payload["succeed_on"]):
        raise RuntimeError(f"boom {ctx.attempt}")
    facts.record(ctx.session, "test.ran", data={"job": ctx.job_id})


@jobs.handler("test.retry_later")
async def retry_later(ctx: jobs.JobContext) -> None:
    facts.record(ctx.session, "test.progress", data={"attempt": ctx.attempt})
    if ctx.attempt == 1:
        raise jobs.RetryLater("not yet", delay=0)


async def job(db: Database, job_id: int) -> Job:
    async with db.session(write=False) as session:
        row = await session.get(Job, job_id)
        assert row is not None
        return row


async def enqueue(db: Database, kind: str, payload: dict, **kw: object) -> int:
    async with db.session() as session:
        await jobs.enqueue(session, kind, payload, **kw)  # type: ignore[arg-type]
    async with db.session(write=False) as session:
        return await session.scalar(select(Job.id).order_by(Job.id.desc()).limit(1))  # type: ignore[return-value]


async def ran(db: Database) -> list[dict]:
    async with db.session(write=False) as session:
        rows = await session.execute(select(Activity.data).where(Activity.kind == "test.ran"))
        return list(rows.scalars())


async def test_a_job_runs_and_its_writes_commit_with_its_completion(
    db: Database, settings: Settings
) -> None:
    job_id = await enqueue(db, "test.record", {})
    await jobs.Worker(db, settings).drain()
    assert (await job(db, job_id)).status == "done"
    assert [r["job"] for r in await ran(db)] == [job_id]


async def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await jobs.enqueue(session, "test.record", {})
            raise RuntimeError("the request failed")
    async with db.session(write=False) as session:
        assert (await session.execute(select(Job))).first() is None


async def test_failures_are_retried_with_backoff_then_succeed(
    db: Database, settings: Settings
) -> None:
    calls.clear()
    job_id = await enqueue(db, "test.flaky", {"succeed_on": 3}, max_attempts=5)
    worker = jobs.Worker(db, settings)
    await worker.drain()
    row = await job(db, job_id)
    assert row.status == "pending" and row.attempts == 1 and "boom 1" in (row.last_error or "")
    assert row.run_at > utcnow() + timedelta(seconds=5)  # backed off, not hot-looping
    for _ in range(2):
        async with db.session() as session:  # time passes
            await session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))
        await worker.drain()
    row = await job(db, job_id)
    assert row.status == "done" and row.attempts == 3 and calls == [1, 2, 3]
    assert len(await ran(db)) == 1  # failed attempts left no writes behind


async def test_a_job_that_keeps_failing_ends_dead_and_can_be_retried(
    db: Database, settings: Settings
) -> None:
    job_id = await enqueue(db, "test.flaky", {"succeed_on": 99}, max_attempts=2)
    worker = jobs.Worker(db, settings)
    for _ in range(2):
        async with db.session() as session:
            await session.execute(update(Job).where(Job.id == job_id).values(run_at=utcnow()))
        await worker.drain()
    row = await job(db, job_id)
    assert row.status == "dead" and row.attempts == 2 and row.finished_at is not None
    async with db.session() as session:
        assert await jobs.retry_job(session, job_id)
    assert (await job(db, job_id)).status == "pending"


async def test_unknown_kinds_go_dead_at_once(db: Database, settings: Settings) -> None:
    job_id = await enqueue(db, "nobody.handles.this", {})
    await jobs.Worker(db, settings).drain()
    row = await job(db, job_id)
    assert row.status == "dead" and "no handler" in (row.last_error or "")


async def test_retry_later_keeps_the_handlers_writes(db: Database, settings: Settings) -> None:
    job_id = await enqueue(db, "test.retry_later", {})
    worker = jobs.Worker(db, settings)
    await worker.drain()
    await worker.drain()
    assert (await job(db, job_id)).status == "done"
    async with db.session(write=False) as session:
        progress = (
            (await session.execute(select(Activity.data).where(Activity.kind == "test.progress")))
            .scalars()
            .all()
        )
    assert [p["attempt"] for p in progress] == [1, 2]


async def test_idempotency_key_keeps_one_job(db: Database) -> None:
    for _ in range(3):
        async with db.session() as session:
            await jobs.enqueue(session, "test.record", {}, idempotency_key="once")
    async with db.session(write=False) as session:
        assert len((await session.execute(select(Job))).all()) == 1


async def test_delayed_jobs_wait_for_their_time(db: Database, settings: Settings) -> None:
    job_id = await enqueue(db, "test.record", {}, delay=3600)
    await jobs.Worker(db, settings).drain()
    assert (await job(db, job_id)).status == "pending"
    assert await ran(db) == []


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "MADAD_DATABASE_URL": settings.database_url,
        "MADAD_DATA_DIR": str(settings.data_dir),
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    if settings.database_schema:
        env["MADAD_DATABASE_SCHEMA"] = settings.database_schema
    return env


@pytest.mark.parametrize("dialect", ["postgres"], indirect=True)
async def test_two_worker_processes_never_run_a_job_twice(db: Database, settings: Settings) -> None:
    total = 300
    async with db.session() as session:
        for _ in range(total):
            await jobs.enqueue(session, "test.record", {"sleep": 0.002})
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.worker_process", "drain"],
            cwd=ROOT,
            env=_env(settings, MADAD_WORKER_CONCURRENCY="4", MADAD_JOB_BATCH_SIZE="5"),
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.wait(timeout=180) == 0
    runs = await ran(db)
    per_job = Counter(r["job"] for r in runs)
    assert len(per_job) == total and set(per_job.values()) == {1}
    pids = Counter(r["pid"] for r in runs)
    assert len(pids) == 2, f"both processes should have worked: {pids}"
    async with db.session(write=False) as session:
        statuses = Counter(
            (await session.execute(select(Job.status).where(Job.kind == "test.record"))).scalars()
        )
    assert statuses == {"done": total}


async def test_a_worker_killed_mid_job_leaves_it_to_be_retried(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    started = tmp_path / "started"
    job_id = await enqueue(db, "test.slow_first_time", {"started_file": str(started)})
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.worker_process", "forever"],
        cwd=ROOT,
        env=_env(settings, MADAD_JOB_LEASE_SECONDS="2"),
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert time.monotonic() < deadline, "the worker never started the job"
            assert proc.poll() is None, "the worker process died on its own"
            await asyncio.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    row = await job(db, job_id)
    assert row.status == "running" and row.attempts == 1  # the dead worker's claim stands
    assert await ran(db) == []
    await asyncio.sleep(2.2)  # the lease runs out
    await jobs.Worker(db, settings).drain()
    row = await job(db, job_id)
    assert row.status == "done" and row.attempts == 2
    assert [r["attempt"] for r in await ran(db)] == [2]
