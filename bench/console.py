"""Console page timings on the bench database (target: < 100 ms server time per page).

Signs a bench agent in (a real web session), then requests the inbox views and a ticket page
one at a time (one client, so each latency is the server's time plus loopback) and prints
p50/p95/p99 per page. Run `python bench/seed.py --tickets 1000000` first for the 1M figures.

    python bench/console.py [--database-url URL] [--duration 10]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import uvloop
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.core import verdict
from bench.harness import bench_url, ensure_database, madad_server, settings_for
from bench.load import report, run_load
from madad.auth import service as auth
from madad.auth import sessions
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM
from madad.db import Database
from madad.tickets.models import Message, Ticket

EMAIL = "console-bench@example.com"
PASSWORD = "console-bench-password"


async def prepare(url: str) -> tuple[str, int, int]:
    """A session cookie for a bench agent, a busy ticket to open, and the ticket count."""
    db = Database(settings_for(url), pooled=False)
    try:
        async with db.session() as session:
            try:
                await auth.get_user_by_email(session, EMAIL)
            except Exception:
                await auth.create_user(
                    session,
                    SYSTEM,
                    email=EMAIL,
                    name="Console Bench",
                    role=Role.agent,
                    password=PASSWORD,
                )
        async with db.session() as session:
            cookie, _who = await sessions.sign_in(session, EMAIL, PASSWORD)
        async with db.session(write=False) as session:
            count = await session.scalar(select(func.count(Ticket.id))) or 0
            # An open ticket whose customer has history, with the most messages among a sample.
            sample = (
                select(Ticket.id)
                .where(Ticket.status == "open")
                .order_by(Ticket.last_activity_at.desc())
                .limit(200)
                .subquery()
            )
            busiest = await session.scalar(
                select(Message.ticket_id)
                .where(Message.ticket_id.in_(select(sample.c.id)))
                .group_by(Message.ticket_id)
                .order_by(func.count().desc())
                .limit(1)
            )
        return cookie, int(busiest or 1), int(count)
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    url = bench_url(args.database_url)
    asyncio.run(ensure_database(url))
    cookie, ticket_id, tickets = asyncio.run(prepare(url))
    headers = [f"Cookie: madad_session={cookie}", "Accept: text/html"]
    print(f"database: {url} ({tickets:,} tickets); madad serve --workers {args.workers}")
    pages = [
        ("inbox, All open", "/inbox?view=open"),
        ("inbox, Unassigned sorted by waiting", "/inbox?view=unassigned&sort=waiting"),
        ("inbox, All open sorted by priority", "/inbox?view=open&sort=priority"),
        ("inbox, Solved", "/inbox?view=solved"),
        (f"ticket page #{ticket_id} with customer 360", f"/tickets/{ticket_id}"),
    ]
    with madad_server(url, workers=args.workers) as base:
        for label, path in pages:
            result = uvloop.run(
                run_load(
                    base + path,
                    headers=headers,
                    concurrency=1,
                    duration=args.duration,
                    warmup=2,
                )
            )
            fig = report(result, label=f"{label} ({path})", command="python bench/console.py")
            print(f"   {verdict(fig['p95_ms'] < 100)} (p95 < 100 ms)")


if __name__ == "__main__":
    main()
