"""Email ingest throughput: parse + thread + store the corpus' mix into PostgreSQL.

  python bench/email_ingest.py [--messages 10000] [--batch 25] [--corpus all|own]
                               [--database-url URL]

Messages are the test corpus (tests/channels/email/corpus/: our own messages and, with
`--corpus all`, the 219 public ones under public/) made unique (a Message-ID prefix and a
header per copy), stored with `ingest_many` in batches as the IMAP poller does, one
process. Target: ≥ 300 messages/s on 2 cores; prints messages/s and the p50/p95 time per
message (a batch's time over its size) and per batch.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on the path, and its name would hide the
# standard library's `email`: the repository root takes its place.
sys.path[0] = str(Path(__file__).resolve().parents[1])

import argparse  # noqa: E402
import asyncio  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bench.harness import ensure_database, settings_for  # noqa: E402
from madad.bus import MemoryBus  # noqa: E402
from madad.channels.email.bulk import ingest_batches  # noqa: E402
from madad.channels.email.ingest import Arrival  # noqa: E402
from madad.db import Database  # noqa: E402
from madad.files import FileStore  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "channels" / "email" / "corpus"
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/madad_bench_email"
_MID = re.compile(rb"^(Message-I[dD]:\s*<)", re.MULTILINE | re.IGNORECASE)


def messages(n: int, run: str, corpus: str = "all") -> list[bytes]:
    paths = sorted(CORPUS.glob("*.eml"))
    if corpus == "all":
        paths += sorted(p for p in CORPUS.glob("public/*/messages/*") if p.is_file())
    sources = [p.read_bytes() for p in paths]
    out = []
    for i in range(n):
        raw = sources[i % len(sources)]
        raw = _MID.sub(rb"\g<1>" + f"{run}-{i}-".encode(), raw, count=1)
        out.append(f"X-Bench: {run}-{i}\r\n".encode() + raw)
    return out


async def main(args: argparse.Namespace) -> None:
    await ensure_database(args.database_url)
    if args.database_url.startswith("postgresql"):
        # Fresh statistics, as autovacuum keeps them on a production server. This machine's
        # server runs with autovacuum off: without them, the generic plans of the prepared
        # statements scan the growing email_records table (15-30 ms a query, 160 messages/s).
        engine = create_async_engine(args.database_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
        await engine.dispose()
    with tempfile.TemporaryDirectory() as files:
        settings = settings_for(args.database_url, data_dir=Path(files), secret_key="bench")
        db = Database(settings, bus=MemoryBus())
        store = FileStore(settings.files_dir)
        run = f"r{int(time.time())}"
        raws = messages(args.messages, run, args.corpus)
        per_message: list[float] = []
        per_batch: list[float] = []
        dispositions: dict[str, int] = {}
        batches = (
            [Arrival(r, "file") for r in raws[start : start + args.batch]]
            for start in range(0, len(raws), args.batch)
        )
        started = last = time.perf_counter()
        async for batch, results in ingest_batches(
            db, batches, store=store, processes=args.processes
        ):
            now = time.perf_counter()
            took, last = now - last, now
            per_batch.append(took)
            per_message += [took / len(batch)] * len(batch)
            for r in results:
                dispositions[r.disposition] = dispositions.get(r.disposition, 0) + 1
        elapsed = time.perf_counter() - started
        await db.dispose()
    rate = len(raws) / elapsed
    q = statistics.quantiles(per_message, n=100)
    qb = statistics.quantiles(per_batch, n=100)
    print(
        f"email ingest: {len(raws)} messages in {elapsed:.1f} s = {rate:.0f} messages/s "
        f"(target >= 300: {'met' if rate >= 300 else 'NOT met'})"
    )
    print(
        f"  per message: p50 {q[49] * 1000:.2f} ms, p95 {q[94] * 1000:.2f} ms; "
        f"per batch of {args.batch}: p50 {qb[49] * 1000:.1f} ms, p95 {qb[94] * 1000:.1f} ms"
    )
    print(f"  outcomes: {dispositions}")
    print(
        f"  reproduce: python bench/email_ingest.py --messages {args.messages} "
        f"--batch {args.batch} --corpus {args.corpus} --processes {args.processes}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--corpus", choices=["all", "own"], default="all")
    parser.add_argument(
        "--processes", type=int, default=1, help="parser processes beside this one (0: none)"
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    asyncio.run(main(parser.parse_args()))
