"""Historical call logs (CSV) turned into the same call events a phone system posts.

Columns (a header row names them; order free, extra columns ignored):

    call_id, caller, queue, agent, queued_at, answered_at, ended_at, abandoned_at, hold_seconds

`call_id` and `caller` are required, and at least one of the times. Times are ISO 8601; a time
without a zone is read in the import's time zone (UTC unless told). Each row becomes the events
`queued`, `answered` (by `agent`), `ended` and `abandoned` at the times given, and, when
`hold_seconds` > 0, one `hold` at the answer and a `resume` `hold_seconds` later (a log keeps the
total, not when the holds were). Re-importing a file stores nothing twice.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timedelta, tzinfo

from madad.channels.phone.service import CallEvent, clean
from madad.errors import Invalid

COLUMNS = (
    "call_id",
    "caller",
    "queue",
    "agent",
    "queued_at",
    "answered_at",
    "ended_at",
    "abandoned_at",
    "hold_seconds",
)
REQUIRED = ("call_id", "caller")


def _time(row: Mapping[str, str | None], column: str, zone: tzinfo) -> datetime | None:
    value = (row.get(column) or "").strip()
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(column, f"{value!r} is not an ISO 8601 time") from None
    return at if at.tzinfo is not None else at.replace(tzinfo=zone)


def events_of_row(row: Mapping[str, str | None], zone: tzinfo) -> list[CallEvent]:
    """The call events one CSV row stands for; raises Invalid naming the bad column."""
    call_id = (row.get("call_id") or "").strip()
    caller = (row.get("caller") or "").strip()
    if not call_id:
        raise Invalid("call_id", "required")
    if not caller:
        raise Invalid("caller", "required")
    queue = (row.get("queue") or "").strip() or None
    agent = (row.get("agent") or "").strip() or None
    times = {
        c: _time(row, c, zone) for c in ("queued_at", "answered_at", "ended_at", "abandoned_at")
    }
    if not any(times.values()):
        raise Invalid("queued_at", "a call needs at least one of its times")
    raw_hold = (row.get("hold_seconds") or "").strip()
    try:
        hold = float(raw_hold) if raw_hold else 0.0
    except ValueError:
        raise Invalid("hold_seconds", f"{raw_hold!r} is not a number") from None
    if not math.isfinite(hold) or hold < 0:
        raise Invalid("hold_seconds", "a number of seconds, 0 or more")
    answered, ended = times["answered_at"], times["ended_at"]
    queued = times["queued_at"]
    if queued and answered and answered < queued:
        raise Invalid("answered_at", "before queued_at")
    if answered and ended and ended < answered:
        raise Invalid("ended_at", "before answered_at")
    if hold and answered is None:
        raise Invalid("hold_seconds", "only an answered call is held")
    if hold and ended and answered and answered + timedelta(seconds=hold) > ended:
        raise Invalid("hold_seconds", "longer than the call")

    def event(name: str, at: datetime, who: str | None = None) -> CallEvent:
        return clean(
            CallEvent(call_id=call_id, event=name, at=at, caller=caller, queue=queue, agent=who)
        )

    out: list[CallEvent] = []
    if queued:
        out.append(event("queued", queued))
    if answered:
        out.append(event("answered", answered, agent))
        if hold:
            out.append(event("hold", answered))
            out.append(event("resume", answered + timedelta(seconds=hold)))
    if times["abandoned_at"]:
        out.append(event("abandoned", times["abandoned_at"]))
    if ended:
        out.append(event("ended", ended))
    return out
