"""The live queues and their posted hours: the one writer of `live_queues`.

Admins create and edit queues (`channels:manage`); anyone may read a queue's status by its
public key (open now, back at …, the week's hours), which the widget and the help centre show.
Every calendar is checked by `calendar.make_calendar` before it is stored, so a stored calendar
always reads back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth import service as auth
from madad.auth.permissions import Actor, Scope
from madad.channels.hours import calendar as cal
from madad.channels.hours.models import LiveQueue
from madad.db import utcnow
from madad.errors import Conflict, Invalid, NotFound

KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
FIELDS = {"name", "key", "time_zone", "weekly_hours", "holidays", "callbacks_enabled"}


# --- reading a stored calendar -----------------------------------------------------------------


def calendar_of(queue: LiveQueue) -> cal.Calendar:
    """The queue's calendar (stored calendars were checked on the way in)."""
    weekly = cal.weekly_from_text(queue.weekly_hours or {})
    holidays = [
        cal.holiday_of(h["date"], h.get("hours") or [], h.get("name"), "holidays")
        for h in queue.holidays or []
    ]
    return cal.Calendar(queue.time_zone, cal.check_week(weekly), cal.check_holidays(holidays))


def weekly_json(calendar: cal.Calendar) -> dict[str, list[str]]:
    return {
        day: [str(iv) for iv in ivs]
        for day, ivs in zip(cal.WEEKDAYS, calendar.weekly, strict=True)
        if ivs
    }


def holidays_json(calendar: cal.Calendar) -> list[dict[str, Any]]:
    return [
        {"date": h.day.isoformat(), "hours": [str(iv) for iv in h.intervals], "name": h.name}
        for h in calendar.holidays
    ]


# --- checking what an admin sends ----------------------------------------------------------------


