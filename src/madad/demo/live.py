"""The demo's live channels: the billing and technical queues with their posted hours (Karachi
time, a Friday prayer break, public holidays), the chat inboxes — the help centre's, and the
demo shop's, whose queue posts no hours so a visitor can try the chat at any time — and a
few callbacks customers asked for, some of them overdue. All through the live services."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from madad.auth.permissions import Actor
from madad.channels.chat import inboxes
from madad.channels.hours import calendar as cal
from madad.channels.hours import service as hours
from madad.channels.phone import callbacks
from madad.db import Database

ZONE = "Asia/Karachi"
SHOP_INBOX = "Demo shop"
SHOP_QUEUE = "shop"
HELP_INBOX = "Help centre"
WEEKLY = {
    "billing": {
        "monday": ["09:00-17:30"],
        "tuesday": ["09:00-17:30"],
        "wednesday": ["09:00-17:30"],
        "thursday": ["09:00-17:30"],
        "friday": ["09:00-12:30", "14:30-17:30"],
    },
    "technical": {
        "monday": ["08:00-20:00"],
        "tuesday": ["08:00-20:00"],
        "wednesday": ["08:00-20:00"],
        "thursday": ["08:00-20:00"],
        "friday": ["08:00-12:30", "14:00-20:00"],
        "saturday": ["10:00-16:00"],
    },
}
# Pakistan's public holidays that fall on the same date every year.
HOLIDAYS = [
    (2, 5, "Kashmir Day"),
    (3, 23, "Pakistan Day"),
    (5, 1, "Labour Day"),
    (5, 28, "Youm-e-Takbeer"),
    (8, 14, "Independence Day"),
    (11, 9, "Iqbal Day"),
    (12, 25, "Quaid-e-Azam Day"),
]
CALLBACK_NOTES = [
    "About the invoice for last month.",
    "Please call after lunch.",
    "My order has not arrived — the number is on the ticket.",
    None,
    "بل کے بارے میں بات کرنی ہے۔",
]


def holidays_between(first: date, last: date) -> list[dict[str, object]]:
    """The fixed-date holidays from `first` to `last`, as the live queues store them."""
    out = []
    for year in range(first.year, last.year + 1):
        for month, day, name in HOLIDAYS:
            when = date(year, month, day)
            if first <= when <= last:
                out.append({"date": when.isoformat(), "hours": [], "name": name})
    return out


@dataclass
class Live:
    calendars: dict[str, cal.Calendar]  # queue name → its posted hours
    shop_key: str  # the demo shop's chat inbox (the widget's key)


async def add_live_channels(db: Database, admin: Actor, start: datetime, now: datetime) -> Live:
    holidays = holidays_between(start.date() - timedelta(days=1), now.date() + timedelta(days=120))
    async with db.session() as session:
        calendars = {}
        for name, weekly in WEEKLY.items():
            queue = await hours.create_queue(
                session,
                admin,
                name=name,
                time_zone=ZONE,
                weekly_hours=weekly,
                holidays=holidays,
                callbacks_enabled=True,
            )
            calendars[name] = hours.calendar_of(queue)
        shop = await inboxes.create_inbox(session, admin, name=SHOP_INBOX, queue=SHOP_QUEUE)
        help_inbox = await inboxes.create_inbox(session, admin, name=HELP_INBOX, queue="technical")
        await inboxes.update_inbox(session, admin, help_inbox.id, help_centre=True)
    return Live(calendars, shop.key)


def _window(calendar: cal.Calendar, after: datetime) -> tuple[datetime, datetime] | None:
    """The first whole hour-long window inside the hours, starting on the hour after `after`."""
    t = after.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for _ in range(24 * 14):
        if cal.within_hours(calendar, t, t + timedelta(hours=1)):
            return t, t + timedelta(hours=1)
        t += timedelta(hours=1)
    return None


async def add_callbacks(
    db: Database,
    rng: random.Random,
    now: datetime,
    calendars: dict[str, cal.Calendar],
    people: list[tuple[str, str]],  # name, phone
    agent: Actor,
) -> tuple[int, int]:
    """Callbacks asked for over the last days: some overdue (the window passed, nobody called),
    some due in the next open hours, one taken by an agent and one already done. Each is a
    phone ticket with the request as its message; returns (callbacks, messages)."""
    made = messages = 0
    async with db.session() as session:
        for n, (name, phone) in enumerate(people[:9]):
            queue = "billing" if n % 3 == 0 else "technical"
            calendar = calendars[queue]
            if n < 3:  # asked a day or two ago; the window has passed
                asked = now - timedelta(days=1 + n % 2, hours=rng.uniform(2, 8))
            elif n < 7:  # asked in the last hour, for the next open hours
                asked = now - timedelta(minutes=rng.uniform(5, 50))
            else:  # asked earlier; an agent is on it, or has called
                asked = now - timedelta(days=1, hours=rng.uniform(1, 4))
            window = _window(calendar, asked)
            if window is None or (n < 3 and window[1] > now):
                continue
            requested = await callbacks.request_callback(
                session,
                queue,
                callbacks.CallbackRequest(
                    name=name,
                    phone=phone,
                    window_start=window[0],
                    window_end=window[1],
                    note=rng.choice(CALLBACK_NOTES),
                ),
                now=asked,
            )
            made += 1
            messages += 1
            if n >= 7:
                await callbacks.take(session, agent, requested.callback.id)
                if n == 8:
                    await callbacks.log_outcome(
                        session,
                        agent,
                        requested.callback.id,
                        outcome="reached",
                        note="Explained the invoice; the customer is happy.",
                    )
                    messages += 1  # the outcome, as a note on the ticket
    return made, messages
