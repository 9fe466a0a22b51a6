"""Console pages of the CRM's contacts: the list with search, the contact page (details, local
time, organisation, tickets with their outcome, notes, the full timeline), editing, adding a
note, and merging a duplicate into a contact.

Organisation pages live in `organisation_views.py` and share the labels here; `forms.py` reads
what the forms send.
Statement counts per page are bounded whatever the data size (tests/console counts them).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.api_types import SafeStr
from madad.auth import service as auth
from madad.auth.permissions import Actor
from madad.contacts import service
from madad.contacts.forms import contact_changes, contact_form, record_number
from madad.contacts.service import ContactView
from madad.db import utcnow
from madad.errors import Invalid, MadadError
from madad.tickets import queries
from madad.tickets.queries import TicketFilter
from madad.web import i18n, labels
from madad.web.console import Agent, see_other
from madad.web.deps import DB, PathId
from madad.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
TICKETS_SHOWN = 50
TIMELINE_PAGE = 50

Q = Annotated[SafeStr | None, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=500)]
Before = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
# Row ids are 32-bit integers on PostgreSQL: anything larger cannot name a row.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
FormId = Annotated[int, Form(ge=1, le=2**31 - 1)]
Line = Annotated[SafeStr, Form(max_length=320)]
Lines = Annotated[SafeStr, Form(max_length=20_000)]
Note = Annotated[SafeStr, Form(max_length=20_000)]


# --- shared by the CRM pages -----------------------------------------------------------------


def done_message(code: str | None) -> str | None:
    """The confirmation shown after a redirect (`?done=<code>`)."""
    messages = {
        "created": i18n.gettext("Created."),
        "saved": i18n.gettext("Saved."),
        "note_added": i18n.gettext("Note added."),
        "merged": i18n.gettext("Merged. Everything of the duplicate is now here."),
        "churned": i18n.gettext("Marked as churned."),
        "reactivated": i18n.gettext("Marked as active again."),
    }
    return messages.get(code or "")


def field_label(name: str) -> str:
    labels = {
        "name": i18n.gettext("Name"),
        "emails": i18n.gettext("Emails"),
        "phones": i18n.gettext("Phones"),
        "handles": i18n.gettext("Handles"),
        "organisation_id": i18n.gettext("Organisation"),
        "language": i18n.gettext("Language"),
        "time_zone": i18n.gettext("Time zone"),
        "birthday": i18n.gettext("Birthday"),
        "custom": i18n.gettext("Custom attributes"),
    }
    return labels.get(name, name)


def org_status_label(status: str) -> str:
    labels = {"active": i18n.gettext("Active"), "churned": i18n.gettext("Churned")}
    return labels.get(status, status)


LABELS = {
    **labels.LABELS,
    "field": field_label,
    "org_status": org_status_label,
}


def language_name(tag: str | None) -> str:
    """A language tag as a name in the agent's language: "ur" → "Urdu (ur)"."""
    if not tag:
        return ""
    try:
        name = Locale.parse(tag, sep="-").get_display_name(i18n.current())
    except (ValueError, TypeError, UnknownLocaleError):
        return tag
    return f"{name} ({tag})" if name else tag


def contact_display(view: ContactView) -> str:
    c = view.contact
    first = next((i.value for i in view.identities if i.is_primary), None)
    return c.name or first or i18n.gettext("Contact #%(id)s", id=c.id)


async def people(session: AsyncSession) -> dict[str, Any]:
    """Agents (active or not: notes and facts keep their authors) and teams, by id."""
    users = await auth.list_users(session, include_inactive=True)
    teams = [t for t, _members in await auth.list_teams(session)]
    return {"users_by_id": {u.id: u for u in users}, "teams_by_id": {t.id: t for t in teams}}


def page_url(path: str, **params: Any) -> str:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return f"{path}?{query}" if query else path


# --- the list --------------------------------------------------------------------------------


