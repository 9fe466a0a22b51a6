"""The wallboard's figures, live: who is waiting now and for how long, today's service level,
the last hour's speed of answer, which agents are signed in or on a contact, and the callbacks
due today and overdue. Computed from today's live-contact facts with the same definitions as
every report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity.models import Activity
from madad.auth.models import User, WebSession
from madad.channels.phone.callbacks_models import ACTIVE, Callback
from madad.metrics import definitions as d

ONLINE_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Board:
    queue: str | None
    queues: list[str]
    waiting: int
    longest_wait: float | None
    offered: int
    answered: int
    abandoned: int
    service_level: float | None
    asa_last_hour: float | None
    online: list[str]
    on_contact: list[str]
    callbacks_due: int = 0  # active callbacks due by the end of today (overdue ones included)
    callbacks_overdue: int = 0


async def board(session: AsyncSession, now: datetime, queue: str | None = None) -> Board:
    start = datetime.combine(now.date(), time(), now.tzinfo)
    facts = list(
        (
            await session.execute(
                select(Activity).where(
                    Activity.kind.in_(
                        ["live.offered", "live.answered", "live.abandoned", "live.ended",
                         "live.hold", "live.resumed", "live.voicemail"]
                    ),
                    Activity.at >= start - timedelta(hours=12),  # contacts waiting since last night
                    Activity.at <= now,
                )
            )
        ).scalars()
    )  # fmt: skip
    queues = sorted({str(f.data.get("queue")) for f in facts if f.data.get("queue")})
    if queue:
        facts = [f for f in facts if f.data.get("queue") == queue]
    contacts = d.live_contacts(facts)
    waiting = [
        c for c in contacts if c.answered_at is None and c.abandoned_at is None and not c.ended_at
    ]
    longest = max(((now - c.offered_at).total_seconds() for c in waiting if c.offered_at),
                  default=None)  # fmt: skip
    today = d.Period(start, now + timedelta(microseconds=1))
    todays = [c for c in contacts if c.offered_at and c.offered_at >= start]
    sl = d.service_level(facts, today)
    asa = d.speed_of_answer(facts, d.Period(now - timedelta(hours=1), today.end))
    busy_ids = {c.agent_id for c in contacts if c.answered_at and not c.ended_at and c.agent_id}
    online = (
        await session.execute(
            select(User.id, User.name)
            .join(WebSession, WebSession.user_id == User.id)
            .where(
                WebSession.ended_at.is_(None),
                WebSession.expires_at > now,
                WebSession.last_seen_at >= now - ONLINE_WINDOW,
            )
            .group_by(User.id, User.name)
            .order_by(func.lower(User.name))
        )
    ).all()
    names = dict(
        (await session.execute(select(User.id, User.name).where(User.id.in_(busy_ids)))).all()
    )
    due = select(func.count(Callback.id)).where(
        Callback.status.in_(ACTIVE), Callback.due_at < start + timedelta(days=1)
    )
    if queue:
        due = due.where(Callback.queue == queue)
    callbacks_due = await session.scalar(due) or 0
    callbacks_overdue = await session.scalar(due.where(Callback.due_at <= now)) or 0
    return Board(
        queue=queue,
        queues=queues,
        waiting=len(waiting),
        longest_wait=longest,
        offered=len(todays),
        answered=sum(1 for c in todays if c.answered_at),
        abandoned=sum(1 for c in todays if c.abandoned_at and not c.short_abandon),
        service_level=sl.value,
        asa_last_hour=asa.mean,
        online=[name for _id, name in online],
        on_contact=sorted(names.values()),
        callbacks_due=callbacks_due,
        callbacks_overdue=callbacks_overdue,
    )
