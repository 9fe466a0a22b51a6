"""Reading tickets: filtered, sorted, keyset-paginated lists with a bounded number of queries,
one ticket with its tags, links and contact, and a ticket's messages with their attachments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import Actor, Scope
from madad.contacts.models import Contact, ContactIdentity
from madad.errors import Invalid, NotFound
from madad.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from madad.tickets.models import (
    PRIORITY_RANK,
    Attachment,
    Message,
    Ticket,
    TicketLink,
    TicketTag,
)
from madad.tickets.rules import clean_priority, clean_status, clean_tag

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)


@dataclass
class ContactSummary:
    id: int
    name: str | None
    email: str | None = None
    phone: str | None = None
    handle: str | None = None


@dataclass
class TicketView:
    ticket: Ticket
    tags: list[str] = field(default_factory=list)
    contact: ContactSummary | None = None
    links: list[TicketLink] = field(default_factory=list)


@dataclass
class TicketFilter:
    status: Sequence[str] | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    team_id: int | None = None
    no_team: bool = False
    channel: str | None = None
    tags: Sequence[str] = ()
    contact_id: int | None = None
    organisation_id: int | None = None
    priority: Sequence[str] | None = None
    q: str | None = None
    include_merged: bool = False


def _priority_rank() -> Any:
    return case({p.value: r for p, r in PRIORITY_RANK.items()}, value=Ticket.priority, else_=1)


# name → [(expression, descending)], always ending in the id for a total order
SORTS: dict[str, list[tuple[Any, bool]]] = {
    "last_activity": [(Ticket.last_activity_at, True), (Ticket.id, True)],
    "created": [(Ticket.created_at, True), (Ticket.id, True)],
    "oldest": [(Ticket.created_at, False), (Ticket.id, False)],
    "priority": [(_priority_rank(), True), (Ticket.last_activity_at, True), (Ticket.id, True)],
    # Customers waiting longest first, then tickets nobody waits on (NULL, last) by id.
    "waiting": [(Ticket.waiting_since, False), (Ticket.id, False)],
}


def _where(f: TicketFilter) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if not f.include_merged:
        conds.append(Ticket.merged_into_id.is_(None))
    if f.status:
        conds.append(Ticket.status.in_([clean_status(s) for s in f.status]))
    if f.unassigned:
        conds.append(Ticket.assignee_id.is_(None))
    elif f.assignee_id is not None:
        conds.append(Ticket.assignee_id == f.assignee_id)
    if f.no_team:
        conds.append(Ticket.team_id.is_(None))
    elif f.team_id is not None:
        conds.append(Ticket.team_id == f.team_id)
    if f.channel:
        conds.append(Ticket.channel == f.channel)
    if f.contact_id is not None:
        conds.append(Ticket.contact_id == f.contact_id)
    if f.organisation_id is not None:
        conds.append(Ticket.organisation_id == f.organisation_id)
    if f.priority:
        conds.append(Ticket.priority.in_([clean_priority(p) for p in f.priority]))
    for raw in f.tags:
        tag = clean_tag(raw, "tag")
        conds.append(Ticket.id.in_(select(TicketTag.ticket_id).where(TicketTag.tag == tag)))
    if f.q:
        needle = f.q.strip()
        if len(needle) > 200:
            raise Invalid("q", "at most 200 characters")
        by_subject = func.lower(Ticket.subject).contains(needle.lower(), autoescape=True)
        number = needle.removeprefix("#")
        if number.isdigit() and number.isascii() and len(number) < 10:
            conds.append(or_(Ticket.id == int(number), by_subject))
        elif needle:
            conds.append(by_subject)
    return conds


def _after(sort: list[tuple[Any, bool]], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the sort order (a keyset condition)."""
    if sort is SORTS["waiting"]:
        waiting, ticket_id = values
        if waiting is None:
            return and_(Ticket.waiting_since.is_(None), Ticket.id > ticket_id)
        return or_(
            Ticket.waiting_since > waiting,
            and_(Ticket.waiting_since == waiting, Ticket.id > ticket_id),
            Ticket.waiting_since.is_(None),
        )
    ors = []
    for i, (expr, desc) in enumerate(sort):
        eqs = [sort[j][0] == values[j] for j in range(i)]
        cmp = expr < values[i] if desc else expr > values[i]
        ors.append(and_(*eqs, cmp))
    return or_(*ors)


def _cursor_values(ticket: Ticket, sort_name: str) -> list[Any]:
    if sort_name == "last_activity":
        return [ticket.last_activity_at, ticket.id]
    if sort_name in ("created", "oldest"):
        return [ticket.created_at, ticket.id]
    if sort_name == "priority":
        return [PRIORITY_RANK.get(ticket.priority, 1), ticket.last_activity_at, ticket.id]
    return [ticket.waiting_since, ticket.id]


