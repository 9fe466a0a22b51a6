"""JSON routes of the CRM: contacts and organisations, their merges, notes and timelines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from madad.activity.schemas import FactOut, FactPage
from madad.auth.permissions import Actor, Scope
from madad.contacts import organisations, service
from madad.contacts.schemas import (
    ContactCreate,
    ContactOut,
    ContactPage,
    ContactPatch,
    MergeIn,
    NoteIn,
    NoteOut,
    OrganisationCreate,
    OrganisationOut,
    OrganisationPage,
    OrganisationPatch,
)
from madad.errors import Invalid, NotFound
from madad.tickets import queries as ticket_queries
from madad.tickets.schemas import TicketOut
from madad.web.deps import DB, PathId, require

router = APIRouter(prefix="/api/v1", tags=["contacts"])

Reader = Annotated[Actor, Depends(require(Scope.contacts_read))]
Writer = Annotated[Actor, Depends(require(Scope.contacts_write))]


def _fact_page(rows: list, limit: int) -> FactPage:
    more = len(rows) > limit
    rows = rows[:limit]
    return FactPage(
        items=[FactOut.of(r) for r in rows], next_cursor=str(rows[-1].id) if more and rows else None
    )


@router.get("/contacts", response_model=ContactPage)
async def list_contacts(
    session: DB,
    actor: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    organisation_id: int | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ContactPage:
    page = await service.list_contacts(
        session, actor, q=q, organisation_id=organisation_id, cursor=cursor, limit=limit
    )
    return ContactPage(items=[ContactOut.of(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/contacts/lookup", response_model=ContactOut)
async def lookup_contact(
    session: DB,
    actor: Reader,
    email: str | None = None,
    phone: str | None = None,
    handle: str | None = None,
) -> ContactOut:
    given = [(k, v) for k, v in (("email", email), ("phone", phone), ("handle", handle)) if v]
    if len(given) != 1:
        raise Invalid("email", "give exactly one of email, phone or handle")
    kind, value = given[0]
    contact = await service.find_contact(session, kind, value)
    if contact is None:
        raise NotFound(f"no contact uses the {kind} {value}")
    return ContactOut.of(await service.get_contact(session, actor, contact.id))


@router.post("/contacts", response_model=ContactOut, status_code=201)
async def create_contact(body: ContactCreate, session: DB, actor: Writer) -> ContactOut:
    view = await service.create_contact(session, actor, service.ContactIn(**body.model_dump()))
    return ContactOut.of(view)


@router.get("/contacts/{contact_id}", response_model=ContactOut)
async def get_contact(contact_id: PathId, session: DB, actor: Reader) -> ContactOut:
    return ContactOut.of(await service.get_contact(session, actor, contact_id))


@router.patch("/contacts/{contact_id}", response_model=ContactOut)
async def update_contact(
    contact_id: PathId, body: ContactPatch, session: DB, actor: Writer
) -> ContactOut:
    changes = body.model_dump(exclude_unset=True)
    return ContactOut.of(await service.update_contact(session, actor, contact_id, changes))


@router.delete("/contacts/{contact_id}", status_code=204)
async def delete_contact(contact_id: PathId, session: DB, actor: Writer) -> Response:
    await service.delete_contact(session, actor, contact_id)
    return Response(status_code=204)


@router.post("/contacts/{contact_id}/merge", response_model=ContactOut)
async def merge_contact(
    contact_id: PathId, body: MergeIn, session: DB, actor: Writer
) -> ContactOut:
    view = await service.merge_contacts(session, actor, source_id=contact_id, target_id=body.into)
    return ContactOut.of(view)


@router.get("/contacts/{contact_id}/notes", response_model=list[NoteOut])
async def list_notes(contact_id: PathId, session: DB, actor: Reader) -> list[NoteOut]:
    await service.get_contact(session, actor, contact_id)
    return [NoteOut.of(n) for n in await service.list_notes(session, actor, contact_id)]


@router.post("/contacts/{contact_id}/notes", response_model=NoteOut, status_code=201)
async def add_note(contact_id: PathId, body: NoteIn, session: DB, actor: Writer) -> NoteOut:
    return NoteOut.of(await service.add_note(session, actor, contact_id, body.body))


@router.get("/contacts/{contact_id}/timeline", response_model=FactPage)
async def contact_timeline(
    contact_id: PathId,
    session: DB,
    actor: Reader,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FactPage:
    before = _int_cursor(cursor)
    rows = await service.contact_timeline(
        session, actor, contact_id, before_id=before, limit=limit + 1
    )
    return _fact_page(rows, limit)


@router.get("/contacts/{contact_id}/tickets", response_model=list[TicketOut])
async def contact_tickets(
    contact_id: PathId, session: DB, actor: Reader, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[TicketOut]:
    await service.get_contact(session, actor, contact_id)
    page = await ticket_queries.list_tickets(
        session,
        actor,
        ticket_queries.TicketFilter(contact_id=contact_id),
        sort="created",
        limit=limit,
    )
    return [TicketOut.of(v) for v in page.items]


def _int_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not (cursor.isdigit() and cursor.isascii()):
        raise Invalid("cursor", "not a cursor this list handed out")
    return int(cursor)


# --- organisations ----------------------------------------------------------------------------


@router.get("/organisations", response_model=OrganisationPage)
async def list_organisations(
    session: DB,
    actor: Reader,
    q: Annotated[str | None, Query(max_length=200)] = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrganisationPage:
    page = await organisations.list_organisations(
        session, actor, q=q, status=status, cursor=cursor, limit=limit
    )
    return OrganisationPage(
        items=[OrganisationOut.of(v) for v in page.items], next_cursor=page.next_cursor
    )


@router.post("/organisations", response_model=OrganisationOut, status_code=201)
async def create_organisation(
    body: OrganisationCreate, session: DB, actor: Writer
) -> OrganisationOut:
    view = await organisations.create_organisation(
        session, actor, body.model_dump(exclude_unset=True)
    )
    return OrganisationOut.of(view)


@router.get("/organisations/{organisation_id}", response_model=OrganisationOut)
async def get_organisation(organisation_id: PathId, session: DB, actor: Reader) -> OrganisationOut:
    return OrganisationOut.of(await organisations.get_organisation(session, actor, organisation_id))


@router.patch("/organisations/{organisation_id}", response_model=OrganisationOut)
async def update_organisation(
    organisation_id: PathId, body: OrganisationPatch, session: DB, actor: Writer
) -> OrganisationOut:
    view = await organisations.update_organisation(
        session, actor, organisation_id, body.model_dump(exclude_unset=True)
    )
    return OrganisationOut.of(view)


@router.delete("/organisations/{organisation_id}", status_code=204)
async def delete_organisation(organisation_id: PathId, session: DB, actor: Writer) -> Response:
    await organisations.delete_organisation(session, actor, organisation_id)
    return Response(status_code=204)


@router.post("/organisations/{organisation_id}/merge", response_model=OrganisationOut)
async def merge_organisation(
    organisation_id: PathId, body: MergeIn, session: DB, actor: Writer
) -> OrganisationOut:
    view = await organisations.merge_organisations(
        session, actor, source_id=organisation_id, target_id=body.into
    )
    return OrganisationOut.of(view)


@router.get("/organisations/{organisation_id}/timeline", response_model=FactPage)
async def organisation_timeline(
    organisation_id: PathId,
    session: DB,
    actor: Reader,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FactPage:
    rows = await organisations.organisation_timeline(
        session, actor, organisation_id, before_id=_int_cursor(cursor), limit=limit + 1
    )
    return _fact_page(rows, limit)
