"""What the console's chats page lists: waiting chats (with the team a transfer sent them to)
and active ones, the agents a chat can go to, and the teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.models import Team, User
from madad.auth.permissions import Actor, Scope
from madad.channels.chat.models import ChatAgent, ChatInbox, ChatSession
from madad.channels.chat.queue import LIVE_STATES


@dataclass(frozen=True)
class ChatRow:
    public_id: str
    ticket_id: int
    state: str
    name: str | None
    email: str | None
    queue: str
    agent_id: int | None
    agent_name: str | None
    offered_to: int | None
    queued_at: datetime
    answered_at: datetime | None
    team_name: str | None = None  # transferred to this team


async def console_lists(session: AsyncSession, actor: Actor) -> tuple[list[ChatRow], list[ChatRow]]:
    """(waiting chats, oldest first; active chats, the actor's first)."""
    actor.require(Scope.tickets_read)
    rows = await session.execute(
        select(ChatSession, ChatInbox.queue, User.name, Team.name)
        .join(ChatInbox, ChatInbox.id == ChatSession.inbox_id)
        .outerjoin(User, User.id == ChatSession.agent_id)
        .outerjoin(Team, Team.id == ChatSession.team_id)
        .where(ChatSession.state.in_(LIVE_STATES))
        .order_by(ChatSession.queued_at, ChatSession.id)
        .limit(500)
    )
    waiting, active = [], []
    for chat, queue, agent_name, team_name in rows.all():
        row = ChatRow(
            chat.public_id,
            chat.ticket_id,
            chat.state,
            chat.name,
            chat.email,
            queue,
            chat.agent_id,
            agent_name,
            chat.offered_to,
            chat.queued_at,
            chat.answered_at,
            team_name,
        )
        (waiting if chat.state == "queued" else active).append(row)
    active.sort(key=lambda r: r.agent_id != actor.user_id)
    return waiting, active


async def agents_available(session: AsyncSession) -> list[tuple[User, ChatAgent]]:
    rows = await session.execute(
        select(User, ChatAgent)
        .join(ChatAgent, ChatAgent.user_id == User.id)
        .where(User.is_active.is_(True), ChatAgent.status != "offline")
        .order_by(User.name)
    )
    return [(u, a) for u, a in rows.all()]


async def teams(session: AsyncSession) -> list[Team]:
    return list(await session.scalars(select(Team).order_by(Team.name)))
