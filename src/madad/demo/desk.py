"""`madad demo`: a support team 90 days in, written through the same services the live system
uses, so that every fact has the kind and shape the live code gives it (back-dated with `at`).

Arrivals follow weekday and hour patterns (Pakistan time), channels mix email, chat, phone and
API, agents answer within minutes on live channels and hours on email, most tickets are solved,
some are reopened or escalated, some customers come back within a week, and the newest tickets
are still waiting — so the inbox has work in it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from madad.activity import service as facts
from madad.auth import service as auth
from madad.auth.models import Role, User
from madad.auth.permissions import SYSTEM, Actor
from madad.contacts import organisations as orgs
from madad.contacts import service as contacts
from madad.db import Database, utcnow
from madad.demo.kb import add_knowledge_base
from madad.demo.surveys import add_nps, add_pulse, add_surveys
from madad.demo.texts import (
    AGENT_NOTES,
    AGENTS,
    CONTACT_NOTES,
    FIRST_NAMES,
    LAST_NAMES,
    LEADS,
    ORG_FIRST,
    ORG_SECOND,
    PLANS,
    TOPICS,
    URDU_NAMES,
    Topic,
)
from madad.files import FileStore
from madad.jobs import Job
from madad.tickets import changes
from madad.tickets import service as tickets
from madad.tickets.delivery import deliverers
from madad.tickets.inbound import Inbound, Sender

DOMAIN = "demo.madad.example"
PASSWORD = "madad-demo"
KARACHI = ZoneInfo("Asia/Karachi")
CHANNELS = [("email", 0.4), ("chat", 0.3), ("phone", 0.15), ("api", 0.15)]
ZONES = [
    ("Asia/Karachi", 0.7),
    ("Asia/Dubai", 0.1),
    ("Europe/London", 0.1),
    ("America/New_York", 0.1),
]
WEEKDAY = [1.0, 1.0, 0.95, 0.95, 0.85, 0.45, 0.3]
HOUR = [0.05, 0.03, 0.02, 0.02, 0.03, 0.05, 0.1, 0.3, 0.6, 1.0, 1.0, 0.95, 0.8, 0.9,
        1.0, 0.95, 0.85, 0.7, 0.5, 0.4, 0.3, 0.2, 0.12, 0.08]  # fmt: skip


class AlreadySeeded(Exception):
    """The database already holds the demo."""


@dataclass
class Summary:
    users: list[tuple[str, str, str]] = field(default_factory=list)  # name, email, role
    organisations: int = 0
    contacts: int = 0
    tickets: int = 0
    messages: int = 0
    seconds: float = 0.0


@dataclass
class _Customer:
    id: int
    name: str
    email: str
    phone: str | None
    urdu: bool
    zone: str


async def has_demo(db: Database) -> bool:
    async with db.session(write=False) as session:
        found = await session.scalar(select(User.id).where(User.email.like(f"%@{DOMAIN}")))
    return found is not None


def _pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def arrival_times(rng: random.Random, n: int, start: datetime, end: datetime) -> list[datetime]:
    """n moments in [start, end) drawn from the weekday × hour pattern (Pakistan time)."""
    hours: list[datetime] = []
    weights: list[float] = []
    t = start.replace(minute=0, second=0, microsecond=0)
    while t < end:
        local = t.astimezone(KARACHI)
        hours.append(t)
        weights.append(WEEKDAY[local.weekday()] * HOUR[local.hour])
        t += timedelta(hours=1)
    picked = rng.choices(hours, weights, k=n)
    times = [h + timedelta(seconds=rng.uniform(0, 3600)) for h in picked]
    return sorted(min(max(t, start), end - timedelta(seconds=1)) for t in times)


def _working(t: datetime) -> datetime:
    """The next moment an agent is at work (09–19 Pakistan time, Monday to Saturday)."""
    local = t.astimezone(KARACHI)
    for _ in range(10):
        if local.weekday() < 6 and 9 <= local.hour < 19:
            return local.astimezone(t.tzinfo)
        local = (local + timedelta(days=1 if local.hour >= 19 else 0)).replace(
            hour=9, minute=0, second=0
        ) + timedelta(minutes=local.minute % 40)
        if local.weekday() == 6:
            local += timedelta(days=1)
    return local.astimezone(t.tzinfo)


def _fill(text: str, rng: random.Random, name: str) -> str:
    return text.format(
        name=name.split()[0],
        month=rng.choice(["March", "April", "May", "June", "July", "August", "September"]),
        account=f"AC-{rng.randint(10000, 99999)}",
        day=rng.randint(1, 28),
        seats=rng.choice([5, 10, 25]),
        order=rng.randint(100000, 999999),
    )


async def build_demo(
    db: Database,
    store: FileStore,
    *,
    tickets_wanted: int = 6000,
    contacts_wanted: int = 2000,
    organisations_wanted: int = 150,
    days: int = 90,
    seed: int = 7,
    progress: Callable[[str, int, int], None] | None = None,
) -> Summary:
    """Fill an empty desk with the demo; raises AlreadySeeded if it is there already."""
    if await has_demo(db):
        raise AlreadySeeded("this database already holds the demo")
    rng = random.Random(seed)
    started = utcnow()
    now = started
    start = now - timedelta(days=days)
    tell = progress or (lambda _stage, _done, _total: None)
    summary = Summary()

    # People: leads, and ten agents in two teams.
    agents: list[tuple[Actor, int]] = []  # actor, team id
    async with db.session() as session:
        teams: dict[str, int] = {}
        members: dict[str, list[int]] = {"Billing": [], "Technical": []}
        for team in members:
            created = await auth.create_team(session, SYSTEM, name=team, description=None)
            teams[team] = created.id
        for name, role in LEADS:
            email = f"{name.split()[0].lower()}@{DOMAIN}"
            await auth.create_user(
                session,
                SYSTEM,
                email=email,
                name=name,
                role=Role(role),
                password=PASSWORD,
                time_zone="Asia/Karachi",
            )
            summary.users.append((name, email, role))
        for name, team, lang in AGENTS:
            email = f"{name.split()[0].lower()}@{DOMAIN}"
            user = await auth.create_user(
                session,
                SYSTEM,
                email=email,
                name=name,
                role=Role.agent,
                password=PASSWORD,
                language=lang,
                time_zone="Asia/Karachi",
            )
            members[team].append(user.id)
            agents.append((auth.actor_for_user(user), teams[team]))
            summary.users.append((name, email, "agent"))
        for team, ids in members.items():
            await auth.update_team(session, SYSTEM, teams[team], member_ids=ids)
    by_team = {name: [a for a in agents if a[1] == team_id] for name, team_id in teams.items()}
    tell("people", 1, 1)

    # Organisations: customers for a year or more; some churn during the window.
    org_rows: list[tuple[int, str]] = []  # id, domain
    churning: list[tuple[int, datetime]] = []
    async with db.session() as session:
        used: set[str] = set()
        for n in range(organisations_wanted):
            while True:
                name = f"{rng.choice(ORG_FIRST)} {rng.choice(ORG_SECOND)}"
                if name not in used or len(used) >= len(ORG_FIRST) * len(ORG_SECOND):
                    break
            name = name if name not in used else f"{name} {n}"
            used.add(name)
            slug = name.lower().replace(" ", "-")
            plan, low, high = rng.choices(PLANS, [0.5, 0.35, 0.15])[0]
            since = start - timedelta(days=rng.randint(30, 900))
            view = await orgs.create_organisation(
                session,
                SYSTEM,
                {
                    "name": name,
                    "plan": plan,
                    "seats": rng.randint(low, high),
                    "domains": [f"{slug}.example"],
                    "customer_since": since,
                    "custom": {"region": rng.choice(["Punjab", "Sindh", "KPK", "UAE", "UK"])},
                },
                at=since,
            )
            org_rows.append((view.organisation.id, f"{slug}.example"))
            if rng.random() < 0.1:
                churning.append(
                    (view.organisation.id, start + timedelta(days=rng.uniform(5, days - 1)))
                )
            tell("organisations", n + 1, organisations_wanted)
    summary.organisations = len(org_rows)

    # Customers: most at a customer organisation, some on their own; a quarter write in Urdu.
    customers: list[_Customer] = []
    batch = 100
    for first in range(0, contacts_wanted, batch):
        async with db.session() as session:
            for n in range(first, min(first + batch, contacts_wanted)):
                urdu = rng.random() < 0.22
                if urdu:
                    name = rng.choice(URDU_NAMES)
                    local_part = f"user{n}"
                else:
                    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                    local_part = name.lower().replace(" ", ".").replace("ü", "u") + str(n)
                org = rng.choice(org_rows) if rng.random() < 0.8 else None
                email = f"{local_part}@{org[1] if org else 'mail.example'}"
                phone = f"+92300{n:07d}" if rng.random() < 0.4 else None
                zone = "Asia/Karachi" if urdu else _pick(rng, ZONES)
                since = start - timedelta(days=rng.randint(1, 600))
                birthday = (
                    date(rng.randint(1960, 2002), rng.randint(1, 12), rng.randint(1, 28))
                    if rng.random() < 0.3
                    else None
                )
                view = await contacts.create_contact(
                    session,
                    SYSTEM,
                    contacts.ContactIn(
                        name=name,
                        emails=[email],
                        phones=[phone] if phone else [],
                        organisation_id=org[0] if org else None,
                        language="ur" if urdu else "en",
                        time_zone=zone,
                        birthday=birthday,
                        custom={"tier": rng.choice(["standard", "standard", "priority"])},
                    ),
                    at=since,
                )
                customers.append(_Customer(view.contact.id, name, email, phone, urdu, zone))
                if rng.random() < 0.05:
                    author = rng.choice(agents)[0]
                    await contacts.add_note(
                        session,
                        author,
                        view.contact.id,
                        rng.choice(CONTACT_NOTES),
                        at=start + timedelta(days=rng.uniform(0, days)),
                    )
        tell("customers", min(first + batch, contacts_wanted), contacts_wanted)
    summary.contacts = len(customers)

    # Tickets, in arrival order; a few customers write far more often than others.
    arrivals = arrival_times(rng, tickets_wanted, start, now)
    weights = [rng.paretovariate(1.6) for _ in customers]
    recent: dict[int, tuple[Topic, datetime]] = {}  # customer id → last topic, when solved
    outbound_before = await _outbound_jobs(db)
    for first in range(0, len(arrivals), 25):
        async with db.session() as session:
            for n in range(first, min(first + 25, len(arrivals))):
                created = arrivals[n]
                who = rng.choices(customers, weights)[0]
                previous = recent.get(who.id)
                if previous and created - previous[1] < timedelta(days=7) and rng.random() < 0.5:
                    topic = previous[0]  # a repeat contact on the same topic
                else:
                    pool = [t for t in TOPICS if t.urdu == who.urdu] or TOPICS
                    topic = rng.choice(pool)
                solved_at = await _one_ticket(
                    session, store, rng, n, created, now, who, topic, by_team, summary
                )
                if solved_at is not None:
                    recent[who.id] = (topic, solved_at)
        tell("tickets", min(first + 25, len(arrivals)), len(arrivals))

    await add_surveys(db, rng, now, tell)
    await add_nps(db, rng, start, now)
    await add_pulse(db, rng, now, [actor for actor, _team in agents])
    await add_knowledge_base(db, rng, start, now, tell)

    async with db.session() as session:
        for org_id, when in churning:
            if when < now:
                await orgs.update_organisation(
                    session, SYSTEM, org_id, {"status": "churned", "churned_at": when}, at=when
                )
        # The demo's customers are not real: nothing of the history is to be delivered.
        kinds = set(deliverers.values())
        if kinds:
            await session.execute(
                update(Job)
                .where(Job.kind.in_(kinds), Job.id > outbound_before, Job.status == "pending")
                .values(status="done", last_error="demo history: not delivered")
            )
    summary.seconds = (utcnow() - started).total_seconds()
    return summary


async def _answer(
    session: object, actor: Actor, ticket_id: int, *, text: str, status: str, at: datetime
) -> None:
    """An agent's reply, and the channel reporting it delivered a few seconds later."""
    message = await tickets.reply(
        session,  # type: ignore[arg-type]
        actor,
        ticket_id,
        text=text,
        status=status,
        at=at,
    )
    await tickets.set_delivery_status(
        session,  # type: ignore[arg-type]
        SYSTEM,
        message.id,
        status="delivered",
        at=min(at + timedelta(seconds=3 + message.id % 40), utcnow()),  # never in the future
    )


