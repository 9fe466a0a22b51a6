"""Recording facts, announcing them after commit, reading them back, and feeding consumers.

`record()` is the only writer of `activity`. Facts recorded in a transaction are flushed in one
batch just before it commits and published on the bus right after, on the topics `tickets`,
`ticket:{id}` and `contact:{id}`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity.models import Activity, FactCursor
from madad.db import Database, after_commit, before_commit, tx_state, utcnow
from madad.dialects import insert_ignoring_conflicts, is_postgres, visible_horizon

log = logging.getLogger("madad.activity")


def event_of(fact: Activity | Fact) -> dict[str, Any]:
    """The JSON shape of a fact, as the stream, the API and webhooks show it."""
    return {
        "id": fact.id,
        "at": fact.at.isoformat(),
        "kind": fact.kind,
        "ticket_id": fact.ticket_id,
        "contact_id": fact.contact_id,
        "agent_id": fact.agent_id,
        "team_id": fact.team_id,
        "channel": fact.channel,
        "data": fact.data,
    }


def topics_of(event: dict[str, Any]) -> list[str]:
    topics = []
    if event["ticket_id"] is not None:
        topics += ["tickets", f"ticket:{event['ticket_id']}"]
    if event["contact_id"] is not None:
        topics.append(f"contact:{event['contact_id']}")
    return topics


def record(
    session: AsyncSession,
    kind: str,
    *,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    agent_id: int | None = None,
    team_id: int | None = None,
    channel: str | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append a fact to the unit of work.

    Facts of a transaction are written in one statement just before it commits (or at
    `flush_facts`), in the order they were recorded, and published on the bus after it.
    """
    state = tx_state(session)
    pending: list[dict[str, Any]] | None = state.get("facts")
    if pending is None:
        pending = state["facts"] = []
        before_commit(session, "activity.flush", lambda: flush_facts(session))
    pending.append(
        {
            "at": at or utcnow(),
            "kind": kind,
            "ticket_id": ticket_id,
            "contact_id": contact_id,
            "agent_id": agent_id,
            "team_id": team_id,
            "channel": channel,
            "data": data or {},
        }
    )


async def flush_facts(session: AsyncSession) -> None:
    """Write the facts recorded so far in this transaction (commit does it anyway)."""
    state = tx_state(session)
    pending: list[dict[str, Any]] = state.get("facts") or []
    if not pending:
        return
    rows, pending[:] = list(pending), []
    conn = await session.connection()
    ids = (
        (
            await conn.execute(
                insert(Activity).returning(Activity.id, sort_by_parameter_order=True), rows
            )
        )
        .scalars()
        .all()
    )
    bus = session.info.get("bus")
    if bus is None:
        return
    events = [
        {"id": fact_id, **row, "at": row["at"].isoformat()}
        for fact_id, row in zip(ids, rows, strict=True)
    ]
    order = (
        "id",
        "at",
        "kind",
        "ticket_id",
        "contact_id",
        "agent_id",
        "team_id",
        "channel",
        "data",
    )
    events = [{k: e[k] for k in order} for e in events]

    async def publish() -> None:
        await bus.publish_many([(t, e) for e in events for t in topics_of(e)])

    after_commit(session, publish)


async def reattribute_contact(session: AsyncSession, source_id: int, target_id: int) -> None:
    """After a contact merge, the merged contact's history is the surviving contact's."""
    await session.execute(
        update(Activity)
        .where(Activity.contact_id == source_id)
        .values(contact_id=target_id)
        .execution_options(synchronize_session=False)
    )


