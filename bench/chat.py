"""Chat under load: N concurrent visitor WebSockets against real `madad serve` processes.

Each visitor opens the widget's socket, starts a chat, then sends a message every few seconds
(jittered) for the duration; meanwhile an "agent" answers chats through the ordinary reply API
at a steady rate. Measured on loopback only:

- visitor → stored: a visitor's message sent → its `ack` (committed) back on the socket;
- agent → visitor: the reply API's answer (committed) → the reply arriving on the visitor's
  socket (the bus: in-process, or Redis between two processes);
- memory per connection: the server processes' resident memory growth per connected visitor.

Bounded: at most 5,000 visitors and 120 s; servers bind 127.0.0.1 only.

    python bench/chat.py --visitors 1000 --seconds 30
    python bench/chat.py --visitors 2000 --processes 2 --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import ensure_database, madad_server, make_token, settings_for
from madad.channels.chat.models import ChatSession
from madad.db import Database

MAX_VISITORS = 5000
MAX_SECONDS = 120.0


def rss_kib(pid: int) -> int:
    """Resident memory of a process and its children, KiB."""
    total = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{p}/task").glob("*"):
                children = task / "children"
                if children.exists():
                    todo += [int(c) for c in children.read_text().split()]
    return total


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


class Visitor:
    def __init__(self, n: int, base: str, inbox: str) -> None:
        self.n = n
        self.url = base.replace("http://", "ws://") + f"/api/v1/chat/visitor?inbox={inbox}"
        self.ws: ClientConnection | None = None
        self.sent: dict[str, float] = {}
        self.stored: list[float] = []
        self.delivered: list[float] = []
        self.ready = asyncio.Event()
        self.errors = 0
        self.seq = 0

    async def open(self) -> None:
        self.ws = await connect(self.url, max_queue=None, ping_interval=None)
        while json.loads(await self.ws.recv())["type"] != "ready":
            pass

    async def start(self) -> None:
        assert self.ws is not None
        self.sent["start"] = time.perf_counter()
        await self.ws.send(json.dumps({"type": "start", "id": "start", "text": f"hello {self.n}"}))

    async def listen(self) -> None:
        assert self.ws is not None
        async for raw in self.ws:
            frame = json.loads(raw)
            kind = frame["type"]
            now = time.perf_counter()
            if kind == "ack":
                at = self.sent.pop(frame["client_id"], None)
                if at is not None:
                    self.stored.append(now - at)
            elif kind == "state" and frame.get("session") and not self.ready.is_set():
                self.ready.set()
            elif kind == "message" and frame["from"] == "agent":
                text = frame["text"]
                if text.startswith("t="):
                    self.delivered.append(time.time() - float(text[2:].split(" ")[0]))
            elif kind == "error":
                self.errors += 1

    async def talk(self, until: float, interval: float) -> None:
        assert self.ws is not None
        await asyncio.sleep(random.uniform(0, interval))
        while time.perf_counter() < until:
            self.seq += 1
            cid = f"m{self.seq}"
            self.sent[cid] = time.perf_counter()
            await self.ws.send(json.dumps({"type": "message", "id": cid, "text": f"msg {cid}"}))
            await asyncio.sleep(interval * random.uniform(0.8, 1.2))


async def chat_tickets(url: str, inbox_id: int) -> list[int]:
    """The chats' tickets (the agent needs them to answer; visitors never see ticket ids)."""
    db = Database(settings_for(url), pooled=False)
    try:
        async with db.session(write=False) as session:
            return list(
                await session.scalars(
                    select(ChatSession.ticket_id).where(ChatSession.inbox_id == inbox_id)
                )
            )
    finally:
        await db.dispose()


async def agent(bases: list[str], token: str, tickets: list[int], until: float, rate: float) -> int:
    """Answer chats at `rate` replies a second through the ordinary reply API (last server)."""
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0
    async with httpx.AsyncClient(base_url=bases[-1], headers=headers, timeout=30) as client:
        while time.perf_counter() < until and tickets:
            r = await client.post(
                f"/api/v1/tickets/{random.choice(tickets)}/reply",
                json={"text": f"t={time.time()} reply"},
            )
            if r.status_code == 201:
                sent += 1
            await asyncio.sleep(1 / rate)
    return sent


@contextlib.contextmanager
def servers(url: str, processes: int, redis_url: str | None, data_dir: str) -> Iterator[list[str]]:
    env = {
        "MADAD_DATA_DIR": data_dir,
        "MADAD_SECRET_KEY": "bench-secret",
        # Every simulated visitor starts from loopback: no per-address limit on chat starts.
        "MADAD_CHAT_STARTS_PER_ADDRESS": "0",
    }
    if redis_url:
        env["MADAD_REDIS_URL"] = redis_url
    with contextlib.ExitStack() as stack:
        bases, pids = [], []
        for _ in range(processes):
            bases.append(stack.enter_context(madad_server(url, workers=1, env=env)))
            pids.append(madad_server.pid)  # type: ignore[attr-defined]
        servers.pids = pids  # type: ignore[attr-defined]
        yield bases


