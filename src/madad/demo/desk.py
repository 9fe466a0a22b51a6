"""`madad demo`: a support team 90 days in, written through the same services the live system
uses, so that every fact has the kind and shape the live code gives it (back-dated with `at`).

Arrivals follow weekday and hour patterns (Pakistan time), channels mix email, chat, phone, API
and the customer portal, chats and calls only within their queue's posted hours, agents answer
within minutes on live channels and hours on email, most tickets are solved, some are reopened
or escalated, some customers come back within a week, and the newest tickets are still waiting
— so the inbox has work in it. Beside them: a published help centre and 90 days of its reading,
the answer bot's offers in chat, live queues with their hours, chat inboxes and callbacks.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from madad.auth import service as auth
from madad.auth.models import Role, User
from madad.auth.permissions import SYSTEM, Actor
from madad.contacts import organisations as orgs
from madad.contacts import service as contacts
from madad.db import Database, utcnow
from madad.demo.helpcentre import Readers, add_knowledge_base, add_reading
from madad.demo.life import Person, World, one_ticket, pick
from madad.demo.live import add_callbacks, add_live_channels
from madad.demo.surveys import add_nps, add_pulse, add_surveys
from madad.demo.texts import (
    AGENTS,
    CONTACT_NOTES,
    FIRST_NAMES,
    LAST_NAMES,
    LEADS,
    ORG_FIRST,
    ORG_SECOND,
    PLANS,
    PORTAL_TOPICS,
    TOPICS,
    URDU_NAMES,
    Topic,
)
from madad.files import FileStore
from madad.jobs import Job
from madad.portal import admin as portal_admin
from madad.tickets.delivery import deliverers

DOMAIN = "demo.madad.example"
PASSWORD = "madad-demo"
KARACHI = ZoneInfo("Asia/Karachi")
ZONES = [
    ("Asia/Karachi", 0.7),
    ("Asia/Dubai", 0.1),
    ("Europe/London", 0.1),
    ("America/New_York", 0.1),
]
WEEKDAY = [1.0, 1.0, 0.95, 0.95, 0.85, 0.45, 0.3]
HELP_VISITS = 1.0  # help-centre visits that need nobody, per ticket
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
    articles: int = 0
    articles_ur: int = 0
    internal_articles: int = 0
    help_centre: dict[str, int] = field(default_factory=dict)  # views, reads, searches…
    callbacks: int = 0
    shop_inbox: str = ""


async def has_demo(db: Database) -> bool:
    async with db.session(write=False) as session:
        found = await session.scalar(select(User.id).where(User.email.like(f"%@{DOMAIN}")))
    return found is not None


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
    leads: dict[str, Actor] = {}  # role → the lead
    async with db.session() as session:
        teams: dict[str, int] = {}
        members: dict[str, list[int]] = {"Billing": [], "Technical": []}
        for team in members:
            created = await auth.create_team(session, SYSTEM, name=team, description=None)
            teams[team] = created.id
        for name, role in LEADS:
            email = f"{name.split()[0].lower()}@{DOMAIN}"
            lead = await auth.create_user(
                session,
                SYSTEM,
                email=email,
                name=name,
                role=Role(role),
                password=PASSWORD,
                time_zone="Asia/Karachi",
            )
            leads[role] = auth.actor_for_user(lead)
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

    # The help centre, the live queues with their hours, chat inboxes and the portal's topics.
    centre = await add_knowledge_base(db, leads["supervisor"])
    public = centre.public
    summary.articles = len(centre.by_key)
    summary.articles_ur = sum(1 for a in centre.by_key.values() if "ur" in a.languages)
    summary.internal_articles = summary.articles - len(public)
    live = await add_live_channels(db, leads["admin"], start, now)
    summary.shop_inbox = live.shop_key
    async with db.session() as session:
        topics = await portal_admin.set_topics(
            session, leads["admin"], [(en, ur) for _key, en, ur in PORTAL_TOPICS]
        )
    tell("knowledge base", 1, 1)

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
    customers: list[Person] = []
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
                zone = "Asia/Karachi" if urdu else pick(rng, ZONES)
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
                customers.append(Person(view.contact.id, name, email, phone, urdu, zone))
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
    readers = Readers(centre, rng)
    world = World(
        store=store,
        rng=rng,
        now=now,
        by_team=by_team,
        calendars=live.calendars,
        centre=centre,
        readers=readers,
        portal_topics={ours[0]: t.key for ours, t in zip(PORTAL_TOPICS, topics, strict=True)},
        counts=summary.help_centre,
    )
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
                solved_at = await one_ticket(session, world, n, created, who, topic, summary)
                if solved_at is not None:
                    recent[who.id] = (topic, solved_at)
        tell("tickets", min(first + 25, len(arrivals)), len(arrivals))

    # Visits to the help centre that needed nobody: searching, reading, voting.
    visits = []
    anonymous = max(1, int(tickets_wanted * HELP_VISITS) // 2)
    for at in arrival_times(
        rng, int(tickets_wanted * HELP_VISITS), start, now - timedelta(hours=1)
    ):
        if rng.random() < 0.35:
            who = rng.choice(customers)
            visits.append((at, "ur" if who.urdu else "en", who.id))
        else:  # returning visitors without an account (ids below zero stand for them)
            visits.append((at, "ur" if rng.random() < 0.2 else "en", -1 - rng.randrange(anonymous)))
    await add_reading(db, readers, visits, tell)
    summary.help_centre.update(readers.counts)
    people = [(c.name, c.phone) for c in customers if c.phone]
    summary.callbacks, said = await add_callbacks(
        db, rng, now, live.calendars, people, by_team["Billing"][0][0]
    )
    summary.tickets += summary.callbacks  # each callback request is a phone ticket
    summary.messages += said

    await add_surveys(db, rng, now, tell)
    await add_nps(db, rng, start, now)
    await add_pulse(db, rng, now, [actor for actor, _team in agents])

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


async def _outbound_jobs(db: Database) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(select(func.max(Job.id))) or 0)
