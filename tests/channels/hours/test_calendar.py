"""Business-hours arithmetic as properties: random calendars in zones with and without DST
(Europe/London, Asia/Karachi — which kept DST in 2008 and 2009 with a jump at midnight —
America/New_York, Australia/Lord_Howe's half-hour shift), random instants from 2007 to 2028."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from madad.channels.hours import calendar as cal
from madad.channels.hours.calendar import Calendar, Holiday, Interval
from madad.errors import Invalid

ZONES = ["Europe/London", "Asia/Karachi", "America/New_York", "Australia/Lord_Howe", "UTC"]
LONDON = ZoneInfo("Europe/London")
KARACHI = ZoneInfo("Asia/Karachi")
HOUR = 3600.0


def week(**days: list[str]) -> list[list[Interval]]:
    return cal.weekly_from_text(days)


def office(zone: str, **extra: list[str]) -> Calendar:
    hours = {d: ["09:00-17:00"] for d in cal.WEEKDAYS[:5]}
    hours.update(extra)
    return cal.make_calendar(zone, week(**hours))


def all_day(zone: str) -> Calendar:
    return cal.make_calendar(zone, week(**{d: ["00:00-24:00"] for d in cal.WEEKDAYS}))


def local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


# --- strategies --------------------------------------------------------------------------------


@st.composite
def weeks(draw: st.DrawFn) -> list[list[Interval]]:
    """Non-overlapping intervals by construction: sorted cut points over the week's minutes,
    paired into arcs, each arc written as intervals that start on their own day."""
    points = sorted(set(draw(st.lists(st.integers(0, cal.WEEK // 15 - 1), max_size=16))))
    points = [p * 15 for p in points]
    if len(points) % 2:
        points = points[:-1]
    days: list[list[Interval]] = [[] for _ in range(7)]
    for s, e in zip(points[::2], points[1::2], strict=True):
        while s < e:
            day, start = divmod(s, cal.DAY)
            length = min(e - s, cal.DAY if start == 0 else cal.DAY - 1)
            if draw(st.booleans()):  # sometimes stop at midnight instead of running overnight
                length = min(length, cal.DAY - start)
            end = start + length
            days[day].append(Interval(start, end if end <= cal.DAY else end - cal.DAY))
            s += length
    return days


@st.composite
def calendars(draw: st.DrawFn, near: date | None = None) -> Calendar:
    zone = draw(st.sampled_from(ZONES))
    weekly = draw(weeks())
    holidays: list[Holiday] = []
    if near is not None:
        for offset in draw(st.sets(st.integers(-2, 10), max_size=3)):
            intervals: tuple[Interval, ...] = ()
            if draw(st.booleans()):
                s = draw(st.integers(0, 22)) * 60
                intervals = (Interval(s, s + draw(st.integers(1, (cal.DAY - s) // 60)) * 60),)
            holidays.append(Holiday(near + timedelta(days=offset), intervals, "h"))
    return cal.make_calendar(zone, weekly, holidays)


instants = st.datetimes(
    min_value=datetime(2007, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
spans = st.integers(0, 40 * 24 * 3600)


@st.composite
def calendar_and_times(draw: st.DrawFn, n: int = 1) -> tuple[Calendar, list[datetime]]:
    first = draw(instants)
    times = sorted([first, *(first + timedelta(seconds=draw(spans)) for _ in range(n - 1))])
    return draw(calendars(near=first.date())), times


# --- properties ------------------------------------------------------------------------------


@given(calendar_and_times(3))
@hsettings(max_examples=150, deadline=None)
def test_open_seconds_add_up_and_never_exceed_the_elapsed_time(
    case: tuple[Calendar, list[datetime]],
) -> None:
    c, (a, b, d) = case
    ab, bd, ad = (cal.open_seconds_between(c, x, y) for x, y in ((a, b), (b, d), (a, d)))
    assert ad == pytest.approx(ab + bd, abs=1e-6)
    assert 0 <= ad <= (d - a).total_seconds()
    assert cal.open_seconds_between(c, d, a) == 0 or d == a
    assert cal.within_hours(c, a, d) == (a < d and ad == (d - a).total_seconds())


@given(calendar_and_times(1))
@hsettings(max_examples=150, deadline=None)
def test_next_open_is_the_first_open_instant(case: tuple[Calendar, list[datetime]]) -> None:
    c, (at,) = case
    opens = cal.next_open(c, at)
    if opens is None:
        assert not any(any(day) for day in c.weekly)
        assert not cal.is_open(c, at)
        return
    assert opens >= at
    assert cal.is_open(c, opens)
    assert cal.open_seconds_between(c, at, opens) == 0  # closed all the way there
    if opens > at:
        assert not cal.is_open(c, opens - timedelta(microseconds=1))
    assert (opens == at) == cal.is_open(c, at)


@given(calendar_and_times(1))
@hsettings(max_examples=150, deadline=None)
def test_next_close_ends_the_open_period(case: tuple[Calendar, list[datetime]]) -> None:
    c, (at,) = case
    closes = cal.next_close(c, at)
    if not cal.is_open(c, at):
        assert closes is None
        return
    if closes is None:  # open for the whole horizon: only a calendar open all week
        assert cal.open_seconds_between(c, at, at + timedelta(days=30)) == 30 * 24 * HOUR
        return
    assert closes > at
    assert not cal.is_open(c, closes)
    assert cal.open_seconds_between(c, at, closes) == (closes - at).total_seconds()


def _naive_open(c: Calendar, at: datetime) -> bool:
    """An independent reading of the rules on wall-clock times: right wherever no clock change
    falls within two days of `at`."""
    wall = at.astimezone(c.zone).replace(tzinfo=None)
    for day in (wall.date() - timedelta(days=1), wall.date()):
        for iv in c.intervals_on(day):
            start = datetime.combine(day, datetime.min.time()) + timedelta(minutes=iv.start)
            if start <= wall < start + timedelta(minutes=iv.minutes):
                return True
    return False


def _steady(zone: ZoneInfo, at: datetime) -> bool:
    offsets = {(at + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-50, 51)}
    return len(offsets) == 1


@given(calendar_and_times(1))
@hsettings(max_examples=300, deadline=None)
def test_is_open_agrees_with_the_wall_clock_away_from_clock_changes(
    case: tuple[Calendar, list[datetime]],
) -> None:
    c, (at,) = case
    assume(_steady(c.zone, at))
    assert cal.is_open(c, at) == _naive_open(c, at)


@given(weeks(), instants)
@hsettings(max_examples=100, deadline=None)
def test_a_week_without_holidays_holds_exactly_its_posted_minutes(
    weekly: list[list[Interval]], at: datetime
) -> None:
    c = cal.make_calendar("UTC", weekly)
    posted = sum(iv.minutes for day in c.weekly for iv in day) * 60
    assert cal.open_seconds_between(c, at, at + timedelta(days=7)) == posted


@given(weeks(), st.sampled_from(ZONES))
@hsettings(max_examples=100, deadline=None)
def test_hours_survive_their_text_form(weekly: list[list[Interval]], zone: str) -> None:
    c = cal.make_calendar(zone, weekly)
    again = cal.make_calendar(
        zone,
        cal.weekly_from_text(
            {d: [str(iv) for iv in ivs] for d, ivs in zip(cal.WEEKDAYS, c.weekly, strict=True)}
        ),
    )
    assert again == c


# --- clock changes, by example ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        (LONDON, date(2026, 3, 29), 23),  # clocks forward at 01:00
        (LONDON, date(2026, 10, 25), 25),  # clocks back at 02:00
        (LONDON, date(2026, 6, 1), 24),
        (KARACHI, date(2008, 6, 1), 23),  # Pakistan's 2008 DST began at midnight
        (KARACHI, date(2008, 10, 31), 25),  # … and ended at midnight
        (KARACHI, date(2026, 3, 29), 24),  # no DST since 2009
    ],
)
def test_a_whole_day_lasts_as_long_as_the_clocks_ran(zone: ZoneInfo, day: date, hours: int) -> None:
    c = all_day(zone.key)
    start = datetime.combine(day, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    assert cal.open_seconds_between(c, start, end) == hours * HOUR
    assert (end - start.astimezone(UTC)).total_seconds() == hours * HOUR  # the real elapsed time


def test_office_hours_on_the_days_the_clocks_change_are_eight_hours() -> None:
    c = office("Europe/London", saturday=["09:00-17:00"], sunday=["09:00-17:00"])
    for day in (date(2026, 3, 29), date(2026, 10, 25)):
        start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
        assert cal.open_seconds_between(c, start, start + timedelta(days=1)) == 8 * HOUR
    # 09:00 BST on the Monday after the spring change is 08:00 UTC.
    friday_evening = local(LONDON, 2026, 3, 27, 18, 0)
    assert cal.next_open(c, friday_evening) == local(LONDON, 2026, 3, 28, 9, 0)
    assert cal.next_open(c, local(LONDON, 2026, 3, 29, 18, 0)) == datetime(
        2026, 3, 30, 8, 0, tzinfo=UTC
    )


def test_an_overnight_shift_across_the_autumn_change_lasts_nine_hours() -> None:
    c = cal.make_calendar("Europe/London", week(saturday=["22:00-06:00"]))
    opens = local(LONDON, 2026, 10, 24, 22, 0)
    assert opens.astimezone(UTC) == datetime(2026, 10, 24, 21, 0, tzinfo=UTC)
    assert cal.next_close(c, opens) == datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
    week_span = cal.open_seconds_between(c, opens - timedelta(hours=1), opens + timedelta(days=1))
    assert week_span == 9 * HOUR


def test_hours_inside_a_spring_gap_open_when_the_clocks_allow() -> None:
    # 01:30 does not exist in London on 2026-03-29: it is read as 02:30 BST (01:30 UTC).
    c = cal.make_calendar("Europe/London", week(sunday=["01:30-03:00"]))
    assert cal.next_open(c, local(LONDON, 2026, 3, 29, 0, 0)) == datetime(
        2026, 3, 29, 1, 30, tzinfo=UTC
    )
    assert (
        cal.open_seconds_between(
            c, local(LONDON, 2026, 3, 29, 0, 0), local(LONDON, 2026, 3, 30, 0, 0)
        )
        == 0.5 * HOUR
    )


def test_karachi_midnight_jump_moves_opening_to_one_oclock() -> None:
    c = all_day("Asia/Karachi")
    # Open all the time: 2008-06-01's missing hour is simply not there.
    at = datetime(2008, 5, 31, 18, 30, tzinfo=UTC)  # 23:30 PKT
    assert cal.is_open(c, at)
    assert cal.open_seconds_between(c, at, at + timedelta(hours=2)) == 2 * HOUR


# --- holidays and the week's shape ---------------------------------------------------------------


def test_holidays_close_or_replace_the_days_hours() -> None:
    c = cal.make_calendar(
        "Asia/Karachi",
        week(**{d: ["09:00-17:00"] for d in cal.WEEKDAYS[:5]}),
        cal.holidays_from_text(
            "2026-12-25 closed Quaid-e-Azam Day\n2026-12-24 10:00-13:00 Half day\n"
        ),
    )
    thursday = local(KARACHI, 2026, 12, 24, 0, 0)
    assert cal.open_seconds_between(c, thursday, thursday + timedelta(days=1)) == 3 * HOUR
    assert not cal.is_open(c, local(KARACHI, 2026, 12, 25, 10, 0))
    # Back on Monday: Friday is a holiday and the weekend is closed.
    assert cal.next_open(c, local(KARACHI, 2026, 12, 24, 14, 0)) == local(
        KARACHI, 2026, 12, 28, 9, 0
    )
    days = cal.week_from(c, thursday)
    assert [d.holiday for d in days[:3]] == ["Half day", "Quaid-e-Azam Day", None]
    assert [str(iv) for iv in days[0].intervals] == ["10:00-13:00"]


def test_a_sunday_night_shift_runs_into_monday() -> None:
    c = cal.make_calendar("UTC", week(sunday=["22:00-02:00"], monday=["02:00-04:00"]))
    sunday = datetime(2026, 11, 22, 22, 0, tzinfo=UTC)
    assert cal.next_close(c, sunday) == sunday + timedelta(hours=6)  # the two join up


def test_never_open_means_no_next_opening() -> None:
    c = cal.make_calendar("UTC", week())
    assert cal.next_open(c, datetime(2026, 1, 1, tzinfo=UTC)) is None
    assert cal.next_close(c, datetime(2026, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"monday": ["09:00-17:00", "16:00-18:00"]}, "overlap"),
        ({"sunday": ["22:00-03:00"], "monday": ["02:00-05:00"]}, "overlaps"),
        ({"monday": ["09:00-09:00"]}, "needs a length"),
        ({"monday": ["25:00-26:00"]}, "no such time"),
        ({"monday": ["9-5"]}, "HH:MM"),
        ({"monday": ["09:00"]}, "HH:MM-HH:MM"),
        ({"funday": ["09:00-17:00"]}, "not a weekday"),
    ],
)
def test_bad_hours_are_refused_naming_the_day(hours: dict[str, list[str]], message: str) -> None:
    with pytest.raises(Invalid) as caught:
        cal.make_calendar("UTC", cal.weekly_from_text(hours))
    assert message in caught.value.detail


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd", "localtime", "utc "])
def test_bad_zones_are_refused(zone: str) -> None:
    with pytest.raises(Invalid) as caught:
        cal.make_calendar(zone, week())
    assert caught.value.field == "time_zone"


def test_a_date_listed_twice_is_refused() -> None:
    with pytest.raises(Invalid, match="listed twice"):
        cal.make_calendar(
            "UTC", week(), cal.holidays_from_text("2026-12-25 closed\n2026-12-25 10:00-12:00")
        )


def test_naive_instants_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.is_open(all_day("UTC"), datetime(2026, 1, 1))
