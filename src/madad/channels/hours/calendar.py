"""Business-hours arithmetic: a calendar of weekly hours and holidays in one IANA time zone.

Pure functions over plain values — no database, no HTTP. Rules:

- Hours are wall-clock times in the calendar's zone. An interval belongs to the day it starts
  on; `22:00-06:00` runs overnight into the next day, `00:00-24:00` is the whole day.
- A holiday replaces the weekly hours of its date: no intervals means closed all day, otherwise
  its special hours. An overnight interval of the day before still runs into a holiday.
- Where a wall time does not exist (clocks go forward) it is read as the instant it would have
  been before the change, i.e. that many minutes after the jump (01:30 in London on the
  spring-forward day is 02:30 BST); where a wall time happens twice (clocks go back), its first
  occurrence. So a day's hours last as long as the clocks really let them: `00:00-24:00` is
  23 hours on the spring-forward day and 25 on the fall-back day.
- Periods are half-open, `[start, end)`; every result is a timezone-aware UTC datetime.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from madad.errors import Invalid

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY = 24 * 60
WEEK = 7 * DAY
HORIZON_DAYS = 400  # how far ahead "back at …" looks: over a year of holidays
MAX_INTERVALS_PER_DAY = 12
MAX_HOLIDAYS = 1000
_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


@dataclass(frozen=True, order=True)
class Interval:
    """Open from `start` to `end`, in minutes after the day's midnight (wall clock).
    `end <= start` runs overnight into the next day; `end` may be 1440 (24:00)."""

    start: int
    end: int

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    @property
    def minutes(self) -> int:
        return self.end - self.start if not self.overnight else DAY - self.start + self.end

    def __str__(self) -> str:
        return f"{hhmm(self.start)}-{hhmm(self.end)}"


@dataclass(frozen=True)
class Holiday:
    """A date with hours of its own: `intervals` empty means closed all day."""

    day: date
    intervals: tuple[Interval, ...] = ()
    name: str = ""


@dataclass(frozen=True)
class Calendar:
    """A queue's posted hours: `weekly[0]` is Monday's intervals … `weekly[6]` Sunday's."""

    time_zone: str
    weekly: tuple[tuple[Interval, ...], ...] = field(default=((),) * 7)
    holidays: tuple[Holiday, ...] = ()

    @cached_property
    def zone(self) -> ZoneInfo:
        return zone_info(self.time_zone)

    @cached_property
    def _special(self) -> dict[date, Holiday]:
        return {h.day: h for h in self.holidays}

    def holiday(self, day: date) -> Holiday | None:
        return self._special.get(day)

    def intervals_on(self, day: date) -> tuple[Interval, ...]:
        """The intervals that start on this local date (a holiday's, or the weekday's)."""
        special = self._special.get(day)
        return special.intervals if special is not None else self.weekly[day.weekday()]


# --- parsing and validation ----------------------------------------------------------------------


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@cache
def _zones() -> frozenset[str]:
    # What the system's tz database holds, less its files that are not zones people choose.
    return frozenset(
        z
        for z in available_timezones()
        if z not in ("localtime", "posixrules", "Factory")
        and not z.startswith(("posix/", "right/"))
    )