@dataclass
class FactFilter:
    kind: str | None = None
    kind_prefix: str | None = None
    ticket_id: int | None = None
    contact_id: int | None = None
    contact_ids: Sequence[int] | None = None
    agent_id: int | None = None
    channel: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _filtered(stmt: Any, f: FactFilter) -> Any:
    if f.kind:
        stmt = stmt.where(Activity.kind == f.kind)
    if f.kind_prefix:
        stmt = stmt.where(Activity.kind.startswith(f.kind_prefix, autoescape=True))
    if f.ticket_id is not None:
        stmt = stmt.where(Activity.ticket_id == f.ticket_id)
    if f.contact_id is not None:
        stmt = stmt.where(Activity.contact_id == f.contact_id)
    if f.contact_ids is not None:
        stmt = stmt.where(Activity.contact_id.in_(list(f.contact_ids)))
    if f.agent_id is not None:
        stmt = stmt.where(Activity.agent_id == f.agent_id)
    if f.channel:
        stmt = stmt.where(Activity.channel == f.channel)
    if f.since is not None:
        stmt = stmt.where(Activity.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(Activity.at < f.until)
    return stmt


async def list_facts(
    session: AsyncSession,
    f: FactFilter,
    *,
    after_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
    newest_first: bool = False,
) -> list[Activity]:
    """Facts matching `f`, by id (ascending unless `newest_first`), keyset-paginated by id."""
    stmt = _filtered(select(Activity), f)
    if after_id is not None:
        stmt = stmt.where(Activity.id > after_id)
    if before_id is not None:
        stmt = stmt.where(Activity.id < before_id)
    order = Activity.id.desc() if newest_first else Activity.id.asc()
    return list((await session.execute(stmt.order_by(order).limit(limit))).scalars())


REPLAY_LOOKBACK = timedelta(seconds=60)


async def replay_since(
    session: AsyncSession, last_event_id: int, *, ticket_id: int | None = None, limit: int = 5000
) -> list[Activity]:
    """Facts a reconnecting client may have missed since `last_event_id`.

    Ids are assigned at insert, not at commit, so on PostgreSQL a fact with a smaller id can
    become visible after a larger one was streamed. Replay therefore also covers a short window
    before the client's last event; clients drop ids they already have.
    """
    anchor = await session.scalar(select(Activity.at).where(Activity.id == last_event_id))
    stmt = select(Activity)
    if ticket_id is not None:
        stmt = stmt.where(Activity.ticket_id == ticket_id)
    else:
        stmt = stmt.where(Activity.ticket_id.is_not(None))
    if anchor is not None and is_postgres(session):
        stmt = stmt.where(or_(Activity.id > last_event_id, Activity.at >= anchor - REPLAY_LOOKBACK))
    else:
        stmt = stmt.where(Activity.id > last_event_id)
    return list((await session.execute(stmt.order_by(Activity.id).limit(limit))).scalars())


# --- consumers: react to new facts in commit order, exactly once per consumer -----------------


@dataclass(frozen=True, slots=True)
class Fact:
    """A fact as consumers read it (plain values, no ORM state)."""

    id: int
    at: datetime
    kind: str
    ticket_id: int | None
    contact_id: int | None
    agent_id: int | None
    team_id: int | None
    channel: str | None
    data: dict[str, Any]
    txid: int | None


FACT_COLUMNS = _FACT_COLUMNS = (
    Activity.id,
    Activity.at,
    Activity.kind,
    Activity.ticket_id,
    Activity.contact_id,
    Activity.agent_id,
    Activity.team_id,
    Activity.channel,
    Activity.data,
    Activity.txid,
)

FactHandler = Callable[[AsyncSession, list[Fact]], Awaitable[None]]
Idle = Callable[[AsyncSession], Awaitable[bool]]


@dataclass
class Consumer:
    name: str
    handle: FactHandler
    batch: int = 500
    idle: Idle | None = None


consumers: dict[str, Consumer] = {}


def consumer(
    name: str, *, batch: int = 500, idle: Idle | None = None
) -> Callable[[FactHandler], FactHandler]:
    """Register a fact consumer. Its handler gets each new fact once, in commit order, in the
    same transaction that advances its read position — so its own writes are exactly-once.

    `idle(session)`, if given, says the consumer has nothing to do with any fact right now
    (the webhooks consumer when no webhook is active): its position then moves past the facts
    without reading them.
    """

    def register(fn: FactHandler) -> FactHandler:
        consumers[name] = Consumer(name, fn, batch, idle)
        return fn

    return register


def _ensure_cursor(session: AsyncSession, name: str) -> Any:
    return insert_ignoring_conflicts(
        session, FactCursor.__table__, index_elements=["consumer"]
    ).values(consumer=name, txid=0, last_id=0, failures=0, updated_at=utcnow())


async def _lock_cursor(session: AsyncSession, name: str) -> FactCursor | None:
    await session.execute(_ensure_cursor(session, name))
    stmt = (
        select(FactCursor)
        .where(FactCursor.consumer == name)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _after(cursor: FactCursor, horizon: int | None) -> Any:
    """Facts after the cursor, and (PostgreSQL) below the horizon, in commit order."""
    if horizon is None:
        return [Activity.id > cursor.last_id], [Activity.id]
    return [
        Activity.txid < horizon,
        or_(
            Activity.txid > cursor.txid,
            and_(Activity.txid == cursor.txid, Activity.id > cursor.last_id),
        ),
    ], [Activity.txid, Activity.id]


async def consume_once(db: Database, c: Consumer) -> int:
    """Feed one batch of new facts to `c`; return how many facts it read (0: caught up/busy)."""
    try:
        async with db.session() as session:
            cursor = await _lock_cursor(session, c.name)
            if cursor is None or cursor.paused_by:  # another worker holds it, or a rebuild
                return 0
            horizon = await visible_horizon(session)
            where, order = _after(cursor, horizon)
            conn = await session.connection()
            if c.idle is not None and await c.idle(session):
                last = (
                    await conn.execute(
                        select(Activity.id, Activity.txid)
                        .where(*where)
                        .order_by(*[o.desc() for o in order])
                        .limit(1)
                    )
                ).first()
                if last is None:
                    return 0
                skipped = 1
            else:
                rows = (
                    await conn.execute(
                        select(*_FACT_COLUMNS).where(*where).order_by(*order).limit(c.batch)
                    )
                ).all()
                if not rows:
                    return 0
                batch = [Fact(*row) for row in rows]
                await c.handle(session, batch)
                last, skipped = batch[-1], len(batch)
            cursor.txid = last.txid or 0
            cursor.last_id = last.id
            cursor.failures = 0
            cursor.last_error = None
            cursor.updated_at = utcnow()
            return skipped
    except Exception as exc:
        log.exception("fact consumer %s failed", c.name)
        async with db.session() as session:
            await session.execute(_ensure_cursor(session, c.name))
            await session.execute(
                update(FactCursor)
                .where(FactCursor.consumer == c.name)
                .values(
                    failures=FactCursor.failures + 1,
                    last_error=f"{type(exc).__name__}: {exc}"[:2000],
                    updated_at=utcnow(),
                )
            )
        raise


async def run_consumers(db: Database, stop: asyncio.Event, *, poll_seconds: float = 0.5) -> None:
    """Keep every registered consumer caught up until `stop` is set."""
    backoff: dict[str, float] = {}
    while not stop.is_set():
        busy = False
        for c in list(consumers.values()):
            if backoff.get(c.name, 0) > asyncio.get_running_loop().time():
                continue
            try:
                if await consume_once(db, c):
                    busy = True
                    backoff.pop(c.name, None)
            except Exception:
                backoff[c.name] = asyncio.get_running_loop().time() + 5
        if not busy:
            try:
                async with asyncio.timeout(poll_seconds):
                    await stop.wait()
            except TimeoutError:
                pass


class FactsHeldBack(RuntimeError):
    """Facts stay unreadable because other transactions of the database are still running."""


async def drain_consumers(db: Database, *, rounds: int = 100, settle_seconds: float = 10.0) -> int:
    """Run every consumer until caught up (tests, CLI); return facts read.

    On PostgreSQL, facts written by transactions that are still running elsewhere cannot be
    read yet (consumers read in commit order); this waits up to `settle_seconds` for them and
    then raises FactsHeldBack naming the sessions that hold them, rather than return as if the
    consumers had caught up.
    """
    total = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settle_seconds
    done_rounds = 0
    while done_rounds < rounds:
        read = 0
        for c in list(consumers.values()):
            read += await consume_once(db, c)
        total += read
        if read:
            done_rounds += 1
            continue
        if not await _facts_not_yet_visible(db):
            break
        if loop.time() > deadline:
            raise FactsHeldBack(
                f"facts are still held back after {settle_seconds:g} s by: "
                + "; ".join(await _holders(db))
            )
        await asyncio.sleep(0.05)
    return total


async def _facts_not_yet_visible(db: Database) -> bool:
    async with db.session(write=False) as session:
        horizon = await visible_horizon(session)
        if horizon is None:
            return False
        found = await session.scalar(select(Activity.id).where(Activity.txid >= horizon).limit(1))
        return found is not None


async def _holders(db: Database) -> list[str]:
    """The other sessions of this database with a transaction id (PostgreSQL), described."""
    async with db.session(write=False) as session:
        rows = await session.execute(_HOLDERS)
        return [
            f"pid {pid} ({app or 'no application name'}, {state}, transaction since {began},"
            f" last statement {query[:200]!r})"
            for pid, app, state, began, query in rows
        ] or ["no session now (they have finished)"]


_HOLDERS = text(
    "SELECT pid, application_name, state, xact_start, query FROM pg_stat_activity"
    " WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
    " ORDER BY xact_start"
)


async def consumer_positions(session: AsyncSession) -> list[FactCursor]:
    return list((await session.execute(select(FactCursor).order_by(FactCursor.consumer))).scalars())


async def hold_consumer(session: AsyncSession, name: str) -> None:
    """Take consumer `name`'s position for this transaction (the worker skips it meanwhile;
    on SQLite writers are serialised anyway)."""
    await session.execute(_ensure_cursor(session, name))
    await session.execute(
        select(FactCursor.consumer).where(FactCursor.consumer == name).with_for_update()
    )


async def pause_consumer(session: AsyncSession, name: str, by: str | None) -> None:
    """Stop (`by` says who, for the record) or restart (None) consumer `name`; while paused
    it reads no facts and its position stays where it is."""
    await session.execute(_ensure_cursor(session, name))
    await session.execute(
        update(FactCursor)
        .where(FactCursor.consumer == name)
        .values(paused_by=by[:200] if by else None, updated_at=utcnow())
    )


async def last_position(session: AsyncSession) -> tuple[int, int] | None:
    """(txid, id) of the last fact every reader can see now (below the visible horizon)."""
    horizon = await visible_horizon(session)
    if horizon is None:
        stmt = select(Activity.txid, Activity.id).order_by(Activity.id.desc()).limit(1)
    else:
        stmt = (
            select(Activity.txid, Activity.id)
            .where(Activity.txid < horizon)
            .order_by(Activity.txid.desc(), Activity.id.desc())
            .limit(1)
        )
    row = (await session.execute(stmt)).first()
    return (row[0] or 0, row[1]) if row is not None else None


def up_to(position: tuple[int, int], postgres: bool) -> Any:
    """Facts at or before a position, in commit order."""
    txid, last_id = position
    if not postgres:
        return Activity.id <= last_id
    return or_(Activity.txid < txid, and_(Activity.txid == txid, Activity.id <= last_id))


async def move_consumer(session: AsyncSession, name: str, *, txid: int, last_id: int) -> None:
    """Set consumer `name`'s position: the next fact it reads is the one after (txid, last_id)."""
    await session.execute(
        update(FactCursor)
        .where(FactCursor.consumer == name)
        .values(txid=txid, last_id=last_id, failures=0, last_error=None, updated_at=utcnow())
    )


async def skip_to_end(session: AsyncSession, name: str) -> None:
    """Move consumer `name` past every fact written so far (history that is not news to it,
    such as an imported or demo past)."""
    await hold_consumer(session, name)
    last = await last_position(session)
    if last is not None:
        await move_consumer(session, name, txid=last[0], last_id=last[1])
