"""The wallboard: waiting contacts, longest wait, today's service level and the last hour's
ASA, agents signed in and on a contact — from live-contact facts, per queue — and callbacks
due today and overdue."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from madad.activity import service as facts
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM
from madad.channels.hours import calendar as cal
from madad.channels.hours import service as hours
from madad.channels.phone import callbacks
from madad.db import Database
from madad.metrics import wallboard
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in


async def live(
    db: Database, ticket: int, kind: str, at: datetime, queue: str, agent: int | None = None
) -> None:
    async with db.session() as session:
        data = {"session": f"call-{ticket}", "queue": queue}
        facts.record(session, f"live.{kind}", ticket_id=ticket, contact_id=ticket,
                     agent_id=agent, channel="phone", data=data, at=at)  # fmt: skip


async def test_the_wallboard_counts_what_is_happening(
    app: object, client: httpx.AsyncClient
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    agent = await make_person(db, role=Role.agent, name="Ayesha <i>Agent</i>", password=PASSWORD)
    # The page reads the real clock, so the contacts are placed just before it: all within the
    # last 95 s, which stays inside today unless the test starts right after midnight UTC.
    since_midnight = datetime.now(UTC) - datetime.now(UTC).replace(hour=0, minute=0, second=0)
    if since_midnight < timedelta(minutes=2):
        await asyncio.sleep((timedelta(minutes=2) - since_midnight).total_seconds())
    now = datetime.now(UTC).replace(microsecond=0)
    await live(db, 1, "offered", now - timedelta(seconds=95), "sales")  # waiting 95 s
    await live(db, 2, "offered", now - timedelta(seconds=90), "sales")
    await live(db, 2, "answered", now - timedelta(seconds=80), "sales", agent.id)
    await live(db, 3, "offered", now - timedelta(seconds=85), "support")
    await live(db, 3, "answered", now - timedelta(seconds=35), "support", agent.id)
    await live(db, 3, "ended", now - timedelta(seconds=20), "support", agent.id)
    await live(db, 4, "offered", now - timedelta(seconds=70), "support")
    await live(db, 4, "abandoned", now - timedelta(seconds=40), "support")
    async with db.session(write=False) as session:
        b = await wallboard.board(session, now)
        sales = await wallboard.board(session, now, "sales")
    assert (b.waiting, b.longest_wait) == (1, 95.0)
    assert (b.offered, b.answered, b.abandoned) == (4, 2, 1)
    assert b.service_level == 1 / 3  # 10 s yes; 50 s no; abandoned after 30 s
    assert b.asa_last_hour == 30.0
    assert b.on_contact == ["Ayesha <i>Agent</i>"]  # still on call 2
    assert b.queues == ["sales", "support"]
    assert (sales.offered, sales.waiting, sales.service_level) == (2, 1, 1.0)
    browser = await sign_in(client, agent)
    page = await browser.get("/wallboard?queue=sales")
    assert page.status_code == 200
    assert "Ayesha &lt;i&gt;Agent&lt;/i&gt;" in page.text  # signed in, escaped
    assert '<p class="big">1</p>' in page.text  # waiting now
    panel = await browser.get("/wallboard/panel")
    assert panel.status_code == 200 and "<html" not in panel.text
    assert "33.3 %" in panel.text


async def test_the_wallboard_counts_callbacks_due_today_and_overdue(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    then = now - timedelta(hours=3)
    async with db.session() as session:
        always = {d: ["00:00-24:00"] for d in cal.WEEKDAYS}
        await hours.create_queue(
            session, SYSTEM, name="billing", time_zone="UTC", weekly_hours=always
        )
        for i, (asked, start) in enumerate([
            (then, then + timedelta(minutes=10)),  # its window ended 2 h 20 min ago: overdue
            (now, now + timedelta(minutes=5)),  # due in 35 minutes
            (now, now + timedelta(days=2)),  # not today
        ]):  # fmt: skip
            request = callbacks.CallbackRequest(
                f"Caller {i}", f"+92 333 000000{i}", start, start + timedelta(minutes=30)
            )
            await callbacks.request_callback(session, "billing", request, now=asked)
    tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    due_today = 1 + (now + timedelta(minutes=35) < tomorrow)
    async with db.session(write=False) as session:
        b = await wallboard.board(session, now)
        other = await wallboard.board(session, now, "sales")
    assert (b.callbacks_due, b.callbacks_overdue) == (due_today, 1)
    assert (other.callbacks_due, other.callbacks_overdue) == (0, 0)