def _text(value: object, field_name: str, *, max_len: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field_name, "required")
    text = value.strip()
    if len(text) > max_len:
        raise Invalid(field_name, f"at most {max_len} characters")
    if any(ord(c) < 32 for c in text) or "\x7f" in text:
        raise Invalid(field_name, "must not hold control characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(field_name, "must be valid Unicode (no lone surrogates)") from None
    return text


def clean_name(value: object) -> str:
    """The queue's name as phone systems and chat report it ("billing")."""
    return _text(value, "name", max_len=100)


def clean_key(value: object) -> str:
    if not isinstance(value, str) or not KEY.fullmatch(value.strip()):
        raise Invalid(
            "key", "1-64 lower-case letters, digits, '-' or '_', starting with a letter or digit"
        )
    return value.strip()


def key_from_name(name: str) -> str:
    """A public key suggested by the name: "Billing (Urdu)" → "billing-urdu"."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
    if not slug:
        raise Invalid("key", "the name has no letters or digits to make a key of; give a key")
    return slug


def _weekly(value: object) -> list[list[cal.Interval]]:
    if not isinstance(value, Mapping):
        raise Invalid("weekly_hours", 'an object such as {"monday": ["09:00-17:00"]}')
    days: dict[str, list[str]] = {}
    for day, hours in value.items():
        if not isinstance(hours, Sequence) or isinstance(hours, str):
            raise Invalid(f"weekly_hours.{str(day)[:20]}", 'a list such as ["09:00-17:00"]')
        if not all(isinstance(h, str) for h in hours):
            raise Invalid(f"weekly_hours.{str(day)[:20]}", "each interval is HH:MM-HH:MM text")
        days[str(day)] = list(hours)
    return cal.weekly_from_text(days)


def _holidays(value: object) -> list[cal.Holiday]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise Invalid("holidays", 'a list such as [{"date": "2026-12-25", "hours": []}]')
    out = []
    for i, item in enumerate(value):
        where = f"holidays[{i}]"
        if not isinstance(item, Mapping):
            raise Invalid(where, 'an object such as {"date": "2026-12-25", "hours": []}')
        unknown = set(item) - {"date", "hours", "name"}
        if unknown:
            raise Invalid(where, f"unknown field {sorted(map(str, unknown))[0][:40]!r}")
        hours = item.get("hours") or []
        if not isinstance(hours, Sequence) or isinstance(hours, str):
            raise Invalid(f"{where}.hours", 'a list such as ["10:00-14:00"], or [] for closed')
        if not all(isinstance(h, str) for h in hours):
            raise Invalid(f"{where}.hours", "each interval is HH:MM-HH:MM text")
        out.append(cal.holiday_of(item.get("date"), list(hours), item.get("name"), where))
    return out


def check_calendar(time_zone: object, weekly_hours: object, holidays: object) -> cal.Calendar:
    """A calendar from an API body's or a form's values; raises Invalid naming the field."""
    return cal.make_calendar(
        cal.clean_time_zone(time_zone), _weekly(weekly_hours), _holidays(holidays)
    )


# --- queues ------------------------------------------------------------------------------------


async def _clash(session: AsyncSession, queue_id: int | None, name: str, key: str) -> None:
    for column, value, label in ((LiveQueue.name, name, "name"), (LiveQueue.key, key, "key")):
        other = await session.scalar(select(LiveQueue.id).where(column == value))
        if other is not None and other != queue_id:
            raise Conflict(f"another live queue has the {label} {value!r}")


async def create_queue(
    session: AsyncSession,
    actor: Actor,
    *,
    name: object,
    key: object = None,
    time_zone: object,
    weekly_hours: object = None,
    holidays: object = None,
    callbacks_enabled: bool = True,
) -> LiveQueue:
    """A new live queue with its calendar; Conflict when the name or key is taken."""
    actor.require(Scope.channels_manage)
    clean = clean_name(name)
    public = clean_key(key) if key not in (None, "") else key_from_name(clean)
    calendar = check_calendar(time_zone, weekly_hours or {}, holidays or [])
    await _clash(session, None, clean, public)
    now = utcnow()
    queue = LiveQueue(
        name=clean,
        key=public,
        time_zone=calendar.time_zone,
        weekly_hours=weekly_json(calendar),
        holidays=holidays_json(calendar),
        callbacks_enabled=bool(callbacks_enabled),
        created_at=now,
        updated_at=now,
    )
    session.add(queue)
    await session.flush()
    auth.audit(session, actor, "live_queue.created", "live_queue", queue.id, {"key": public})
    return queue


async def update_queue(
    session: AsyncSession, actor: Actor, key: str, changes: Mapping[str, Any]
) -> LiveQueue:
    """Change some of a queue's fields (the calendar is checked as a whole)."""
    actor.require(Scope.channels_manage)
    unknown = set(changes) - FIELDS
    if unknown:
        raise Invalid(sorted(unknown)[0][:40], "not a live queue field")
    queue = await get_queue(session, actor, key)
    name = clean_name(changes["name"]) if "name" in changes else queue.name
    public = clean_key(changes["key"]) if "key" in changes else queue.key
    calendar = check_calendar(
        changes.get("time_zone", queue.time_zone),
        changes.get("weekly_hours", queue.weekly_hours),
        changes.get("holidays", queue.holidays),
    )
    await _clash(session, queue.id, name, public)
    queue.name, queue.key, queue.time_zone = name, public, calendar.time_zone
    queue.weekly_hours = weekly_json(calendar)
    queue.holidays = holidays_json(calendar)
    if "callbacks_enabled" in changes:
        if not isinstance(changes["callbacks_enabled"], bool):
            raise Invalid("callbacks_enabled", "true or false")
        queue.callbacks_enabled = changes["callbacks_enabled"]
    queue.updated_at = utcnow()
    await session.flush()
    auth.audit(
        session, actor, "live_queue.updated", "live_queue", queue.id, {"fields": sorted(changes)}
    )
    return queue


async def list_queues(session: AsyncSession, actor: Actor) -> list[LiveQueue]:
    actor.require(Scope.channels_manage)
    return list(await session.scalars(select(LiveQueue).order_by(LiveQueue.name)))


async def get_queue(session: AsyncSession, actor: Actor, key: str) -> LiveQueue:
    actor.require(Scope.channels_manage)
    return await public_queue(session, key)


async def public_queue(session: AsyncSession, key: str) -> LiveQueue:
    """A queue by its public key, for anyone (the status and the callback form)."""
    queue = await session.scalar(select(LiveQueue).where(LiveQueue.key == key))
    if queue is None:
        raise NotFound("no live queue has this key")
    return queue


async def queue_named(session: AsyncSession, name: str) -> LiveQueue | None:
    """The queue phone events and chat call `name`, if one is set up (for the metric engine's
    business-hours variants and the chat widget)."""
    return await session.scalar(select(LiveQueue).where(LiveQueue.name == name))


async def calendars(session: AsyncSession) -> dict[str, cal.Calendar]:
    """Every queue's calendar by the queue's name, in one query: what the metric engine needs
    to measure waits in business hours (`calendar.open_seconds_between`)."""
    return {q.name: calendar_of(q) for q in await session.scalars(select(LiveQueue))}


# --- status ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueStatus:
    queue: LiveQueue
    open: bool
    opens_at: datetime | None  # the next opening (after this open period, while open)
    closes_at: datetime | None  # the end of the current open period: None while closed
    week: list[cal.DayHours]
    now: datetime
    # Open periods (UTC) from the start of today (in the queue's zone) for seven days: what a
    # widget shows in the visitor's own time and offers callback windows from.
    spans: list[tuple[datetime, datetime]] = field(default_factory=list)


def status(queue: LiveQueue, now: datetime | None = None) -> QueueStatus:
    """Open now?, back at …, closes at …, and the next seven days' hours in the queue's zone."""
    at = now or utcnow()
    calendar = calendar_of(queue)
    is_open = cal.is_open(calendar, at)
    local = at.astimezone(calendar.zone)
    today = datetime.combine(local.date(), time(), tzinfo=calendar.zone).astimezone(UTC)
    closes_at = cal.next_close(calendar, at) if is_open else None
    if is_open:
        opens_at = cal.next_open(calendar, closes_at) if closes_at else None
    else:
        opens_at = cal.next_open(calendar, at)
    return QueueStatus(
        queue=queue,
        open=is_open,
        opens_at=opens_at,
        closes_at=closes_at,
        week=cal.week_from(calendar, at),
        now=at,
        spans=cal.open_spans(calendar, today, today + timedelta(days=7)),
    )
