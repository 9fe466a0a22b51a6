"""What the benchmarks share: the bench database, a `madad serve` process, a token."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from madad import migrate
from madad.auth import service as auth
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, Scope
from madad.config import Settings
from madad.db import Database

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/madad_bench"


def bench_url(given: str | None) -> str:
    return given or os.environ.get("MADAD_BENCH_DATABASE_URL") or DEFAULT_URL


async def ensure_database(url: str, *, fresh: bool = False) -> None:
    """Create the bench database if it does not exist (`fresh`: drop it first), then migrate
    it."""
    if url.startswith("postgresql"):
        server, _, name = url.rpartition("/")
        name = name.split("?")[0]
        admin = create_async_engine(server + "/postgres", isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            if fresh:
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
    await migrate.upgrade_async(settings_for(url))


def settings_for(url: str, **extra: object) -> Settings:
    return Settings(database_url=url, _env_file=None, **extra)  # type: ignore[arg-type]


async def make_token(url: str, *, email: str = "bench@example.com") -> str:
    db = Database(settings_for(url), pooled=False)
    try:
        async with db.session() as session:
            try:
                user = await auth.get_user_by_email(session, email)
            except Exception:
                user = await auth.create_user(
                    session, SYSTEM, email=email, name="Bench", role=Role.admin
                )
            _, plain = await auth.create_token(
                session, SYSTEM, user_id=user.id, name="bench", scopes=list(Scope)
            )
        return plain
    finally:
        await db.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def madad_server(
    url: str,
    *,
    workers: int = 2,
    env: dict[str, str] | None = None,
    extra_args: list[str] | None = None,
) -> Iterator[str]:
    """`madad serve --workers N` on a free port; yields the base URL once healthy."""
    port = free_port()
    environment = {
        **os.environ,
        "MADAD_DATABASE_URL": url,
        "MADAD_AUTO_MIGRATE": "false",
        "MADAD_LOG_LEVEL": "warning",
        "MADAD_DATA_DIR": str(ROOT / "bench" / "results" / "data"),
        **(env or {}),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "madad",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            *(extra_args or []),
        ],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"madad serve exited: {proc.stderr.read() if proc.stderr else ''}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("madad serve did not become healthy in 60 s")
            time.sleep(0.3)
        madad_server.pid = proc.pid  # type: ignore[attr-defined]
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = task / "children"
        if children.exists():
            out += [int(c) for c in children.read_text().split()]
    return out


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def _postgres_pids() -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip() in ("postgres", "postmaster"):
                    pids.append(int(d.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds spent by the server's processes, PostgreSQL and this process over a span."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    def sample(self) -> dict[str, float]:
        server = sum(_cpu_seconds(p) for p in _tree(self.server_pid)) if self.server_pid else 0.0
        postgres = sum(_cpu_seconds(p) for p in _postgres_pids())
        return {"server": server, "postgres": postgres, "load": _cpu_seconds(os.getpid())}

    @staticmethod
    def per_request(before: dict[str, float], after: dict[str, float], requests: int) -> str:
        if not requests:
            return ""
        parts = [f"{k} {1000 * (after[k] - before[k]) / requests:.2f} ms" for k in before]
        return "CPU per request: " + ", ".join(parts)


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
