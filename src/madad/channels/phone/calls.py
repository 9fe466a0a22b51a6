"""A call's state, derived from all of its events: a pure function, whatever their arrival order.

Events are put in time order (events of one instant in the order a call lives them: queued,
ringing, answered, hold, resume, transferred, voicemail, abandoned, ended) and folded:

- `queued_at`: the first `queued`; `answered_at` and the answering agent: the first `answered`;
  `ended_at`, `abandoned_at`, `voicemail_at`: the first of each;
- `hold_seconds`: the sum of hold → resume spans (a hold still open when the call ended counts to
  the end), exactly as the metric engine reads `live.hold` / `live.resumed` facts;
- `state`: `abandoned` or `voicemail` when the caller was never answered and left that way;
  otherwise `ended` once the call ended; otherwise what the latest event says (`queued`,
  `ringing`, `talking`, `on_hold`, `transferred`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

EVENTS = (
    "queued",
    "ringing",
    "answered",
    "hold",
    "resume",
    "transferred",
    "voicemail",
    "abandoned",
    "ended",
)
_RANK = {name: i for i, name in enumerate(EVENTS)}
_STATE_AFTER = {
    "queued": "queued",
    "ringing": "ringing",
    "answered": "talking",
    "hold": "on_hold",
    "resume": "talking",
    "transferred": "transferred",
    "voicemail": "voicemail",
    "abandoned": "abandoned",
    "ended": "ended",
}


class EventLike(Protocol):
    event: str
    at: datetime
    agent_id: int | None
    recording_url: str | None


@dataclass(frozen=True)
class Derived:
    state: str
    queued_at: datetime | None
    answered_at: datetime | None
    agent_id: int | None
    ended_at: datetime | None
    abandoned_at: datetime | None
    voicemail_at: datetime | None
    hold_seconds: float
    recording_url: str | None


def in_call_order(events: Iterable[EventLike]) -> list[EventLike]:
    return sorted(events, key=lambda e: (e.at, _RANK[e.event]))


def derive(events: Iterable[EventLike]) -> Derived:
    """The state of one call from all of its events (at least one)."""
    ordered = in_call_order(events)
    if not ordered:
        raise ValueError("a call has at least one event")
    first: dict[str, EventLike] = {}
    holds: list[tuple[datetime, datetime | None]] = []
    recording: str | None = None
    for e in ordered:
        first.setdefault(e.event, e)
        if e.event == "hold" and (not holds or holds[-1][1] is not None):
            holds.append((e.at, None))
        elif e.event == "resume" and holds and holds[-1][1] is None:
            holds[-1] = (holds[-1][0], e.at)
        if e.recording_url:
            recording = e.recording_url

    def at(name: str) -> datetime | None:
        return first[name].at if name in first else None

    answered = first.get("answered")
    ended_at = at("ended")
    hold_seconds = 0.0
    for start, stop in holds:
        end = stop or ended_at
        if end is not None:
            hold_seconds += max(0.0, (end - start).total_seconds())
    if answered is None and "abandoned" in first:
        state = "abandoned"
    elif answered is None and "voicemail" in first:
        state = "voicemail"
    elif ended_at is not None:
        state = "ended"
    else:
        state = _STATE_AFTER[ordered[-1].event]
    return Derived(
        state=state,
        queued_at=at("queued"),
        answered_at=answered.at if answered else None,
        agent_id=answered.agent_id if answered else None,
        ended_at=ended_at,
        abandoned_at=at("abandoned"),
        voicemail_at=at("voicemail"),
        hold_seconds=hold_seconds,
        recording_url=recording,
    )
