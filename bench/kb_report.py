"""The knowledge-base report's cost: N help-centre facts over 60 days (views, reads, searches,
votes, contacts started; visitors coming back), then the report of the last 7 and 30 days (each
with the period before it), timed warm.

  python bench/kb_report.py [--facts 300000] [--sqlite-only] [--postgres-url URL]

PostgreSQL runs when --postgres-url, MADAD_BENCH_POSTGRES_URL or MADAD_TEST_POSTGRES_URL is set,
in a schema of its own (`madad_bench_kb_report`), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from madad import migrate
from madad.activity.models import Activity
from madad.bus import MemoryBus
from madad.config import Settings
from madad.db import Database
from madad.metrics import kb_report
from madad.metrics.definitions import Period

SCHEMA = "madad_bench_kb_report"
END = datetime(2026, 11, 1, tzinfo=UTC)
KINDS = ["kb.view", "kb.read", "kb.search", "kb.vote", "kb.contact_started"]


def facts(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        visitor = f"visitor-{rng.randrange(max(1, n // 20))}"
        kind = rng.choices(KINDS, [50, 30, 15, 3, 2])[0]
        data: dict[str, Any] = {
            "article_id": rng.randrange(1, 500),
            "visitor": visitor,
            "help_session": f"{visitor}-{rng.randrange(4)}",
        }
        if kind == "kb.read":
            data["read_seconds"] = round(rng.uniform(10, 300), 1)
        elif kind == "kb.vote":
            data["helpful"] = rng.random() < 0.7
        elif kind == "kb.search":
            data = {
                **data,
                "query": f"query {rng.randrange(2000)}",
                "results": rng.choice([0, 1, 3]),
            }
        out.append(
            {
                "at": END - timedelta(seconds=rng.randrange(60 * 86400)),
                "kind": kind,
                "data": data,
                "channel": "portal" if kind == "kb.contact_started" else None,
            }
        )
    return out


async def run(name: str, db: Database, n: int) -> None:
    rows = facts(n)
    async with db.engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            await conn.execute(insert(Activity), rows[i : i + 5000])
        if db.engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE activity"))
    for days in (7, 30):
        period = Period(END - timedelta(days=days), END)
        async with db.session(write=False) as session:
            await kb_report.report(session, period)  # warm
            t0 = time.perf_counter()
            got = await kb_report.report(session, period)
            took = time.perf_counter() - t0
        print(
            f"{name}: {n:,} help-centre facts over 60 days; the report of {days} days "
            f"({got['total']['views']:,} views, {got['total']['reads']:,} reads) and the "
            f"{days} before: {took:.2f} s"
        )


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/kb.db"
        settings = Settings(database_url=url, data_dir=Path(folder), _env_file=None)  # type: ignore[call-arg]
        await migrate.upgrade_async(settings)
        db = Database(settings, bus=MemoryBus())
        try:
            await run("SQLite", db, args.facts)
        finally:
            await db.dispose()
    pg = (
        args.postgres_url
        or os.environ.get("MADAD_BENCH_POSTGRES_URL")
        or os.environ.get("MADAD_TEST_POSTGRES_URL")
    )
    if not pg or args.sqlite_only:
        print("PostgreSQL: skipped (set MADAD_BENCH_POSTGRES_URL or pass --postgres-url)")
        return
    admin = create_async_engine(pg)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(  # type: ignore[call-arg]
                database_url=pg, database_schema=SCHEMA, data_dir=Path(folder), _env_file=None
            )
            await migrate.upgrade_async(settings)
            db = Database(settings, bus=MemoryBus())
            try:
                await run("PostgreSQL", db, args.facts)
            finally:
                await db.dispose()
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await admin.dispose()
    print(f"  reproduce: python bench/kb_report.py --facts {args.facts}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facts", type=int, default=300_000)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--sqlite-only", action="store_true")
    asyncio.run(main(parser.parse_args()))