async def _outbound_jobs(db: Database) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(select(func.max(Job.id))) or 0)


@dataclass(frozen=True)
class LiveQueue:
    channel: str
    name: str
    session: str
    ticket_id: int
    contact_id: int | None


async def _queue(
    session: object,
    rng: random.Random,
    q: LiveQueue,
    agent: Actor,
    team_id: int,
    created: datetime,
    now: datetime,
) -> datetime | None:
    """A chat's or call's time in the queue as the live channel records it (offered, answered
    or abandoned, holds, the end); returns when an agent took it up (answered, or called back
    after an abandon), None while it still waits."""

    def fact(kind: str, at: datetime, who: Actor | None = None) -> None:
        facts.record(
            session,  # type: ignore[arg-type]
            kind,
            ticket_id=q.ticket_id,
            contact_id=q.contact_id,
            agent_id=who.user_id if who else None,
            team_id=team_id,
            channel=q.channel,
            data={"session": q.session, "queue": q.name},
            at=at,
        )

    fact("live.offered", created)
    busy = 2.5 if created.astimezone(KARACHI).hour in (10, 11, 15, 16) else 1.0
    wait = timedelta(seconds=min(rng.expovariate(1 / (18 * busy)), 900))
    if created + wait >= now:
        return None  # waiting now
    if rng.random() < 0.02 + 0.02 * busy:
        left = created + wait + timedelta(seconds=rng.uniform(2, 90))
        if left >= now:
            return None
        fact("live.abandoned", left)
        return left + timedelta(minutes=rng.uniform(5, 60))  # a callback, by the same route
    answered = created + wait
    fact("live.answered", answered, agent)
    talk = timedelta(seconds=rng.lognormvariate(5.6, 0.5))  # about 4.5 minutes
    if answered + talk >= now:
        return answered  # still talking
    if q.channel == "phone" and rng.random() < 0.2:
        hold = answered + talk / 3
        fact("live.hold", hold, agent)
        fact("live.resumed", hold + min(talk / 3, timedelta(seconds=rng.uniform(20, 180))), agent)
    fact("live.ended", answered + talk, agent)
    return answered


