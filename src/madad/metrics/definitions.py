"""Every KPI as a pure function over facts — the definitions the rollups must agree with.

Facts are anything with the shape of an `activity` row: `at` (UTC), `kind`, `ticket_id`,
`contact_id`, `agent_id`, `team_id`, `channel`, `data`. Periods are half-open `[start, end)`;
durations are seconds. A measurement belongs to the period in which it *completes* (a first
response to the period of the reply, a resolution to the period of the solve), except the
per-ticket rates (escalation, repeat contact), which belong to the period the ticket was created
in, and live-contact measures, which belong to the period the contact was offered.

Fact kinds read here, beyond the core's ticket facts:

- live contacts (chat and phone, one meaning for both): `live.offered` (entered the queue),
  `live.answered` (agent_id answered), `live.hold`, `live.resumed`, `live.transferred`,
  `live.ended`, `live.abandoned`; all with `data.session` naming the contact when a ticket has
  more than one (default: the ticket itself);
- surveys: `survey.sent` and `survey.answered` with `data = {"survey_id", "kind": csat | nps |
  ces | pulse, "score", "comment"}`; a later answer to the same survey replaces the earlier one.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

SOLVED = frozenset({"solved", "closed"})
SHORT_ABANDON_SECONDS = 5.0
REPEAT_WINDOW = timedelta(days=7)


class FactLike(Protocol):
    at: datetime
    kind: str
    ticket_id: int | None
    contact_id: int | None
    agent_id: int | None
    team_id: int | None
    channel: str | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Period:
    """`[start, end)` in UTC."""

    start: datetime
    end: datetime

    def __contains__(self, at: datetime) -> bool:
        return self.start <= at < self.end

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def previous(self) -> Period:
        """The period of the same length just before this one (for "vs the previous period")."""
        return Period(self.start - (self.end - self.start), self.start)


# --- summaries ---------------------------------------------------------------------------------


def nearest_rank(ordered: Sequence[float], q: float) -> float:
    """The q-quantile by nearest rank: the smallest value with at least q·n values at or below."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True)
class Durations:
    """Mean, median and 90th percentile (nearest rank) of a set of durations in seconds."""

    n: int
    mean: float | None
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Durations:
        ordered = sorted(values)
        if not ordered:
            return cls(0, None, None, None)
        return cls(
            len(ordered),
            sum(ordered) / len(ordered),
            nearest_rank(ordered, 0.5),
            nearest_rank(ordered, 0.9),
        )


