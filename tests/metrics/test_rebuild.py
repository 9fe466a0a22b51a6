"""A rebuild in parts gives the rollups of a rebuild in one piece, in worker processes or not.

The parts hold every contact id and every contact-less ticket exactly once (an id on a part's
boundary in two parts would be counted twice); sums added up in parts, in any order and in
any process, are the sums added up in one pass, to the last bit.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from madad.activity import service as facts
from madad.db import Database
from madad.errors import Invalid
from madad.metrics.models import MetricTicket
from madad.metrics.rebuild import default_processes, parts_of, rebuild
from madad.metrics.rollups import ROLLUP_TABLES

BASE = datetime(2026, 1, 5, 8, tzinfo=UTC)


@given(
    top=st.integers(0, 5000),
    chunk=st.integers(1, 700),
    loose=st.lists(st.integers(1, 10**6), unique=True, max_size=300).map(sorted),
)
def test_every_contact_and_loose_ticket_is_in_exactly_one_part(
    top: int, chunk: int, loose: list[int]
) -> None:
    parts = parts_of(top, loose, chunk)
    contacts = Counter(c for kind, p in parts if kind == "contacts" for c in range(*p))
    assert contacts == Counter(range(top + 1))
    tickets = Counter(t for kind, p in parts if kind == "tickets" for t in p)
    assert tickets == Counter(loose)
    for kind, p in parts:
        size = p[1] - p[0] if kind == "contacts" else len(p)
        assert 1 <= size <= chunk


def test_the_default_is_a_process_per_core_with_eight_parts_each_at_least() -> None:
    assert default_processes(0) == 1
    assert default_processes(15) == 1
    assert 1 <= default_processes(10_000) <= 4


async def write_history(db: Database, *, tickets: int = 90, contacts: int = 13) -> int:
    """Tickets of contacts 1…`contacts` (several on each contact, some follow-ups of others)
    and of no contact, with replies, solves, reopens, escalations, live contacts, surveys."""
    rnd = random.Random(6)
    async with db.session() as session:
        for t in range(1, tickets + 1):
            ticket: dict[str, Any] = {
                "ticket_id": t,
                "contact_id": rnd.choice([None, *range(1, contacts + 1)]),
                "channel": rnd.choice(["email", "chat", "phone"]),
                "team_id": rnd.choice([None, 1, 2]),
            }

            def fact(kind: str, at: datetime, agent: int | None = None, /, **data: Any) -> None:
                facts.record(session, kind, **ticket, agent_id=agent, at=at, data=data)  # noqa: B023

            at = BASE + timedelta(minutes=rnd.randint(0, 20_000))
            follow = rnd.choice([None, t - 1]) if t > 1 else None
            fact("ticket.created", at, priority="normal", status="new", follow_up_of=follow)
            if ticket["channel"] != "email":
                fact("live.offered", at)
                if rnd.random() < 0.8:
                    answered = at + timedelta(seconds=rnd.uniform(1, 90))
                    fact("live.answered", answered, 1)
                    fact("live.ended", answered + timedelta(seconds=rnd.uniform(30, 900)), 1)
                else:
                    fact("live.abandoned", at + timedelta(seconds=rnd.uniform(1, 60)))
            status = "new"
            for _ in range(rnd.randint(0, 6)):
                at += timedelta(minutes=rnd.randint(1, 3000), microseconds=rnd.randint(0, 10**6))
                agent = rnd.randint(1, 3)
                step = rnd.choice(["reply", "reply", "solve", "reopen", "escalate", "csat"])
                if step == "reply":
                    fact("message.sent", at, agent, author_type="agent")
                elif step == "solve" and status != "solved":
                    change = {"from": status, "to": "solved", "assignee_id": agent}
                    fact("ticket.status_changed", at, agent, **change)
                    fact("survey.sent", at, survey_id=f"{t}-csat", kind="csat")
                    status = "solved"
                elif step == "reopen" and status == "solved":
                    change = {"from": status, "to": "open", "assignee_id": agent}
                    fact("ticket.status_changed", at, agent, **change)
                    status = "open"
                elif step == "escalate":
                    fact("ticket.escalated", at, agent, **{"from": 0, "to": 1})
                elif step == "csat":
                    score = rnd.randint(1, 5)
                    fact(
                        "survey.answered",
                        at,
                        agent,
                        survey_id=f"{t}-csat",
                        kind="csat",
                        score=score,
                    )
    return tickets


async def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every rollup table and of metric_tickets, in key order."""
    out = {}
    async with db.session(write=False) as session:
        for model in (*ROLLUP_TABLES, MetricTicket):
            table = model.__table__
            rows = await session.execute(select(table).order_by(*table.primary_key.columns))
            out[table.name] = [dict(r._mapping) for r in rows]
    return out


def without_zeros(snap: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The incremental consumer keeps cells that went back to zero; a rebuild writes none.
    Its totals are added up in the database, in another order: equal to a millionth."""
    out = {}
    for name, rows in snap.items():
        if name == MetricTicket.__tablename__:
            out[name] = rows
            continue
        out[name] = [
            {**r, **({"total": round(r["total"], 6)} if "total" in r else {})}
            for r in rows
            if r["n"] or r.get("total")
        ]
    return out


@pytest.mark.parametrize("dialect", ["postgres"])
async def test_a_rebuild_in_worker_processes_equals_one_in_this_process(db: Database) -> None:
    tickets = await write_history(db)
    await facts.drain_consumers(db)
    incremental = await snapshot(db)
    assert len(incremental["metric_tickets"]) == tickets

    whole = await rebuild(db, processes=1, chunk=10**6)  # one part: no boundaries at all
    await facts.drain_consumers(db)  # facts above the rebuild's horizon, if any held it back
    assert (whole.tickets, whole.processes) == (tickets, 1)
    in_one_piece = await snapshot(db)
    # Contacts 0…13 in ranges of 4: boundaries at 4, 8 and 12; loose tickets in groups of 4.
    in_workers = await rebuild(db, processes=2, chunk=4)
    await facts.drain_consumers(db)
    assert (in_workers.tickets, in_workers.facts) == (tickets, whole.facts)
    assert in_workers.processes == 2
    by_workers = await snapshot(db)
    in_parts = await rebuild(db, processes=1, chunk=4)
    await facts.drain_consumers(db)
    assert (in_parts.tickets, in_parts.facts) == (tickets, whole.facts)
    by_parts = await snapshot(db)

    assert by_workers == by_parts == in_one_piece
    assert all(by_workers[t.__tablename__] for t in ROLLUP_TABLES), "every table has rows"
    assert without_zeros(by_workers) == without_zeros(incremental)


@pytest.mark.parametrize("dialect", ["sqlite"])
async def test_sqlite_rebuilds_in_this_process_whatever_processes_says(db: Database) -> None:
    tickets = await write_history(db, tickets=30)
    whole = await rebuild(db, chunk=10**6)
    in_one_piece = await snapshot(db)
    done = await rebuild(db, processes=2, chunk=4)
    assert (done.tickets, done.facts, done.processes) == (tickets, whole.facts, 1)
    assert await snapshot(db) == in_one_piece


async def test_processes_must_be_at_least_one(db: Database) -> None:
    await write_history(db, tickets=3)
    with pytest.raises(Invalid):
        await rebuild(db, processes=0)
