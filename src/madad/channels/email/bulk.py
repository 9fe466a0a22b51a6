"""Bulk email ingestion: batches stored in order while the next ones are parsed in worker
processes, so that parsing (CPU) and storing (the database) go on side by side.

For imports of files and Maildirs (`madad email ingest`) and the ingest benchmark. Mail that
arrives one message at a time (IMAP polls, the SMTP listener, the API) goes through
`ingest.ingest_many` directly. Parsing is pure (`parse.parse_email`), so a worker only needs the
raw bytes; if the workers die (killed, out of memory) the rest is parsed here, nothing is lost.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from madad.channels.email.ingest import Arrival, Ingested, ingest_many
from madad.channels.email.parse import ParsedEmail, parse_many
from madad.db import Database
from madad.files import FileStore

log = logging.getLogger(__name__)


async def ingest_batches(
    db: Database,
    batches: Iterable[Sequence[Arrival]],
    *,
    store: FileStore | None = None,
    processes: int = 1,
    ahead: int = 2,
) -> AsyncIterator[tuple[Sequence[Arrival], list[Ingested]]]:
    """Store each batch (one transaction each, in order) and yield it with its results; up to
    `ahead` batches are parsed by `processes` worker processes meanwhile. `processes=0` parses
    in this process."""
    if processes < 1:
        for batch in batches:
            yield batch, await ingest_many(db, batch, store=store)
        return
    loop = asyncio.get_running_loop()
    # spawn, not fork: this process runs an event loop and threads that a fork would copy.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=context) as pool:
        pending: deque[tuple[Sequence[Arrival], asyncio.Future[list[ParsedEmail]] | None]] = deque()
        source = iter(batches)
        broken = False

        def submit() -> None:
            nonlocal broken
            while len(pending) < ahead:
                batch = next(source, None)
                if batch is None:
                    return
                future = None
                if not broken:
                    try:
                        future = loop.run_in_executor(pool, parse_many, [a.raw for a in batch])
                    except BrokenProcessPool:
                        broken = True
                pending.append((batch, future))

        submit()
        while pending:
            batch, future = pending.popleft()
            parsed: list[ParsedEmail] | None = None
            if future is not None:
                try:
                    parsed = await future
                except BrokenProcessPool:
                    log.warning("email parser processes died; parsing in this process")
                    broken = True
            submit()
            for arrival, email in zip(batch, parsed or (), strict=False):
                email.envelope_sender = arrival.envelope_sender
            yield batch, await ingest_many(db, batch, store=store, parsed=parsed)
