"""Handing an active chat on: to another agent (who must be available with a free place), or
to a team (the chat waits again, offered only to the team's members). Each writes
`live.transferred` and moves the ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.models import Team, User
from madad.auth.permissions import Actor, Scope
from madad.channels.chat.models import ChatSession
from madad.channels.chat.queue import (
    active_counts,
    agent_row,
    changed,
    chat_by_id,
    fact,
    queue_of,
)
from madad.db import utcnow
from madad.errors import Conflict, Forbidden, Invalid
from madad.tickets.changes import update_ticket


async def transfer(
    session: AsyncSession,
    actor: Actor,
    public_id: str,
    *,
    to_user_id: int,
    at: datetime | None = None,
) -> ChatSession:
    """Hand an active chat to another agent (who must be available and have a free place)."""
    actor.require(Scope.tickets_write)
    now = at or utcnow()
    chat = await chat_by_id(session, public_id)
    if chat.state != "active":
        raise Conflict("only an active chat can be transferred")
    if chat.agent_id != actor.user_id and not actor.can(Scope.reports_read):
        raise Forbidden("only the chat's agent (or a supervisor) transfers it")
    if to_user_id == chat.agent_id:
        raise Invalid("to", "the chat is already with this agent")
    target = await session.get(User, to_user_id)
    if target is None or not target.is_active:
        raise Invalid("to", "no such agent")
    row = await agent_row(session, to_user_id, lock=True)
    if row.status == "offline":
        raise Conflict(f"{target.name} is offline")
    if (await active_counts(session)).get(to_user_id, 0) >= row.max_chats:
        raise Conflict(f"{target.name} has no free place for a chat")
    before = chat.agent_id
    chat.agent_id = to_user_id
    fact(
        session,
        "live.transferred",
        chat,
        await queue_of(session, chat),
        agent_id=before,
        at=now,
        data={"to_agent_id": to_user_id, "to_agent": target.email},
    )
    await update_ticket(session, actor, chat.ticket_id, {"assignee_id": to_user_id}, at=now)
    changed(session, chat)
    return chat


async def transfer_to_team(
    session: AsyncSession,
    actor: Actor,
    public_id: str,
    *,
    team_id: int,
    at: datetime | None = None,
) -> ChatSession:
    """Hand an active chat to a team: it waits again (keeping its place) and is offered only to
    that team's members; the ticket goes to the team, unassigned. `live.transferred` records it
    (the contact's answer time stays its first answer)."""
    actor.require(Scope.tickets_write)
    now = at or utcnow()
    chat = await chat_by_id(session, public_id)
    if chat.state != "active":
        raise Conflict("only an active chat can be transferred")
    if chat.agent_id != actor.user_id and not actor.can(Scope.reports_read):
        raise Forbidden("only the chat's agent (or a supervisor) transfers it")
    team = await session.get(Team, team_id)
    if team is None:
        raise Invalid("team", "no such team")
    before = chat.agent_id
    moved = await session.execute(
        update(ChatSession)
        .where(ChatSession.id == chat.id, ChatSession.state == "active")
        .values(state="queued", agent_id=None, team_id=team.id, offered_to=None, offered_at=None)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this chat changed meanwhile; reload")
    await session.refresh(chat)
    fact(
        session,
        "live.transferred",
        chat,
        await queue_of(session, chat),
        agent_id=before,
        team_id=team.id,
        at=now,
        data={"to_team_id": team.id, "to_team": team.name},
    )
    await update_ticket(
        session, actor, chat.ticket_id, {"team_id": team.id, "assignee_id": None}, at=now
    )
    changed(session, chat)
    return chat