async def run(args: argparse.Namespace, url: str) -> None:
    await ensure_database(url)
    token = await make_token(url)
    with (
        tempfile.TemporaryDirectory() as data_dir,
        servers(url, args.processes, args.redis_url, data_dir) as bases,
    ):
        pids: list[int] = servers.pids  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=bases[0], headers=headers, timeout=30) as client:
            r = await client.post("/api/v1/chat/inboxes", json={"name": "bench"})
            r.raise_for_status()
            inbox, inbox_id = r.json()["key"], r.json()["id"]
            await asyncio.sleep(1)
            rss_before = sum(rss_kib(p) for p in pids)
            visitors = [Visitor(i, bases[i % len(bases)], inbox) for i in range(args.visitors)]
            t0 = time.perf_counter()
            gate = asyncio.Semaphore(100)

            async def open_one(v: Visitor) -> None:
                async with gate:
                    await v.open()

            await asyncio.gather(*(open_one(v) for v in visitors))
            connect_s = time.perf_counter() - t0
            listeners = [asyncio.create_task(v.listen()) for v in visitors]
            t0 = time.perf_counter()
            for chunk in range(0, len(visitors), 50):
                batch = visitors[chunk : chunk + 50]
                await asyncio.gather(*(v.start() for v in batch))
                await asyncio.wait_for(asyncio.gather(*(v.ready.wait() for v in batch)), timeout=60)
            start_s = time.perf_counter() - t0
            await asyncio.sleep(1)
            rss_after = sum(rss_kib(p) for p in pids)
            tickets = await chat_tickets(url, inbox_id)
            for v in visitors:  # the starts are not part of the steady-state figures
                v.stored.clear()
            until = time.perf_counter() + args.seconds
            talkers = [asyncio.create_task(v.talk(until, args.interval)) for v in visitors]
            replies = await agent(bases, token, tickets, until, args.agent_rate)
            await asyncio.gather(*talkers)
            await asyncio.sleep(2)  # let the last acks and replies land
            for v in visitors:
                if v.ws is not None:
                    await v.ws.close()
            for task in listeners:
                task.cancel()
    stored = [x for v in visitors for x in v.stored]
    delivered = [x for v in visitors for x in v.delivered]
    lost = sum(len(v.sent) for v in visitors)
    errors = sum(v.errors for v in visitors)
    per_conn = (rss_after - rss_before) / max(len(visitors), 1)
    shape = f"{args.processes} process(es)" + (" over Redis" if args.redis_url else "")
    print(f"database: {url.split('@')[-1]}; {shape}; {len(visitors):,} visitor sockets")
    print(f"connected in {connect_s:.1f} s; {len(visitors):,} chats started in {start_s:.1f} s")
    print(
        f"visitor message → stored (ack): n={len(stored):,} "
        f"p50 {1000 * pct(stored, 0.5):.1f} ms, p99 {1000 * pct(stored, 0.99):.1f} ms, "
        f"max {1000 * max(stored, default=float('nan')):.1f} ms; unacknowledged {lost}, "
        f"errors {errors}"
    )
    print(
        f"agent reply → visitor socket: n={len(delivered):,} of {replies:,} sent, "
        f"p50 {1000 * pct(delivered, 0.5):.1f} ms, p99 {1000 * pct(delivered, 0.99):.1f} ms"
    )
    print(
        f"server memory: {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB with "
        f"the chats open: {per_conn:.1f} KiB per connection (chat started, subscribed)"
    )
    if stored:
        rate = len(stored) / args.seconds
        print(
            f"throughput: {rate:.0f} visitor messages/s stored, mean "
            f"{1000 * statistics.fmean(stored):.1f} ms"
        )
    print("reproduce: python " + " ".join(shlex.quote(a) for a in sys.argv))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--visitors", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between messages")
    parser.add_argument("--agent-rate", type=float, default=20.0, help="replies per second")
    parser.add_argument("--processes", type=int, default=1, choices=(1, 2))
    parser.add_argument("--redis-url", help="required for --processes 2")
    parser.add_argument(
        "--database-url", help="default: a fresh SQLite file (PostgreSQL: postgresql+asyncpg://…)"
    )
    args = parser.parse_args()
    if not 1 <= args.visitors <= MAX_VISITORS:
        parser.error(f"--visitors is 1-{MAX_VISITORS}")
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds is 1-{MAX_SECONDS:.0f}")
    if args.processes == 2 and not args.redis_url:
        parser.error("two processes share their events through Redis: give --redis-url")
    if args.processes == 2 and not (args.database_url or "").startswith("postgresql"):
        parser.error("two processes need PostgreSQL: give --database-url")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.visitors + 1024)), hard)
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/chat-bench.db"
        os.environ.setdefault("MADAD_LOG_LEVEL", "warning")
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
