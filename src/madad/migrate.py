"""Bringing a database's schema up to date with Alembic, on SQLite or PostgreSQL.

Each domain that adds tables later adds its own revision; `upgrade` applies every head.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from madad.config import Settings
from madad.db import make_engine

MIGRATIONS = Path(__file__).parent / "migrations"
LOCK_ID = 0x6D61646164  # "madad": one migrator at a time on PostgreSQL


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(connection: Connection, target: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


def _current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


async def upgrade_engine(engine: AsyncEngine, target: str = "heads") -> None:
    async with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"SELECT pg_advisory_lock({LOCK_ID})"))
            await conn.commit()
        try:
            await conn.run_sync(_upgrade, target)
            await conn.commit()
        finally:
            if conn.dialect.name == "postgresql":
                await conn.execute(text(f"SELECT pg_advisory_unlock({LOCK_ID})"))
                await conn.commit()


async def current_engine(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade_async(settings: Settings, target: str = "heads") -> None:
    if settings.is_sqlite:
        _ensure_sqlite_dir(settings.database_url)
    engine = make_engine(settings.database_url, settings, pooled=False)
    try:
        await upgrade_engine(engine, target)
    finally:
        await engine.dispose()


async def current_async(settings: Settings) -> set[str]:
    engine = make_engine(settings.database_url, settings, pooled=False)
    try:
        return await current_engine(engine)
    finally:
        await engine.dispose()


def upgrade(settings: Settings, target: str = "heads") -> None:
    asyncio.run(upgrade_async(settings, target))


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1].split("?", 1)[0]
    if path and path != ":memory:":
        Path(path).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