def zone_info(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("time_zone", f"not an IANA time zone: {name!r}") from None


def clean_time_zone(name: object, field_name: str = "time_zone") -> str:
    """An IANA zone name as the tz database spells it (e.g. Europe/London)."""
    if not isinstance(name, str) or not name.strip():
        raise Invalid(field_name, "an IANA time zone such as Asia/Karachi is required")
    value = name.strip()
    if value not in _zones():
        raise Invalid(field_name, f"not an IANA time zone: {value[:100]!r}")
    return value


def parse_time(text: str, field_name: str, *, end: bool = False) -> int:
    m = _HHMM.fullmatch(text.strip())
    if not m:
        raise Invalid(field_name, f"a time is HH:MM (24-hour), not {text[:40]!r}")
    h, mi = int(m.group(1)), int(m.group(2))
    if end and h == 24 and mi == 0:
        return DAY
    if h > 23 or mi > 59:
        raise Invalid(field_name, f"no such time of day: {text[:40]!r}")
    return h * 60 + mi


def interval(start: int, end: int, field_name: str) -> Interval:
    """A checked interval: minutes 0-1439 for the start, 0-1440 for the end."""
    if not 0 <= start < DAY or not 0 <= end <= DAY:
        raise Invalid(field_name, "times run from 00:00 to 24:00")
    if start == end % DAY and not (start == 0 and end == DAY):
        raise Invalid(field_name, "an interval needs a length; for all day write 00:00-24:00")
    return Interval(start, end)


def parse_interval(text: str, field_name: str) -> Interval:
    """`09:00-17:00`; `22:00-06:00` overnight; `00:00-24:00` all day."""
    parts = re.split(r"\s*[-–]\s*", text.strip())
    if len(parts) != 2:
        raise Invalid(field_name, f"an interval is HH:MM-HH:MM, not {text[:40]!r}")
    start = parse_time(parts[0], field_name)
    end = parse_time(parts[1], field_name, end=True)
    return interval(start, end, field_name)


def _arcs(day: int, iv: Interval) -> list[tuple[int, int]]:
    """An interval as minutes of the week (wrapping Sunday night into Monday)."""
    start = day * DAY + iv.start
    stop = start + iv.minutes
    if stop <= WEEK:
        return [(start, stop)]
    return [(start, WEEK), (0, stop - WEEK)]


def check_day(intervals: Sequence[Interval], field_name: str) -> tuple[Interval, ...]:
    """A day's intervals sorted, refusing overlaps (a holiday's hours)."""
    if len(intervals) > MAX_INTERVALS_PER_DAY:
        raise Invalid(field_name, f"at most {MAX_INTERVALS_PER_DAY} intervals a day")
    ordered = sorted(intervals)
    spans = sorted((iv.start, iv.start + iv.minutes, iv) for iv in ordered)
    for (_s1, e1, a), (s2, _e2, b) in itertools.pairwise(spans):
        if s2 < e1:
            raise Invalid(field_name, f"{a} and {b} overlap")
    return tuple(ordered)


def check_week(
    weekly: Sequence[Sequence[Interval]], field_name: str = "weekly_hours"
) -> tuple[tuple[Interval, ...], ...]:
    """Seven days of intervals, each sorted; no two intervals of the week may overlap
    (an overnight interval counts against the next morning's, Sunday's against Monday's)."""
    if len(weekly) != 7:
        raise Invalid(field_name, "seven days, Monday first")
    days = tuple(
        check_day(list(ivs), f"{field_name}.{WEEKDAYS[d]}") for d, ivs in enumerate(weekly)
    )
    arcs = sorted(
        (s, e, d, iv) for d, ivs in enumerate(days) for iv in ivs for s, e in _arcs(d, iv)
    )
    for (_s1, e1, d1, a), (s2, _e2, d2, b) in itertools.pairwise(arcs):
        if s2 < e1:
            raise Invalid(
                f"{field_name}.{WEEKDAYS[d2]}",
                f"{WEEKDAYS[d1].title()} {a} overlaps {WEEKDAYS[d2].title()} {b}",
            )
    return days


def check_holidays(
    holidays: Sequence[Holiday], field_name: str = "holidays"
) -> tuple[Holiday, ...]:
    if len(holidays) > MAX_HOLIDAYS:
        raise Invalid(field_name, f"at most {MAX_HOLIDAYS} holidays")
    seen: set[date] = set()
    out = []
    for h in sorted(holidays, key=lambda h: h.day):
        if h.day in seen:
            raise Invalid(field_name, f"{h.day.isoformat()} is listed twice")
        seen.add(h.day)
        out.append(Holiday(h.day, check_day(h.intervals, f"{field_name}.{h.day}"), h.name))
    return tuple(out)


def make_calendar(
    time_zone: str, weekly: Sequence[Sequence[Interval]], holidays: Sequence[Holiday] = ()
) -> Calendar:
    """A checked calendar (raises Invalid naming the field)."""
    return Calendar(clean_time_zone(time_zone), check_week(weekly), check_holidays(holidays))


# --- arithmetic --------------------------------------------------------------------------------


def _instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall time (minutes may reach into following days)."""
    extra, m = divmod(minutes, DAY)
    local = datetime.combine(day + timedelta(days=extra), time(m // 60, m % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _spans_from(cal: Calendar, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
    """Open spans (UTC) of the intervals starting on local dates first…last, in start order.

    Wall-clock order is not always UTC order (a wall time inside a gap maps past the gap's
    end), so spans wait in a heap until no later day can start before them: a day's spans all
    start after its midnight less a day, whatever the zone's jumps."""
    zone = cal.zone
    pending: list[tuple[datetime, datetime]] = []
    day = first
    while day <= last:
        for iv in cal.intervals_on(day):
            s = _instant(day, iv.start, zone)
            e = _instant(day, iv.start + iv.minutes, zone)
            if e > s:
                heapq.heappush(pending, (s, e))
        day += timedelta(days=1)
        floor = _instant(day, 0, zone) - timedelta(days=2)
        while pending and pending[0][0] < floor:
            yield heapq.heappop(pending)
    while pending:
        yield heapq.heappop(pending)


def _merged(spans: Iterator[tuple[datetime, datetime]]) -> Iterator[tuple[datetime, datetime]]:
    """Touching or overlapping spans joined (a 22:00-24:00 and the next 00:00-06:00 are one)."""
    current: tuple[datetime, datetime] | None = None
    for s, e in spans:
        if current is None:
            current = (s, e)
        elif s <= current[1]:
            current = (current[0], max(current[1], e))
        else:
            yield current
            current = (s, e)
    if current is not None:
        yield current


def _aware(at: datetime, name: str) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return at.astimezone(UTC)


def _local_day(cal: Calendar, at: datetime) -> date:
    return at.astimezone(cal.zone).date()


def open_spans(cal: Calendar, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The open periods within [start, end), merged and clipped, in UTC."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return []
    # An interval starts at most a day before the date it reaches into (overnight); a day's
    # margin more on each side covers zones' jumps.
    first = _local_day(cal, start) - timedelta(days=2)
    last = _local_day(cal, end) + timedelta(days=1)
    out = []
    for s, e in _merged(_spans_from(cal, first, last)):
        if s >= end:
            break
        if e > start:
            out.append((max(s, start), min(e, end)))
    return out


def is_open(cal: Calendar, at: datetime) -> bool:
    """Whether the queue is open at the instant `at`: some interval has start ≤ at < end."""
    at = _aware(at, "at")
    return bool(open_spans(cal, at, at + timedelta(microseconds=1)))


def _ahead(cal: Calendar, at: datetime) -> Iterator[tuple[datetime, datetime]]:
    day = _local_day(cal, at)
    return _merged(_spans_from(cal, day - timedelta(days=2), day + timedelta(days=HORIZON_DAYS)))


def next_open(cal: Calendar, at: datetime) -> datetime | None:
    """The first instant ≥ `at` when the queue is open ("back at …"): `at` itself when open
    now; None when it opens nowhere in the next HORIZON_DAYS days."""
    at = _aware(at, "at")
    for s, e in _ahead(cal, at):
        if e > at:
            return max(s, at)
    return None


def next_close(cal: Calendar, at: datetime) -> datetime | None:
    """When the open period holding `at` ends (the first instant after `at` that is closed);
    None when the queue is closed at `at`, or stays open for the next HORIZON_DAYS days."""
    at = _aware(at, "at")
    horizon = _instant(_local_day(cal, at) + timedelta(days=HORIZON_DAYS - 2), 0, cal.zone)
    for s, e in _ahead(cal, at):
        if e > at:
            if s > at or e >= horizon:
                return None
            return e
    return None


def open_seconds_between(cal: Calendar, start: datetime, end: datetime) -> float:
    """Business-hours duration: the seconds of [start, end) during which the queue is open
    (0 when end ≤ start). Elapsed time, so DST changes count as the clocks really ran."""
    # Summed as timedeltas (exact microseconds), converted once: no float drift.
    return sum((e - s for s, e in open_spans(cal, start, end)), timedelta()).total_seconds()


def within_hours(cal: Calendar, start: datetime, end: datetime) -> bool:
    """Whether all of [start, end) lies in open time (a callback window, say)."""
    start, end = _aware(start, "start"), _aware(end, "end")
    if end <= start:
        return False
    spans = open_spans(cal, start, end)
    return len(spans) == 1 and spans[0] == (start, end)


@dataclass(frozen=True)
class DayHours:
    """What a local date's hours are: for the widget's and the help centre's week."""

    day: date
    intervals: tuple[Interval, ...]
    holiday: str | None  # the holiday's name ("" when unnamed), None on an ordinary day


def week_from(cal: Calendar, at: datetime, days: int = 7) -> list[DayHours]:
    """The hours of the `days` local dates from `at`'s date in the calendar's zone."""
    first = _local_day(cal, _aware(at, "at"))
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        h = cal.holiday(day)
        out.append(DayHours(day, cal.intervals_on(day), None if h is None else h.name))
    return out


def weekly_from_text(
    days: Mapping[str, Sequence[str]], field_name: str = "weekly_hours"
) -> list[list[Interval]]:
    """Weekday name → interval texts ("09:00-17:00") as seven lists, Monday first."""
    unknown = set(days) - set(WEEKDAYS)
    if unknown:
        raise Invalid(field_name, f"not a weekday: {sorted(unknown)[0][:40]!r}")
    return [[parse_interval(t, f"{field_name}.{d}") for t in days.get(d, ())] for d in WEEKDAYS]


def holiday_of(day: object, hours: Sequence[str], name: object, field_name: str) -> Holiday:
    """A holiday from its ISO date, interval texts (none: closed all day) and name."""
    if not isinstance(day, str):
        raise Invalid(field_name, "a date is YYYY-MM-DD")
    try:
        when = date.fromisoformat(day.strip())
    except ValueError:
        raise Invalid(field_name, f"a date is YYYY-MM-DD, not {day[:40]!r}") from None
    if name is not None and not isinstance(name, str):
        raise Invalid(field_name, "a holiday's name is text")
    label = (name or "").strip()
    if len(label) > 200:
        raise Invalid(field_name, "a holiday's name has at most 200 characters")
    intervals = tuple(parse_interval(t, f"{field_name}.hours") for t in hours)
    return Holiday(when, intervals, label)


def holidays_from_text(text: str, field_name: str = "holidays") -> list[Holiday]:
    """One holiday a line: `2026-12-25 closed Christmas Day` or
    `2026-12-24 09:00-13:00,14:00-15:00 Christmas Eve` (the name is optional)."""
    out = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        where = f"{field_name} (line {number})"
        if len(parts) < 2:
            raise Invalid(where, "write the date, then 'closed' or the hours, then a name")
        day, hours, name = parts[0], parts[1], parts[2] if len(parts) > 2 else ""
        texts = [] if hours.lower() == "closed" else [h for h in hours.split(",") if h.strip()]
        if hours.lower() != "closed" and not texts:
            raise Invalid(where, "write 'closed' or the hours, e.g. 09:00-13:00")
        out.append(holiday_of(day, texts, name, where))
    return out


def holidays_to_text(holidays: Sequence[Holiday]) -> str:
    lines = []
    for h in holidays:
        hours = ",".join(str(iv) for iv in h.intervals) or "closed"
        lines.append(f"{h.day.isoformat()} {hours} {h.name}".rstrip())
    return "\n".join(lines)
