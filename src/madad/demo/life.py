"""One demo ticket's life, from the customer's first message to now, through the live services.

Chats and calls come in only while their queue's posted hours are open (outside them the
customer leaves a message, which is an email); a chat may meet the answer bot first, and some
customers look in the help centre before they start a chat or a portal request. Portal
requests and their replies go through the portal's own service as a signed-in customer's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.auth.permissions import SYSTEM, Actor
from madad.channels.hours import calendar as cal
from madad.db import utcnow
from madad.demo.helpcentre import HelpCentre, Readers, Visit
from madad.demo.texts import AGENT_NOTES, Topic
from madad.files import FileStore
from madad.kb import bot, reading
from madad.portal import service as portal
from madad.portal.access import Customer
from madad.tickets import changes
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, Received, Sender

KARACHI = ZoneInfo("Asia/Karachi")
# Customers with a number on file call; the others write.
CHANNELS = [("email", 0.34), ("chat", 0.25), ("phone", 0.25), ("api", 0.08), ("portal", 0.08)]
NO_PHONE = [("email", 0.45), ("chat", 0.37), ("api", 0.09), ("portal", 0.09)]
FROM_HELP_CENTRE = {"chat": 0.3, "portal": 0.55}  # contacts that follow a help-centre visit
BOT_IN_CHAT = 0.7  # chats the bot sees first (when it has something to offer)
# What customers answer the bot: solved / "a person, please" / "that didn't help" / nothing.
BOT_OUTCOMES = [("resolved", 0.24), ("asked", 0.36), ("not_solved", 0.24), ("none", 0.16)]
PORTAL_TOPIC = {"billing": "billing", "shipping": "orders", "login": "sign-in"}


@dataclass
class Person:
    """A demo customer."""

    id: int
    name: str
    email: str
    phone: str | None
    urdu: bool
    zone: str


@dataclass
class World:
    """What every ticket's life needs to know about the desk."""

    store: FileStore
    rng: random.Random
    now: datetime
    by_team: dict[str, list[tuple[Actor, int]]]
    calendars: dict[str, cal.Calendar]
    centre: HelpCentre
    readers: Readers
    portal_topics: dict[str, str]  # our key → the portal topic's key
    counts: dict[str, int]
    offers: dict[Topic, list[bot.Suggestion]] = field(default_factory=dict)


