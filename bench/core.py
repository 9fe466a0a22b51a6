"""The core platform's targets, measured against `madad serve --workers 2` on PostgreSQL.

  python bench/seed.py --tickets 1000000 --reset     # once: the 1 M-ticket database
  python bench/core.py [--duration 20] [--only intake|list]

- intake: POST /api/v1/inbound, 32 concurrent clients (target ≥ 1,000 req/s, p99 < 100 ms);
- list: GET /api/v1/tickets?status=open&assignee=none, first page (target p95 < 25 ms).
Prints each figure, whether it meets its target, and the command that reproduces it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import asyncpg
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import (
    CpuMeter,
    bench_url,
    ensure_database,
    madad_server,
    make_token,
)
from bench.load import report, run_load

INBOUND_BODY = (
    '{"external_id": "bench-{run}-{n}", '
    '"contact": {"email": "c{n%20000}@intake.example", "name": "Bench Customer"}, '
    '"subject": "Order {n} has not arrived", '
    '"text": "Hello, my order {n} has not arrived yet. Could you check where it is? Thanks."}'
)


async def count_tickets(url: str) -> int:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return await conn.fetchval("SELECT count(*) FROM tickets")
    finally:
        await conn.close()


def verdict(ok: bool) -> str:
    return "MEETS target" if ok else "MISSES target"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=["intake", "list"])
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="no background worker in the web processes (run `madad worker`)",
    )
    args = parser.parse_args()
    url = bench_url(args.database_url)
    asyncio.run(ensure_database(url))
    token = asyncio.run(make_token(url))
    tickets = asyncio.run(count_tickets(url))
    auth = f"Authorization: Bearer {token}"
    print(f"database: {url} ({tickets:,} tickets); madad serve --workers {args.workers}")
    reproduce = "python bench/core.py" + (f" --only {args.only}" if args.only else "")
    extra = ["--no-worker"] if args.no_worker else []
    with madad_server(url, workers=args.workers, extra_args=extra) as base:
        meter = CpuMeter(getattr(madad_server, "pid", None))
        if args.only in (None, "intake"):
            result = uvloop.run(
                run_load(
                    base + "/api/v1/inbound",
                    method="POST",
                    headers=[auth],
                    body=INBOUND_BODY,
                    concurrency=args.concurrency,
                    duration=args.duration,
                    warmup=3,
                    on_measure=meter.sample,
                )
            )
            fig = report(
                result,
                label=f"intake: POST /api/v1/inbound, {args.concurrency} concurrent clients",
                command=reproduce,
            )
            print(
                "   "
                + CpuMeter.per_request(result.cpu_before, result.cpu_after, len(result.latencies))
            )
            ok = fig["requests_per_second"] >= 1000 and fig["p99_ms"] < 100
            print(f"   {verdict(ok)} (≥ 1,000 req/s and p99 < 100 ms)")
        if args.only in (None, "list"):
            result = uvloop.run(
                run_load(
                    base + "/api/v1/tickets?status=open&assignee=none&limit=50",
                    headers=[auth],
                    concurrency=1,
                    duration=min(args.duration, 15),
                    warmup=2,
                )
            )
            fig = report(
                result,
                label=f"ticket list: open + unassigned, first page of 50, {tickets:,} tickets",
                command=reproduce,
            )
            print(f"   {verdict(fig['p95_ms'] < 25)} (p95 < 25 ms)")


if __name__ == "__main__":
    main()