async def _contacts_page(
    request: Request,
    session: AsyncSession,
    who: Any,
    *,
    q: str | None,
    cursor: str | None,
    organisation: int | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    page = await service.list_contacts(
        session, who.actor, q=q or None, organisation_id=organisation, cursor=cursor
    )
    context = {
        "page": page,
        "q": q or "",
        "organisation": organisation,
        "next_url": page_url("/contacts", q=q, organisation=organisation, cursor=page.next_cursor)
        if page.next_cursor
        else None,
        "first_url": page_url("/contacts", q=q, organisation=organisation) if cursor else None,
        "form": form or {"name": "", "email": "", "phone": ""},
        "error": error,
        "display": contact_display,
    }
    return render(request, "contacts.html", context, status)


@router.get("/contacts", response_class=HTMLResponse)
async def contacts_list(
    request: Request,
    session: DB,
    who: Agent,
    q: Q = None,
    organisation: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    cursor: Cursor = None,
) -> Response:
    return await _contacts_page(
        request, session, who, q=q, cursor=cursor, organisation=organisation
    )


@router.post("/contacts", response_class=HTMLResponse)
async def create_contact(
    request: Request,
    session: DB,
    who: Agent,
    name: Annotated[SafeStr, Form(max_length=200)] = "",
    email: Line = "",
    phone: Line = "",
) -> Response:
    form = {"name": name, "email": email, "phone": phone}
    try:
        data = service.ContactIn(
            name=name,
            emails=[email] if email.strip() else [],
            phones=[phone] if phone.strip() else [],
        )
        view = await service.create_contact(session, who.actor, data)
    except MadadError as exc:
        await session.rollback()
        return await _contacts_page(
            request, session, who, q=None, cursor=None, form=form, error=exc.detail, status=422
        )
    return see_other(request, f"/contacts/{view.contact.id}?done=created")


# --- one contact -----------------------------------------------------------------------------


async def _contact_context(
    session: AsyncSession, actor: Actor, view: ContactView, before: int | None
) -> dict[str, Any]:
    cid = view.contact.id
    tickets = await queries.contact_tickets(session, actor, cid, limit=TICKETS_SHOWN)
    ticket_total = len(tickets)
    if ticket_total >= TICKETS_SHOWN:
        ticket_total = await queries.count_tickets(session, actor, TicketFilter(contact_id=cid))
    timeline = await service.contact_timeline(
        session, actor, cid, before_id=before, limit=TIMELINE_PAGE + 1
    )
    older = timeline[TIMELINE_PAGE - 1].id if len(timeline) > TIMELINE_PAGE else None
    heard = await facts.list_facts(
        session,
        facts.FactFilter(contact_id=cid, kind="message.received"),
        newest_first=True,
        limit=1,
    )
    last_contact = (
        heard[0].at if heard else max((t.last_activity_at for t in tickets), default=None)
    )
    zone = view.contact.time_zone
    return {
        "c": view.contact,
        "view": view,
        "display_name": contact_display(view),
        "organisation": view.organisation,
        "tickets": tickets,
        "ticket_total": ticket_total,
        "tickets_by_id": {t.id: t for t in tickets},
        "notes": await service.list_notes(session, actor, cid),
        "timeline": timeline[:TIMELINE_PAGE],
        "older_url": page_url(f"/contacts/{cid}", before=older) + "#timeline" if older else None,
        "newest_url": f"/contacts/{cid}#timeline" if before else None,
        "names": {cid: contact_display(view)},
        "last_contact": last_contact,
        "local_time": i18n.fmt_time_in(utcnow(), zone) if zone else None,
        "language_name": language_name(view.contact.language),
        "birthday": format_date(view.contact.birthday, "long", locale=i18n.current())
        if view.contact.birthday
        else None,
        "labels": LABELS,
        **await people(session),
    }


async def _contact_page(
    request: Request,
    session: AsyncSession,
    who: Any,
    contact_id: PathId,
    *,
    before: int | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
    note: str = "",
    duplicate: str = "",
    error: str | None = None,
    section: str | None = None,
    status: int = 200,
) -> Response:
    view = await service.get_contact(session, who.actor, contact_id)
    if view.contact.merged_into_id is not None:
        return RedirectResponse(f"/contacts/{view.contact.merged_into_id}", status_code=303)
    context = await _contact_context(session, who.actor, view, before)
    context.update(
        form=form or contact_form(view),
        note=note,
        duplicate=duplicate,
        error=error,
        section=section,
        done=done_message(done),
    )
    return render(request, "contact.html", context, status)


@router.get("/contacts/{contact_id}", response_class=HTMLResponse)
async def contact_page(
    request: Request,
    session: DB,
    who: Agent,
    contact_id: RowId,
    before: Before = None,
    done: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    return await _contact_page(request, session, who, contact_id, before=before, done=done)


@router.post("/contacts/{contact_id}", response_class=HTMLResponse)
async def save_contact(
    request: Request,
    session: DB,
    who: Agent,
    contact_id: RowId,
    name: Annotated[SafeStr, Form(max_length=200)] = "",
    emails: Lines = "",
    phones: Lines = "",
    handles: Lines = "",
    language: Annotated[SafeStr, Form(max_length=40)] = "",
    time_zone: Annotated[SafeStr, Form(max_length=64)] = "",
    birthday: Annotated[SafeStr, Form(max_length=20)] = "",
    organisation: Annotated[SafeStr, Form(max_length=200)] = "",
    custom: Lines = "",
) -> Response:
    form = {
        "name": name,
        "emails": emails,
        "phones": phones,
        "handles": handles,
        "language": language,
        "time_zone": time_zone,
        "birthday": birthday,
        "organisation": organisation,
        "custom": custom,
    }
    view = await service.get_contact(session, who.actor, contact_id)
    try:
        changes = await contact_changes(session, who.actor, view, form)
        if changes:
            await service.update_contact(session, who.actor, contact_id, changes)
    except MadadError as exc:
        await session.rollback()
        return await _contact_page(
            request,
            session,
            who,
            contact_id,
            form=form,
            error=exc.detail,
            section="edit",
            status=422,
        )
    return see_other(request, f"/contacts/{contact_id}?done=saved")


@router.post("/contacts/{contact_id}/notes", response_class=HTMLResponse)
async def add_note(
    request: Request, session: DB, who: Agent, contact_id: RowId, body: Note = ""
) -> Response:
    if not body.strip():
        error = i18n.gettext("Write the note first.")
        return await _contact_page(
            request, session, who, contact_id, error=error, section="note", status=422
        )
    await service.add_note(session, who.actor, contact_id, body)
    return see_other(request, f"/contacts/{contact_id}?done=note_added#notes")


async def duplicate_contact(session: AsyncSession, actor: Actor, reference: str) -> ContactView:
    """The contact meant by a number, an email address or a phone number."""
    text = reference.strip()
    found = None
    if "@" in text:
        found = await service.find_contact(session, "email", text)
    elif text.startswith("+"):
        found = await service.find_contact(session, "phone", text)
    elif record_number(text) is not None:
        return await service.get_contact(session, actor, record_number(text) or 0)
    else:
        raise Invalid(
            "duplicate", i18n.gettext("give the duplicate's number, email address or phone number")
        )
    if found is None:
        raise Invalid("duplicate", i18n.gettext("no contact uses %(value)s", value=text))
    return await service.get_contact(session, actor, found.id)


@router.get("/contacts/{contact_id}/merge", response_class=HTMLResponse)
async def merge_preview(
    request: Request,
    session: DB,
    who: Agent,
    contact_id: RowId,
    duplicate: Annotated[SafeStr, Query(max_length=320)] = "",
) -> Response:
    """Confirm before merging: show both contacts side by side."""
    target = await service.get_contact(session, who.actor, contact_id)
    try:
        source = await duplicate_contact(session, who.actor, duplicate)
        if source.contact.id == target.contact.id:
            raise Invalid("duplicate", i18n.gettext("that is this contact"))
        if source.contact.merged_into_id is not None:
            raise Invalid("duplicate", i18n.gettext("that contact was already merged"))
    except MadadError as exc:
        return await _contact_page(
            request,
            session,
            who,
            contact_id,
            duplicate=duplicate,
            error=exc.detail,
            section="merge",
            status=422,
        )
    count = await queries.count_tickets(
        session, who.actor, TicketFilter(contact_id=source.contact.id)
    )
    context = {
        "target": target,
        "source": source,
        "source_tickets": count,
        "display": contact_display,
        "language_name": language_name,
    }
    return render(request, "contact_merge.html", context)


@router.post("/contacts/{contact_id}/merge")
async def merge_contact(
    request: Request,
    session: DB,
    who: Agent,
    contact_id: RowId,
    duplicate_id: FormId,
) -> Response:
    """Fold the duplicate into this contact (its identities, tickets, notes and history)."""
    await service.merge_contacts(session, who.actor, source_id=duplicate_id, target_id=contact_id)
    return see_other(request, f"/contacts/{contact_id}?done=merged")