def pick(rng: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rng.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def working(t: datetime) -> datetime:
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


def fill(text: str, rng: random.Random, name: str) -> str:
    return text.format(
        name=name.split()[0],
        month=rng.choice(["March", "April", "May", "June", "July", "August", "September"]),
        account=f"AC-{rng.randint(10000, 99999)}",
        day=rng.randint(1, 28),
        seats=rng.choice([5, 10, 25]),
        order=rng.randint(100000, 999999),
    )


async def _answer(
    session: AsyncSession, actor: Actor, ticket_id: int, *, text: str, status: str, at: datetime
) -> None:
    """An agent's reply, and the channel reporting it delivered a few seconds later."""
    message = await tickets.reply(session, actor, ticket_id, text=text, status=status, at=at)
    await tickets.set_delivery_status(
        session,
        SYSTEM,
        message.id,
        status="delivered",
        at=min(at + timedelta(seconds=3 + message.id % 40), utcnow()),  # never in the future
    )


@dataclass(frozen=True)
class LiveQueue:
    channel: str
    name: str
    session: str
    ticket_id: int
    contact_id: int | None


async def _queue(
    session: AsyncSession,
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
            session,
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
    if q.channel == "phone" and (rng.random() < 0.25 or talk > timedelta(minutes=8)):
        hold = answered + talk / 3
        fact("live.hold", hold, agent)
        fact("live.resumed", hold + min(talk / 3, timedelta(seconds=rng.uniform(20, 180))), agent)
    fact("live.ended", answered + talk, agent)
    return answered


def _signed_in(who: Person, at: datetime) -> Customer:
    """The customer as the portal sees them once signed in (the history's sign-ins are not
    replayed: a session is a cookie, not a fact worth a demo)."""
    return Customer(
        contact_id=who.id,
        name=who.name,
        address=who.email,
        organisation_id=None,
        organisation_name=None,
        sees_organisation=False,
        csrf_token="",
        session_id=0,
        last_seen_at=at,
    )


class Conversation:
    """The customer's side of one ticket: the first message and every later one, on its
    channel's own path."""

    def __init__(self, world: World, n: int, channel: str, who: Person, topic: Topic) -> None:
        self.world, self.n, self.channel, self.who, self.topic = world, n, channel, who, topic
        self.language = "ur" if topic.urdu else "en"
        self.sender = Sender(
            name=who.name, email=who.email, phone=who.phone if channel == "phone" else None
        )
        self.said = 0

    async def open(
        self, session: AsyncSession, created: datetime, visit: Visit | None, *, short: bool = False
    ) -> Received:
        """The first message; `short`: a chat's first line (what the bot reads), the details
        follow with `explain`."""
        rng, topic, who = self.world.rng, self.topic, self.who
        subject = fill(topic.subject, rng, who.name)
        text = subject if short else fill(topic.opening, rng, who.name)
        if self.channel == "portal":
            tag = next((PORTAL_TOPIC[t] for t in topic.tags if t in PORTAL_TOPIC), "technical")
            return await portal.open_request(
                session,
                _signed_in(who, created),
                subject=subject,
                description=text,
                topic=self.world.portal_topics.get(tag),
                article_id=visit.article_id if visit else None,
                visitor=visit.visitor if visit else None,
                help_session=visit.help_session if visit else None,
                form_id=f"demo-history-{self.n:07d}",
                language=self.language,
                store=self.world.store,
                at=created,
            )
        custom: dict[str, Any] = {}
        if visit is not None and visit.article_id is not None:
            custom["kb_article_id"] = visit.article_id  # as the widget names it
        got = await tickets.receive(
            session,
            Inbound(
                channel=self.channel,
                sender=self.sender,
                subject=subject,
                text=text,
                external_id=f"demo-{self.n}-0",
                conversation_key=f"demo-{self.n}",
                tags=topic.tags,
                priority="high" if rng.random() < 0.08 else None,
                custom_fields=custom,
                received_at=created,
            ),
            store=self.world.store,
        )
        if visit is not None:  # the widget on a help-centre page records where it started
            await reading.record_contact_started(
                session,
                channel=self.channel,
                language=self.language,
                ticket_id=got.ticket_id,
                contact_id=got.contact_id,
                article_id=visit.article_id,
                visitor=visit.visitor,
                help_session=visit.help_session,
                at=created,
            )
        return got

    async def explain(self, session: AsyncSession, at: datetime) -> None:
        """The details, after a short first line (a chat that the bot could not settle)."""
        await tickets.receive(
            session,
            Inbound(
                channel=self.channel,
                sender=self.sender,
                text=fill(self.topic.opening, self.world.rng, self.who.name),
                external_id=f"demo-{self.n}-d",
                conversation_key=f"demo-{self.n}",
                received_at=at,
            ),
            store=self.world.store,
        )

    async def again(self, session: AsyncSession, ticket_id: int, at: datetime) -> None:
        """The customer writes once more (an answer, or "it broke again")."""
        self.said += 1
        text = fill(self.topic.follow_up, self.world.rng, self.who.name)
        if self.channel == "portal":
            await portal.reply(
                session,
                _signed_in(self.who, at),
                ticket_id,
                text=text,
                form_id=f"demo-history-{self.n:07d}-{self.said}",
                language=self.language,
                store=self.world.store,
                at=at,
            )
            return
        await tickets.receive(
            session,
            Inbound(
                channel=self.channel,
                sender=self.sender,
                text=text,
                external_id=f"demo-{self.n}-{self.said}",
                conversation_key=f"demo-{self.n}",
                received_at=at,
            ),
            store=self.world.store,
        )


async def _bot(
    session: AsyncSession, world: World, topic: Topic, got: Received, n: int, at: datetime
) -> tuple[str, datetime] | None:
    """The answer bot's offer on a new chat's first line, when it is confident; returns what
    the customer answered and when (None: the bot had nothing to offer)."""
    rng = world.rng
    language = "ur" if topic.urdu else "en"
    question = fill(topic.subject, random.Random(topic.subject), "A")
    if topic not in world.offers:  # the first lines of a topic differ in a number at most
        world.offers[topic] = await bot.suggest(session, question, lang=language)
    offered = world.offers[topic]
    if not offered:
        bot.record_unanswered(
            session, question, channel="chat", language=language,
            ticket_id=got.ticket_id, contact_id=got.contact_id, at=at,
        )  # fmt: skip
        return None
    offer_at = at + timedelta(seconds=rng.uniform(2, 5))
    token = bot.record_offered(
        session,
        offered,
        channel="chat",
        language=language,
        ticket_id=got.ticket_id,
        contact_id=got.contact_id,
        chat_session=f"demo-{n}",
        at=offer_at,
    )
    world.counts["bot offers"] = world.counts.get("bot offers", 0) + 1
    outcome = pick(rng, BOT_OUTCOMES)
    answered = offer_at + timedelta(seconds=rng.uniform(20, 150))
    if outcome == "none" or answered >= world.now:
        return "none", offer_at + timedelta(seconds=rng.uniform(30, 90))
    await facts.flush_facts(session)  # the outcome reads the offer back
    if outcome == "resolved":
        await bot.record_resolved(
            session, offer=token, article_id=offered[0].article_id, at=answered
        )
    else:
        await bot.record_handoff(session, offer=token, reason=outcome, at=answered)
    return outcome, answered


def _channel(world: World, who: Person, topic: Topic, created: datetime) -> str:
    """The channel the customer chose; outside the queue's posted hours a chat is a message
    left for later and a call goes unanswered, so the customer writes an email instead."""
    channel = pick(world.rng, CHANNELS if who.phone else NO_PHONE)
    if channel in ("chat", "phone"):
        calendar = world.calendars.get(topic.team.lower())
        if calendar is not None and not cal.is_open(calendar, created):
            channel = "email"
    return channel


async def one_ticket(
    session: AsyncSession,
    world: World,
    n: int,
    created: datetime,
    who: Person,
    topic: Topic,
    summary: Any,
) -> datetime | None:
    """One ticket's life up to now; returns when it was (last) solved, if it was."""
    rng, now = world.rng, world.now
    channel = _channel(world, who, topic, created)
    visit = None
    if rng.random() < FROM_HELP_CENTRE.get(channel, 0.0):
        visit = await world.readers.before_contact(
            session, who.id, topic.article, "ur" if topic.urdu else "en", created
        )
    talk = Conversation(world, n, channel, who, topic)
    bot_first = channel == "chat" and rng.random() < BOT_IN_CHAT
    got = await talk.open(session, created, visit, short=bot_first)
    summary.tickets += 1
    summary.messages += 1
    live = channel in ("chat", "phone")
    queued = created
    if bot_first:
        answer = await _bot(session, world, topic, got, n, created)
        if answer is not None and answer[0] == "resolved":
            # The customer said the article solved it: the chat ends without a person.
            solved = answer[1] + timedelta(seconds=30)
            if solved >= now:
                return None
            await changes.update_ticket(
                session, SYSTEM, got.ticket_id, {"status": "solved"}, at=solved
            )
            return solved
        queued = answer[1] if answer is not None else created + timedelta(seconds=20)
        if queued >= now:
            return None
        await talk.explain(session, queued)  # then tells the person what it is about
        summary.messages += 1
    agent, team_id = rng.choice(world.by_team[topic.team])
    # Triage: team and agent, a few minutes in (the newest tickets wait unassigned).
    triage = queued + timedelta(minutes=rng.uniform(0.5, 3) if live else rng.uniform(2, 40))
    if live:
        queue = LiveQueue(channel, topic.team.lower(), f"demo-{n}", got.ticket_id, got.contact_id)
        taken = await _queue(session, rng, queue, agent, team_id, queued, now)
        if taken is None:
            return None  # still in the queue
        triage = max(triage, taken + timedelta(seconds=20))
    if triage >= now or (now - created < timedelta(hours=12) and rng.random() < 0.3):
        return None  # not triaged yet: the Unassigned view has today's newest
    await changes.update_ticket(
        session, agent, got.ticket_id, {"team_id": team_id, "assignee_id": agent.user_id}, at=triage
    )
    if now - created < timedelta(days=4) and rng.random() < 0.05:
        return None  # the backlog: assigned, not answered yet
    first_answer = (
        triage + timedelta(minutes=rng.uniform(0.5, 6))
        if live
        else working(triage + timedelta(minutes=rng.expovariate(1 / 180)))
    )
    if first_answer >= now:
        return None
    if rng.random() < 0.2:
        await tickets.add_note(
            session,
            agent,
            got.ticket_id,
            text=rng.choice(AGENT_NOTES),
            at=triage + (first_answer - triage) / 2,
        )
        summary.messages += 1
    if rng.random() < 0.05:
        await changes.update_ticket(
            session,
            agent,
            got.ticket_id,
            {"escalation_level": 1, "priority": "urgent"},
            at=first_answer - timedelta(seconds=30),
        )
    one_touch = rng.random() < 0.55
    await _answer(
        session,
        agent,
        got.ticket_id,
        text=fill(topic.reply, rng, who.name),
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
            session, agent, got.ticket_id, {"status": "on_hold"}, at=on_hold_at
        )
        return None  # waiting on a third party
    if not one_touch and rng.random() < 0.25:
        # The customer never answers: pending for now, solved after three quiet days.
        quiet = working(first_answer + timedelta(days=3))
        if quiet >= now:
            return None
        await changes.update_ticket(session, agent, got.ticket_id, {"status": "solved"}, at=quiet)
        return quiet
    if not one_touch:
        # The customer answers; the agent closes the loop.
        step = step + timedelta(minutes=rng.uniform(2, 30) if live else rng.expovariate(1 / 600))
        if step >= now:
            return None
        await talk.again(session, got.ticket_id, step)
        summary.messages += 1
        step = (
            step + timedelta(minutes=rng.uniform(1, 8))
            if live
            else working(step + timedelta(minutes=rng.expovariate(1 / 120)))
        )
        if step >= now:
            return None
        await _answer(
            session,
            agent,
            got.ticket_id,
            text=fill(topic.closing, rng, who.name),
            status="solved",
            at=step,
        )
        summary.messages += 1
        solved_at = step
    # Some come back: "it broke again" reopens the ticket, and it is solved once more.
    if solved_at is not None and rng.random() < 0.06:
        again = solved_at + timedelta(hours=rng.uniform(2, 96))
        if again < now:
            await talk.again(session, got.ticket_id, again)
            summary.messages += 1
            fixed = working(again + timedelta(minutes=rng.expovariate(1 / 90)))
            if fixed >= now:
                return None
            await _answer(
                session,
                agent,
                got.ticket_id,
                text=fill(topic.closing, rng, who.name),
                status="solved",
                at=fixed,
            )
            summary.messages += 1
            solved_at = fixed
    return solved_at
