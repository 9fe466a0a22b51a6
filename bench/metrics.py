"""Metrics at scale: a full rollup rebuild, the KPI dashboard and API from rollups, and the
incremental rollup lag under the intake benchmark's load.

  python bench/metrics.py [--database-url URL] [--skip-rebuild | --reads-only] [--processes N]
                          [--duration 20]

Run `python bench/seed.py --tickets 1000000 --reset` first; `--reads-only` times the reports
alone (no rebuild, no intake load), in a minute or two. Targets (issue "Honest KPIs"):
a full rebuild in < 10 minutes; dashboard KPIs for a 90-day period in < 200 ms server time;
incremental lag < 5 s while the intake benchmark's load runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import uvloop
from sqlalchemy import func, or_, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.core import INBOUND_BODY, verdict
from bench.harness import bench_url, ensure_database, madad_server, make_token, settings_for
from bench.load import report, run_load
from madad.activity.models import Activity, FactCursor
from madad.auth import service as auth
from madad.auth import sessions
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM
from madad.db import Database
from madad.errors import NotFound
from madad.metrics import rebuild, reports, rollups

EMAIL, PASSWORD = "bench-supervisor@example.com", "bench supervisor password"
COMMAND = "python bench/metrics.py"


async def full_rebuild(url: str, processes: int | None) -> rebuild.Rebuilt:
    db = Database(settings_for(url), pooled=False)
    try:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            if time.monotonic() - last[0] > 10:
                last[0] = time.monotonic()
                print(f"   … {done}/{total} parts", flush=True)

        return await rebuild.rebuild(db, progress=progress, processes=processes)
    finally:
        await db.dispose()


async def direct_queries(
    url: str, periods: list[tuple[date, date]], *, pooled: bool = False
) -> list[float]:
    """Server-side time of the dashboard's headline report (period + previous period): on a
    new connection each time (a database process that has read nothing yet), or `pooled`, on
    connections already used (as the server's are; one report before the clock starts)."""
    db = Database(settings_for(url), pooled=pooled)
    times = []
    try:
        if pooled:
            async with db.session(write=False) as session:
                await reports.kpis(session, reports.day_period(*periods[0]))
        for first, last in periods:
            async with db.session(write=False) as session:
                t0 = time.perf_counter()
                await reports.kpis(session, reports.day_period(first, last))
                times.append(time.perf_counter() - t0)
    finally:
        await db.dispose()
    return times


async def prepare(url: str) -> tuple[str, int]:
    db = Database(settings_for(url), pooled=False)
    try:
        async with db.session() as session:
            try:
                await auth.get_user_by_email(session, EMAIL)
            except NotFound:
                await auth.create_user(
                    session, SYSTEM, email=EMAIL, name="Bench Supervisor",
                    role=Role.supervisor, password=PASSWORD,
                )  # fmt: skip
        async with db.session() as session:
            cookie, _who = await sessions.sign_in(session, EMAIL, PASSWORD)
        async with db.session(write=False) as session:
            facts = await session.scalar(select(func.count()).select_from(Activity)) or 0
        return cookie, int(facts)
    finally:
        await db.dispose()


async def sample_lag(url: str, stop: asyncio.Event, samples: list[float]) -> None:
    """Every 0.5 s: how old is the oldest fact the metrics consumer has not read yet?"""
    db = Database(settings_for(url), pooled=False)
    try:
        while not stop.is_set():
            async with db.session(write=False) as session:
                cursor = await session.get(FactCursor, rollups.CONSUMER)
                where = []
                if cursor is not None:
                    where = [
                        or_(
                            Activity.txid > cursor.txid,
                            (Activity.txid == cursor.txid) & (Activity.id > cursor.last_id),
                        )
                    ]
                oldest = await session.scalar(select(func.min(Activity.at)).where(*where))
            now = datetime.now(UTC)
            samples.append(max(0.0, (now - oldest).total_seconds()) if oldest else 0.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        await db.dispose()


async def intake_with_lag(base: str, url: str, token: str, duration: float) -> tuple[object, list]:
    samples: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_lag(url, stop, samples))
    result = await run_load(
        base + "/api/v1/inbound",
        method="POST",
        headers=[f"Authorization: Bearer {token}"],
        body=INBOUND_BODY,
        concurrency=32,
        duration=duration,
        warmup=2,
    )
    # Keep sampling until the consumer has caught up (bounded: 60 s).
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not samples or samples[-1] > 0):
        await asyncio.sleep(0.5)
    stop.set()
    await sampler
    return result, samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--skip-rebuild", action="store_true")
    parser.add_argument(
        "--reads-only", action="store_true",
        help="time the reports only: no rebuild, no intake load (leaves the database as it is)",
    )  # fmt: skip
    parser.add_argument(
        "--processes", type=int, help="rebuild's worker processes (default: one per core, ≤ 4)"
    )
    parser.add_argument("--duration", type=float, default=20.0)
    args = parser.parse_args()
    url = bench_url(args.database_url)
    asyncio.run(ensure_database(url))
    cookie, facts = asyncio.run(prepare(url))
    print(f"database: {url} ({facts:,} facts)")

    if not (args.skip_rebuild or args.reads_only):
        done = asyncio.run(full_rebuild(url, args.processes))
        print(
            f"full rollup rebuild: {done.facts:,} facts of {done.tickets:,} tickets in "
            f"{done.seconds:.1f} s with {done.processes} process(es)   "
            f"{verdict(done.seconds < 600)} (< 10 minutes)\n"
            f"   reproduce: {COMMAND}"
            + (f" --processes {args.processes}" if args.processes else "")
        )

    today = datetime.now(UTC).date()
    periods = [(today - timedelta(days=90 + 7 * k), today - timedelta(days=7 * k))
               for k in range(20)]  # fmt: skip
    for pooled, how in ((False, "new connection each"), (True, "pooled connections")):
        times = sorted(asyncio.run(direct_queries(url, periods, pooled=pooled)))
        p50, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
        print(
            f"KPIs of a 90-day period and the 90 days before, from rollups (20 periods, {how}): "
            f"p50 {p50 * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms   "
            f"{verdict(p95 < 0.2)} (< 200 ms)\n   reproduce: {COMMAND} --reads-only"
        )

    token = asyncio.run(make_token(url))
    first, last = today - timedelta(days=89), today + timedelta(days=1)
    html = ["Accept: text/html", f"Cookie: madad_session={cookie}"]
    with madad_server(url, workers=2) as base:
        for label, path, headers in (
            ("API GET /api/v1/reports/kpis, last 90 days",
             f"/api/v1/reports/kpis?from={first}&to={last}", [f"Authorization: Bearer {token}"]),
            ("API, last 90 days by agent",
             f"/api/v1/reports/kpis?from={first}&to={last}&group_by=agent",
             [f"Authorization: Bearer {token}"]),
            ("dashboard page /reports, last 90 days (+ tables by agent and team, 8 charts)",
             f"/reports?from={first}&to={last}", html),
        ):  # fmt: skip
            result = uvloop.run(
                run_load(base + path, headers=headers, concurrency=1, duration=10, warmup=2)
            )
            fig = report(result, label=label, command=f"{COMMAND} --reads-only")
            print(f"   {verdict(fig['p95_ms'] < 200)} (p95 < 200 ms)")
        if args.reads_only:
            return
        result, lag = uvloop.run(intake_with_lag(base, url, token, args.duration))
        report(result, label="intake load while the worker keeps rollups current",
               command=f"{COMMAND} --skip-rebuild")  # fmt: skip
        lag = sorted(lag)
        worst = lag[-1] if lag else float("nan")
        p95_lag = lag[int(0.95 * (len(lag) - 1))] if lag else float("nan")
        print(
            f"incremental rollup lag (age of the oldest unread fact, sampled every 0.5 s): "
            f"p95 {p95_lag:.2f} s, max {worst:.2f} s over {len(lag)} samples   "
            f"{verdict(worst < 5)} (< 5 s)\n   reproduce: {COMMAND} --skip-rebuild"
        )


if __name__ == "__main__":
    main()
