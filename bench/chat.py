"""Chat under load: N concurrent visitor WebSockets against real `madad serve` processes.

Each visitor opens the widget's socket, starts a chat, then sends a message every few seconds
(jittered) for the duration; meanwhile an "agent" answers chats through the ordinary reply API
at a steady rate. Measured on loopback only:

- visitor → stored: a visitor's message sent → its `ack` (committed) back on the socket;
- agent → visitor: the reply request sent → the reply arriving on the visitor's socket (the
  reply's commit, then the bus: in-process, or Redis between two processes);
- memory per connection: the server processes' resident memory growth per connected visitor.

The visitors are shared among `--clients` load processes (uvloop each), so that on a small
machine the load generator is not what is measured; every timestamp is CLOCK_MONOTONIC
(`time.monotonic`, one clock for every process on the machine), a latency is receive time −
send time. The servers, PostgreSQL, Redis and the load processes share the machine's cores:
the figures include that contention.

Bounded: at most 10,000 visitors and 120 s of steady state; servers bind 127.0.0.1 only. On
PostgreSQL each run gets a fresh database (`--database-url` names it; it is dropped and made
again), so that earlier runs' queued chats are not measured.

    python bench/chat.py --visitors 1000 --seconds 30
    python bench/chat.py --visitors 5000 --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/madad_chat_bench
    python bench/chat.py --visitors 10000 --processes 2 --redis-url redis://127.0.0.1:6379/0 \
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/madad_chat_bench
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import random
import resource
import shlex
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MAX_VISITORS = 10_000
MAX_SECONDS = 120.0
START_BATCH = 100  # chats started at once by each load process


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


def cpu_seconds(servers: list[int], loads: list[int]) -> dict[str, float]:
    """CPU seconds used so far by the servers, PostgreSQL, the load processes and this one."""
    from bench.harness import _cpu_seconds, _postgres_pids, _tree

    return {
        "servers": sum(_cpu_seconds(p) for s in servers for p in _tree(s)),
        "postgres": sum(_cpu_seconds(p) for p in _postgres_pids()),
        "load processes": sum(_cpu_seconds(p) for p in loads),
        "agent and coordinator": _cpu_seconds(os.getpid()),
    }


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


# --- one load process ----------------------------------------------------------------------------


class Visitor:
    def __init__(self, n: int, base: str, inbox: str) -> None:
        self.n = n
        self.url = base.replace("http://", "ws://") + f"/api/v1/chat/visitor?inbox={inbox}"
        self.ws: Any = None
        self.sent: dict[str, float] = {}
        self.stored: list[float] = []
        self.delivered: list[float] = []
        self.ready = asyncio.Event()
        self.errors = 0
        self.seq = 0
        self.measuring = False

    async def open(self) -> None:
        from websockets.asyncio.client import connect

        # Like a browser's widget, minus permessage-deflate only if the server declines it.
        self.ws = await connect(self.url, max_queue=None, ping_interval=None, open_timeout=60)
        while json.loads(await self.ws.recv())["type"] != "ready":
            pass

    async def start(self) -> None:
        self.sent["start"] = time.monotonic()
        await self.ws.send(json.dumps({"type": "start", "id": "start", "text": f"hello {self.n}"}))

    async def listen(self) -> None:
        with contextlib.suppress(Exception):
            async for raw in self.ws:
                frame = json.loads(raw)
                kind = frame["type"]
                now = time.monotonic()
                if kind == "ack":
                    at = self.sent.pop(frame["client_id"], None)
                    if at is not None and self.measuring:
                        self.stored.append(now - at)
                elif kind == "state" and frame.get("session") and not self.ready.is_set():
                    self.ready.set()
                elif kind == "message" and frame["from"] == "agent":
                    text = frame["text"]
                    if text.startswith("t=") and self.measuring:
                        self.delivered.append(now - float(text[2:].split(" ")[0]))
                elif kind == "error":
                    self.errors += 1

    async def talk(self, until: float, interval: float) -> None:
        await asyncio.sleep(random.uniform(0, interval))
        while time.monotonic() < until:
            self.seq += 1
            cid = f"m{self.seq}"
            self.sent[cid] = time.monotonic()
            await self.ws.send(json.dumps({"type": "message", "id": cid, "text": f"msg {cid}"}))
            await asyncio.sleep(interval * random.uniform(0.8, 1.2))


async def _load(pipe: Connection, numbers: range, bases: list[str], inbox: str) -> None:
    visitors = [Visitor(i, bases[i % len(bases)], inbox) for i in numbers]
    gate = asyncio.Semaphore(50)

    async def open_one(v: Visitor) -> None:
        async with gate:
            await v.open()

    t0 = time.monotonic()
    await asyncio.gather(*(open_one(v) for v in visitors))
    connected = time.monotonic() - t0
    listeners = [asyncio.create_task(v.listen()) for v in visitors]
    t0 = time.monotonic()
    for chunk in range(0, len(visitors), START_BATCH):
        batch = visitors[chunk : chunk + START_BATCH]
        await asyncio.gather(*(v.start() for v in batch))
        await asyncio.wait_for(asyncio.gather(*(v.ready.wait() for v in batch)), timeout=120)
    started = time.monotonic() - t0
    # The load process's own pauses are not the server's: no cyclic collection while it
    # measures (bounded in time; what it allocates is freed when it ends).
    gc.collect()
    gc.freeze()
    gc.disable()
    pipe.send(("ready", connected, started))
    _, until, interval = await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
    for v in visitors:
        v.sent.clear()  # the starts are not part of the steady-state figures
        v.measuring = True
    await asyncio.gather(*(v.talk(until, interval) for v in visitors))
    await asyncio.sleep(3)  # let the last acks and replies land
    for v in visitors:
        v.measuring = False
    pipe.send(
        (
            "done",
            [x for v in visitors for x in v.stored],
            [x for v in visitors for x in v.delivered],
            sum(len(v.sent) for v in visitors),
            sum(v.errors for v in visitors),
        )
    )
    for v in visitors:
        with contextlib.suppress(Exception):
            await v.ws.close()
    for task in listeners:
        task.cancel()


def load_process(pipe: Connection, numbers: range, bases: list[str], inbox: str) -> None:
    """The entry point of one load process: its share of the visitors."""
    import uvloop

    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    uvloop.run(_load(pipe, numbers, bases, inbox))


# --- the coordinator -----------------------------------------------------------------------------


async def fresh_database(url: str) -> None:
    """A new, migrated bench database (PostgreSQL: dropped first if it exists)."""
    from bench.harness import ensure_database

    await ensure_database(url, fresh=True)


async def chat_tickets(url: str, inbox_id: int) -> list[int]:
    """The chats' tickets (the agent needs them to answer; visitors never see ticket ids)."""
    from sqlalchemy import select

    from bench.harness import settings_for
    from madad.channels.chat.models import ChatSession
    from madad.db import Database

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
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    sent = 0
    async with httpx.AsyncClient(base_url=bases[-1], headers=headers, timeout=30) as client:
        next_at = time.monotonic()
        while time.monotonic() < until and tickets:
            r = await client.post(
                f"/api/v1/tickets/{random.choice(tickets)}/reply",
                json={"text": f"t={time.monotonic()} reply"},
            )
            if r.status_code == 201:
                sent += 1
            next_at += 1 / rate
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    return sent


