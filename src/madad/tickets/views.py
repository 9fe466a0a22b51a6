"""Console pages of the tickets domain: the inbox (views, counts, filters, bulk changes) and
the ticket page (conversation with system events, reply/note, properties, merge, customer 360).

Pages are server-rendered; htmx swaps fragments (the inbox list, the counts, the conversation)
when the live stream says something changed. Statement counts per page are bounded whatever
the data size (tests/e2e/test_console.py counts them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madad.activity import service as facts
from madad.auth import service as auth
from madad.auth.models import Team, User
from madad.auth.permissions import Actor
from madad.contacts import service as contacts
from madad.contacts.organisations import get_organisation
from madad.db import utcnow
from madad.errors import Invalid
from madad.tickets import changes, queries, service
from madad.tickets.models import Priority, Status
from madad.tickets.queries import TicketFilter
from madad.web import i18n
from madad.web.console import Agent
from madad.web.deps import DB, PathId, get_store
from madad.web.labels import LABELS
from madad.web.templating import render

router = APIRouter(include_in_schema=False)

VIEWS = ("mine", "unassigned", "open", "pending", "on_hold", "solved", "all")
SORTS = ("last_activity", "priority", "waiting", "created")
CHANNELS = ("email", "chat", "phone", "api", "portal")
EVENT_KINDS = (
    "ticket.status_changed",
    "ticket.assigned",
    "ticket.team_changed",
    "ticket.priority_changed",
    "ticket.escalated",
    "ticket.deescalated",
    "ticket.tags_changed",
    "ticket.merged",
    "ticket.merged_in",
    "ticket.linked",
)


def view_title(view: str) -> str:
    titles = {
        "mine": i18n.gettext("Mine"),
        "unassigned": i18n.gettext("Unassigned"),
        "open": i18n.gettext("All open"),
        "pending": i18n.gettext("Pending"),
        "on_hold": i18n.gettext("On hold"),
        "solved": i18n.gettext("Solved"),
        "all": i18n.gettext("All tickets"),
    }
    return titles[view]


@dataclass
class InboxQuery:
    view: str = "open"
    channel: str | None = None
    team: int | None = None
    tag: str | None = None
    q: str | None = None
    sort: str = "last_activity"

    def filter(self, actor: Actor) -> TicketFilter:
        f = TicketFilter(channel=self.channel, team_id=self.team, q=self.q or None)
        if self.tag:
            f.tags = [self.tag]
        if self.view == "mine":
            f.assignee_id, f.status = actor.user_id, queries.ACTIVE
        elif self.view == "unassigned":
            f.unassigned, f.status = True, ("new", "open")
        elif self.view == "open":
            f.status = ("new", "open")
        elif self.view in ("pending", "on_hold", "solved"):
            f.status = (self.view,)
        return f

    def params(self, **override: Any) -> str:
        values = {
            "view": self.view,
            "channel": self.channel,
            "team": self.team,
            "tag": self.tag,
            "q": self.q,
            "sort": self.sort,
            **override,
        }
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _inbox_query(
    view: str, channel: str | None, team: str | None, tag: str | None, q: str | None, sort: str
) -> InboxQuery:
    if view not in VIEWS:
        raise Invalid("view", f"one of {', '.join(VIEWS)}")
    if sort not in SORTS:
        raise Invalid("sort", f"one of {', '.join(SORTS)}")
    team_id = None
    if team:
        if not team.isdigit():
            raise Invalid("team", "a team id")
        team_id = int(team)
    return InboxQuery(view, channel or None, team_id, (tag or "").strip() or None, q, sort)


async def _people(session: Any) -> tuple[list[User], list[Team]]:
    users = await auth.list_users(session)
    teams = [t for t, _members in await auth.list_teams(session)]
    return users, teams


Q = Annotated[str | None, Query(max_length=200)]


async def _list_context(
    session: Any, who: Any, iq: InboxQuery, cursor: str | None
) -> dict[str, Any]:
    page = await queries.list_tickets(
        session, who.actor, iq.filter(who.actor), sort=iq.sort, cursor=cursor, limit=50
    )
    return {"page": page, "iq": iq, "labels": LABELS}


@router.get("/", include_in_schema=False)
async def home() -> Response:
    return RedirectResponse("/inbox", status_code=303)


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(
    request: Request,
    session: DB,
    who: Agent,
    view: str = "open",
    channel: Q = None,
    team: Q = None,
    tag: Q = None,
    q: Q = None,
    sort: str = "last_activity",
) -> Response:
    iq = _inbox_query(view, channel, team, tag, q, sort)
    users, teams = await _people(session)
    counts = await queries.inbox_counts(session, who.actor)
    context = await _list_context(session, who, iq, None)
    context.update(
        counts=counts,
        users=users,
        teams=teams,
        channels=CHANNELS,
        views=VIEWS,
        view_title=view_title,
        sorts=SORTS,
        statuses=[s.value for s in Status if s != Status.closed],
        cap=queries.COUNT_CAP,
    )
    return render(request, "inbox.html", context)


@router.get("/inbox/list", response_class=HTMLResponse)
async def inbox_list(
    request: Request,
    session: DB,
    who: Agent,
    view: str = "open",
    channel: Q = None,
    team: Q = None,
    tag: Q = None,
    q: Q = None,
    sort: str = "last_activity",
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    iq = _inbox_query(view, channel, team, tag, q, sort)
    context = await _list_context(session, who, iq, cursor)
    return render(request, "inbox_rows.html" if cursor else "inbox_list.html", context)


@router.get("/inbox/counts", response_class=HTMLResponse)
async def inbox_counts(
    request: Request,
    session: DB,
    who: Agent,
    view: str = "open",
    channel: Q = None,
    team: Q = None,
) -> Response:
    iq = _inbox_query(view, channel, team, None, None, "last_activity")
    _users, teams = await _people(session)
    counts = await queries.inbox_counts(session, who.actor)
    context = {
        "counts": counts,
        "teams": teams,
        "channels": CHANNELS,
        "views": VIEWS,
        "view_title": view_title,
        "iq": iq,
        "labels": LABELS,
        "cap": queries.COUNT_CAP,
    }
    return render(request, "inbox_counts.html", context)


@router.post("/inbox/bulk", response_class=HTMLResponse)
async def bulk_change(
    request: Request,
    session: DB,
    who: Agent,
    ticket_ids: Annotated[list[int], Form(max_length=200)],
    action: Annotated[str, Form(max_length=40)],
) -> Response:
    """Apply one change to the selected tickets: `assign:me`, `assign:<user id>`,
    `assign:none`, `team:<id>`, `status:<status>`."""
    change = _bulk_change(action, who.actor)
    for ticket_id in dict.fromkeys(ticket_ids):
        await changes.update_ticket(session, who.actor, ticket_id, change)
    message = i18n.ngettext(
        "%(num)d ticket changed.", "%(num)d tickets changed.", len(set(ticket_ids))
    )
    return Response(status_code=204, headers={"HX-Trigger": _toast(message)})


def _toast(message: str) -> str:
    return json.dumps({"madad:toast": {"message": message}})


def _bulk_change(action: str, actor: Actor) -> dict[str, Any]:
    kind, _, value = action.partition(":")
    if kind == "assign":
        if value == "me":
            return {"assignee_id": actor.user_id}
        if value == "none":
            return {"assignee_id": None}
        if value.isdigit():
            return {"assignee_id": int(value)}
    if kind == "team" and (value.isdigit() or value == "none"):
        return {"team_id": int(value) if value.isdigit() else None}
    if kind == "status" and value in {s.value for s in Status}:
        return {"status": value}
    raise Invalid("action", "choose what to do with the selected tickets")


# --- one ticket -----------------------------------------------------------------------------


@dataclass
class Entry:
    """One line of the conversation: a message, or a system event."""

    at: datetime
    kind: str  # "message" | "event"
    message: Any = None
    event: Any = None


async def _conversation(session: Any, actor: Actor, ticket_id: int) -> list[Entry]:
    messages = await queries.list_messages(session, actor, ticket_id, limit=500)
    events = await facts.list_facts(
        session,
        facts.FactFilter(ticket_id=ticket_id, kind_prefix="ticket."),
        limit=500,
    )
    entries = [Entry(m.message.created_at, "message", message=m) for m in messages.items]
    entries += [Entry(e.at, "event", event=e) for e in events if e.kind in EVENT_KINDS]
    entries.sort(key=lambda e: (e.at, 0 if e.kind == "message" else 1))
    return entries


async def _customer(session: Any, actor: Actor, contact_id: int, ticket_id: int) -> dict[str, Any]:
    """The customer 360: who they are, their organisation, their history, notes about them."""
    contact = await contacts.get_contact(session, actor, contact_id)
    history = await queries.contact_tickets(session, actor, contact_id, limit=20)
    notes = await contacts.list_notes(session, actor, contact_id)
    organisation = None
    if contact.contact.organisation_id:
        organisation = await get_organisation(session, actor, contact.contact.organisation_id)
    earlier = [t for t in history if t.id != ticket_id]
    last_contact = max((t.last_activity_at for t in earlier), default=None)
    return {
        "customer": contact,
        "organisation": organisation,
        "history": earlier,
        "notes": notes,
        "last_contact": last_contact,
        "local_time": (
            i18n.fmt_time_in(utcnow(), contact.contact.time_zone)
            if contact.contact.time_zone
            else None
        ),
    }


async def _ticket_context(session: Any, who: Any, ticket_id: int) -> dict[str, Any]:
    view = await queries.get_ticket(session, who.actor, ticket_id)
    users, teams = await _people(session)
    context = {
        "t": view.ticket,
        "view": view,
        "entries": await _conversation(session, who.actor, ticket_id),
        "users": users,
        "users_by_id": {u.id: u for u in users},
        "teams": teams,
        "teams_by_id": {t.id: t for t in teams},
        "statuses": [s.value for s in Status],
        "priorities": [p.value for p in Priority],
        "labels": LABELS,
        "now": utcnow(),
    }
    context.update(await _customer(session, who.actor, view.ticket.contact_id, ticket_id))
    return context


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
async def ticket_page(request: Request, session: DB, who: Agent, ticket_id: PathId) -> Response:
    view = await queries.get_ticket(session, who.actor, ticket_id)
    if view.ticket.merged_into_id:
        return RedirectResponse(f"/tickets/{view.ticket.merged_into_id}", status_code=303)
    return render(request, "ticket.html", await _ticket_context(session, who, ticket_id))


@router.get("/tickets/{ticket_id}/conversation", response_class=HTMLResponse)
async def conversation(request: Request, session: DB, who: Agent, ticket_id: PathId) -> Response:
    return render(request, "ticket_main.html", await _ticket_context(session, who, ticket_id))


async def _after_change(request: Request, session: DB, who: Any, ticket_id: int) -> Response:
    await session.flush()
    await facts.flush_facts(session)  # so that the page shows the events just recorded
    return render(request, "ticket_main.html", await _ticket_context(session, who, ticket_id))


@router.post("/tickets/{ticket_id}/reply", response_class=HTMLResponse)
async def reply(
    request: Request,
    session: DB,
    who: Agent,
    ticket_id: PathId,
    text: Annotated[str, Form(max_length=100_000)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    if not text.strip():
        raise Invalid("text", i18n.gettext("write a reply first"))
    await service.reply(
        session,
        who.actor,
        ticket_id,
        text=text,
        status=status or None,
        store=get_store(request),
    )
    return await _after_change(request, session, who, ticket_id)


@router.post("/tickets/{ticket_id}/note", response_class=HTMLResponse)
async def note(
    request: Request,
    session: DB,
    who: Agent,
    ticket_id: PathId,
    text: Annotated[str, Form(max_length=100_000)] = "",
) -> Response:
    if not text.strip():
        raise Invalid("text", i18n.gettext("write a note first"))
    await service.add_note(session, who.actor, ticket_id, text=text, store=get_store(request))
    return await _after_change(request, session, who, ticket_id)


@router.post("/tickets/{ticket_id}/properties", response_class=HTMLResponse)
async def properties(
    request: Request,
    session: DB,
    who: Agent,
    ticket_id: PathId,
    status: Annotated[str, Form(max_length=16)],
    priority: Annotated[str, Form(max_length=16)],
    assignee: Annotated[str, Form(max_length=20)] = "",
    team: Annotated[str, Form(max_length=20)] = "",
    tags: Annotated[str, Form(max_length=2000)] = "",
    escalation_level: Annotated[int, Form(ge=0, le=10)] = 0,
) -> Response:
    change: dict[str, Any] = {
        "status": status,
        "priority": priority,
        "assignee_id": _optional_id(assignee, "assignee"),
        "team_id": _optional_id(team, "team"),
        "tags": [t.strip() for t in tags.split(",") if t.strip()],
        "escalation_level": escalation_level,
    }
    await changes.update_ticket(session, who.actor, ticket_id, change)
    return await _after_change(request, session, who, ticket_id)


@router.post("/tickets/{ticket_id}/escalate", response_class=HTMLResponse)
async def escalate(request: Request, session: DB, who: Agent, ticket_id: PathId) -> Response:
    view = await queries.get_ticket(session, who.actor, ticket_id)
    level = view.ticket.escalation_level + 1
    await changes.update_ticket(session, who.actor, ticket_id, {"escalation_level": level})
    return await _after_change(request, session, who, ticket_id)


@router.post("/tickets/{ticket_id}/merge")
async def merge(
    request: Request,
    session: DB,
    who: Agent,
    ticket_id: PathId,
    into: Annotated[str, Form(max_length=20)],
) -> Response:
    target = into.strip().removeprefix("#")
    if not target.isdigit():
        raise Invalid("into", i18n.gettext("give the number of the ticket to merge into"))
    merged = await changes.merge_tickets(
        session, who.actor, source_id=ticket_id, target_id=int(target)
    )
    return Response(status_code=204, headers={"HX-Redirect": f"/tickets/{merged.id}"})


def _optional_id(value: str, name: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit():
        raise Invalid(name, "an id")
    return int(value)
