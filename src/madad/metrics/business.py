"""Business-hours variants of the ticket durations: first response and resolution time counted
only while a live queue's posted hours are open (its calendar: zone, weekly hours, holidays).

Computed when asked, from the per-ticket rows (`metric_tickets`) and the calendar as it is now,
so changing the hours changes these figures for past periods too; the calendar-time KPIs are
the record. Each duration is the open time of [start, end) by `open_seconds_between`; the
`OpenClock` answers that for many tickets at once from one list of open spans.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.channels.hours import calendar as cal
from madad.channels.hours.models import LiveQueue
from madad.channels.hours.service import calendar_of
from madad.errors import Invalid
from madad.metrics import definitions as d
from madad.metrics.models import MetricTicket

FIRST_RESPONSE_LOOKBACK = timedelta(days=60)  # a first response later than this is not sought


class OpenClock:
    """Open seconds of a calendar between instants inside [start, end), by bisection over the
    calendar's open spans (prefix sums), instead of walking the calendar for every ticket."""

    def __init__(self, calendar: cal.Calendar, start: datetime, end: datetime) -> None:
        self.calendar, self.start, self.end = calendar, start, end
        self.spans = cal.open_spans(calendar, start, end)
        self.starts = [s for s, _ in self.spans]
        self.before: list[float] = []  # open seconds before each span
        total = 0.0
        for s, e in self.spans:
            self.before.append(total)
            total += (e - s).total_seconds()

    def _upto(self, t: datetime) -> float:
        """Open seconds in [self.start, t)."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        s, e = self.spans[i]
        return self.before[i] + (min(t, e) - s).total_seconds()

    def between(self, a: datetime, b: datetime) -> float:
        """Open seconds of [a, b): the calendar's own answer outside the clock's range."""
        if b <= a:
            return 0.0
        if a < self.start or b > self.end:
            return cal.open_seconds_between(self.calendar, a, b)
        return self._upto(b) - self._upto(a)


async def business_hours(
    session: AsyncSession, period: d.Period, calendar: cal.Calendar, *, channel: str | None = None
) -> dict[str, d.Durations]:
    """First response time (responses in the period) and resolution time (last solves in the
    period) in the calendar's open hours, with mean, median and 90th percentile."""
    where: list[Any] = [] if channel is None else [MetricTicket.channel == channel]
    answered = await session.execute(
        select(MetricTicket.created_at, MetricTicket.first_response_s).where(
            *where,
            MetricTicket.created_at >= period.start - FIRST_RESPONSE_LOOKBACK,
            MetricTicket.created_at < period.end,
            MetricTicket.first_response_s.is_not(None),
        )
    )
    responses = []
    for created, seconds in answered:
        at = created + timedelta(seconds=seconds)
        if period.start <= at < period.end:
            responses.append((created, at))
    resolved = list(
        await session.execute(
            select(MetricTicket.created_at, MetricTicket.resolved_at).where(
                *where,
                MetricTicket.resolved_at >= period.start,
                MetricTicket.resolved_at < period.end,
            )
        )
    )
    earliest = min((c for c, _ in [*responses, *resolved]), default=period.start)
    clock = OpenClock(calendar, min(earliest, period.start), period.end)
    return {
        "first_response": d.Durations.of(clock.between(c, at) for c, at in responses),
        "resolution_full": d.Durations.of(clock.between(c, r) for c, r in resolved),
    }


async def queues(session: AsyncSession) -> list[tuple[str, str]]:
    """The live queues whose hours a report can count in: (key, name)."""
    rows = await session.execute(select(LiveQueue.key, LiveQueue.name).order_by(LiveQueue.name))
    return [(key, name) for key, name in rows]


async def report(
    session: AsyncSession, period: d.Period, key: str, *, channel: str | None = None
) -> dict[str, Any]:
    """The business-hours figures in the shape of the KPI report's durations."""
    queue = await session.scalar(select(LiveQueue).where(LiveQueue.key == key))
    if queue is None:
        raise Invalid("business_hours", "no live queue has this key (see /admin/live-queues)")
    got = await business_hours(session, period, calendar_of(queue), channel=channel)
    out: dict[str, Any] = {"queue": queue.key, "name": queue.name, "time_zone": queue.time_zone}
    for name, durations in got.items():
        out[name] = {"n": durations.n, "mean": durations.mean, "median": durations.median,
                     "p90": durations.p90}  # fmt: skip
    return out
