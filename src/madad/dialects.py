"""The few statements that differ between SQLite and PostgreSQL, behind one function each."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import JSON, Table, text
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


async def bulk_insert(
    session: AsyncSession, table: Table, columns: list[str], records: list[tuple]
) -> None:
    """Insert many new rows (none can conflict), each a tuple of the `columns`' values:
    PostgreSQL's COPY, SQLite's executemany."""
    if not records:
        return
    if not is_postgres(session):
        for i in range(0, len(records), 2000):
            await session.execute(
                table.insert(), [dict(zip(columns, r, strict=True)) for r in records[i : i + 2000]]
            )
        return
    json = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, JSON)]
    if json:
        records = [
            tuple(orjson.dumps(v).decode() if i in json else v for i, v in enumerate(r))
            for r in records
        ]
    conn = await session.connection()
    raw = (await conn.get_raw_connection()).driver_connection
    await raw.copy_records_to_table(table.name, records=records, columns=columns)


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
