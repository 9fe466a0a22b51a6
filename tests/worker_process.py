"""A worker process for tests: `python -m tests.worker_process MODE`, settings from MADAD_*.

Registers test job kinds that leave evidence as facts (`test.ran`), then works the queue:
  drain  — until no job is left, then exit
  forever — until killed
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from madad import jobs
from madad.activity import service as facts
from madad.bus import MemoryBus
from madad.config import Settings
from madad.db import Database


@jobs.handler("test.record")
async def record(ctx: jobs.JobContext) -> None:
    await asyncio.sleep(float(ctx.payload.get("sleep", 0)))
    facts.record(
        ctx.session,
        "test.ran",
        data={"job": ctx.job_id, "pid": os.getpid(), "attempt": ctx.attempt},
    )


@jobs.handler("test.slow_first_time")
async def slow_first_time(ctx: jobs.JobContext) -> None:
    if ctx.attempt == 1:
        Path(ctx.payload["started_file"]).write_text(str(os.getpid()))
        await asyncio.sleep(600)  # killed long before this ends
    facts.record(ctx.session, "test.ran", data={"job": ctx.job_id, "attempt": ctx.attempt})


async def main(mode: str) -> None:
    settings = Settings()
    db = Database(settings, bus=MemoryBus())
    worker = jobs.Worker(db, settings)
    try:
        if mode == "drain":
            await worker.drain(max_seconds=120)
        else:
            await worker.run(asyncio.Event())
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
