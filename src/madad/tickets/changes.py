"""Changes to a ticket: status, assignee, team, priority, tags, custom fields, escalation,
merges and links — each recording its fact. With `service.py`, the only writers of tickets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.auth.models import Team, User
from madad.auth.permissions import Actor, Scope
from madad.contacts import service as contacts
from madad.db import utcnow
from madad.errors import Conflict, Invalid, NotFound
from madad.tickets.models import Message, Status, Ticket, TicketLink, TicketTag
from madad.tickets.rules import (
    MAX_ESCALATION,
    clean_priority,
    clean_status,
    clean_subject,
    clean_tags,
)

# --- loading ----------------------------------------------------------------------------------


async def live_ticket(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> Ticket:
    """The ticket, following merges to the surviving one."""
    seen: set[int] = set()
    current: int | None = ticket_id
    while current is not None:
        stmt = select(Ticket).where(Ticket.id == current)
        if lock:
            # A locking read must see the row as stored now, not as this session last saw it
            # (the ingress writes tickets with Core statements).
            stmt = stmt.with_for_update().execution_options(populate_existing=True)
        ticket = (await session.execute(stmt)).scalar_one_or_none()
        if ticket is None:
            break
        if ticket.merged_into_id is None or ticket.merged_into_id in seen:
            return ticket
        seen.add(ticket.id)
        current = ticket.merged_into_id
    raise NotFound(f"ticket {ticket_id} does not exist")


async def get_ticket_row(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> Ticket:
    stmt = select(Ticket).where(Ticket.id == ticket_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    ticket = (await session.execute(stmt)).scalar_one_or_none()
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    return ticket


def ensure_writable(ticket: Ticket) -> None:
    if ticket.merged_into_id is not None:
        raise Conflict(f"ticket {ticket.id} was merged into ticket {ticket.merged_into_id}")


def record_fact(
    session: AsyncSession,
    kind: str,
    ticket: Ticket,
    *,
    agent_id: int | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    facts.record(
        session,
        kind,
        ticket_id=ticket.id,
        contact_id=ticket.contact_id,
        agent_id=agent_id,
        team_id=ticket.team_id,
        channel=ticket.channel,
        data=data,
        at=at,
    )


# --- changes to a ticket ----------------------------------------------------------------------


async def set_status(
    session: AsyncSession,
    ticket: Ticket,
    status: str,
    *,
    agent_id: int | None,
    at: datetime | None = None,
) -> None:
    before = ticket.status
    if status == before:
        return
    if before == Status.closed:
        raise Conflict(f"ticket {ticket.id} is closed; open a follow-up ticket instead")
    if status == Status.new:
        raise Invalid("status", "a ticket cannot be set back to new")
    now = at or utcnow()
    ticket.status = status
    if status == Status.solved:
        ticket.solved_at = now
        ticket.waiting_since = None
    elif status == Status.closed:
        ticket.solved_at = ticket.solved_at or now
        ticket.waiting_since = None
    elif before == Status.solved:
        ticket.reopen_count += 1
        ticket.solved_at = None
    if status in (Status.pending, Status.on_hold):
        ticket.waiting_since = None
    ticket.updated_at = now
    record_fact(
        session,
        "ticket.status_changed",
        ticket,
        agent_id=agent_id,
        at=now,
        data={
            "from": before,
            "to": status,
            "by": "agent" if agent_id else "system",
            "assignee_id": ticket.assignee_id,
        },
    )


async def set_assignee(
    session: AsyncSession,
    ticket: Ticket,
    assignee_id: int | None,
    *,
    agent_id: int | None,
    at: datetime | None = None,
) -> None:
    if assignee_id == ticket.assignee_id:
        return
    if assignee_id is not None:
        user = await session.get(User, assignee_id)
        if user is None or not user.is_active:
            raise Invalid("assignee_id", f"no active agent with id {assignee_id}")
    before = ticket.assignee_id
    ticket.assignee_id = assignee_id
    ticket.updated_at = at or utcnow()
    record_fact(
        session,
        "ticket.assigned",
        ticket,
        agent_id=agent_id,
        at=at,
        data={"from": before, "to": assignee_id},
    )


async def set_team(
    session: AsyncSession,
    ticket: Ticket,
    team_id: int | None,
    *,
    agent_id: int | None,
    at: datetime | None = None,
) -> None:
    if team_id == ticket.team_id:
        return
    if team_id is not None and await session.get(Team, team_id) is None:
        raise Invalid("team_id", f"no team with id {team_id}")
    before = ticket.team_id
    ticket.team_id = team_id
    ticket.updated_at = at or utcnow()
    record_fact(
        session,
        "ticket.team_changed",
        ticket,
        agent_id=agent_id,
        at=at,
        data={"from": before, "to": team_id},
    )


async def current_tags(session: AsyncSession, ticket_id: int) -> list[str]:
    rows = await session.execute(
        select(TicketTag.tag).where(TicketTag.ticket_id == ticket_id).order_by(TicketTag.tag)
    )
    return list(rows.scalars())


async def add_tags(
    session: AsyncSession,
    ticket: Ticket,
    tags: list[str],
    *,
    agent_id: int | None,
    at: datetime | None = None,
) -> None:
    have = set(await current_tags(session, ticket.id))
    added = [t for t in tags if t not in have]
    if added:
        session.add_all([TicketTag(ticket_id=ticket.id, tag=t) for t in added])
        record_fact(
            session,
            "ticket.tags_changed",
            ticket,
            agent_id=agent_id,
            at=at,
            data={"added": added, "removed": []},
        )


async def replace_tags(
    session: AsyncSession,
    ticket: Ticket,
    *,
    add: list[str],
    remove: list[str],
    replace: list[str] | None,
    agent_id: int | None,
    at: datetime | None = None,
) -> None:
    have = await current_tags(session, ticket.id)
    wanted = list(replace) if replace is not None else list(have)
    wanted += [t for t in add if t not in wanted]
    wanted = [t for t in wanted if t not in remove]
    if len(wanted) > 50:
        raise Invalid("tags", "at most 50 tags")
    added = [t for t in wanted if t not in have]
    removed = [t for t in have if t not in wanted]
    if removed:
        await session.execute(
            delete(TicketTag).where(TicketTag.ticket_id == ticket.id, TicketTag.tag.in_(removed))
        )
    if added:
        session.add_all([TicketTag(ticket_id=ticket.id, tag=t) for t in added])
    if added or removed:
        ticket.updated_at = at or utcnow()
        record_fact(
            session,
            "ticket.tags_changed",
            ticket,
            agent_id=agent_id,
            at=at,
            data={"added": added, "removed": removed},
        )


TICKET_FIELDS = {
    "subject",
    "status",
    "priority",
    "assignee_id",
    "team_id",
    "tags",
    "add_tags",
    "remove_tags",
    "custom_fields",
    "escalation_level",
    "escalation_reason",
}


async def update_ticket(
    session: AsyncSession,
    actor: Actor,
    ticket_id: int,
    changes: Mapping[str, Any],
    *,
    at: datetime | None = None,
) -> Ticket:
    """Apply the given changes in one go; each records its own fact.

    `custom_fields` is merged (a null value removes a field); `tags` replaces the tags,
    `add_tags` / `remove_tags` edit them.
    """
    actor.require(Scope.tickets_write)
    unknown = set(changes) - TICKET_FIELDS
    if unknown:
        raise Invalid(sorted(unknown)[0], "not a ticket field")
    ticket = await get_ticket_row(session, ticket_id, lock=True)
    ensure_writable(ticket)
    now = at or utcnow()
    agent = actor.user_id
    changed: list[str] = []
    if "subject" in changes:
        subject = clean_subject(changes["subject"])
        if subject is None:
            raise Invalid("subject", "must not be empty")
        if subject != ticket.subject:
            ticket.subject = subject
            changed.append("subject")
    if "custom_fields" in changes:
        patch = contacts.clean_custom(changes["custom_fields"], "custom_fields")
        merged = {**(ticket.custom_fields or {}), **patch}
        ticket.custom_fields = {k: v for k, v in merged.items() if v is not None}
        contacts.clean_custom(ticket.custom_fields, "custom_fields")
        changed.append("custom_fields")
    if changed:
        ticket.updated_at = now
        record_fact(
            session, "ticket.updated", ticket, agent_id=agent, at=now, data={"fields": changed}
        )
    if "priority" in changes:
        priority = clean_priority(changes["priority"])
        if priority != ticket.priority:
            before = ticket.priority
            ticket.priority = priority
            ticket.updated_at = now
            record_fact(
                session,
                "ticket.priority_changed",
                ticket,
                agent_id=agent,
                at=now,
                data={"from": before, "to": priority},
            )
    if "team_id" in changes:
        await set_team(session, ticket, changes["team_id"], agent_id=agent, at=now)
    if "assignee_id" in changes:
        await set_assignee(session, ticket, changes["assignee_id"], agent_id=agent, at=now)
    if {"tags", "add_tags", "remove_tags"} & set(changes):
        await replace_tags(
            session,
            ticket,
            add=clean_tags(changes.get("add_tags") or [], "add_tags"),
            remove=clean_tags(changes.get("remove_tags") or [], "remove_tags"),
            replace=clean_tags(changes["tags"]) if changes.get("tags") is not None else None,
            agent_id=agent,
            at=now,
        )
    if "escalation_level" in changes:
        level = changes["escalation_level"]
        if not isinstance(level, int) or not 0 <= level <= MAX_ESCALATION:
            raise Invalid("escalation_level", f"a whole number from 0 to {MAX_ESCALATION}")
        if level != ticket.escalation_level:
            before = ticket.escalation_level
            ticket.escalation_level = level
            ticket.updated_at = now
            reason = changes.get("escalation_reason")
            if reason is not None and len(reason) > 2000:
                raise Invalid("escalation_reason", "at most 2000 characters")
            record_fact(
                session,
                "ticket.escalated" if level > before else "ticket.deescalated",
                ticket,
                agent_id=agent,
                at=now,
                data={"from": before, "to": level, "reason": reason},
            )
    if "status" in changes:
        await set_status(session, ticket, clean_status(changes["status"]), agent_id=agent, at=now)
    ticket.last_activity_at = max(ticket.last_activity_at, ticket.updated_at)
    await session.flush()
    return ticket


async def merge_tickets(
    session: AsyncSession, actor: Actor, *, source_id: int, target_id: int
) -> Ticket:
    """Fold `source` into `target`: its messages move, it closes and points at the target."""
    actor.require(Scope.tickets_write)
    if source_id == target_id:
        raise Invalid("target_id", "a ticket cannot be merged into itself")
    first, second = sorted((source_id, target_id))  # lock in id order: no deadlock
    locked = {
        t.id: t
        for t in [
            await get_ticket_row(session, first, lock=True),
            await get_ticket_row(session, second, lock=True),
        ]
    }
    source, target = locked[source_id], locked[target_id]
    ensure_writable(source)
    ensure_writable(target)
    if target.status == Status.closed:
        raise Conflict(f"ticket {target_id} is closed and cannot receive a merge")
    now = utcnow()
    if source.contact_id != target.contact_id:
        # The team's replies to another customer move too (the agents keep the whole history),
        # marked with whom they were written for: the target's customer is not shown them.
        for message in await session.scalars(
            select(Message).where(Message.ticket_id == source_id, Message.direction == "outbound")
        ):
            if "for_contact_id" not in message.meta:
                message.meta = {**message.meta, "for_contact_id": source.contact_id}
        await session.flush()
    await session.execute(
        update(Message)
        .where(Message.ticket_id == source_id)
        .values(ticket_id=target_id)
        .execution_options(synchronize_session=False)
    )
    source_tags = await current_tags(session, source_id)
    await add_tags(session, target, source_tags, agent_id=actor.user_id, at=now)
    session.add(
        TicketLink(
            ticket_id=source_id, other_id=target_id, kind="merged", created_by_id=actor.user_id
        )
    )
    before = source.status
    waiting = source.waiting_since
    if waiting is not None and (target.waiting_since is None or waiting < target.waiting_since):
        target.waiting_since = waiting
    source.status = Status.closed.value
    source.merged_into_id = target_id
    source.waiting_since = None
    source.solved_at = source.solved_at or now
    source.updated_at = now
    target.last_activity_at = max(target.last_activity_at, source.last_activity_at, now)
    target.updated_at = now
    record_fact(
        session,
        "ticket.merged",
        source,
        agent_id=actor.user_id,
        at=now,
        data={"into": target_id, "from_status": before},
    )
    record_fact(
        session,
        "ticket.merged_in",
        target,
        agent_id=actor.user_id,
        at=now,
        data={"source_id": source_id},
    )
    await session.flush()
    return target


async def link_tickets(
    session: AsyncSession, actor: Actor, ticket_id: int, other_id: int
) -> TicketLink:
    actor.require(Scope.tickets_write)
    if ticket_id == other_id:
        raise Invalid("other_id", "a ticket cannot be linked to itself")
    ticket = await get_ticket_row(session, ticket_id)
    await get_ticket_row(session, other_id)
    a, b = sorted((ticket_id, other_id))
    existing = await session.scalar(
        select(TicketLink).where(
            TicketLink.ticket_id == a, TicketLink.other_id == b, TicketLink.kind == "related"
        )
    )
    if existing is not None:
        return existing
    link = TicketLink(ticket_id=a, other_id=b, kind="related", created_by_id=actor.user_id)
    session.add(link)
    await session.flush()
    record_fact(
        session,
        "ticket.linked",
        ticket,
        agent_id=actor.user_id,
        data={"other_id": other_id, "kind": "related"},
    )
    return link


# --- when contacts or organisations merge, their tickets follow ---------------------------------


async def _move_contact_tickets(session: AsyncSession, source_id: int, target_id: int) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.contact_id == source_id)
        .values(contact_id=target_id)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Message)
        .where(Message.author_contact_id == source_id)
        .values(author_contact_id=target_id)
        .execution_options(synchronize_session=False)
    )


async def _move_organisation_tickets(session: AsyncSession, source_id: int, target_id: int) -> None:
    await session.execute(
        update(Ticket)
        .where(Ticket.organisation_id == source_id)
        .values(organisation_id=target_id)
        .execution_options(synchronize_session=False)
    )


contacts.contact_merge_movers.append(_move_contact_tickets)
contacts.organisation_merge_movers.append(_move_organisation_tickets)
