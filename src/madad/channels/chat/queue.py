"""The chat queue: where a waiting visitor stands and how long they may wait, agents'
availability, round-robin offers within each agent's concurrent-chat limit, and the session's
transitions — accept (exclusive), end, abandon — each with its `live.*` fact (transfers are in
`transfers.py`).

After commit, `chats` hears that the queue changed and `chat:{public_id}` that the session's
state changed.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.activity import service as facts
from madad.auth.models import TeamMember
from madad.auth.permissions import Actor, Scope
from madad.channels.chat import rating
from madad.channels.chat.models import ChatAgent, ChatInbox, ChatSession
from madad.db import after_commit, utcnow
from madad.dialects import lock_keys
from madad.errors import Conflict, Forbidden, Invalid, NotFound
from madad.tickets.changes import update_ticket

CHANNEL = "chat"
STATUSES = ("online", "away", "offline")
DEFAULT_MAX_CHATS = 3
OFFER_SECONDS = 30.0  # an offer not accepted in this time moves on to the next agent
VISITOR_GRACE = timedelta(seconds=60)  # a queued visitor gone this long has abandoned
RECENT_ANSWERS = 20  # the answers the expected wait is estimated from
RECENT_WINDOW = timedelta(hours=4)
OPEN_STATES = ("bot", "queued", "active")  # "bot": with the answer bot, before the queue
LIVE_STATES = ("queued", "active")  # in the queue or with an agent


# --- announcements after commit ----------------------------------------------------------------


def announce(session: AsyncSession, topic: str, event: dict[str, Any]) -> None:
    bus = session.info.get("bus")
    if bus is None:
        return

    async def publish() -> None:
        await bus.publish(topic, event)

    after_commit(session, publish)


def changed(session: AsyncSession, chat: ChatSession) -> None:
    """Tell agents the queue changed, and the visitor their session's state."""
    announce(session, "chats", {"type": "queue", "session": chat.public_id})
    announce(session, f"chat:{chat.public_id}", {"type": "state", "session": chat.public_id})


def fact(session: AsyncSession, kind: str, chat: ChatSession, queue: str, **kw: Any) -> None:
    data = {"session": chat.public_id, "queue": queue, **kw.pop("data", {})}
    facts.record(
        session,
        kind,
        ticket_id=chat.ticket_id,
        contact_id=chat.contact_id,
        channel=CHANNEL,
        data=data,
        **kw,
    )


# --- the queue ---------------------------------------------------------------------------------


def expected_wait(recent_waits: Sequence[float], position: int, agents: int) -> float | None:
    """Expected wait (s) = median of recent answer waits × position ÷ agents available
    (at least one); None when no chat was answered recently."""
    if not recent_waits or position < 1:
        return None
    return statistics.median(recent_waits) * position / max(agents, 1)


@dataclass(frozen=True)
class QueuePlace:
    position: int  # 1 = next
    wait_seconds: float | None


@dataclass(frozen=True)
class QueueBoard:
    """Every inbox's queue at one moment: who waits in which order, recent answer waits, and
    how many agents are online — one read that serves every waiting visitor of a process."""

    positions: dict[str, int]  # public id → 1-based place in its inbox's queue
    waits: dict[int, list[float]]  # inbox id → recent answer waits, newest first
    agents: int
    at: datetime

    def place(self, chat: ChatSession) -> QueuePlace | None:
        position = self.positions.get(chat.public_id)
        if position is None:
            return None
        return QueuePlace(
            position, expected_wait(self.waits.get(chat.inbox_id, []), position, self.agents)
        )


async def queue_board(session: AsyncSession) -> QueueBoard:
    now = utcnow()
    positions: dict[str, int] = {}
    seen: dict[int, int] = {}
    rows = await session.execute(
        select(ChatSession.inbox_id, ChatSession.public_id)
        .where(ChatSession.state == "queued")
        .order_by(ChatSession.queued_at, ChatSession.id)
    )
    for inbox_id, public_id in rows.all():
        seen[inbox_id] = seen.get(inbox_id, 0) + 1
        positions[public_id] = seen[inbox_id]
    waits: dict[int, list[float]] = {}
    answered = await session.execute(
        select(ChatSession.inbox_id, ChatSession.queued_at, ChatSession.answered_at)
        .where(ChatSession.answered_at >= now - RECENT_WINDOW)
        .order_by(ChatSession.answered_at.desc())
        .limit(2000)
    )
    for inbox_id, queued_at, answered_at in answered.all():
        mine = waits.setdefault(inbox_id, [])
        if len(mine) < RECENT_ANSWERS:
            mine.append((answered_at - queued_at).total_seconds())
    agents = await session.scalar(
        select(func.count()).select_from(ChatAgent).where(ChatAgent.status == "online")
    )
    return QueueBoard(positions, waits, agents or 0, now)


async def place_in_queue(session: AsyncSession, chat: ChatSession) -> QueuePlace | None:
    """Where a waiting chat stands (None once it is not waiting)."""
    if chat.state != "queued":
        return None
    return (await queue_board(session)).place(chat)


