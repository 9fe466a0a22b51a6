"""The few statements that differ between SQLite and PostgreSQL, behind one function each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflicts(session: AsyncSession, table: Table, **constraint: Any) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING on either dialect."""
    if session.bind.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(**constraint)
    return sqlite.insert(table).on_conflict_do_nothing(**constraint)


def is_postgres(session: AsyncSession) -> bool:
    return session.bind.dialect.name == "postgresql"


async def current_txid(session: AsyncSession) -> int:
    """The writing transaction's id on PostgreSQL; 0 on SQLite, where writers are serialised."""
    if not is_postgres(session):
        return 0
    return (await session.execute(text("SELECT pg_current_xact_id()::text::bigint"))).scalar_one()


async def visible_horizon(session: AsyncSession) -> int | None:
    """Every transaction of this database with an id below this one has finished
    (PostgreSQL); None on SQLite.

    A reader that only consumes rows written below the horizon, ordered by (txid, id), never
    skips a row that commits late: ids are handed out at insert, not at commit. Transaction
    ids are cluster-wide, but only this database's transactions write its rows: a long
    transaction in another database of the server holds nothing back. (Where this role may
    not see another role's sessions here, the cluster-wide horizon is used instead.)
    """
    if not is_postgres(session):
        return None
    # pg_stat_activity is read once per transaction and kept: read it afresh, or a transaction
    # that began since would be missed.
    await session.execute(text("SELECT pg_stat_clear_snapshot()"))
    row = (await session.execute(_HORIZON)).one()
    xmin, xmax, running, hidden = row  # of others: as in a snapshot, our own is not counted
    if hidden or running is None:
        return xmin if hidden else xmax
    # backend_xid is 32 bits; widen it into the epoch of the snapshot (an id above the
    # snapshot's low 32 bits began in the epoch before).
    epoch, low = xmax >> 32, xmax & 0xFFFFFFFF
    full = [((epoch - (x > low)) << 32) | x for x in running]
    return min(xmax, *full)


_HORIZON = text(
    "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint,"
    " (SELECT array_agg(a.backend_xid::text::bigint) FROM pg_stat_activity AS a"
    "   WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL"
    "   AND a.pid <> pg_backend_pid()),"
    " (SELECT count(*) > 0 FROM pg_stat_activity AS a"
    "   WHERE a.datname = current_database() AND a.query = '<insufficient privilege>')"
    " FROM pg_current_snapshot() AS s"
)


async def lock_keys(session: AsyncSession, keys: list[str]) -> None:
    """Serialise writers that touch the same keys until their transactions end (PostgreSQL
    advisory locks, taken in one sorted order so that two writers never deadlock). On SQLite
    writers are already serialised; nothing to do."""
    if not keys or not is_postgres(session):
        return
    await (await session.connection()).execute(
        text(
            "SELECT pg_advisory_xact_lock(h) FROM ("
            " SELECT DISTINCT hashtextextended(k, 0) AS h"
            " FROM unnest(CAST(:keys AS text[])) AS k ORDER BY h) AS sorted_keys"
        ),
        {"keys": sorted(set(keys))},
    )


def upsert(
    session: AsyncSession,
    table: Table,
    *,
    index_elements: list[str],
    adding: list[str] | None = None,
    replacing: list[str] | None = None,
) -> Insert:
    """INSERT … ON CONFLICT DO UPDATE on either dialect: the `adding` columns become
    `old + new`, the `replacing` columns `new`."""
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table)
    values: dict[str, Any] = {c: table.c[c] + stmt.excluded[c] for c in adding or []}
    values |= {c: stmt.excluded[c] for c in replacing or []}
    return stmt.on_conflict_do_update(index_elements=index_elements, set_=values)
