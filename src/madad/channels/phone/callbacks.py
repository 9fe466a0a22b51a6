"""Callbacks: a customer asks to be called back inside a live queue's hours; agents take the
task, call, and log the outcome. The one writer of `live_callbacks`.

- `request_callback` (public): checks the window against the queue's calendar, finds the
  contact by phone number, opens a ticket (channel `phone`) and records `live.callback_requested`.
  A repeat (same Idempotency-Key, or the same number and window while the first is still
  active) returns the first request; requests are limited per number and per client address.
- `take` is exclusive: one conditional UPDATE (`… WHERE status IN ('open', 'not_reached')`),
  so of two agents taking at once exactly one gets it and the other a Conflict.
- `log_outcome` (reached / no answer / wrong number / left voicemail, with a note that goes on
  the ticket) records `live.callback_done`; a callback not reached can be taken again or put
  back in the queue with `retry`.
- Overdue is a query-time flag, not a job: an active callback whose due time (the end of the
  customer's window) has passed. Nothing has to run for the flag to be right.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.auth.models import ROLE_RANK, Role, User
from madad.auth.permissions import Actor, Scope
from madad.channels.hours import calendar as cal
from madad.channels.hours import service as hours
from madad.channels.hours.models import LiveQueue
from madad.channels.phone.callbacks_models import ACTIVE, STATUSES, Callback
from madad.contacts.identities import normalise_email, normalise_phone
from madad.db import settings_of, utcnow
from madad.dialects import lock_keys
from madad.errors import Conflict, Invalid, NotFound, TooManyRequests
from madad.tickets import changes as ticket_changes
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, Sender

CHANNEL = "phone"
OUTCOMES = ("reached", "no_answer", "wrong_number", "left_voicemail")
FINAL = {"reached", "wrong_number"}  # nothing more to do; the others may be retried
PER_NUMBER_PER_HOUR = 3
PER_ADDRESS_PER_HOUR = 10
MAX_WINDOW = timedelta(hours=12)
MAX_AHEAD = timedelta(days=60)
PAST_GRACE = timedelta(minutes=5)  # a window starting "now" from a slow form still counts
MAX_NOTE = 2000
OUTCOME_WORDS = {
    "reached": "reached the customer",
    "no_answer": "no answer",
    "wrong_number": "wrong number",
    "left_voicemail": "left a voicemail",
}


@dataclass(frozen=True)
class CallbackRequest:
    """What the customer filled in; the window's times carry their zone."""

    name: str
    phone: str
    window_start: datetime
    window_end: datetime
    email: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Requested:
    callback: Callback
    created: bool  # False: a repeat of an earlier request, which is returned


@dataclass(frozen=True)
class CallbackView:
    callback: Callback
    agent_name: str | None
    overdue: bool


# --- checking the request ------------------------------------------------------------------------


