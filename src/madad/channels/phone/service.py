"""Call events from any phone system, stored once each, in any arrival order.

`record_events(session, events)` is the one writer of the phone tables. In one transaction it:

1. validates every event (`clean`), and serialises writers of the same calls (PostgreSQL advisory
   locks; SQLite writers are serialised already), so that two requests for one call never open
   two tickets;
2. stores each event unless the same (call_id, event, timestamp) is stored already;
3. opens the call's ticket through the one ingress the first time a call is seen (channel
   `phone`, the caller as the contact), and recomputes the call's state from all of its events;
4. for each event stored just now, and only those, records its `live.*` fact (dated by the
   event's own timestamp, so that late arrivals still give the right waits) and adds a line to
   the ticket's call timeline (an internal note dated by the event).

Facts and timeline lines say only what their own event says — never a wait computed from the
events that happen to have arrived already — so that every arrival order writes the same ones.
The time waited (answered or abandoned − offered) is what the metric engine derives from the
`live.offered` and `live.answered` / `live.abandoned` facts, and what `phone_calls` shows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.auth.models import User
from madad.auth.permissions import SYSTEM
from madad.channels.phone.calls import EVENTS, Derived, derive, in_call_order
from madad.channels.phone.models import PhoneCall, PhoneEvent
from madad.contacts.identities import normalise_phone
from madad.db import utcnow
from madad.dialects import insert_ignoring_conflicts, lock_keys
from madad.errors import Invalid, NotFound
from madad.tickets import service as tickets
from madad.tickets.changes import live_ticket
from madad.tickets.inbound import Inbound, Sender

CHANNEL = "phone"
MAX_DATA_BYTES = 16_384
FACT_KIND = {
    "queued": "live.offered",
    "answered": "live.answered",
    "hold": "live.hold",
    "resume": "live.resumed",
    "transferred": "live.transferred",
    "ended": "live.ended",
    "abandoned": "live.abandoned",
    "voicemail": "live.voicemail",
}  # `ringing` is kept on the timeline but is no fact: the metrics do not read it


@dataclass(frozen=True)
class CallEvent:
    """One event as a phone system reports it. `agent` is a user's email or id; on a
    `transferred` event, `agent` and `queue` name where the call went."""

    call_id: str
    event: str
    at: datetime
    caller: str
    callee: str | None = None
    queue: str | None = None
    agent: str | None = None
    recording_url: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    call_id: str
    event: str
    at: datetime
    stored: bool  # False: this event was stored before; nothing changed
    ticket_id: int
    state: str
    agent_id: int | None
    warnings: tuple[str, ...] = ()


# --- validation --------------------------------------------------------------------------------


def _text(value: str | None, name: str, *, max_len: int, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise Invalid(name, "required")
        return None if value is None else ""
    if not isinstance(value, str):
        raise Invalid(name, "must be text")
    if len(value) > max_len:
        raise Invalid(name, f"at most {max_len} characters")
    if "\x00" in value:
        raise Invalid(name, "must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(name, "must be valid Unicode (no lone surrogates)") from None
    return value


def _storable_json(value: Any, name: str) -> None:
    if isinstance(value, str):
        _text(value, name, max_len=MAX_DATA_BYTES)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _text(k, name, max_len=200)
            _storable_json(v, name)
    elif isinstance(value, list):
        for v in value:
            _storable_json(v, name)


def clean_recording_url(value: str | None, name: str = "recording_url") -> str | None:
    if value is None or value == "":
        return None
    _text(value, name, max_len=2000)
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise Invalid(name, "an http:// or https:// URL")
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise Invalid(name, "a URL holds no spaces or control characters")
    return value


def clean(e: CallEvent, prefix: str = "") -> CallEvent:
    """The event checked (raises Invalid naming the field), its timestamp in UTC."""
    call_id = _text(e.call_id, f"{prefix}call_id", max_len=200, required=True)
    if e.event not in EVENTS:
        raise Invalid(f"{prefix}event", f"one of {', '.join(EVENTS)}")
    if e.at.tzinfo is None or e.at.utcoffset() is None:
        raise Invalid(f"{prefix}timestamp", "an ISO 8601 time with its zone")
    try:
        at = e.at.astimezone(UTC)
    except OverflowError:
        raise Invalid(f"{prefix}timestamp", "out of range") from None
    data = dict(e.data or {})
    _storable_json(data, f"{prefix}data")
    try:
        size = len(orjson.dumps(data))
    except orjson.JSONEncodeError as exc:
        raise Invalid(f"{prefix}data", f"not storable as JSON: {exc}") from None
    if size > MAX_DATA_BYTES:
        raise Invalid(f"{prefix}data", f"at most {MAX_DATA_BYTES} bytes of JSON")
    return CallEvent(
        call_id=call_id or "",
        event=e.event,
        at=at,
        caller=_text(e.caller, f"{prefix}from", max_len=255, required=True) or "",
        callee=_text(e.callee, f"{prefix}to", max_len=255) or None,
        queue=_text(e.queue, f"{prefix}queue", max_len=255) or None,
        agent=(_text(e.agent, f"{prefix}agent", max_len=320) or "").strip() or None,
        recording_url=clean_recording_url(e.recording_url, f"{prefix}recording_url"),
        data=data,
    )


# --- recording ---------------------------------------------------------------------------------


async def _agents(session: AsyncSession, refs: set[str]) -> dict[str, User]:
    """The users the phone system named, by email (any case) or by id."""
    ids = {int(r) for r in refs if r.isascii() and r.isdigit() and len(r) <= 9}
    emails = {r.lower() for r in refs if "@" in r}
    found: dict[str, User] = {}
    if ids:
        for u in await session.scalars(select(User).where(User.id.in_(ids))):
            found[str(u.id)] = u
    if emails:
        for u in await session.scalars(select(User).where(User.email.in_(emails))):
            found[u.email] = u
    keys = {r: r.lower() if "@" in r else r for r in refs}
    return {r: found[k] for r, k in keys.items() if k in found}


def _sender(caller: str, call_id: str) -> Sender:
    """The caller as a contact: by phone number; a withheld or unusable number makes a contact
    of its own for this call (named as the phone system showed it), never one shared by every
    anonymous caller."""
    try:
        return Sender(phone=normalise_phone(caller))
    except Invalid:
        digest = hashlib.sha256(call_id.encode()).hexdigest()[:40]
        return Sender(handle=f"phone-call:{digest}", name=caller[:200] or None)


async def _open_call(
    session: AsyncSession, call_id: str, events: Sequence[PhoneEvent]
) -> PhoneCall:
    first = in_call_order(events)[0]
    assert isinstance(first, PhoneEvent)
    queue = next((e.queue for e in events if e.queue), None)
    callee = next((e.callee for e in events if e.callee), None)
    text = f"Call from {first.caller}"
    if callee:
        text += f" to {callee}"
    if queue:
        text += f" (queue {queue})"
    received = await tickets.receive(
        session,
        Inbound(
            channel=CHANNEL,
            sender=_sender(first.caller, call_id),
            subject=f"Call from {first.caller}",
            text=text,
            external_id=f"call:{call_id}",
            thread_by_contact=False,
            meta={"call_id": call_id},
            received_at=first.at,
        ),
    )
    call = PhoneCall(
        call_id=call_id,
        ticket_id=received.ticket_id,
        contact_id=received.contact_id,
        caller=first.caller,
        callee=callee,
        queue=queue,
        state="queued",
        hold_seconds=0.0,
    )
    session.add(call)
    return call


def _apply(call: PhoneCall, d: Derived, events: Sequence[PhoneEvent]) -> None:
    call.state = d.state
    call.queued_at = d.queued_at
    call.answered_at = d.answered_at
    call.agent_id = d.agent_id
    call.ended_at = d.ended_at
    call.abandoned_at = d.abandoned_at
    call.hold_seconds = d.hold_seconds
    call.recording_url = d.recording_url
    call.queue = call.queue or next((e.queue for e in events if e.queue), None)
    call.callee = call.callee or next((e.callee for e in events if e.callee), None)
    call.updated_at = utcnow()


def _who(e: PhoneEvent, agents: Mapping[int, User]) -> str:
    user = agents.get(e.agent_id) if e.agent_id else None
    if user is not None:
        return f"{user.name} <{user.email}>"
    return e.agent or "an agent"


def _timeline_line(e: PhoneEvent, call: PhoneCall, agents: Mapping[int, User]) -> str:
    line = {
        "queued": f"Call queued{' in ' + e.queue if e.queue else ''}",
        "ringing": f"Ringing {_who(e, agents)}",
        "answered": f"Answered by {_who(e, agents)}",
        "hold": "Caller put on hold",
        "resume": "Caller taken off hold",
        "transferred": "Transferred to "
        + ", ".join(x for x in (e.agent and _who(e, agents), e.queue and f"queue {e.queue}") if x)
        if (e.agent or e.queue)
        else "Transferred",
        "voicemail": "Caller left a voicemail",
        "abandoned": "Caller hung up before an answer",
        "ended": "Call ended",
    }[e.event]
    if e.recording_url:
        line += f"\nRecording: {e.recording_url}"
    return line


def _fact(session: AsyncSession, e: PhoneEvent, call: PhoneCall) -> None:
    kind = FACT_KIND.get(e.event)
    if kind is None:
        return
    data: dict[str, Any] = {"session": call.call_id, "queue": e.queue or call.queue}
    agent_id = e.agent_id
    if e.event == "transferred":
        data.update(to_agent_id=e.agent_id, to_agent=e.agent, to_queue=e.queue)
        agent_id = call.agent_id
    if e.event != "answered" and agent_id is None:
        agent_id = call.agent_id
    if e.recording_url:
        data["recording_url"] = e.recording_url
    facts.record(
        session,
        kind,
        ticket_id=call.ticket_id,
        contact_id=call.contact_id,
        agent_id=agent_id,
        channel=CHANNEL,
        data=data,
        at=e.at,
    )


async def record_events(session: AsyncSession, events: Sequence[CallEvent]) -> list[Outcome]:
    """Store call events (see the module docstring); one Outcome per event, in order."""
    cleaned = [clean(e, f"[{i}]." if len(events) > 1 else "") for i, e in enumerate(events)]
    if not cleaned:
        return []
    call_ids = list(dict.fromkeys(e.call_id for e in cleaned))
    await lock_keys(session, [f"phone-call:{c}" for c in call_ids])
    refs = {e.agent for e in cleaned if e.agent}
    by_ref = await _agents(session, refs)
    await session.flush()
    table = PhoneEvent.__table__
    new_ids: list[int | None] = []
    now = utcnow()
    for e in cleaned:
        user = by_ref.get(e.agent) if e.agent else None
        stmt = (
            insert_ignoring_conflicts(session, table, index_elements=["call_id", "event", "at"])
            .values(
                call_id=e.call_id,
                event=e.event,
                at=e.at,
                caller=e.caller,
                callee=e.callee,
                queue=e.queue,
                agent=e.agent,
                agent_id=user.id if user else None,
                recording_url=e.recording_url,
                data=dict(e.data),
                received_at=now,
            )
            .returning(table.c.id)
        )
        new_ids.append((await session.execute(stmt)).scalar_one_or_none())

    agents = {u.id: u for u in by_ref.values()}
    calls: dict[str, PhoneCall] = {}
    for call_id in call_ids:
        rows = list(
            await session.scalars(
                select(PhoneEvent)
                .where(PhoneEvent.call_id == call_id)
                .order_by(PhoneEvent.at, PhoneEvent.id)
                .execution_options(populate_existing=True)
            )
        )
        call = await session.scalar(select(PhoneCall).where(PhoneCall.call_id == call_id))
        if call is None:
            call = await _open_call(session, call_id, rows)
        _apply(call, derive(rows), rows)
        calls[call_id] = call
        fresh = {i for i in new_ids if i is not None}
        for e in in_call_order([r for r in rows if r.id in fresh]):
            assert isinstance(e, PhoneEvent)
            _fact(session, e, call)
            # A merged call ticket's timeline continues on the ticket it was merged into.
            ticket = await live_ticket(session, call.ticket_id)
            await tickets.add_note(
                session, SYSTEM, ticket.id, text=_timeline_line(e, call, agents), at=e.at
            )
    await session.flush()

    out: list[Outcome] = []
    for e, new_id in zip(cleaned, new_ids, strict=True):
        call = calls[e.call_id]
        warnings: tuple[str, ...] = ()
        if e.agent and e.agent not in by_ref:
            warnings = (f"no agent {e.agent!r} in Madad: the event is stored without one",)
        user = by_ref.get(e.agent) if e.agent else None
        out.append(
            Outcome(
                call_id=e.call_id,
                event=e.event,
                at=e.at,
                stored=new_id is not None,
                ticket_id=call.ticket_id,
                state=call.state,
                agent_id=user.id if user else None,
                warnings=warnings,
            )
        )
    return out


async def get_call(session: AsyncSession, call_id: str) -> tuple[PhoneCall, list[PhoneEvent]]:
    """A call and its events in call order; NotFound when no event of it was received."""
    call = await session.scalar(select(PhoneCall).where(PhoneCall.call_id == call_id))
    if call is None:
        raise NotFound(f"no call {call_id!r}")
    rows = await session.scalars(select(PhoneEvent).where(PhoneEvent.call_id == call_id))
    ordered = in_call_order(rows)
    return call, [e for e in ordered if isinstance(e, PhoneEvent)]
