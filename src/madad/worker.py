"""Background work of one process: the job worker and the fact consumers, until stopped."""

from __future__ import annotations

import asyncio

from madad import jobs, registry
from madad.activity import service as activity
from madad.bus import Bus
from madad.config import Settings
from madad.db import Database

assert registry.REGISTERING  # handlers and consumers are registered by importing registry


async def run_worker(db: Database, bus: Bus, settings: Settings, stop: asyncio.Event) -> None:
    wakeups = await bus.subscribe(jobs.WAKE_TOPIC)
    worker = jobs.Worker(db, settings)
    try:
        await asyncio.gather(worker.run(stop, wakeups), activity.run_consumers(db, stop))
    finally:
        await wakeups.close()
