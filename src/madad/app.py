"""create_app(): the one ASGI application — routes, error handling, lifespan (bus, worker)."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from madad import __version__, registry
from madad.bus import make_bus
from madad.channels.intake import IntakeBatcher
from madad.config import Settings, get_settings
from madad.db import Database
from madad.files import FileStore
from madad.web import console, problems
from madad.web.limits import BodyLimit
from madad.worker import run_worker

log = logging.getLogger("madad")
STATIC_DIR = Path(__file__).parent / "web" / "static"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    bus = make_bus(settings.redis_url)
    await bus.start()
    db = Database(settings, bus=bus)
    app.state.bus = bus
    app.state.db = db
    app.state.files = FileStore(settings.files_dir)
    app.state.intake = IntakeBatcher(db, app.state.files)
    app.state.intake.start()
    stop = asyncio.Event()
    background: list[asyncio.Task[None]] = []
    # Everything loaded so far lives as long as the process: keep it out of the cyclic
    # collector's way, and collect the young generation less often (requests allocate a lot
    # of short-lived objects that reference counting frees anyway).
    gc.freeze()
    gc.set_threshold(2_000, 50, 50)
    if settings.embedded_worker:
        background.append(
            asyncio.create_task(run_worker(db, bus, settings, stop), name="madad-worker")
        )
    try:
        yield
    finally:
        stop.set()
        for task in background:
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
            except Exception:
                log.exception("worker stopped with an error")
        await app.state.intake.stop()
        await bus.stop()
        await db.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Madad",
        version=__version__,
        description="Customer support desk: one inbox for every channel, honest KPIs.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    problems.install(app)
    console.install(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_request_bytes)
    for router in registry.ROUTERS:
        app.include_router(router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with app.state.db.session(write=False) as session:
                await session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        ping = getattr(app.state.bus, "ping", None)
        if ping is not None:
            try:
                await ping()
                checks["bus"] = "ok"
            except Exception as exc:
                checks["bus"] = f"error: {type(exc).__name__}"
        else:
            checks["bus"] = "in-process"
        healthy = all(v in ("ok", "in-process") for v in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unhealthy", "version": __version__, **checks},
            status_code=200 if healthy else 503,
        )

    return app
