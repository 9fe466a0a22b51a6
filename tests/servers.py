"""Real HTTP servers for tests: Madad in this event loop, or as separate `madad serve` processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import uvicorn

from madad.app import create_app
from madad.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def serve_here(settings: Settings) -> AsyncIterator[tuple[str, object]]:
    """Serve create_app(settings) from this event loop; yields (base URL, app)."""
    app = create_app(settings)
    async with serve_app(app) as base:
        yield base, app


@contextlib.asynccontextmanager
async def serve_app(app: object) -> AsyncIterator[str]:
    """Serve any ASGI app on a loopback port from this event loop; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    deadline = time.monotonic() + 20
    while not server.started:
        if task.done():
            task.result()
        assert time.monotonic() < deadline, "server did not start"
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)
        sock.close()


def settings_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "MADAD_DATABASE_URL": settings.database_url,
        "MADAD_DATA_DIR": str(settings.data_dir),
        "MADAD_SECRET_KEY": "test-secret-key-not-for-production",
        "MADAD_AUTO_MIGRATE": "false",
        "MADAD_TOKEN_CACHE_SECONDS": "0",
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    if settings.database_schema:
        env["MADAD_DATABASE_SCHEMA"] = settings.database_schema
    if settings.redis_url:
        env["MADAD_REDIS_URL"] = settings.redis_url
    return env


@contextlib.contextmanager
def spawn_server(env: dict[str, str], *args: str) -> Iterator[str]:
    """`madad serve` as its own process; yields its base URL once /healthz answers."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "madad", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stdout.read() if proc.stdout else ''}")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not become healthy")
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
