"""Business-hours first response and resolution: the clock over many tickets agrees with the
calendar's own arithmetic, and reports count only open hours (a Friday-evening ticket answered
on Monday morning waited two office hours, not a weekend)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from madad.activity import service as facts
from madad.auth.models import Role
from madad.channels.hours import calendar as cal
from madad.channels.hours.calendar import Calendar
from madad.db import Database
from madad.metrics import reports
from madad.metrics.business import OpenClock, business_hours
from tests.channels.hours.test_calendar import calendar_and_times, office
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in


@given(calendar_and_times(5), st.data())
@hsettings(max_examples=100, deadline=None)
def test_the_clock_agrees_with_the_calendar(
    case: tuple[Calendar, list[datetime]], data: st.DataObject
) -> None:
    calendar, times = case
    start, end = times[0], times[-1] + timedelta(hours=1)
    clock = OpenClock(calendar, start, end)
    inside = times[1:-1]
    for a in inside:
        for b in inside:
            expected = cal.open_seconds_between(calendar, a, b)
            assert abs(clock.between(a, b) - expected) < 1e-6, (a, b)
    outside = data.draw(st.integers(1, 5 * 86400))
    a = start - timedelta(seconds=outside)  # before the clock's range: the calendar answers
    assert clock.between(a, times[1]) == cal.open_seconds_between(calendar, a, times[1])


FRIDAY = datetime(2026, 3, 6, 16, 0, tzinfo=UTC)  # office hours 09:00-17:00 UTC, Mon-Fri


async def write_ticket(db: Database, n: int, created: datetime, answered: datetime,
                       solved: datetime) -> None:  # fmt: skip
    ids = {"ticket_id": 70_000 + n, "contact_id": None, "channel": "email", "team_id": 1}
    async with db.session() as session:
        opened = {"priority": "normal", "status": "new", "follow_up_of": None}
        facts.record(session, "ticket.created", **ids, at=created, data=opened)
        facts.record(session, "message.sent", **ids, agent_id=7, at=answered,
                     data={"author_type": "agent"})  # fmt: skip
        facts.record(session, "ticket.status_changed", **ids, agent_id=7, at=solved,
                     data={"from": "open", "to": "solved", "assignee_id": 7})  # fmt: skip
    await facts.drain_consumers(db)


async def test_a_weekend_is_not_counted_in_business_hours(
    client: httpx.AsyncClient, db: Database
) -> None:
    monday = FRIDAY + timedelta(days=3)
    # Created Friday 16:00, answered Monday 10:00 (2 open hours), solved Monday 12:00 (4).
    await write_ticket(db, 1, FRIDAY, monday - timedelta(hours=6), monday - timedelta(hours=4))
    # Created Monday 09:00, answered 09:30 (30 min), solved Tuesday 10:00 (8 + 1 = 9 open h).
    await write_ticket(db, 2, monday - timedelta(hours=7), monday - timedelta(hours=6, minutes=30),
                       monday + timedelta(hours=18))  # fmt: skip
    period = reports.day_period(FRIDAY.date(), FRIDAY.date() + timedelta(days=7))
    async with db.session(write=False) as session:
        got = await business_hours(session, period, office("UTC"))
        calendar_time = await reports.kpis(session, period, compare=False)
    assert got["first_response"].n == 2
    assert got["first_response"].mean == (2 * 3600 + 1800) / 2
    assert got["resolution_full"].mean == (4 + 9) * 3600 / 2
    assert calendar_time["total"]["first_response"]["mean"] == (66 * 3600 + 1800) / 2

    supervisor = await make_person(db, role=Role.supervisor, password=PASSWORD)
    admin = await make_person(db, role=Role.admin)
    r = await client.post("/api/v1/live/queues", headers=admin.headers, json={
        "name": "Office", "key": "office", "time_zone": "UTC",
        "weekly_hours": {d: ["09:00-17:00"] for d in cal.WEEKDAYS[:5]}})  # fmt: skip
    assert r.status_code == 201, r.text
    window = {"from": str(period.start.date()), "to": str(period.end.date())}
    r = await client.get("/api/v1/reports/kpis", headers=supervisor.headers,
                         params={**window, "business_hours": "office"})  # fmt: skip
    assert r.status_code == 200, r.text
    hours = r.json()["business_hours"]
    assert hours["queue"] == "office" and hours["time_zone"] == "UTC"
    assert hours["first_response"]["mean"] == 4500 and hours["resolution_full"]["n"] == 2
    r = await client.get("/api/v1/reports/kpis", headers=supervisor.headers,
                         params={**window, "business_hours": "<script>"})  # fmt: skip
    assert r.status_code == 422 and "no live queue" in r.text and "<script>" not in r.text
    browser = await sign_in(client, supervisor)
    page = await browser.get("/reports", params={**window, "hours": "office"})
    assert page.status_code == 200
    assert "In business hours: Office (UTC)" in page.text
    assert page.text.count("· 2 measured") >= 2
    page = await browser.get("/reports", params={**window, "hours": "<b>x</b>"})
    assert page.status_code == 200 and "no live queue has this key" in page.text
    assert "<b>x</b>" not in page.text