async def agent_row(session: AsyncSession, user_id: int, *, lock: bool = False) -> ChatAgent:
    stmt = select(ChatAgent).where(ChatAgent.user_id == user_id)
    if lock:
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        row = ChatAgent(
            user_id=user_id, status="offline", max_chats=DEFAULT_MAX_CHATS, updated_at=utcnow()
        )
        session.add(row)
        await session.flush()
    return row


def clean_avatar_url(value: str | None) -> str | None:
    """An agent's picture: an http(s) address of at most 500 characters (empty: none)."""
    url = (value or "").strip()
    if not url:
        return None
    if len(url) > 500:
        raise Invalid("avatar_url", "at most 500 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise Invalid("avatar_url", "an image address starting with https://")
    if any(c.isspace() or c in "\"'<>\\" or ord(c) < 32 for c in url):
        raise Invalid("avatar_url", "an address has no spaces, quotes or angle brackets")
    return url


def initials(name: str | None) -> str:
    """What a visitor sees of an agent without a picture."""
    parts = (name or "").split()
    return "".join(p[0] for p in parts[:2]).upper() or "?"


async def set_availability(
    session: AsyncSession,
    actor: Actor,
    *,
    status: str,
    max_chats: int | None = None,
    avatar_url: str | None = None,
) -> ChatAgent:
    """Online, away or offline; how many chats at once; the picture visitors see (`avatar_url`
    "" removes it, None leaves it)."""
    actor.require(Scope.tickets_write)
    if actor.user_id is None:
        raise Forbidden("only an agent has an availability")
    if status not in STATUSES:
        raise Invalid("status", "one of online, away, offline")
    if max_chats is not None and not 1 <= max_chats <= 20:
        raise Invalid("max_chats", "1-20")
    picture = clean_avatar_url(avatar_url) if avatar_url is not None else None
    row = await agent_row(session, actor.user_id, lock=True)
    row.status = status
    if max_chats is not None:
        row.max_chats = max_chats
    if avatar_url is not None:
        row.avatar_url = picture
    row.updated_at = utcnow()
    announce(session, "chats", {"type": "agents"})
    return row


async def active_counts(session: AsyncSession) -> dict[int, int]:
    rows = await session.execute(
        select(ChatSession.agent_id, func.count())
        .where(ChatSession.state == "active", ChatSession.agent_id.is_not(None))
        .group_by(ChatSession.agent_id)
    )
    return {agent_id: n for agent_id, n in rows.all()}


async def offer_waiting(
    session: AsyncSession, *, at: datetime | None = None
) -> list[tuple[str, int]]:
    """Offer each waiting chat without a live offer to an available agent: round robin (the
    agent offered a chat longest ago first) among online agents with a free place (their limit
    minus chats they hold and offers they have not answered) — for a chat transferred to a
    team, among that team's members. An offer expires after OFFER_SECONDS and goes to the next
    agent. Returns (session, agent) pairs offered."""
    now = at or utcnow()
    agents = list(await session.scalars(select(ChatAgent).where(ChatAgent.status == "online")))
    if not agents:
        return []  # nobody to offer to: nothing to read or lock
    await lock_keys(session, ["chat-offers"])
    waiting = list(
        await session.scalars(
            select(ChatSession)
            .where(ChatSession.state == "queued")
            .order_by(ChatSession.queued_at, ChatSession.id)
        )
    )
    if not waiting:
        return []
    held = await active_counts(session)
    teams: dict[int, set[int]] = {}  # team → its online agents (for chats sent to a team)
    if any(c.team_id is not None for c in waiting):
        rows = await session.execute(
            select(TeamMember.team_id, TeamMember.user_id).where(
                TeamMember.user_id.in_([a.user_id for a in agents])
            )
        )
        for team_id, user_id in rows.all():
            teams.setdefault(team_id, set()).add(user_id)
    expiry = now - timedelta(seconds=OFFER_SECONDS)
    live_offers: dict[int, int] = {}
    for chat in waiting:
        if chat.offered_to is not None and chat.offered_at and chat.offered_at > expiry:
            live_offers[chat.offered_to] = live_offers.get(chat.offered_to, 0) + 1

    def free(a: ChatAgent) -> int:
        return a.max_chats - held.get(a.user_id, 0) - live_offers.get(a.user_id, 0)

    made = []
    for chat in waiting:
        if chat.offered_to is not None and chat.offered_at and chat.offered_at > expiry:
            continue
        previous = chat.offered_to
        order = sorted(
            (
                a
                for a in agents
                if free(a) > 0
                and (chat.team_id is None or a.user_id in teams.get(chat.team_id, ()))
            ),
            key=lambda a: (
                a.user_id == previous,  # an expired offer moves on when anyone else can take it
                a.last_offered_at is not None,
                a.last_offered_at or now,
                a.user_id,
            ),
        )
        if not order:
            if previous is not None:  # nobody can take it now: the stale offer is withdrawn
                chat.offered_to = None
                chat.offered_at = None
            continue
        agent = order[0]
        chat.offered_to = agent.user_id
        chat.offered_at = now
        agent.last_offered_at = now
        live_offers[agent.user_id] = live_offers.get(agent.user_id, 0) + 1
        made.append((chat.public_id, agent.user_id))
        announce(
            session,
            "chats",
            {"type": "offer", "session": chat.public_id, "agent_id": agent.user_id},
        )
    return made


async def chat_by_id(session: AsyncSession, public_id: str) -> ChatSession:
    chat = await session.scalar(select(ChatSession).where(ChatSession.public_id == public_id))
    if chat is None:
        raise NotFound(f"no chat {public_id!r}")
    return chat


async def get_chat(session: AsyncSession, actor: Actor, public_id: str) -> ChatSession:
    actor.require(Scope.tickets_read)
    return await chat_by_id(session, public_id)


async def queue_of(session: AsyncSession, chat: ChatSession) -> str:
    return await session.scalar(select(ChatInbox.queue).where(ChatInbox.id == chat.inbox_id)) or ""


async def accept(
    session: AsyncSession, actor: Actor, public_id: str, *, at: datetime | None = None
) -> ChatSession:
    """The agent takes a waiting chat. Exactly one of several agents accepting at once wins;
    an agent at their concurrent-chat limit is refused."""
    actor.require(Scope.tickets_write)
    if actor.user_id is None:
        raise Forbidden("only an agent accepts chats")
    now = at or utcnow()
    me = await agent_row(session, actor.user_id, lock=True)
    held = (await active_counts(session)).get(actor.user_id, 0)
    if held >= me.max_chats:
        raise Conflict(f"you are already in {held} chats, your limit")
    chat = await chat_by_id(session, public_id)
    transferred = chat.answered_at is not None  # back in the queue for a team: answered once
    won = await session.execute(
        update(ChatSession)
        .where(ChatSession.id == chat.id, ChatSession.state == "queued")
        .values(
            state="active",
            agent_id=actor.user_id,
            answered_at=func.coalesce(ChatSession.answered_at, now),
            offered_to=None,
            offered_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this chat was already answered or has ended")
    await session.refresh(chat)
    if not transferred:  # the contact's answer is its first; a transfer's pick-up is not
        fact(
            session,
            "live.answered",
            chat,
            await queue_of(session, chat),
            agent_id=actor.user_id,
            at=now,
        )
    await update_ticket(session, actor, chat.ticket_id, {"assignee_id": actor.user_id}, at=now)
    changed(session, chat)
    return chat


async def end(
    session: AsyncSession, actor: Actor, public_id: str, *, at: datetime | None = None
) -> ChatSession:
    """An agent ends the chat (a waiting one is closed as abandoned: nobody answered it)."""
    actor.require(Scope.tickets_write)
    chat = await chat_by_id(session, public_id)
    if (
        chat.state == "active"
        and chat.agent_id != actor.user_id
        and not actor.can(Scope.reports_read)
    ):
        raise Forbidden("only the chat's agent (or a supervisor) ends it")
    await close(session, chat, by=actor, at=at or utcnow())
    return chat


async def close(
    session: AsyncSession, chat: ChatSession, *, by: Actor | None, at: datetime
) -> None:
    if chat.state not in OPEN_STATES:
        return
    queue = await queue_of(session, chat)
    was = chat.state
    # Waiting again after a transfer, it was answered: leaving now ends it, not abandons it.
    answered = was == "active" or chat.answered_at is not None
    closed = await session.execute(
        update(ChatSession)
        .where(ChatSession.id == chat.id, ChatSession.state == was)
        .values(
            state="ended" if answered or was == "bot" else "abandoned",
            ended_at=at,
            offered_to=None,
            offered_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    await session.refresh(chat)
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        return  # someone else changed it first (an accept, say); nothing to record
    if was == "bot":  # it never reached the queue: not a live contact
        pass
    elif answered:
        fact(session, "live.ended", chat, queue, agent_id=chat.agent_id, at=at)
        await rating.ask(session, chat, at=at)  # the widget shows the rating now
    else:
        fact(session, "live.abandoned", chat, queue, at=at)
    changed(session, chat)


async def abandon_gone(session: AsyncSession, *, at: datetime | None = None) -> int:
    """Queued chats whose visitor has been away longer than VISITOR_GRACE are abandoned (and
    chats still with the answer bot end)."""
    now = at or utcnow()
    gone = list(
        await session.scalars(
            select(ChatSession).where(
                ChatSession.state.in_(("queued", "bot")),
                ChatSession.visitor_seen_at < now - VISITOR_GRACE,
            )
        )
    )
    for chat in gone:
        await close(session, chat, by=None, at=chat.visitor_seen_at + VISITOR_GRACE)
    return len(gone)


@jobs.periodic("chat.queue", every_seconds=10)
async def keep_queue(ctx: jobs.JobContext) -> None:
    """Abandon chats whose visitor left, and move expired offers on to the next agent."""
    await abandon_gone(ctx.session)
    await offer_waiting(ctx.session)
