"""Fixtures: every database test runs on SQLite and on PostgreSQL; bus tests on real Redis.

PostgreSQL and Redis come from MADAD_TEST_POSTGRES_URL / MADAD_TEST_REDIS_URL. Without them the
tests that need them are skipped — unless MADAD_REQUIRE_SERVICES=1 (CI), which turns the skip
into a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from madad import migrate
from madad.app import create_app
from madad.auth import service as auth
from madad.auth.models import Role
from madad.auth.permissions import ROLE_SCOPES, SYSTEM, Scope
from madad.bus import MemoryBus
from madad.config import Settings
from madad.db import Base, Database

POSTGRES_URL = os.environ.get("MADAD_TEST_POSTGRES_URL")
REDIS_URL = os.environ.get("MADAD_TEST_REDIS_URL")
REQUIRE = os.environ.get("MADAD_REQUIRE_SERVICES") == "1"


def need(service: str, url: str | None) -> str:
    """The service's URL, or skip (fail under MADAD_REQUIRE_SERVICES=1) without it."""
    if url:
        return url
    message = f"{service} is not configured (MADAD_TEST_{service.upper()}_URL)"
    if REQUIRE:
        pytest.fail(message + " but MADAD_REQUIRE_SERVICES=1")
    pytest.skip(message)


def base_settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "redis_url": None,
        "embedded_worker": False,
        "auto_migrate": False,
        "secret_key": "test-secret-key-not-for-production",
        "worker_poll_seconds": 0.1,
        "token_cache_seconds": 0.0,
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


# --- databases --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per test session; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "madad.db"
    settings = base_settings(path.parent, database_url=f"sqlite+aiosqlite:///{path}")
    asyncio.run(migrate.upgrade_async(settings))
    # Fold the WAL into the main file so that a plain copy is complete.
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    return path


@dataclass
class PgSchema:
    url: str
    schema: str


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[PgSchema | None]:
    """A database of its own for this test session, with a fresh schema migrated once (both
    dropped at the end); a schema in MADAD_TEST_POSTGRES_URL's database where this role may not
    create databases.

    Its own database, because PostgreSQL's transaction ids are shared by the whole server: the
    fact consumers wait for the transactions of their database, and another test session's in
    the same database would hold this one's consumers back."""
    if not POSTGRES_URL:
        yield None
        return
    name = f"madad_test_{uuid.uuid4().hex[:10]}"
    schema = name
    server = POSTGRES_URL.rsplit("/", 1)[0]
    url = POSTGRES_URL

    async def setup() -> None:
        nonlocal url
        admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        try:
            async with admin.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
            url = f"{server}/{name}"
        except DBAPIError:
            pass  # no CREATEDB: share the configured database
        finally:
            await admin.dispose()
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await engine.dispose()
        await migrate.upgrade_async(
            Settings(database_url=url, database_schema=schema, _env_file=None)  # type: ignore[call-arg]
        )

    async def teardown() -> None:
        if url == POSTGRES_URL:
            engine = create_async_engine(POSTGRES_URL)
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await engine.dispose()
            return
        admin = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    asyncio.run(setup())
    try:
        yield PgSchema(url, schema)
    finally:
        asyncio.run(teardown())


TABLES = [t.name for t in reversed(Base.metadata.sorted_tables)]


async def truncate_all(settings: Settings) -> None:
    engine = create_async_engine(
        settings.database_url,
        connect_args={"server_settings": {"search_path": settings.database_schema or "public"}},
    )
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def dialect(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(
    dialect: str, tmp_path: Path, sqlite_template: Path, pg_schema: PgSchema | None
) -> Iterator[Settings]:
    """Settings for one test on a clean, migrated database of the parametrised dialect."""
    if dialect == "sqlite":
        path = tmp_path / "madad.db"
        shutil.copy(sqlite_template, path)
        yield base_settings(tmp_path, database_url=f"sqlite+aiosqlite:///{path}")
        return
    need("postgres", POSTGRES_URL)
    assert pg_schema is not None
    settings = base_settings(tmp_path, database_url=pg_schema.url, database_schema=pg_schema.schema)
    try:
        yield settings
    finally:
        asyncio.run(truncate_all(settings))


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings, bus=MemoryBus())
    try:
        yield database
    finally:
        await database.dispose()


# --- the application ----------------------------------------------------------------------------


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://madad.test") as c:
        yield c


@dataclass
class Person:
    id: int
    email: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_person(
    db: Database,
    *,
    role: Role = Role.agent,
    email: str | None = None,
    name: str = "Test Person",
    scopes: list[Scope] | None = None,
    password: str | None = "correct horse battery",
) -> Person:
    email = email or f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
    async with db.session() as session:
        user = await auth.create_user(
            session, SYSTEM, email=email, name=name, role=role, password=password
        )
        _token, plain = await auth.create_token(
            session,
            SYSTEM,
            user_id=user.id,
            name="test",
            scopes=scopes or sorted(ROLE_SCOPES[role]),
        )
    return Person(user.id, email, role.value, plain)


@pytest.fixture
async def agent(app: object) -> Person:
    return await make_person(app.state.db, role=Role.agent, name="Ayesha Agent")  # type: ignore[attr-defined]


@pytest.fixture
async def admin(app: object) -> Person:
    return await make_person(app.state.db, role=Role.admin, name="Adil Admin")  # type: ignore[attr-defined]


@pytest.fixture
async def integration(app: object) -> Person:
    """A token that may only post inbound messages (what a social bridge holds)."""
    return await make_person(  # type: ignore[attr-defined]
        app.state.db,
        role=Role.agent,
        name="Bridge",
        scopes=[Scope.inbound],  # type: ignore[attr-defined]
    )


# --- counting statements ------------------------------------------------------------------------


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@contextlib.contextmanager
def count_statements(database: Database) -> Iterator[StatementCounter]:
    """Count the SQL statements a block issues (guards pages against N+1 queries)."""
    counter = StatementCounter()
    event.listen(database.engine.sync_engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", counter)


# --- Redis ------------------------------------------------------------------------------------


@pytest.fixture
def redis_url() -> str:
    return need("redis", REDIS_URL)