async def _views(session: AsyncSession, tickets: list[Ticket]) -> list[TicketView]:
    """Tags and contact summaries for a page of tickets: two queries whatever its size."""
    if not tickets:
        return []
    ids = [t.id for t in tickets]
    tags: dict[int, list[str]] = {}
    for ticket_id, tag in (
        await session.execute(
            select(TicketTag.ticket_id, TicketTag.tag)
            .where(TicketTag.ticket_id.in_(ids))
            .order_by(TicketTag.ticket_id, TicketTag.tag)
        )
    ).all():
        tags.setdefault(ticket_id, []).append(tag)
    contact_ids = sorted({t.contact_id for t in tickets})
    summaries = await contact_summaries(session, contact_ids)
    return [TicketView(t, tags.get(t.id, []), summaries.get(t.contact_id)) for t in tickets]


async def contact_summaries(session: AsyncSession, ids: Sequence[int]) -> dict[int, ContactSummary]:
    if not ids:
        return {}
    rows = await session.execute(
        select(Contact.id, Contact.name, ContactIdentity.kind, ContactIdentity.value)
        .outerjoin(
            ContactIdentity,
            and_(ContactIdentity.contact_id == Contact.id, ContactIdentity.is_primary.is_(True)),
        )
        .where(Contact.id.in_(list(ids)))
    )
    out: dict[int, ContactSummary] = {}
    for cid, name, kind, value in rows.all():
        summary = out.setdefault(cid, ContactSummary(cid, name))
        if kind in ("email", "phone", "handle"):
            setattr(summary, kind, value)
    return out


