"""The demo's surveys: CSAT after solved tickets through the live survey service (quiet
periods and one survey per ticket apply), about a third answered, scores that follow how the
ticket went, some comments in the customer's language; an NPS round over a sample of the
customers served, as the periodic job asks them; and the agents' weekly pulse."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from madad.auth.permissions import Actor
from madad.db import Database
from madad.surveys import service
from madad.tickets.models import Ticket

PRAISE = [
    "Quick and friendly, thank you!",
    "Solved on the first reply. Great.",
    "Clear answer, everything works now.",
]
COMPLAINTS = [
    "I had to explain the problem three times.",
    "It took days to get an answer.",
    "Still not fixed, I had to write again.",
]
PRAISE_UR = ["بہت جلدی جواب ملا، شکریہ!", "مسئلہ فوراً حل ہو گیا۔"]
COMPLAINTS_UR = ["جواب میں بہت دیر لگی۔", "مسئلہ ابھی تک حل نہیں ہوا۔"]


async def add_surveys(
    db: Database, rng: random.Random, now: datetime, tell: Callable[[str, int, int], None]
) -> int:
    """Survey the solved tickets as the live desk would have; return how many were answered."""
    async with db.session(write=False) as session:
        solved = (
            await session.execute(
                select(Ticket.id, Ticket.solved_at, Ticket.reopen_count, Ticket.escalation_level)
                .where(Ticket.solved_at.is_not(None), Ticket.solved_at < now - timedelta(hours=2))
                .order_by(Ticket.solved_at)
            )
        ).all()
    answered = 0
    for first in range(0, len(solved), 100):
        async with db.session() as session:
            for ticket_id, solved_at, reopens, escalation in solved[first : first + 100]:
                sent_at = solved_at + timedelta(hours=1)
                survey = await service.open_csat(session, ticket_id, at=sent_at)
                if survey is None or rng.random() > 0.35:
                    continue
                when = sent_at + timedelta(minutes=rng.uniform(5, 60 * 48))
                if when >= now:
                    continue
                rough = reopens > 0 or escalation > 0
                weights = [25, 25, 20, 20, 10] if rough else [3, 5, 12, 35, 45]
                score = rng.choices([1, 2, 3, 4, 5], weights)[0]
                comment = None
                if rng.random() < 0.4:
                    urdu = survey.language == "ur"
                    good = (PRAISE_UR if urdu else PRAISE) if score >= 4 else None
                    bad = COMPLAINTS_UR if urdu else COMPLAINTS
                    comment = rng.choice(good or bad)
                ces = (
                    min(7, max(1, score + rng.choice([1, 2, 2, 1, 0])))
                    if rng.random() < 0.8
                    else None
                )
                await service.answer(
                    session, survey, score=score, ces_score=ces, comment=comment, at=when
                )
                answered += 1
        tell("surveys", min(first + 100, len(solved)), len(solved))
    return answered


WHY = {
    "promoter": ["You always answer quickly and kindly.", "Support that actually solves things."],
    "passive": ["Good product, support could be faster.", "Fine, but billing is confusing."],
    "detractor": ["Too many outages this year.", "I waited days for answers."],
}


async def add_nps(db: Database, rng: random.Random, start: datetime, now: datetime) -> int:
    """One NPS round two thirds into the history (a month ago in the 90-day demo) over a sample
    of the customers served before it (the job's sampling), a third of them answering; returns
    how many answered."""
    asked_at = now - (now - start) / 3
    async with db.session(write=False) as session:
        served = (
            await session.execute(
                select(Ticket.contact_id)
                .where(Ticket.contact_id.is_not(None), Ticket.solved_at < asked_at)
                .distinct()
                .order_by(Ticket.contact_id)
            )
        ).scalars()
        contacts = [c for c in served if service.sampled(c, service.period_of(asked_at, 90), 0.3)]
    answered = 0
    async with db.session() as session:
        for contact_id in contacts:
            survey = await service.open_nps(session, contact_id, at=asked_at)
            if rng.random() > 0.35:
                continue
            score = rng.choices(range(11), [2, 1, 1, 2, 3, 4, 6, 12, 16, 24, 29])[0]
            group = "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"
            comment = rng.choice(WHY[group]) if rng.random() < 0.5 else None
            when = asked_at + timedelta(hours=rng.uniform(1, 96))
            await service.answer(session, survey, score=score, comment=comment, at=when)
            answered += 1
    return answered


async def add_pulse(db: Database, rng: random.Random, now: datetime, agents: list[Actor]) -> int:
    """The agents' weekly pulse over the last twelve weeks, most agents answering most weeks;
    returns how many answers."""
    answers = 0
    async with db.session() as session:
        for week in range(12, 0, -1):
            monday = now - timedelta(days=now.weekday() + 7 * week)
            for actor in agents:
                if rng.random() > 0.7:
                    continue
                mood = rng.choices([2, 3, 4, 5], [1, 3, 5, 3])[0]
                await service.submit_pulse(
                    session,
                    actor,
                    satisfaction=mood,
                    workload=rng.choice([2, 3, 3, 4, 5]),
                    tools=rng.choice([3, 4, 4, 5]),
                    comment=None,
                    at=monday + timedelta(days=rng.uniform(0, 4), hours=9),
                )
                answers += 1
    return answers