@contextlib.contextmanager
def worker_process(url: str, env: dict[str, str]) -> Iterator[int]:
    """`madad worker`: background jobs and fact consumers outside the web process."""
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "madad", "worker"],
        env={**os.environ, "MADAD_DATABASE_URL": url, "MADAD_AUTO_MIGRATE": "false", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextlib.contextmanager
def servers(
    url: str, processes: int, redis_url: str | None, data_dir: str, worker: str
) -> Iterator[tuple[list[str], list[int]]]:
    from bench.harness import madad_server

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
        extra = ["--no-worker"] if worker == "separate" else []
        for _ in range(processes):
            bases.append(
                stack.enter_context(madad_server(url, workers=1, env=env, extra_args=extra))
            )
            pids.append(madad_server.pid)  # type: ignore[attr-defined]
        if worker == "separate":  # counted with the servers (CPU and memory)
            pids.append(stack.enter_context(worker_process(url, env)))
        yield bases, pids


def say(line: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {line}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace, url: str) -> None:
    import httpx

    from bench.harness import make_token

    await fresh_database(url)
    token = await make_token(url)
    with (
        tempfile.TemporaryDirectory() as data_dir,
        servers(url, args.processes, args.redis_url, data_dir, args.worker) as (bases, pids),
    ):
        say(f"servers up: {' '.join(bases)} (pids {' '.join(map(str, pids))})")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=bases[0], headers=headers, timeout=30) as client:
            r = await client.post("/api/v1/chat/inboxes", json={"name": "bench"})
            r.raise_for_status()
            inbox, inbox_id = r.json()["key"], r.json()["id"]
        await asyncio.sleep(1)
        rss_before = sum(rss_kib(p) for p in pids[: args.processes])  # the web processes
        ctx = multiprocessing.get_context("spawn")
        pipes, procs = [], []
        per = -(-args.visitors // args.clients)
        for k in range(args.clients):
            numbers = range(k * per, min(args.visitors, (k + 1) * per))
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=load_process, args=(theirs, numbers, bases, inbox))
            proc.start()
            pipes.append(mine)
            procs.append(proc)
        loop = asyncio.get_running_loop()
        try:
            readies = [await loop.run_in_executor(None, p.recv) for p in pipes]
            connect_s = max(r[1] for r in readies)
            start_s = max(r[2] for r in readies)
            say(f"{args.visitors:,} chats started; steady state for {args.seconds:.0f} s")
            await asyncio.sleep(1)
            rss_after = sum(rss_kib(p) for p in pids[: args.processes])
            tickets = await chat_tickets(url, inbox_id)
            cpu_before = cpu_seconds(pids, [proc.pid for proc in procs])
            until = time.monotonic() + args.seconds
            for p in pipes:
                p.send(("go", until, args.interval))
            replies = await agent(bases, token, tickets, until, args.agent_rate)
            results = [await loop.run_in_executor(None, p.recv) for p in pipes]
            cpu = {
                k: v - cpu_before[k]
                for k, v in cpu_seconds(pids, [proc.pid for proc in procs]).items()
            }
            say("steady state over")
        finally:
            for proc in procs:
                proc.join(timeout=30)
                if proc.is_alive():
                    proc.kill()
    stored = [x for r in results for x in r[1]]
    delivered = [x for r in results for x in r[2]]
    lost = sum(r[3] for r in results)
    errors = sum(r[4] for r in results)
    per_conn = (rss_after - rss_before) / max(args.visitors, 1)
    shape = f"{args.processes} server process(es)" + (" over Redis" if args.redis_url else "")
    shape += (
        " with their embedded workers"
        if args.worker == "embedded"
        else " (--no-worker) and one `madad worker`"
    )
    print(
        f"database: {url.split('@')[-1]}; {shape}; {args.visitors:,} visitor sockets from "
        f"{args.clients} load process(es) on the same machine ({os.cpu_count()} cores)"
    )
    print(f"connected in {connect_s:.1f} s; {args.visitors:,} chats started in {start_s:.1f} s")
    print(
        f"visitor message → stored (ack): n={len(stored):,} "
        f"p50 {1000 * pct(stored, 0.5):.1f} ms, p99 {1000 * pct(stored, 0.99):.1f} ms, "
        f"max {1000 * max(stored, default=float('nan')):.1f} ms; unacknowledged {lost}, "
        f"errors {errors}"
    )
    print(
        f"agent reply → visitor socket: n={len(delivered):,} of {replies:,} sent, "
        f"p50 {1000 * pct(delivered, 0.5):.1f} ms, p99 {1000 * pct(delivered, 0.99):.1f} ms, "
        f"max {1000 * max(delivered, default=float('nan')):.1f} ms"
    )
    print(
        f"server memory: {rss_before / 1024:.0f} MiB before, {rss_after / 1024:.0f} MiB with "
        f"the chats open: {per_conn:.1f} KiB per connection (chat started, subscribed)"
    )
    span = args.seconds + 3  # the steady state and the wait for its last answers
    print(
        "CPU during the steady state (cores busy): "
        + ", ".join(f"{k} {v / span:.2f}" for k, v in cpu.items())
        + f" of {os.cpu_count()}"
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
    parser.add_argument("--clients", type=int, default=2, help="load processes (1-8)")
    parser.add_argument("--redis-url", help="required for --processes 2")
    parser.add_argument(
        "--worker",
        choices=("embedded", "separate"),
        default="embedded",
        help="background work in each server (default) or in one `madad worker` process",
    )
    parser.add_argument(
        "--database-url", help="default: a fresh SQLite file (PostgreSQL: postgresql+asyncpg://…)"
    )
    args = parser.parse_args()
    if not 1 <= args.visitors <= MAX_VISITORS:
        parser.error(f"--visitors is 1-{MAX_VISITORS}")
    if not 1 <= args.seconds <= MAX_SECONDS:
        parser.error(f"--seconds is 1-{MAX_SECONDS:.0f}")
    if not 0.5 <= args.interval <= 60:
        parser.error("--interval is 0.5-60 seconds")
    if not 1 <= args.clients <= 8:
        parser.error("--clients is 1-8")
    if args.database_url and args.database_url.startswith("postgresql"):
        name = args.database_url.rpartition("/")[2].split("?")[0]
        if "bench" not in name:  # each run drops it: never a desk's own database
            parser.error(f"each run drops and recreates the database; {name!r} has no 'bench' "
                         "in its name (use e.g. …/madad_chat_bench)")  # fmt: skip
    if args.processes == 2 and not args.redis_url:
        parser.error("two processes share their events through Redis: give --redis-url")
    if args.processes == 2 and not (args.database_url or "").startswith("postgresql"):
        parser.error("two processes need PostgreSQL: give --database-url")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(
        resource.RLIMIT_NOFILE, (min(hard, max(soft, 2 * args.visitors + 1024)), hard)
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/chat-bench.db"
        os.environ.setdefault("MADAD_LOG_LEVEL", "warning")
        asyncio.run(run(args, url))


if __name__ == "__main__":
    main()