async def list_tickets(
    session: AsyncSession,
    actor: Actor,
    f: TicketFilter,
    *,
    sort: str = "last_activity",
    cursor: str | None = None,
    limit: int = 50,
) -> Page[TicketView]:
    """One page of tickets: 1 query for the page, 2 for tags and contacts."""
    actor.require(Scope.tickets_read)
    if sort not in SORTS:
        raise Invalid("sort", f"one of {', '.join(SORTS)}")
    limit = clamp_limit(limit)
    order = SORTS[sort]
    if sort == "priority":
        rows = await _by_priority(session, f, cursor, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(_cursor_values(rows[-1], sort)) if more and rows else None
        return Page(await _views(session, rows), next_cursor)
    stmt = select(Ticket).where(*_where(f))
    if cursor:
        values = decode_cursor(cursor, len(order))
        stmt = stmt.where(_after(order, values))
    keys = [e.desc() if d else e.asc() for e, d in order]
    if sort == "waiting":
        keys[0] = keys[0].nulls_last()  # PostgreSQL's default for ASC; SQLite needs telling
    stmt = stmt.order_by(*keys).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(_cursor_values(rows[-1], sort)) if more and rows else None
    return Page(await _views(session, rows), next_cursor)


async def _by_priority(
    session: AsyncSession, f: TicketFilter, cursor: str | None, wanted: int
) -> list[Ticket]:
    """Highest priority first, then latest activity: one query per priority level, in rank
    order, until the page is full (each is served by an activity index; a CASE over the
    priority, sorted, is not). At most four queries."""
    rank, after = max(PRIORITY_RANK.values()), None
    if cursor:
        rank, last_activity, ticket_id = decode_cursor(cursor, 3)
        if not isinstance(rank, int) or not isinstance(last_activity, datetime):
            raise Invalid("cursor", "not a cursor this list handed out")
        after = and_(
            Ticket.last_activity_at <= last_activity,
            or_(Ticket.last_activity_at < last_activity, Ticket.id < ticket_id),
        )
    rows: list[Ticket] = []
    for priority, level in sorted(PRIORITY_RANK.items(), key=lambda item: -item[1]):
        if level > rank:
            continue
        stmt = select(Ticket).where(*_where(f), Ticket.priority == priority.value)
        if level == rank and after is not None:
            stmt = stmt.where(after)
        stmt = stmt.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        rows += (await session.execute(stmt.limit(wanted - len(rows)))).scalars()
        if len(rows) >= wanted:
            break
    return rows


async def count_tickets(session: AsyncSession, actor: Actor, f: TicketFilter) -> int:
    actor.require(Scope.tickets_read)
    return await session.scalar(select(func.count()).select_from(Ticket).where(*_where(f))) or 0


async def get_ticket(session: AsyncSession, actor: Actor, ticket_id: int) -> TicketView:
    actor.require(Scope.tickets_read)
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    view = (await _views(session, [ticket]))[0]
    view.links = list(
        (
            await session.execute(
                select(TicketLink)
                .where(or_(TicketLink.ticket_id == ticket_id, TicketLink.other_id == ticket_id))
                .order_by(TicketLink.id)
            )
        ).scalars()
    )
    return view


@dataclass
class MessageView:
    message: Message
    attachments: list[Attachment]


async def list_messages(
    session: AsyncSession,
    actor: Actor,
    ticket_id: int,
    *,
    include_notes: bool = True,
    after_id: int | None = None,
    limit: int = 200,
) -> Page[MessageView]:
    """A ticket's messages in time order, with attachments: two queries per page."""
    actor.require(Scope.tickets_read)
    if await session.get(Ticket, ticket_id) is None:
        raise NotFound(f"ticket {ticket_id} does not exist")
    limit = clamp_limit(limit, maximum=500)
    stmt = select(Message).where(Message.ticket_id == ticket_id)
    if not include_notes:
        stmt = stmt.where(Message.visibility == "public")
    if after_id is not None:
        stmt = stmt.where(Message.id > after_id)
    rows = list(
        (
            await session.execute(stmt.order_by(Message.created_at, Message.id).limit(limit + 1))
        ).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    files: dict[int, list[Attachment]] = {}
    if rows:
        for a in (
            await session.execute(
                select(Attachment)
                .where(Attachment.message_id.in_([m.id for m in rows]))
                .order_by(Attachment.id)
            )
        ).scalars():
            files.setdefault(a.message_id, []).append(a)
    return Page(
        [MessageView(m, files.get(m.id, [])) for m in rows],
        str(rows[-1].id) if more and rows else None,
    )


async def get_attachment(session: AsyncSession, actor: Actor, attachment_id: int) -> Attachment:
    actor.require(Scope.tickets_read)
    attachment = await session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(f"attachment {attachment_id} does not exist")
    return attachment


async def contact_tickets(
    session: AsyncSession, actor: Actor, contact_id: int, *, limit: int = 50
) -> list[Ticket]:
    """A contact's tickets on every channel, newest first (the customer's history)."""
    actor.require(Scope.tickets_read)
    rows = await session.execute(
        select(Ticket)
        .where(Ticket.contact_id == contact_id, Ticket.merged_into_id.is_(None))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(clamp_limit(limit))
    )
    return list(rows.scalars())


async def messages_by_ids(session: AsyncSession, ids: Sequence[int]) -> dict[int, MessageView]:
    """Messages (with attachments) by id, for consumers that enrich facts: two queries."""
    if not ids:
        return {}
    rows = list((await session.execute(select(Message).where(Message.id.in_(list(ids))))).scalars())
    files: dict[int, list[Attachment]] = {}
    if rows:
        for a in (
            await session.execute(
                select(Attachment).where(Attachment.message_id.in_([m.id for m in rows]))
            )
        ).scalars():
            files.setdefault(a.message_id, []).append(a)
    return {m.id: MessageView(m, files.get(m.id, [])) for m in rows}


# --- the console's inbox counts ---------------------------------------------------------------

ACTIVE = ("new", "open", "pending", "on_hold")
COUNT_CAP = 10_000


@dataclass
class InboxCounts:
    """Live counts of the inbox views; `solved` is capped at COUNT_CAP (shown as "10,000+")."""

    mine: int = 0
    unassigned: int = 0
    open: int = 0
    pending: int = 0
    on_hold: int = 0
    solved: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)
    by_team: dict[int, int] = field(default_factory=dict)


async def inbox_counts(session: AsyncSession, actor: Actor) -> InboxCounts:
    """Every view's count in two queries: one grouped, index-only pass over the unsolved
    tickets (ix_tickets_unsolved_counts), one capped count of solved ones."""
    actor.require(Scope.tickets_read)
    rows = await session.execute(
        select(Ticket.status, Ticket.channel, Ticket.team_id, Ticket.assignee_id, func.count())
        .where(Ticket.status.in_(ACTIVE), Ticket.merged_into_id.is_(None))
        .group_by(Ticket.status, Ticket.channel, Ticket.team_id, Ticket.assignee_id)
    )
    counts = InboxCounts()
    for status, channel, team_id, assignee_id, n in rows.all():
        if status in ("new", "open"):
            counts.open += n
            if assignee_id is None:
                counts.unassigned += n
            counts.by_channel[channel] = counts.by_channel.get(channel, 0) + n
            if team_id is not None:
                counts.by_team[team_id] = counts.by_team.get(team_id, 0) + n
        elif status == "pending":
            counts.pending += n
        else:
            counts.on_hold += n
        if assignee_id is not None and assignee_id == actor.user_id:
            counts.mine += n
    solved = (
        select(Ticket.id)
        .where(Ticket.status == "solved", Ticket.merged_into_id.is_(None))
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    counts.solved = await session.scalar(select(func.count()).select_from(solved)) or 0
    return counts