@dataclass(frozen=True)
class Rate:
    """`numerator / denominator`, None when nothing was counted."""

    numerator: float
    denominator: float

    @property
    def value(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None


# --- ticket histories --------------------------------------------------------------------------


@dataclass
class TicketHistory:
    """What the facts say happened to one ticket."""

    id: int
    contact_id: int | None = None
    channel: str | None = None
    team_id: int | None = None
    priority: str | None = None
    created_at: datetime | None = None
    follow_up_of: int | None = None
    status: str = "new"
    tags: set[str] = field(default_factory=set)
    replies: list[tuple[datetime, int]] = field(default_factory=list)  # public, by agents
    solves: list[tuple[datetime, int | None]] = field(default_factory=list)  # (at, resolver)
    reopens: list[datetime] = field(default_factory=list)
    escalations: list[datetime] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        """Solved or closed now (its last solve was not undone by a reopen)."""
        return self.status in SOLVED and bool(self.solves)


def ticket_histories(facts: Iterable[FactLike]) -> dict[int, TicketHistory]:
    """Fold ticket facts (in time order) into one history per ticket that has a creation fact."""
    out: dict[int, TicketHistory] = {}
    for f in sorted((f for f in facts if f.ticket_id is not None), key=_order):
        assert f.ticket_id is not None
        t = out.get(f.ticket_id)
        if f.kind == "ticket.created":
            t = out[f.ticket_id] = TicketHistory(
                f.ticket_id,
                contact_id=f.contact_id,
                channel=f.channel,
                team_id=f.team_id,
                priority=f.data.get("priority"),
                created_at=f.at,
                follow_up_of=f.data.get("follow_up_of"),
                status=f.data.get("status") or "new",
            )
            continue
        if t is None:
            continue
        if f.team_id is not None or f.kind == "ticket.team_changed":
            t.team_id = f.data.get("to") if f.kind == "ticket.team_changed" else f.team_id
        if f.kind == "message.sent" and f.data.get("author_type") == "agent" and f.agent_id:
            t.replies.append((f.at, f.agent_id))
        elif f.kind == "ticket.status_changed":
            before, after = f.data.get("from"), f.data.get("to")
            if after in SOLVED and before not in SOLVED:
                t.solves.append((f.at, f.data.get("assignee_id") or f.agent_id))
            elif before in SOLVED and after not in SOLVED:
                t.reopens.append(f.at)
            t.status = after or t.status
        elif f.kind == "ticket.tags_changed":
            t.tags |= set(f.data.get("added") or [])
            t.tags -= set(f.data.get("removed") or [])
        elif f.kind == "ticket.escalated":
            t.escalations.append(f.at)
        elif f.kind == "ticket.priority_changed":
            t.priority = f.data.get("to") or t.priority
    return out


def _order(f: FactLike) -> tuple[datetime, int]:
    # Facts of one instant keep their recorded order (ids grow); hypothetical facts without an
    # id sort by time alone, stably.
    return (f.at, getattr(f, "id", 0) or 0)


def same_topic(a: TicketHistory, b: TicketHistory) -> bool:
    """Two tickets of one contact are about the same topic when one follows up the other, when
    they share a tag, or when either is untagged (an untagged repeat is not given the benefit of
    the doubt)."""
    if a.follow_up_of == b.id or b.follow_up_of == a.id:
        return True
    return not a.tags or not b.tags or bool(a.tags & b.tags)


def repeats_of(
    tickets: dict[int, TicketHistory], window: timedelta = REPEAT_WINDOW
) -> tuple[set[int], set[int]]:
    """(tickets that repeat an earlier resolved one, resolved tickets that were repeated).

    A ticket T repeats R when both have the same contact and topic, R ≠ T, and T was created in
    `[s, s + window)` for some solve time s of R.
    """
    by_contact: dict[int, list[TicketHistory]] = defaultdict(list)
    for t in tickets.values():
        if t.contact_id is not None and t.created_at is not None:
            by_contact[t.contact_id].append(t)
    repeating: set[int] = set()
    repeated: set[int] = set()
    for group in by_contact.values():
        for r in group:
            for s, _ in r.solves:
                for t in group:
                    if t.id == r.id or not (s <= t.created_at < s + window):  # type: ignore[operator]
                        continue
                    if same_topic(r, t):
                        repeating.add(t.id)
                        repeated.add(r.id)
    return repeating, repeated


# --- ticket KPIs ---------------------------------------------------------------------------------


def first_response_time(facts: Iterable[FactLike], period: Period) -> Durations:
    """First response time = (first public reply by an agent − ticket created), over tickets
    whose first agent reply falls in the period. Bot and automatic replies do not count."""
    return Durations.of(
        (t.replies[0][0] - t.created_at).total_seconds()  # type: ignore[operator]
        for t in ticket_histories(facts).values()
        if t.replies and t.replies[0][0] in period
    )


def resolution_time_first(facts: Iterable[FactLike], period: Period) -> Durations:
    """First resolution time = (first solve − created), over tickets first solved in the period."""
    return Durations.of(
        (t.solves[0][0] - t.created_at).total_seconds()  # type: ignore[operator]
        for t in ticket_histories(facts).values()
        if t.solves and t.solves[0][0] in period
    )


def resolution_time_full(facts: Iterable[FactLike], period: Period) -> Durations:
    """Full resolution time = (last solve − created), over tickets that are resolved now and
    whose last solve falls in the period (a reopened ticket counts when it is solved again)."""
    return Durations.of(
        (t.solves[-1][0] - t.created_at).total_seconds()  # type: ignore[operator]
        for t in ticket_histories(facts).values()
        if t.resolved and t.solves[-1][0] in period
    )


def _resolved_in(tickets: dict[int, TicketHistory], period: Period) -> list[TicketHistory]:
    return [t for t in tickets.values() if t.resolved and t.solves[-1][0] in period]


def first_contact_resolution(
    facts: Iterable[FactLike], period: Period, window: timedelta = REPEAT_WINDOW
) -> Rate:
    """FCR = resolved tickets with no reopen and no repeat contact (a new ticket of the same
    contact and topic within `window` of the solve) / resolved tickets; a ticket counts in the
    period of its last solve. Recent resolutions are provisional until `window` has passed."""
    tickets = ticket_histories(facts)
    _, repeated = repeats_of(tickets, window)
    resolved = _resolved_in(tickets, period)
    good = sum(1 for t in resolved if not t.reopens and t.id not in repeated)
    return Rate(good, len(resolved))


def one_touch_resolution(facts: Iterable[FactLike], period: Period) -> Rate:
    """One-touch = resolved tickets with exactly one public agent reply / resolved tickets.
    Shown beside FCR, never instead of it: it rewards closing fast, not solving."""
    resolved = _resolved_in(ticket_histories(facts), period)
    return Rate(sum(1 for t in resolved if len(t.replies) == 1), len(resolved))


def repeat_contact_rate(
    facts: Iterable[FactLike], period: Period, window: timedelta = REPEAT_WINDOW
) -> Rate:
    """Repeat contact rate = tickets created in the period that follow a resolved ticket of the
    same contact and topic within `window` / tickets created in the period."""
    tickets = ticket_histories(facts)
    repeating, _ = repeats_of(tickets, window)
    created = [t for t in tickets.values() if t.created_at in period]  # type: ignore[operator]
    return Rate(sum(1 for t in created if t.id in repeating), len(created))


def escalation_rate(facts: Iterable[FactLike], period: Period) -> Rate:
    """Escalation rate = tickets created in the period that were ever escalated / tickets
    created in the period."""
    created = [t for t in ticket_histories(facts).values() if t.created_at in period]  # type: ignore[operator]
    return Rate(sum(1 for t in created if t.escalations), len(created))


def requests_per_agent(facts: Iterable[FactLike], period: Period) -> dict[int, Rate]:
    """Per agent: Σ over days of (tickets with at least one public reply by the agent that day)
    / days on which the agent replied at all. Days are UTC days."""
    handled: dict[int, set[tuple[Any, int]]] = defaultdict(set)
    for t in ticket_histories(facts).values():
        for at, agent in t.replies:
            if at in period:
                handled[agent].add((at.date(), t.id))
    return {
        agent: Rate(len(pairs), len({day for day, _ in pairs})) for agent, pairs in handled.items()
    }


@dataclass(frozen=True)
class Resolutions:
    """Counts that cannot be inflated by reopen-and-solve cycles."""

    events: int  # every solve in the period
    tickets: int  # tickets resolved now whose last solve is in the period
    contacts: int  # distinct contacts of those tickets


def resolutions(facts: Iterable[FactLike], period: Period) -> Resolutions:
    """Resolution events vs unique tickets resolved vs unique contacts served."""
    tickets = ticket_histories(facts)
    events = sum(1 for t in tickets.values() for at, _ in t.solves if at in period)
    resolved = _resolved_in(tickets, period)
    contacts = {t.contact_id for t in resolved if t.contact_id is not None}
    return Resolutions(events, len(resolved), len(contacts))


# --- live contacts -------------------------------------------------------------------------------


@dataclass
class LiveContact:
    key: tuple[int, str]
    channel: str | None = None
    offered_at: datetime | None = None
    answered_at: datetime | None = None
    agent_id: int | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None
    holds: list[tuple[datetime, datetime | None]] = field(default_factory=list)

    @property
    def wait(self) -> float | None:
        done = self.answered_at or self.abandoned_at
        if self.offered_at is None or done is None:
            return None
        return max(0.0, (done - self.offered_at).total_seconds())

    @property
    def short_abandon(self) -> bool:
        return (
            self.abandoned_at is not None
            and self.answered_at is None
            and ((self.wait or 0.0) <= SHORT_ABANDON_SECONDS)
        )

    @property
    def hold_seconds(self) -> float:
        total = 0.0
        for start, stop in self.holds:
            end = stop or self.ended_at
            if end is not None:
                total += max(0.0, (end - start).total_seconds())
        return total


def live_contacts(facts: Iterable[FactLike]) -> list[LiveContact]:
    """Fold `live.*` facts into one record per live contact (ticket, session)."""
    out: dict[tuple[int, str], LiveContact] = {}
    for f in sorted((f for f in facts if f.kind.startswith("live.")), key=_order):
        if f.ticket_id is None:
            continue
        key = (f.ticket_id, str(f.data.get("session") or ""))
        c = out.setdefault(key, LiveContact(key, channel=f.channel))
        if f.kind == "live.offered":
            c.offered_at = c.offered_at or f.at
        elif f.kind == "live.answered" and c.answered_at is None and c.abandoned_at is None:
            c.answered_at, c.agent_id = f.at, f.agent_id
        elif f.kind == "live.abandoned" and c.answered_at is None:
            c.abandoned_at = c.abandoned_at or f.at
        elif f.kind == "live.hold" and (not c.holds or c.holds[-1][1] is not None):
            c.holds.append((f.at, None))
        elif f.kind == "live.resumed" and c.holds and c.holds[-1][1] is None:
            c.holds[-1] = (c.holds[-1][0], f.at)
        elif f.kind == "live.ended":
            c.ended_at = c.ended_at or f.at
    return [c for c in out.values() if c.offered_at is not None]


def _offered_in(facts: Iterable[FactLike], period: Period) -> list[LiveContact]:
    return [c for c in live_contacts(facts) if c.offered_at in period]  # type: ignore[operator]


def speed_of_answer(facts: Iterable[FactLike], period: Period) -> Durations:
    """ASA (and the wait time it averages) = answered − offered, over answered live contacts
    offered in the period. Abandoned contacts are not in ASA; they are in the abandonment rate."""
    return Durations.of(
        c.wait  # type: ignore[misc]
        for c in _offered_in(facts, period)
        if c.answered_at is not None
    )


def abandonment_rate(facts: Iterable[FactLike], period: Period) -> Rate:
    """Abandonment = abandoned / offered, both without short abandons (≤ 5 s of waiting)."""
    offered = [c for c in _offered_in(facts, period) if not c.short_abandon]
    abandoned = [c for c in offered if c.abandoned_at is not None and c.answered_at is None]
    return Rate(len(abandoned), len(offered))


def service_level(facts: Iterable[FactLike], period: Period, seconds: float = 20.0) -> Rate:
    """Service level = answered within `seconds` / (answered + abandoned after more than 5 s)."""
    contacts = _offered_in(facts, period)
    answered = [c for c in contacts if c.answered_at is not None]
    long_abandons = [
        c for c in contacts if c.answered_at is None and c.abandoned_at and not c.short_abandon
    ]
    met = sum(1 for c in answered if (c.wait or 0.0) <= seconds)
    return Rate(met, len(answered) + len(long_abandons))


def hold_time(facts: Iterable[FactLike], period: Period) -> Durations:
    """Hold time = total time on hold (hold → resume, or → end) per answered live contact."""
    return Durations.of(
        c.hold_seconds for c in _offered_in(facts, period) if c.answered_at is not None
    )


def handle_time(facts: Iterable[FactLike], period: Period) -> Durations:
    """Handle time = ended − answered (talking and on hold) per answered live contact that has
    ended, offered in the period. After-contact work is not recorded, so this is the floor of
    the handle time that staffing uses."""
    return Durations.of(
        (c.ended_at - c.answered_at).total_seconds()
        for c in _offered_in(facts, period)
        if c.answered_at is not None and c.ended_at is not None and c.ended_at >= c.answered_at
    )


# --- surveys -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    survey_id: str
    kind: str
    score: float
    at: datetime
    ticket_id: int | None
    agent_id: int | None
    comment: str | None


def survey_answers(facts: Iterable[FactLike]) -> list[Answer]:
    """The standing answer of every survey (a later answer to a survey replaces the earlier)."""
    latest: dict[tuple[int | None, str], Answer] = {}
    for f in sorted((f for f in facts if f.kind == "survey.answered"), key=_order):
        sid = str(f.data.get("survey_id"))
        score = f.data.get("score")
        if score is None:
            continue
        latest[(f.ticket_id, sid)] = Answer(
            sid,
            str(f.data.get("kind")),
            float(score),
            f.at,
            f.ticket_id,
            f.agent_id,
            f.data.get("comment"),
        )
    return list(latest.values())


def _scores(facts: Iterable[FactLike], period: Period, kind: str) -> list[float]:
    return [a.score for a in survey_answers(facts) if a.kind == kind and a.at in period]


def csat(facts: Iterable[FactLike], period: Period) -> Rate:
    """CSAT = answers of 4 or 5 (on 1–5) / all CSAT answers, by the time of the standing answer."""
    scores = _scores(facts, period, "csat")
    return Rate(sum(1 for s in scores if s >= 4), len(scores))


def nps(facts: Iterable[FactLike], period: Period) -> float | None:
    """NPS = % promoters (9–10) − % detractors (0–6) of the 0–10 answers, from −100 to 100."""
    scores = _scores(facts, period, "nps")
    if not scores:
        return None
    return 100 * (sum(1 for s in scores if s >= 9) - sum(1 for s in scores if s <= 6)) / len(scores)


def ces(facts: Iterable[FactLike], period: Period) -> float | None:
    """CES = mean answer (1–7) to "the company made it easy to handle my issue"."""
    scores = _scores(facts, period, "ces")
    return sum(scores) / len(scores) if scores else None


def agent_satisfaction(facts: Iterable[FactLike], period: Period) -> Rate:
    """Agent satisfaction = agents' pulse answers of 4 or 5 (on 1–5) / all pulse answers."""
    scores = _scores(facts, period, "pulse")
    return Rate(sum(1 for s in scores if s >= 4), len(scores))


def survey_response_rate(facts: Iterable[FactLike], period: Period, kind: str) -> Rate:
    """Response rate = surveys of `kind` first sent in the period that have an answer / surveys
    first sent in the period (a reminder does not count as another survey)."""
    facts = list(facts)
    first_sent: dict[tuple[int | None, str], datetime] = {}
    for f in sorted((f for f in facts if f.kind == "survey.sent"), key=_order):
        if f.data.get("kind") == kind:
            first_sent.setdefault((f.ticket_id, str(f.data.get("survey_id"))), f.at)
    sent = {key for key, at in first_sent.items() if at in period}
    answered = {(a.ticket_id, a.survey_id) for a in survey_answers(facts)}
    return Rate(len(sent & answered), len(sent))


# --- organisations -------------------------------------------------------------------------------


def retention(facts: Iterable[FactLike], period: Period) -> Rate:
    """Retention = (E − N) / S for customer organisations: S active at the start, E active at
    the end, N created during the period and active at the end. Churn = 1 − retention."""
    created: dict[int, datetime] = {}
    changes: dict[int, list[tuple[datetime, bool]]] = defaultdict(list)
    for f in sorted((f for f in facts if f.kind.startswith("organisation.")), key=_order):
        org = f.data.get("organisation_id")
        if org is None:
            continue
        if f.kind == "organisation.created":
            created.setdefault(org, f.at)
        elif f.kind == "organisation.churned":
            changes[org].append((f.at, False))
        elif f.kind in ("organisation.reactivated", "organisation.deleted"):
            changes[org].append((f.at, f.kind == "organisation.reactivated"))

    def active(org: int, at: datetime) -> bool:
        if created[org] >= at:
            return False
        state = True
        for when, alive in changes[org]:
            if when < at:
                state = alive
        return state

    start = {o for o in created if active(o, period.start)}
    end = {o for o in created if active(o, period.end)}
    new = {o for o in end if created[o] in period}
    return Rate(len(end - new), len(start))