async def _one_ticket(
    session: object,
    store: FileStore,
    rng: random.Random,
    n: int,
    created: datetime,
    now: datetime,
    who: _Customer,
    topic: Topic,
    by_team: dict[str, list[tuple[Actor, int]]],
    summary: Summary,
) -> datetime | None:
    """One ticket's life up to now; returns when it was (last) solved, if it was."""
    channel = _pick(rng, CHANNELS)
    if channel == "phone" and who.phone is None:
        channel = "chat"
    sender = Sender(name=who.name, email=who.email, phone=who.phone if channel == "phone" else None)
    conversation = f"demo-{n}"
    live = channel in ("chat", "phone")
    got = await tickets.receive(
        session,  # type: ignore[arg-type]
        Inbound(
            channel=channel,
            sender=sender,
            subject=_fill(topic.subject, rng, who.name),
            text=_fill(topic.opening, rng, who.name),
            external_id=f"demo-{n}-0",
            conversation_key=conversation,
            tags=topic.tags,
            priority="high" if rng.random() < 0.08 else None,
            received_at=created,
        ),
        store=store,
    )
    summary.tickets += 1
    summary.messages += 1
    agent, team_id = rng.choice(by_team[topic.team])
    # Triage: team and agent, a few minutes in (the newest tickets wait unassigned).
    triage = created + timedelta(minutes=rng.uniform(0.5, 3) if live else rng.uniform(2, 40))
    if live:
        queue = LiveQueue(channel, topic.team.lower(), f"demo-{n}", got.ticket_id, got.contact_id)
        taken = await _queue(session, rng, queue, agent, team_id, created, now)
        if taken is None:
            return None  # still in the queue
        triage = max(triage, taken + timedelta(seconds=20))
    if triage >= now or (now - created < timedelta(hours=12) and rng.random() < 0.3):
        return None  # not triaged yet: the Unassigned view has today's newest
    await changes.update_ticket(
        session,  # type: ignore[arg-type]
        agent,
        got.ticket_id,
        {"team_id": team_id, "assignee_id": agent.user_id},
        at=triage,
    )
    if now - created < timedelta(days=4) and rng.random() < 0.05:
        return None  # the backlog: assigned, not answered yet
    first_answer = (
        triage + timedelta(minutes=rng.uniform(0.5, 6))
        if live
        else _working(triage + timedelta(minutes=rng.expovariate(1 / 180)))
    )
    if first_answer >= now:
        return None
    if rng.random() < 0.2:
        await tickets.add_note(
            session,  # type: ignore[arg-type]
            agent,
            got.ticket_id,
            text=rng.choice(AGENT_NOTES),
            at=triage + (first_answer - triage) / 2,
        )
        summary.messages += 1
    if rng.random() < 0.05:
        await changes.update_ticket(
            session,  # type: ignore[arg-type]
            agent,
            got.ticket_id,
            {"escalation_level": 1, "priority": "urgent"},
            at=first_answer - timedelta(seconds=30),
        )
    one_touch = rng.random() < 0.55
    await _answer(
        session,  # type: ignore[arg-type]
        agent,
        got.ticket_id,
        text=_fill(topic.reply, rng, who.name),
        status="solved" if one_touch else "pending",
        at=first_answer,
    )
    summary.messages += 1
    solved_at = first_answer if one_touch else None
    step = first_answer
    on_hold_at = first_answer + timedelta(minutes=1)
    if (
        not one_touch
        and on_hold_at < now
        and rng.random() < 0.04
        and (now - first_answer < timedelta(days=10))
    ):
        await changes.update_ticket(
            session,  # type: ignore[arg-type]
            agent,
            got.ticket_id,
            {"status": "on_hold"},
            at=on_hold_at,
        )
        return None  # waiting on a third party
    if not one_touch and rng.random() < 0.25:
        # The customer never answers: pending for now, solved after three quiet days.
        quiet = _working(first_answer + timedelta(days=3))
        if quiet >= now:
            return None
        await changes.update_ticket(
            session,  # type: ignore[arg-type]
            agent,
            got.ticket_id,
            {"status": "solved"},
            at=quiet,
        )
        return quiet
    if not one_touch:
        # The customer answers; the agent closes the loop.
        step = step + timedelta(minutes=rng.uniform(2, 30) if live else rng.expovariate(1 / 600))
        if step >= now:
            return None
        await tickets.receive(
            session,  # type: ignore[arg-type]
            Inbound(
                channel=channel,
                sender=sender,
                text=_fill(topic.follow_up, rng, who.name),
                external_id=f"demo-{n}-1",
                conversation_key=conversation,
                received_at=step,
            ),
            store=store,
        )
        summary.messages += 1
        step = (
            step + timedelta(minutes=rng.uniform(1, 8))
            if live
            else _working(step + timedelta(minutes=rng.expovariate(1 / 120)))
        )
        if step >= now:
            return None
        await _answer(
            session,  # type: ignore[arg-type]
            agent,
            got.ticket_id,
            text=_fill(topic.closing, rng, who.name),
            status="solved",
            at=step,
        )
        summary.messages += 1
        solved_at = step
    # Some come back: "it broke again" reopens the ticket, and it is solved once more.
    if solved_at is not None and rng.random() < 0.06:
        again = solved_at + timedelta(hours=rng.uniform(2, 96))
        if again < now:
            await tickets.receive(
                session,  # type: ignore[arg-type]
                Inbound(
                    channel=channel,
                    sender=sender,
                    text=_fill(topic.follow_up, rng, who.name),
                    external_id=f"demo-{n}-2",
                    conversation_key=conversation,
                    received_at=again,
                ),
                store=store,
            )
            summary.messages += 1
            fixed = _working(again + timedelta(minutes=rng.expovariate(1 / 90)))
            if fixed >= now:
                return None
            await _answer(
                session,  # type: ignore[arg-type]
                agent,
                got.ticket_id,
                text=_fill(topic.closing, rng, who.name),
                status="solved",
                at=fixed,
            )
            summary.messages += 1
            solved_at = fixed
    return solved_at
