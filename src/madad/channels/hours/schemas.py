"""API shapes of the live queues: what an admin sends, and what the widget reads."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from madad.api_types import SafeStr
from madad.channels.hours import service
from madad.channels.hours.calendar import WEEKDAYS
from madad.channels.hours.models import LiveQueue

WEEKLY_EXAMPLE = {"monday": ["09:00-17:00"], "friday": ["09:00-13:00", "14:00-22:00"]}
HOLIDAYS_EXAMPLE = [
    {"date": "2026-12-25", "hours": [], "name": "Christmas Day"},
    {"date": "2026-12-24", "hours": ["09:00-13:00"], "name": "Christmas Eve"},
]


class HolidayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: SafeStr = Field(max_length=40, description="YYYY-MM-DD, in the queue's zone")
    hours: list[SafeStr] = Field(
        default_factory=list, max_length=12, description="special hours; [] = closed all day"
    )
    name: SafeStr | None = Field(default=None, max_length=200)


class QueueIn(BaseModel):
    """A new live queue. `name` is what phone events and chat call the queue; `key` (made from
    the name when left out) is its public handle in URLs."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "name": "billing",
                "key": "billing",
                "time_zone": "Asia/Karachi",
                "weekly_hours": WEEKLY_EXAMPLE,
                "holidays": HOLIDAYS_EXAMPLE,
            }
        },
    )

    name: SafeStr = Field(min_length=1, max_length=100)
    key: SafeStr | None = Field(default=None, max_length=64)
    time_zone: SafeStr = Field(max_length=64, description="an IANA zone, e.g. Europe/London")
    weekly_hours: dict[SafeStr, list[SafeStr]] = Field(
        default_factory=dict,
        description="weekday → intervals HH:MM-HH:MM; 22:00-06:00 runs overnight; "
        "00:00-24:00 is all day",
    )
    holidays: list[HolidayIn] = Field(default_factory=list, max_length=1000)
    callbacks_enabled: bool = True


class QueuePatch(BaseModel):
    """Only the fields given change; the calendar is checked as a whole."""

    model_config = ConfigDict(extra="forbid")

    name: SafeStr | None = Field(default=None, min_length=1, max_length=100)
    key: SafeStr | None = Field(default=None, max_length=64)
    time_zone: SafeStr | None = Field(default=None, max_length=64)
    weekly_hours: dict[SafeStr, list[SafeStr]] | None = None
    holidays: list[HolidayIn] | None = Field(default=None, max_length=1000)
    callbacks_enabled: bool | None = None

    def changes(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if value is None:
                continue
            if name == "holidays":
                value = [h.model_dump() for h in self.holidays or []]
            out[name] = value
        return out


class HolidayOut(BaseModel):
    date: date
    hours: list[str]
    name: str


class QueueOut(BaseModel):
    id: int
    name: str
    key: str
    time_zone: str
    weekly_hours: dict[str, list[str]]
    holidays: list[HolidayOut]
    callbacks_enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, q: LiveQueue) -> QueueOut:
        return cls(
            id=q.id,
            name=q.name,
            key=q.key,
            time_zone=q.time_zone,
            weekly_hours={d: q.weekly_hours.get(d, []) for d in WEEKDAYS},
            holidays=[HolidayOut(**h) for h in q.holidays],
            callbacks_enabled=q.callbacks_enabled,
            created_at=q.created_at,
            updated_at=q.updated_at,
        )


class IntervalOut(BaseModel):
    start: str = Field(description="HH:MM in the queue's zone")
    end: str = Field(description="HH:MM; not after start means the next day")


class DayOut(BaseModel):
    date: date
    weekday: str
    intervals: list[IntervalOut]
    holiday: str | None = Field(description="the holiday's name when the date has its own hours")


class SpanOut(BaseModel):
    start: datetime
    end: datetime


class StatusOut(BaseModel):
    key: str
    name: str
    open: bool
    opens_at: datetime | None = Field(description="the next opening (after this open period)")
    closes_at: datetime | None = Field(description="when the current open period ends")
    time_zone: str
    now: datetime = Field(description="the time now in the queue's zone")
    callbacks_enabled: bool
    hours: list[DayOut] = Field(description="the next seven days in the queue's zone")
    open_spans: list[SpanOut] = Field(
        description="open periods (UTC, merged) from the start of today in the queue's zone "
        "for seven days, for showing in a visitor's own time"
    )

    @classmethod
    def of(cls, s: service.QueueStatus) -> StatusOut:
        q = s.queue
        zone = service.calendar_of(q).zone
        return cls(
            key=q.key,
            name=q.name,
            open=s.open,
            opens_at=s.opens_at,
            closes_at=s.closes_at,
            time_zone=q.time_zone,
            now=s.now.astimezone(zone),
            callbacks_enabled=q.callbacks_enabled,
            hours=[
                DayOut(
                    date=d.day,
                    weekday=WEEKDAYS[d.day.weekday()],
                    intervals=[
                        IntervalOut(start=str(iv).split("-")[0], end=str(iv).split("-")[1])
                        for iv in d.intervals
                    ],
                    holiday=d.holiday,
                )
                for d in s.week
            ],
            open_spans=[SpanOut(start=a, end=b) for a, b in s.spans],
        )
