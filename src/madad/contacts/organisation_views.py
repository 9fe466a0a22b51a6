"""Console pages of the CRM's organisations: the list with search and a status filter, the
organisation page (plan, seats, active/churned with dates, domains, contacts, tickets, the
timeline of its contacts), editing, churning and reactivating, merging a duplicate."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madad.api_types import SafeStr
from madad.auth.permissions import Actor
from madad.contacts import organisations, service
from madad.contacts.forms import (
    custom_text,
    lines,
    organisation_by_reference,
    parse_count,
    parse_custom,
    parse_date,
)
from madad.contacts.service import OrganisationView
from madad.contacts.views import (
    LABELS,
    PAGE_SIZE,
    TICKETS_SHOWN,
    TIMELINE_PAGE,
    Before,
    Cursor,
    FormId,
    Lines,
    Q,
    RowId,
    contact_display,
    done_message,
    page_url,
    people,
    see_other,
)
from madad.errors import Invalid, MadadError
from madad.tickets import queries
from madad.tickets.queries import TicketFilter
from madad.web import i18n
from madad.web.console import Agent
from madad.web.deps import DB, PathId
from madad.web.templating import render

router = APIRouter(include_in_schema=False)

Short = Annotated[SafeStr, Form(max_length=200)]

# Cards other domains add to the organisation page: each gives a template and its values (or
# None to add nothing) for (session, the agent, the organisation id). The CRM imports none of
# them; they register here, as they register merge movers in contacts.service.
OrganisationPanel = Callable[
    [AsyncSession, Actor, int], Awaitable[tuple[str, dict[str, Any]] | None]
]
organisation_panels: list[OrganisationPanel] = []
StatusQuery = Annotated[str | None, Query(max_length=16)]


def domains_of(text: str) -> list[str]:
    """Domains separated by lines, commas or spaces."""
    return [d for d in re.split(r"[\s,;]+", text) if d]


def as_datetime(day: Any) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0), tzinfo=UTC)


# --- the list --------------------------------------------------------------------------------


async def _organisations_page(
    request: Request,
    session: AsyncSession,
    who: Any,
    *,
    q: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    code: int = 200,
) -> Response:
    page = await organisations.list_organisations(
        session, who.actor, q=q or None, status=status or None, cursor=cursor, limit=PAGE_SIZE
    )
    context = {
        "page": page,
        "q": q or "",
        "status": status or "",
        "next_url": page_url("/organisations", q=q, status=status, cursor=page.next_cursor)
        if page.next_cursor
        else None,
        "first_url": page_url("/organisations", q=q, status=status) if cursor else None,
        "form": form or {"name": "", "plan": "", "seats": "", "domains": ""},
        "error": error,
        "labels": LABELS,
    }
    return render(request, "organisations.html", context, code)


@router.get("/organisations", response_class=HTMLResponse)
async def organisations_list(
    request: Request,
    session: DB,
    who: Agent,
    q: Q = None,
    status: StatusQuery = None,
    cursor: Cursor = None,
) -> Response:
    return await _organisations_page(request, session, who, q=q, status=status, cursor=cursor)


@router.post("/organisations", response_class=HTMLResponse)
async def create_organisation(
    request: Request,
    session: DB,
    who: Agent,
    name: Short = "",
    plan: Annotated[SafeStr, Form(max_length=64)] = "",
    seats: Annotated[SafeStr, Form(max_length=12)] = "",
    domains: Lines = "",
) -> Response:
    form = {"name": name, "plan": plan, "seats": seats, "domains": domains}
    try:
        values = {
            "name": name,
            "plan": plan.strip() or None,
            "seats": parse_count(seats, "seats"),
            "domains": domains_of(domains),
        }
        view = await organisations.create_organisation(session, who.actor, values)
    except MadadError as exc:
        await session.rollback()
        return await _organisations_page(
            request, session, who, form=form, error=exc.detail, code=422
        )
    return see_other(request, f"/organisations/{view.organisation.id}?done=created")


# --- one organisation ------------------------------------------------------------------------


def organisation_form(view: OrganisationView) -> dict[str, str]:
    o = view.organisation
    return {
        "name": o.name,
        "plan": o.plan or "",
        "seats": "" if o.seats is None else str(o.seats),
        "customer_since": o.customer_since.date().isoformat() if o.customer_since else "",
        "domains": "\n".join(view.domains),
        "custom": custom_text(o.custom),
        "notes": o.notes or "",
    }


async def _organisation_context(
    session: AsyncSession, actor: Actor, view: OrganisationView, before: int | None
) -> dict[str, Any]:
    oid = view.organisation.id
    members = await service.list_contacts(session, actor, organisation_id=oid, limit=PAGE_SIZE)
    tickets = await queries.list_tickets(
        session, actor, TicketFilter(organisation_id=oid), sort="created", limit=TICKETS_SHOWN
    )
    ticket_total = len(tickets.items)
    if tickets.next_cursor:
        ticket_total = await queries.count_tickets(
            session, actor, TicketFilter(organisation_id=oid)
        )
    timeline = await organisations.organisation_timeline(
        session, actor, oid, before_id=before, limit=TIMELINE_PAGE + 1
    )
    older = timeline[TIMELINE_PAGE - 1].id if len(timeline) > TIMELINE_PAGE else None
    timeline = timeline[:TIMELINE_PAGE]
    summaries = await queries.contact_summaries(
        session, sorted({f.contact_id for f in timeline if f.contact_id})
    )
    names = {
        cid: s.name or s.email or s.phone or s.handle or i18n.gettext("Contact #%(id)s", id=cid)
        for cid, s in summaries.items()
    }
    panels = [await panel(session, actor, oid) for panel in organisation_panels]
    return {
        "o": view.organisation,
        "view": view,
        "panels": [p for p in panels if p is not None],
        "members": members,
        "tickets": tickets.items,
        "ticket_total": ticket_total,
        "tickets_by_id": {v.ticket.id: v.ticket for v in tickets.items},
        "timeline": timeline,
        "names": names,
        "older_url": page_url(f"/organisations/{oid}", before=older) + "#timeline"
        if older
        else None,
        "newest_url": f"/organisations/{oid}#timeline" if before else None,
        "display": contact_display,
        "labels": LABELS,
        **await people(session),
    }


async def _organisation_page(
    request: Request,
    session: AsyncSession,
    who: Any,
    organisation_id: PathId,
    *,
    before: int | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
    duplicate: str = "",
    error: str | None = None,
    section: str | None = None,
    status: int = 200,
) -> Response:
    view = await organisations.get_organisation(session, who.actor, organisation_id)
    if view.organisation.merged_into_id is not None:
        target = view.organisation.merged_into_id
        return RedirectResponse(f"/organisations/{target}", status_code=303)
    context = await _organisation_context(session, who.actor, view, before)
    context.update(
        form=form or organisation_form(view),
        duplicate=duplicate,
        error=error,
        section=section,
        done=done_message(done),
    )
    return render(request, "organisation.html", context, status)


@router.get("/organisations/{organisation_id}", response_class=HTMLResponse)
async def organisation_page(
    request: Request,
    session: DB,
    who: Agent,
    organisation_id: RowId,
    before: Before = None,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return await _organisation_page(
        request, session, who, organisation_id, before=before, done=done
    )


def _organisation_changes(view: OrganisationView, form: dict[str, str]) -> dict[str, Any]:
    """What the submitted form changes, as `update_organisation` fields."""
    current = organisation_form(view)
    changes: dict[str, Any] = {}
    if form["name"] != current["name"]:
        changes["name"] = form["name"]
    if form["plan"].strip() != current["plan"]:
        changes["plan"] = form["plan"].strip() or None
    if form["seats"].strip() != current["seats"]:
        changes["seats"] = parse_count(form["seats"], "seats")
    if form["customer_since"].strip() != current["customer_since"]:
        changes["customer_since"] = as_datetime(
            parse_date(form["customer_since"], "customer_since")
        )
    if domains_of(form["domains"]) != lines(current["domains"]):
        changes["domains"] = domains_of(form["domains"])
    if form["custom"].strip() != current["custom"]:
        custom = parse_custom(form["custom"], view.organisation.custom)
        if custom != (view.organisation.custom or {}):
            changes["custom"] = custom
    if form["notes"] != current["notes"]:
        changes["notes"] = form["notes"] or None
    return changes


@router.post("/organisations/{organisation_id}", response_class=HTMLResponse)
async def save_organisation(
    request: Request,
    session: DB,
    who: Agent,
    organisation_id: RowId,
    name: Short = "",
    plan: Annotated[SafeStr, Form(max_length=64)] = "",
    seats: Annotated[SafeStr, Form(max_length=12)] = "",
    customer_since: Annotated[SafeStr, Form(max_length=20)] = "",
    domains: Lines = "",
    custom: Lines = "",
    notes: Lines = "",
) -> Response:
    form = {
        "name": name,
        "plan": plan,
        "seats": seats,
        "customer_since": customer_since,
        "domains": domains,
        "custom": custom,
        "notes": notes,
    }
    view = await organisations.get_organisation(session, who.actor, organisation_id)
    try:
        changes = _organisation_changes(view, form)
        if changes:
            await organisations.update_organisation(session, who.actor, organisation_id, changes)
    except MadadError as exc:
        await session.rollback()
        return await _organisation_page(
            request,
            session,
            who,
            organisation_id,
            form=form,
            error=exc.detail,
            section="edit",
            status=422,
        )
    return see_other(request, f"/organisations/{organisation_id}?done=saved")


@router.post("/organisations/{organisation_id}/status")
async def set_organisation_status(
    request: Request,
    session: DB,
    who: Agent,
    organisation_id: RowId,
    status: Annotated[str, Form(max_length=16)],
) -> Response:
    """Churn an organisation (it stops being a customer) or reactivate it."""
    if status not in organisations.ORG_STATUSES:
        raise Invalid("status", i18n.gettext("choose active or churned"))
    await organisations.update_organisation(session, who.actor, organisation_id, {"status": status})
    done = "churned" if status == "churned" else "reactivated"
    return see_other(request, f"/organisations/{organisation_id}?done={done}")


@router.get("/organisations/{organisation_id}/merge", response_class=HTMLResponse)
async def merge_preview(
    request: Request,
    session: DB,
    who: Agent,
    organisation_id: RowId,
    duplicate: Annotated[SafeStr, Query(max_length=200)] = "",
) -> Response:
    """Confirm before merging: show both organisations side by side."""
    target = await organisations.get_organisation(session, who.actor, organisation_id)
    try:
        source_id = await organisation_by_reference(session, who.actor, duplicate)
        if source_id is None:
            raise Invalid("duplicate", i18n.gettext("give the duplicate's name or number"))
        if source_id == organisation_id:
            raise Invalid("duplicate", i18n.gettext("that is this organisation"))
        source = await organisations.get_organisation(session, who.actor, source_id)
        if source.organisation.merged_into_id is not None:
            raise Invalid("duplicate", i18n.gettext("that organisation was already merged"))
    except MadadError as exc:
        return await _organisation_page(
            request,
            session,
            who,
            organisation_id,
            duplicate=duplicate,
            error=exc.detail,
            section="merge",
            status=422,
        )
    count = await queries.count_tickets(session, who.actor, TicketFilter(organisation_id=source_id))
    context = {"target": target, "source": source, "source_tickets": count, "labels": LABELS}
    return render(request, "organisation_merge.html", context)


@router.post("/organisations/{organisation_id}/merge")
async def merge_organisation(
    request: Request,
    session: DB,
    who: Agent,
    organisation_id: RowId,
    duplicate_id: FormId,
) -> Response:
    """Fold the duplicate into this organisation (its contacts, domains and tickets)."""
    await organisations.merge_organisations(
        session, who.actor, source_id=duplicate_id, target_id=organisation_id
    )
    return see_other(request, f"/organisations/{organisation_id}?done=merged")
