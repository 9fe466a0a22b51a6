"""The live queues over the API: admins create and change them, anyone reads a queue's status;
every bad calendar is a 422 naming the field, a taken name or key a 409, and no input a 500."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest

from madad.channels.hours import calendar as cal
from madad.channels.hours import service
from tests.conftest import Person

URL = "/api/v1/live/queues"
CORPUS = Path(__file__).parents[2] / "corpus"
NAUGHTY: list[str] = json.loads((CORPUS / "naughty-strings" / "blns.json").read_text())
WEEKDAYS_9_TO_5 = {d: ["09:00-17:00"] for d in cal.WEEKDAYS[:5]}


async def create(client: httpx.AsyncClient, who: Person, **body: object) -> httpx.Response:
    payload: dict[str, object] = {
        "name": "billing",
        "time_zone": "Asia/Karachi",
        "weekly_hours": WEEKDAYS_9_TO_5,
    }
    payload.update(body)
    return await client.post(URL, json=payload, headers=who.headers)


async def test_an_admin_posts_hours_and_anyone_reads_the_status(
    client: httpx.AsyncClient, admin: Person
) -> None:
    r = await create(
        client,
        admin,
        name="Billing (Urdu)",
        weekly_hours={**WEEKDAYS_9_TO_5, "friday": ["09:00-12:30", "14:30-17:00"]},
        holidays=[{"date": "2026-12-25", "hours": [], "name": "Quaid-e-Azam Day"}],
    )
    assert r.status_code == 201, r.text
    queue = r.json()
    assert queue["key"] == "billing-urdu"
    assert queue["weekly_hours"]["friday"] == ["09:00-12:30", "14:30-17:00"]
    assert queue["weekly_hours"]["sunday"] == []
    assert queue["holidays"] == [{"date": "2026-12-25", "hours": [], "name": "Quaid-e-Azam Day"}]

    listed = await client.get(URL, headers=admin.headers)
    assert [q["key"] for q in listed.json()] == ["billing-urdu"]

    # Open around the clock except today (a holiday in the queue's zone): closed, back tomorrow.
    zone = ZoneInfo("Asia/Karachi")
    today = datetime.now(UTC).astimezone(zone).date()
    r = await client.patch(
        f"{URL}/billing-urdu",
        json={
            "weekly_hours": {d: ["00:00-24:00"] for d in cal.WEEKDAYS},
            "holidays": [{"date": today.isoformat(), "hours": [], "name": "Today"}],
        },
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    status = (await client.get(f"{URL}/billing-urdu/status")).json()  # no credentials
    assert status["open"] is False and status["closes_at"] is None
    tomorrow = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    assert datetime.fromisoformat(status["opens_at"]) == tomorrow
    assert status["time_zone"] == "Asia/Karachi"
    assert [d["date"] for d in status["hours"]] == [
        (today + timedelta(days=i)).isoformat() for i in range(7)
    ]
    assert status["hours"][0] == {
        "date": today.isoformat(),
        "weekday": cal.WEEKDAYS[today.weekday()],
        "intervals": [],
        "holiday": "Today",
    }
    assert status["hours"][1]["intervals"] == [{"start": "00:00", "end": "24:00"}]
    assert datetime.fromisoformat(status["now"]).utcoffset() == timedelta(hours=5)

    # Without the holiday it is open for good: no closing time, and no next opening.
    r = await client.patch(f"{URL}/billing-urdu", json={"holidays": []}, headers=admin.headers)
    status = (await client.get(f"{URL}/billing-urdu/status")).json()
    assert status["open"] is True
    assert status["closes_at"] is None and status["opens_at"] is None


async def test_open_now_says_when_it_closes_and_opens_next(
    client: httpx.AsyncClient, admin: Person
) -> None:
    now = datetime.now(UTC)
    # Open for the current UTC hour and the one after the next, every day.
    h = now.hour
    hours = [f"{h:02d}:00-{h + 1:02d}:00" if h < 23 else "23:00-24:00"]
    later = (h + 2) % 24
    hours.append(f"{later:02d}:00-{later + 1:02d}:00" if later < 23 else "23:00-24:00")
    r = await create(
        client, admin, time_zone="UTC", weekly_hours=dict.fromkeys(cal.WEEKDAYS, hours)
    )
    assert r.status_code == 201, r.text
    status = (await client.get(f"{URL}/billing/status")).json()
    hour = now.replace(minute=0, second=0, microsecond=0)
    assert status["open"] is True
    assert datetime.fromisoformat(status["closes_at"]) == hour + timedelta(hours=1)
    assert datetime.fromisoformat(status["opens_at"]) == hour + timedelta(hours=2)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"weekly_hours": {"monday": ["09:00-17:00", "12:00-13:00"]}}, "weekly_hours.monday"),
        ({"weekly_hours": {"sunday": ["20:00-04:00"], "monday": ["03:00-05:00"]}},
         "weekly_hours.monday"),
        ({"weekly_hours": {"monday": ["9am-5pm"]}}, "weekly_hours.monday"),
        ({"weekly_hours": {"someday": ["09:00-17:00"]}}, "weekly_hours"),
        ({"time_zone": "Asia/Lahore"}, "time_zone"),
        ({"time_zone": "+05:00"}, "time_zone"),
        ({"key": "Has Spaces"}, "key"),
        ({"holidays": [{"date": "2026-02-30", "hours": []}]}, "holidays[0]"),
        ({"holidays": [{"date": "2026-12-25", "hours": ["10:00-12:00", "11:00-13:00"]}]},
         "holidays.2026-12-25"),
        ({"holidays": [{"date": "2026-12-25"}, {"date": "2026-12-25"}]}, "holidays"),
        ({"name": "   "}, "name"),
        ({"name": "tab\there"}, "name"),
    ],
)  # fmt: skip
async def test_bad_queues_are_refused_naming_the_field(
    client: httpx.AsyncClient, admin: Person, body: dict[str, object], field: str
) -> None:
    r = await create(client, admin, **body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == field, r.json()
    assert (await client.get(URL, headers=admin.headers)).json() == []


async def test_names_and_keys_are_unique(client: httpx.AsyncClient, admin: Person) -> None:
    assert (await create(client, admin, key="b1")).status_code == 201
    r = await create(client, admin, key="b2")
    assert r.status_code == 409 and "name" in r.json()["detail"]
    r = await create(client, admin, name="sales", key="b1")
    assert r.status_code == 409 and "key" in r.json()["detail"]
    assert (await create(client, admin, name="sales", key="s1")).status_code == 201
    r = await client.patch(f"{URL}/s1", json={"name": "billing"}, headers=admin.headers)
    assert r.status_code == 409
    r = await client.patch(f"{URL}/s1", json={"colour": "red"}, headers=admin.headers)
    assert r.status_code == 422


async def test_only_admins_manage_queues_and_the_status_needs_no_one(
    client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    assert (await create(client, admin)).status_code == 201
    assert (await create(client, agent, name="sales")).status_code == 403
    assert (await client.get(URL, headers=agent.headers)).status_code == 403
    r = await client.patch(f"{URL}/billing", json={"time_zone": "UTC"}, headers=agent.headers)
    assert r.status_code == 403
    assert (await client.get(URL)).status_code == 401
    assert (await client.get(f"{URL}/billing/status")).status_code == 200
    assert (await client.get(f"{URL}/nothing/status")).status_code == 404


async def test_naughty_strings_never_break_the_queues_api(
    client: httpx.AsyncClient, admin: Person
) -> None:
    """Names and holiday names round-trip exactly; zones, hours, keys and dates are refused
    with a 422 (or found missing, 404) — never a 500."""
    created: set[str] = set()
    for i, s in enumerate(NAUGHTY):
        r = await create(
            client,
            admin,
            name=s,
            key=f"q{i}",
            holidays=[{"date": "2026-12-25", "hours": [], "name": s[:200]}],
        )
        if s.strip() in created:  # the list repeats a few strings
            assert r.status_code == 409, (i, s, r.text)
            continue
        assert r.status_code in (201, 422), (i, s, r.text)
        if r.status_code == 201:
            created.add(s.strip())
            assert r.json()["name"] == s.strip()
            assert r.json()["holidays"][0]["name"] == s[:200].strip()
        for body in ({"time_zone": s}, {"weekly_hours": {"monday": [s]}}, {"key": s}):
            r = await client.patch(f"{URL}/q0", json=body, headers=admin.headers)
            assert r.status_code in (200, 404, 409, 422), (i, s, body, r.text)
            if r.status_code == 200:  # only a key can be valid, and then it is used
                assert r.json()["key"] == s
                back = await client.patch(f"{URL}/{s}", json={"key": "q0"}, headers=admin.headers)
                assert back.status_code == 200
        if s.strip() not in ("", ".", ".."):  # those name no key: the path is another one
            r = await client.get(f"{URL}/{quote(s, safe='')}/status")
            assert r.status_code in (404, 422), (i, s, r.text)
    assert len(created) > 400


async def test_the_status_is_readable_from_any_site(
    client: httpx.AsyncClient, admin: Person
) -> None:
    assert (await create(client, admin)).status_code == 201
    origin = {"Origin": "https://shop.example.com"}
    for url, status in ((f"{URL}/billing/status", 200), (f"{URL}/nothing/status", 404)):
        r = await client.get(url, headers=origin)
        assert r.status_code == status
        assert r.headers["access-control-allow-origin"] == "*"
    pre = await client.options(f"{URL}/billing/status", headers=origin)
    assert pre.status_code == 204 and "GET" in pre.headers["access-control-allow-methods"]
    r = await client.get(URL, headers={**origin, **admin.headers})
    assert "access-control-allow-origin" not in r.headers  # the admin API is not shared


async def test_the_metric_engine_reads_every_calendar_by_queue_name(
    client: httpx.AsyncClient, app: object, admin: Person
) -> None:
    assert (await create(client, admin)).status_code == 201
    assert (await create(client, admin, name="sales", time_zone="Europe/London")).status_code == 201
    async with app.state.db.session(write=False) as session:  # type: ignore[attr-defined]
        found = await service.calendars(session)
    assert sorted(found) == ["billing", "sales"]
    monday = datetime(2026, 11, 23, tzinfo=ZoneInfo("Asia/Karachi"))
    day = timedelta(days=1)
    assert cal.open_seconds_between(found["billing"], monday, monday + day) == 8 * 3600
    assert found["sales"].time_zone == "Europe/London"