def _text(value: str | None, name: str, *, max_len: int, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise Invalid(name, "required")
        return None
    if len(value) > max_len:
        raise Invalid(name, f"at most {max_len} characters")
    if "\x00" in value:
        raise Invalid(name, "must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(name, "must be valid Unicode (no lone surrogates)") from None
    return value


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(name, "an ISO 8601 time with its zone")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise Invalid(name, "out of range") from None


def _local(at: datetime, calendar: cal.Calendar) -> str:
    return at.astimezone(calendar.zone).strftime("%a %Y-%m-%d %H:%M")


def check_window(calendar: cal.Calendar, start: datetime, end: datetime, now: datetime) -> None:
    """The window must lie inside the queue's open hours, start from about now and be short."""
    if end <= start:
        raise Invalid("window_end", "the window must end after it starts")
    if end - start > MAX_WINDOW:
        raise Invalid("window_end", f"a window lasts at most {MAX_WINDOW.seconds // 3600} hours")
    if start < now - PAST_GRACE:
        raise Invalid("window_start", "the window has already started; choose a later time")
    if start > now + MAX_AHEAD:
        raise Invalid("window_start", f"at most {MAX_AHEAD.days} days ahead")
    if not cal.within_hours(calendar, start, end):
        zone = calendar.time_zone
        opens = cal.next_open(calendar, start)
        hint = (
            f"; the queue next opens {_local(opens, calendar)} ({zone})"
            if opens is not None
            else "; the queue posts no hours"
        )
        if opens is not None and opens <= start:
            closes = cal.next_close(calendar, start)
            if closes is not None:
                hint = f"; that opening closes at {_local(closes, calendar)} ({zone})"
        raise Invalid(
            "window_start",
            f"{_local(start, calendar)}–{_local(end, calendar)} ({zone}) is outside the "
            f"queue's business hours{hint}",
        )


def _address_digest(session: AsyncSession, address: str | None) -> str | None:
    """A keyed hash of the client's address: enough to count requests, not to know who."""
    if not address:
        return None
    key = settings_of(session).resolved_secret_key().encode()
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()[:64]


def _key_digest(queue: LiveQueue, key: str) -> str:
    return hashlib.sha256(f"{queue.id}:{key}".encode()).hexdigest()


# --- requesting ----------------------------------------------------------------------------------


async def _limit(
    session: AsyncSession,
    where: Any,
    allowed: int,
    since: datetime,
    now: datetime,
    detail: str,
) -> None:
    """TooManyRequests once `allowed` requests matching `where` were made since `since`; its
    `retry_after` is when the oldest of them leaves the window."""
    count, oldest = (
        await session.execute(
            select(func.count(Callback.id), func.min(Callback.created_at)).where(
                where, Callback.created_at >= since
            )
        )
    ).one()
    if (count or 0) >= allowed:
        wait = (oldest + (now - since) - now).total_seconds() if oldest else 3600
        raise TooManyRequests(detail, retry_after=int(wait) + 1)


async def request_callback(
    session: AsyncSession,
    queue_key: str,
    request: CallbackRequest,
    *,
    idempotency_key: str | None = None,
    client_address: str | None = None,
    now: datetime | None = None,
) -> Requested:
    """Store a customer's callback request (see the module docstring)."""
    now = now or utcnow()
    queue = await hours.public_queue(session, queue_key)
    if not queue.callbacks_enabled:
        raise Invalid("queue", "this queue takes no callback requests")
    name = _text(request.name, "name", max_len=200, required=True) or ""
    phone = normalise_phone(_text(request.phone, "phone", max_len=40, required=True) or "")
    email = request.email.strip() if request.email and request.email.strip() else None
    if email is not None:
        email = normalise_email(_text(email, "email", max_len=320) or "", "email")
    note = _text(request.note, "note", max_len=MAX_NOTE)
    start = _utc(request.window_start, "window_start")
    end = _utc(request.window_end, "window_end")
    calendar = hours.calendar_of(queue)
    check_window(calendar, start, end, now)
    key = None
    if idempotency_key is not None:
        key = _key_digest(queue, _text(idempotency_key, "Idempotency-Key", max_len=200) or "")

    await lock_keys(session, [f"callback-phone:{phone}", *([f"callback-key:{key}"] if key else [])])
    if key is not None:
        earlier = await session.scalar(select(Callback).where(Callback.idempotency_key == key))
        if earlier is not None:
            same = (earlier.phone, earlier.window_start, earlier.window_end) == (phone, start, end)
            if not same:
                raise Conflict("this Idempotency-Key was used for a different request")
            return Requested(earlier, created=False)
    earlier = await session.scalar(
        select(Callback).where(
            Callback.queue_id == queue.id,
            Callback.phone == phone,
            Callback.window_start == start,
            Callback.window_end == end,
            Callback.status.in_(ACTIVE),
        )
    )
    if earlier is not None:
        return Requested(earlier, created=False)

    address = _address_digest(session, client_address)
    hour_ago = now - timedelta(hours=1)
    await _limit(
        session,
        Callback.phone == phone,
        PER_NUMBER_PER_HOUR,
        hour_ago,
        now,
        "too many callback requests for this number; try again in an hour",
    )
    if address is not None:
        await _limit(
            session,
            Callback.requester_ip == address,
            PER_ADDRESS_PER_HOUR,
            hour_ago,
            now,
            "too many callback requests from here; try again in an hour",
        )

    callback = Callback(
        queue_id=queue.id,
        queue=queue.name,
        name=name,
        phone=phone,
        email=email,
        note=note,
        window_start=start,
        window_end=end,
        due_at=end,
        status="open",
        attempts=0,
        idempotency_key=key,
        requester_ip=address,
        created_at=now,
        updated_at=now,
    )
    session.add(callback)
    await session.flush()
    lines = [
        f"Callback requested (queue {queue.name})",
        f"Name: {name}",
        f"Phone: {phone}",
        *([f"Email: {email}"] if email else []),
        f"Preferred window: {_local(start, calendar)} – {_local(end, calendar)} "
        f"({calendar.time_zone})",
        *([f"Note: {note}"] if note else []),
    ]
    received = await tickets.receive(
        session,
        Inbound(
            channel=CHANNEL,
            # Found or created by phone number only: an email typed into a public form is not
            # proof enough to join it to whoever owns the number.
            sender=Sender(phone=phone, name=name),
            subject=f"Callback request from {name}"[:200],
            text="\n".join(lines),
            external_id=f"callback:{callback.id}",
            thread_by_contact=False,
            meta={"callback_id": callback.id, "queue": queue.name},
            received_at=now,
        ),
    )
    callback.ticket_id = received.ticket_id
    callback.contact_id = received.contact_id
    facts.record(
        session,
        "live.callback_requested",
        ticket_id=received.ticket_id,
        contact_id=received.contact_id,
        channel=CHANNEL,
        data={
            "session": str(callback.id),
            "queue": queue.name,
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "due_at": end.isoformat(),
        },
        at=now,
    )
    await session.flush()
    return Requested(callback, created=True)


# --- working them --------------------------------------------------------------------------------


def is_overdue(callback: Callback, now: datetime) -> bool:
    return callback.status in ACTIVE and callback.due_at <= now


async def _names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
    return {i: n for i, n in rows.all()}


async def _views(
    session: AsyncSession, rows: Sequence[Callback], now: datetime
) -> list[CallbackView]:
    names = await _names(session, {c.agent_id for c in rows if c.agent_id})
    return [
        CallbackView(c, names.get(c.agent_id) if c.agent_id else None, is_overdue(c, now))
        for c in rows
    ]


def clean_statuses(values: Sequence[str] | None) -> tuple[str, ...]:
    if not values:
        return ACTIVE
    out: list[str] = []
    for v in values:
        if v == "active":
            out.extend(ACTIVE)
        elif v in STATUSES:
            out.append(v)
        else:
            raise Invalid("status", f"one of active, {', '.join(STATUSES)}")
    return tuple(dict.fromkeys(out))


async def list_callbacks(
    session: AsyncSession,
    actor: Actor,
    *,
    statuses: Sequence[str] | None = None,
    queue: str | None = None,
    agent_id: int | None = None,
    overdue: bool | None = None,
    limit: int = 200,
    now: datetime | None = None,
) -> list[CallbackView]:
    """Callbacks by due time, soonest (or most overdue) first; active ones unless told."""
    actor.require(Scope.tickets_read)
    now = now or utcnow()
    stmt = select(Callback).where(Callback.status.in_(clean_statuses(statuses)))
    if queue is not None:
        stmt = stmt.where(Callback.queue == queue)
    if agent_id is not None:
        stmt = stmt.where(Callback.agent_id == agent_id)
    if overdue is True:
        stmt = stmt.where(Callback.status.in_(ACTIVE), Callback.due_at <= now)
    elif overdue is False:
        stmt = stmt.where((Callback.due_at > now) | Callback.status.not_in(ACTIVE))
    stmt = stmt.order_by(Callback.due_at, Callback.id).limit(max(1, min(limit, 500)))
    return await _views(session, list(await session.scalars(stmt)), now)


async def count_overdue(session: AsyncSession, actor: Actor, now: datetime | None = None) -> int:
    actor.require(Scope.tickets_read)
    now = now or utcnow()
    found = await session.scalar(
        select(func.count(Callback.id)).where(Callback.status.in_(ACTIVE), Callback.due_at <= now)
    )
    return found or 0


async def _row(session: AsyncSession, callback_id: int) -> Callback:
    found = await session.scalar(
        select(Callback).where(Callback.id == callback_id).execution_options(populate_existing=True)
    )
    if found is None:
        raise NotFound(f"no callback {callback_id}")
    return found


async def get_callback(
    session: AsyncSession, actor: Actor, callback_id: int, now: datetime | None = None
) -> CallbackView:
    actor.require(Scope.tickets_read)
    return (await _views(session, [await _row(session, callback_id)], now or utcnow()))[0]


async def take(session: AsyncSession, actor: Actor, callback_id: int) -> Callback:
    """Assign the callback (and its ticket) to the acting agent — exclusively: of agents taking
    at once one wins, the others get a Conflict naming who has it. Taking a callback that was
    not reached is retrying it. Taking one's own again changes nothing."""
    actor.require(Scope.tickets_write)
    if actor.user_id is None:
        raise Invalid("agent", "only an agent can take a callback")
    now = utcnow()
    result = await session.execute(
        update(Callback)
        .where(Callback.id == callback_id, Callback.status.in_(("open", "not_reached")))
        .values(status="taken", agent_id=actor.user_id, taken_at=now, updated_at=now)
        .returning(Callback.id)
        .execution_options(synchronize_session=False)
    )
    won = result.scalar_one_or_none() is not None
    callback = await _row(session, callback_id)
    if not won:
        if callback.status == "taken" and callback.agent_id == actor.user_id:
            return callback
        if callback.status == "taken":
            who = (await _names(session, {callback.agent_id or 0})).get(callback.agent_id or 0)
            raise Conflict(f"{who or 'another agent'} has already taken this callback")
        raise Conflict("this callback is done")
    if callback.ticket_id is not None:
        ticket = await ticket_changes.live_ticket(session, callback.ticket_id)
        await ticket_changes.update_ticket(
            session, actor, ticket.id, {"assignee_id": actor.user_id}, at=now
        )
    return callback


def _may_act_for_others(actor: Actor) -> bool:
    return ROLE_RANK[actor.role] >= ROLE_RANK[Role.supervisor]


async def release(session: AsyncSession, actor: Actor, callback_id: int) -> Callback:
    """Give a taken callback back to the queue (its taker, or a supervisor)."""
    actor.require(Scope.tickets_write)
    now = utcnow()
    stmt = update(Callback).where(Callback.id == callback_id, Callback.status == "taken")
    if not _may_act_for_others(actor):
        stmt = stmt.where(Callback.agent_id == actor.user_id)
    result = await session.execute(
        stmt.values(status="open", agent_id=None, taken_at=None, updated_at=now)
        .returning(Callback.id)
        .execution_options(synchronize_session=False)
    )
    callback = await _row(session, callback_id)
    if result.scalar_one_or_none() is None:
        raise Conflict("only a callback you have taken can be given back")
    return callback


async def log_outcome(
    session: AsyncSession,
    actor: Actor,
    callback_id: int,
    *,
    outcome: str,
    note: str | None = None,
) -> Callback:
    """Record how the call went: the note goes on the ticket as an internal note, the fact
    `live.callback_done` (agent, outcome) is recorded. Reached or wrong number ends the
    callback; no answer or a voicemail leaves it not reached, to be retried."""
    actor.require(Scope.tickets_write)
    if outcome not in OUTCOMES:
        raise Invalid("outcome", f"one of {', '.join(OUTCOMES)}")
    text = _text(note, "note", max_len=MAX_NOTE)
    now = utcnow()
    status = "done" if outcome in FINAL else "not_reached"
    stmt = update(Callback).where(Callback.id == callback_id, Callback.status == "taken")
    if not _may_act_for_others(actor):
        stmt = stmt.where(Callback.agent_id == actor.user_id)
    result = await session.execute(
        stmt.values(
            status=status,
            outcome=outcome,
            outcome_at=now,
            attempts=Callback.attempts + 1,
            updated_at=now,
        )
        .returning(Callback.id)
        .execution_options(synchronize_session=False)
    )
    callback = await _row(session, callback_id)
    if result.scalar_one_or_none() is None:
        raise Conflict("take the callback before logging how the call went")
    data: dict[str, Any] = {
        "session": str(callback.id),
        "queue": callback.queue,
        "outcome": outcome,
        "attempt": callback.attempts,
    }
    if callback.ticket_id is not None:
        ticket = await ticket_changes.live_ticket(session, callback.ticket_id)
        line = f"Callback attempt {callback.attempts}: {OUTCOME_WORDS[outcome]}"
        await tickets.add_note(
            session, actor, ticket.id, text=line + (f"\n\n{text}" if text else ""), at=now
        )
        facts.record(
            session,
            "live.callback_done",
            ticket_id=ticket.id,
            contact_id=ticket.contact_id,
            agent_id=actor.user_id,
            team_id=ticket.team_id,
            channel=CHANNEL,
            data=data,
            at=now,
        )
    return callback


async def retry(
    session: AsyncSession, actor: Actor, callback_id: int, *, due_at: datetime | None = None
) -> Callback:
    """Put a callback that was not reached back in the queue for anyone to take, optionally
    with a new due time."""
    actor.require(Scope.tickets_write)
    now = utcnow()
    values: dict[str, Any] = {"status": "open", "agent_id": None, "taken_at": None}
    if due_at is not None:
        due = _utc(due_at, "due_at")
        if due <= now:
            raise Invalid("due_at", "a new due time is in the future")
        values["due_at"] = due
    result = await session.execute(
        update(Callback)
        .where(Callback.id == callback_id, Callback.status == "not_reached")
        .values(**values, updated_at=now)
        .returning(Callback.id)
        .execution_options(synchronize_session=False)
    )
    callback = await _row(session, callback_id)
    if result.scalar_one_or_none() is None:
        raise Conflict("only a callback that was not reached can be retried")
    return callback
