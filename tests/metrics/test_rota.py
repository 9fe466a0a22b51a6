"""The rota a manager writes, read into half hours, and the planner page comparing it with the
plan: shortfalls in the week and today, bad rotas refused with the line at fault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from madad.activity import service as facts
from madad.auth.models import Role
from madad.metrics import staffing
from madad.metrics.rota import DAYS, RotaError, check_rota, parse_rota
from madad.metrics.staffing import SLOTS_PER_DAY
from tests.conftest import Person, make_person
from tests.console.conftest import PASSWORD, sign_in


def at(week: list[int], day: int, hh: int, mm: int = 0) -> int:
    return week[day * SLOTS_PER_DAY + hh * 2 + mm // 30]


def test_weekdays_weekends_and_overnight_shifts() -> None:
    week = parse_rota("""
        # the day team
        Mon-Fri 09:00-17:00 6
        Sat,Sun 10:00-14:30 2
        daily   22:00-06:00 1   # nights run into the next morning
        Wed 12:00-13:00 3
    """)
    assert at(week, 0, 9) == 6 and at(week, 4, 16, 30) == 6 and at(week, 4, 17) == 0
    assert at(week, 2, 12) == 9 and at(week, 2, 12, 30) == 9 and at(week, 2, 13) == 6
    assert at(week, 5, 10) == 2 and at(week, 6, 14) == 2 and at(week, 6, 14, 30) == 0
    assert at(week, 0, 2) == 1  # Sunday night's shift, on Monday morning
    assert at(week, 6, 23, 30) == 1 and at(week, 0, 5, 30) == 1 and at(week, 0, 6) == 0
    assert sum(week) == 6 * 16 * 5 + 2 * 9 * 2 + 1 * 16 * 7 + 3 * 2
    assert parse_rota("Friday 00:00-24:00 1")[4 * 48 : 5 * 48] == [1] * 48
    assert parse_rota("Fri-Mon 08:00-08:30 1").count(1) == 4  # Fri, Sat, Sun, Mon
    assert parse_rota("") == [0] * 336


@pytest.mark.parametrize(
    ("spec", "line", "says"),
    [
        ("Mon-Fri 09:00-17:00 6\nFunday 09:00-10:00 1", 2, "not a day"),
        ("Mon 09:15-10:00 1", 1, "half hour"),
        ("Mon 25:00-26:00 1", 1, "half hour"),
        ("Mon 24:00-02:00 1", 1, "half hour"),
        ("Mon 09:00-09:00 1", 1, "another time"),
        ("Mon 09:00-10:00", 1, "days start-end agents"),
        ("Mon 09:00-10:00 -1", 1, "days start-end agents"),
        ("Mon 09:00-10:00 10001", 1, "at most"),
        ("<script>alert(1)</script> 09:00-10:00 1", 1, "not a day"),
    ],
)
def test_a_bad_line_is_named(spec: str, line: int, says: str) -> None:
    with pytest.raises(RotaError) as err:
        parse_rota(spec)
    assert err.value.line == line and says in err.value.message


shift = st.tuples(
    st.lists(st.integers(0, 6), min_size=1, max_size=7, unique=True),
    st.integers(0, 47),
    st.integers(1, 48),
    st.integers(0, 50),
).filter(lambda s: s[2] < 48 or s[1] == 0)  # a whole day is written 00:00-24:00


@given(st.lists(shift, max_size=8))
def test_every_rostered_half_hour_is_counted_once(shifts: list[tuple]) -> None:
    lines = []
    for days, start, length, agents in shifts:
        stop = (start + length) % 48
        end = "24:00" if start + length == 48 else f"{stop // 2:02d}:{30 * (stop % 2):02d}"
        names = ",".join(DAYS[d].title() for d in days)
        lines.append(f"{names} {start // 2:02d}:{30 * (start % 2):02d}-{end} {agents}")
    week = parse_rota("\n".join(lines))
    assert sum(week) == sum(len(days) * length * agents for days, _, length, agents in shifts)


def test_check_rota_counts_the_missing_agents() -> None:
    target = staffing.StaffingTarget(service_level=0.8, target_seconds=20)
    plan = staffing.plan_week({(0, 18): 60.0, (0, 19): 60.0}, aht=300, target=target)
    needed = plan[18].scheduled
    assert needed > 1
    check = check_rota(plan, parse_rota("Mon 09:00-09:30 1"))
    assert check.missing[18] == needed - 1 and check.missing[19] == plan[19].scheduled
    assert check.short_intervals == 2
    assert check.agent_hours_short == (needed - 1 + plan[19].scheduled) / 2
    enough = check_rota(plan, parse_rota(f"Mon 09:00-10:00 {needed + 5}"))
    assert enough.short_intervals == 0 and enough.agent_hours_short == 0


@pytest.fixture
async def supervisor(app: object) -> Person:
    return await make_person(app.state.db, role=Role.supervisor,  # type: ignore[attr-defined]
                             name="Rota Supervisor", password=PASSWORD)  # fmt: skip


async def test_the_planner_saves_a_rota_and_shows_where_it_is_short(
    client: httpx.AsyncClient, supervisor: Person
) -> None:
    browser = await sign_in(client, supervisor)
    page = await browser.get("/reports/staffing")
    assert page.status_code == 200
    assert "No rota yet" in page.text
    assert "300 s assumed" in page.text  # no answered chat or call to measure it from
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    form = {"csrf_token": token, "spec": "Mon 09:00-17:00 6\nFunday x"}
    bad = await browser.post("/reports/staffing/rota", data=form)
    assert bad.status_code == 422
    assert "line 2:" in bad.text and "Funday x" in bad.text  # the draft is kept to fix
    spec = "Mon-Sun 00:00-24:00 0\n<b>oops</b> 09:00-10:00 1"
    bad = await browser.post("/reports/staffing/rota", data={"csrf_token": token, "spec": spec})
    assert bad.status_code == 422 and "<b>oops</b>" not in bad.text
    assert "&lt;b&gt;oops&lt;/b&gt;" in bad.text
    assert "No rota yet" in (await browser.get("/reports/staffing")).text  # nothing stored
    form = {"csrf_token": token, "spec": "Daily 09:00-17:00 2"}
    saved = await browser.post("/reports/staffing/rota", data=form)
    # The console's client posts as htmx does: the redirect comes as HX-Redirect.
    assert saved.status_code == 204 and saved.headers["hx-redirect"] == "/reports/staffing"
    page = await browser.get("/reports/staffing", params={"aht": 240})
    assert "Daily 09:00-17:00 2" in page.text
    assert "The rota covers every half hour of the plan." in page.text  # no arrivals, no need
    assert "240 s, as entered" in page.text
    today = datetime.now(UTC).strftime("%A")
    assert f"Today ({today})" in page.text
    other = await browser.post("/reports/staffing/rota", data={"csrf_token": token,
                               "spec": "Mon 09:00-10:00 1", "channel": "fax"})  # fmt: skip
    assert other.status_code == 422
    assert "Daily 09:00-17:00 2" in (await browser.get("/reports/staffing")).text


async def test_the_plan_uses_the_observed_handle_time_and_today_is_short(
    client: httpx.AsyncClient, app: object, supervisor: Person
) -> None:
    db = app.state.db  # type: ignore[attr-defined]
    week_ago = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    week_ago -= timedelta(days=7)  # the same weekday as today
    async with db.session() as session:
        for i in range(30):  # 30 chats in one half hour, each talked for 10 minutes
            start = week_ago + timedelta(seconds=i)
            ids = {"ticket_id": 900_000 + i, "contact_id": None, "channel": "chat"}
            data = {"priority": "normal", "status": "new", "follow_up_of": None}
            facts.record(session, "ticket.created", **ids, data=data, at=start)
            live = {"session": f"s{i}"}
            facts.record(session, "live.offered", **ids, data=live, at=start)
            answered = start + timedelta(seconds=10)
            facts.record(session, "live.answered", **ids, agent_id=1, data=live, at=answered)
            facts.record(session, "live.ended", **ids, agent_id=1, data=live,
                         at=answered + timedelta(seconds=600))  # fmt: skip
    await facts.drain_consumers(db)
    browser = await sign_in(client, supervisor)
    page = await browser.get("/reports/staffing", params={"weeks": 2})
    assert "600 s, the mean of 30 answered chats and calls" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    await browser.post("/reports/staffing/rota",
                       data={"csrf_token": token, "spec": "Daily 10:00-11:00 2"})  # fmt: skip
    page = await browser.get("/reports/staffing", params={"weeks": 2})
    # 15 arrivals a week in the half hour at 600 s: 5 Erlangs → more than 2 agents.
    target = staffing.StaffingTarget(service_level=0.8, target_seconds=20, max_occupancy=0.85)
    needed = staffing.recommend(5.0, 600, target, shrinkage=0.3).scheduled
    assert needed > 2
    assert f"({needed - 2} short)" in page.text
    assert f"10:00–10:30: {needed} needed, 2 rostered" in page.text
    short_hours = (needed - 2) / 2
    assert "Half hours of the week where the rota is short: 1; agent hours missing: " in page.text
    assert f"missing: {short_hours:g}." in page.text
