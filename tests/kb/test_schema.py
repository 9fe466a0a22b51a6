"""The knowledge base's migration: its tables are what the models declare on both databases,
and the search index is each engine's own (an FTS5 table on SQLite, a GIN index on PostgreSQL)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from madad.db import Base, Database


def _kb(change: object) -> bool:
    table = getattr(change[1], "name", None) if isinstance(change, tuple) else None  # type: ignore[index]
    if isinstance(change, list):
        return any(isinstance(c, tuple) and str(c[2]).startswith("kb_") for c in change)
    return bool(table and table.startswith("kb_"))


async def test_kb_tables_match_the_models(db: Database) -> None:
    async with db.engine.connect() as conn:

        def diff(connection):
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    # The FTS5 table and its shadow tables are the search index, not models.
                    "include_name": lambda name, kind, _parent: (
                        not (kind == "table" and name.startswith("kb_fts"))
                    ),
                },
            )
            return compare_metadata(context, Base.metadata)

        changes = [c for c in await conn.run_sync(diff) if _kb(c)]
    assert changes == [], changes


async def test_each_engine_has_its_own_search_index(db: Database) -> None:
    async with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            sql = await conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'kb_fts'"))
            assert "fts5" in sql.scalar_one().lower()
        else:
            found = await conn.execute(
                text(
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_kb_search_document' "
                    "AND schemaname = current_schema()"
                )
            )
            assert "USING gin (document)" in found.scalar_one()
            exists = await conn.execute(text("SELECT to_regclass('kb_fts')"))
            assert exists.scalar_one() is None
