"""Alembic environment: runs on a connection handed over by madad.migrate (SQLite or PostgreSQL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from madad import registry  # noqa: F401 - every domain's tables are declared on Base
from madad.db import Base

target_metadata = Base.metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `madad db upgrade` (madad.migrate)")
run(connection)
