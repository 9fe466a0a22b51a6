"""Database access: engines, sessions, the declarative base and the unit-of-work helpers.

Services flush; a unit of work (request, job, CLI command) commits once, via `commit()`, which
runs the session's before-commit hooks, commits, then runs its after-commit hooks (bus events).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from madad.config import Settings

log = logging.getLogger("madad.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every dialect (SQLite stores it as sortable text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSONType}


Hook = Callable[[], Awaitable[None]]


def tx_state(session: AsyncSession) -> dict[str, Any]:
    """State that lives as long as the session's current transaction (dropped at its end)."""
    return session.info.setdefault("madad_tx", {})


def settings_of(session: AsyncSession) -> Settings:
    settings = session.info.get("settings")
    if settings is None:
        raise RuntimeError("session was not made by madad.db.Database")
    return settings


def before_commit(session: AsyncSession, key: str, hook: Hook) -> None:
    """Run `hook` once just before this transaction commits (registering a key twice is once)."""
    hooks: dict[str, Hook] = tx_state(session).setdefault("before_commit", {})
    hooks.setdefault(key, hook)


def after_commit(session: AsyncSession, hook: Hook) -> None:
    """Run `hook` after this transaction commits; dropped if it rolls back."""
    tx_state(session).setdefault("after_commit", []).append(hook)


async def commit(session: AsyncSession) -> None:
    """Commit the unit of work, then announce it (after-commit hooks never undo a commit)."""
    state = tx_state(session)
    # Before-commit hooks may register more hooks (a flush that records facts, say).
    while state.get("before_commit"):
        hooks: dict[str, Hook] = state.pop("before_commit")
        for hook in hooks.values():
            await hook()
    after = state.pop("after_commit", [])
    await session.commit()
    for hook in after:
        try:
            await hook()
        except Exception:
            log.exception("after_commit hook failed")


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _end_transaction_state(session: Session) -> None:
    session.info.pop("madad_tx", None)


def _configure_sqlite(engine: AsyncEngine, settings: Settings) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control so that writers can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front: a deferred transaction that upgrades to a write fails
        # with SQLITE_BUSY instead of waiting. Read-only sessions stay deferred.
        mode = "DEFERRED" if conn.get_execution_options().get("madad_readonly") else "IMMEDIATE"
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str, settings: Settings, *, pooled: bool = True) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": settings.sqlite_busy_timeout_ms / 1000}
    else:
        if settings.database_schema:
            kwargs["connect_args"] = {"server_settings": {"search_path": settings.database_schema}}
    if pooled and not url.startswith("sqlite"):
        kwargs["pool_size"] = settings.db_pool_size
        kwargs["max_overflow"] = settings.db_max_overflow
        kwargs["pool_pre_ping"] = False
    if not pooled:
        kwargs["poolclass"] = NullPool
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _configure_sqlite(engine, settings)
    return engine


class Database:
    """The engines and session factories of one process."""

    def __init__(self, settings: Settings, *, bus: Any = None, pooled: bool = True) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url, settings, pooled=pooled)
        self.dialect = self.engine.dialect.name
        # Every session carries the settings and the bus, for after-commit announcements.
        self._info: dict[str, Any] = {"settings": settings, "bus": bus}
        self._write = async_sessionmaker(self.engine, expire_on_commit=False, info=self._info)
        self._read = async_sessionmaker(
            self.engine.execution_options(madad_readonly=True),
            expire_on_commit=False,
            info=self._info,
        )
        self.replica_engine: AsyncEngine | None = None
        if settings.database_replica_url:
            self.replica_engine = make_engine(settings.database_replica_url, settings)
            self._replica = async_sessionmaker(
                self.replica_engine.execution_options(madad_readonly=True),
                expire_on_commit=False,
                info=self._info,
            )
        else:
            self._replica = self._read

    @property
    def bus(self) -> Any:
        return self._info["bus"]

    def attach_bus(self, bus: Any) -> None:
        self._info["bus"] = bus

    def new_session(self, *, write: bool = True) -> AsyncSession:
        return (self._write if write else self._read)()

    @asynccontextmanager
    async def session(self, *, write: bool = True) -> AsyncIterator[AsyncSession]:
        """A unit of work: commits (and announces) on success, rolls back on any error."""
        session = self.new_session(write=write)
        try:
            yield session
            if write:
                await commit(session)
            # A read-only session just closes: what it loaded stays readable afterwards.
        except BaseException:
            await session.rollback()
            raise
        finally:
            await session.close()

    @asynccontextmanager
    async def report_session(self) -> AsyncIterator[AsyncSession]:
        """A read-only session on the replica when one is configured."""
        session = self._replica()
        try:
            yield session
        finally:
            await session.rollback()
            await session.close()

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.replica_engine is not None:
            await self.replica_engine.dispose()
