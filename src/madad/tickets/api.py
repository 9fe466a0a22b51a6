"""JSON routes of the tickets domain: lists, one ticket, changes, replies, notes, merges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from madad.activity import service as facts
from madad.activity.schemas import FactOut, FactPage
from madad.auth.permissions import Actor, Scope
from madad.errors import Invalid
from madad.files import FileStore, content_disposition
from madad.tickets import changes, queries, service
from madad.tickets.schemas import (
    CountOut,
    LinkIn,
    LinkOut,
    MergeIn,
    MessageOut,
    MessagePage,
    NoteIn,
    ReplyIn,
    TicketOut,
    TicketPage,
    TicketPatch,
    decode_attachments,
)
from madad.web.deps import DB, PathId, get_store, require, require_reading

router = APIRouter(prefix="/api/v1", tags=["tickets"])

Reader = Annotated[Actor, Depends(require(Scope.tickets_read))]
Writer = Annotated[Actor, Depends(require(Scope.tickets_write))]
Store = Annotated[FileStore, Depends(get_store)]


def _id_or_none(raw: str | None, name: str, actor: Actor) -> tuple[int | None, bool]:
    """Filter value: an id, "none" (no value) or "me" (the caller)."""
    if raw is None or raw == "":
        return None, False
    if raw == "none":
        return None, True
    if raw == "me":
        return actor.user_id, False
    if raw.isdigit() and raw.isascii():
        return int(raw), False
    raise Invalid(name, "an id, 'none' or 'me'")


def _many(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out += [x for x in v.split(",") if x]
    return out


def ticket_filter(
    actor: Reader,
    status: Annotated[list[str] | None, Query(description="repeat or comma-separate")] = None,
    assignee: Annotated[str | None, Query(description="an agent id, 'me' or 'none'")] = None,
    team: Annotated[str | None, Query(description="a team id or 'none'")] = None,
    channel: str | None = None,
    tag: Annotated[list[str] | None, Query(description="tickets having all these tags")] = None,
    contact_id: int | None = None,
    organisation_id: int | None = None,
    priority: Annotated[list[str] | None, Query()] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="text in the subject, or #id")
    ] = None,
) -> queries.TicketFilter:
    assignee_id, unassigned = _id_or_none(assignee, "assignee", actor)
    team_id, no_team = _id_or_none(team, "team", actor)
    return queries.TicketFilter(
        status=_many(status) or None,
        assignee_id=assignee_id,
        unassigned=unassigned,
        team_id=team_id,
        no_team=no_team,
        channel=channel,
        tags=_many(tag),
        contact_id=contact_id,
        organisation_id=organisation_id,
        priority=_many(priority) or None,
        q=q,
    )


Filter = Annotated[queries.TicketFilter, Depends(ticket_filter)]


@router.get("/tickets", response_model=TicketPage)
async def list_tickets(
    session: DB,
    actor: Reader,
    f: Filter,
    sort: Annotated[str, Query(description=", ".join(queries.SORTS))] = "last_activity",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> TicketPage:
    page = await queries.list_tickets(session, actor, f, sort=sort, cursor=cursor, limit=limit)
    return TicketPage(items=[TicketOut.of(v) for v in page.items], next_cursor=page.next_cursor)


@router.get("/tickets/count", response_model=CountOut)
async def count_tickets(session: DB, actor: Reader, f: Filter) -> CountOut:
    return CountOut(count=await queries.count_tickets(session, actor, f))


@router.get("/tickets/{ticket_id}", response_model=TicketOut)
async def get_ticket(ticket_id: PathId, session: DB, actor: Reader) -> TicketOut:
    return TicketOut.of(await queries.get_ticket(session, actor, ticket_id))


@router.patch("/tickets/{ticket_id}", response_model=TicketOut)
async def update_ticket(
    ticket_id: PathId, body: TicketPatch, session: DB, actor: Writer
) -> TicketOut:
    await changes.update_ticket(
        session, actor, ticket_id, body.model_dump(exclude_unset=True, mode="json")
    )
    return TicketOut.of(await queries.get_ticket(session, actor, ticket_id))


@router.post("/tickets/{ticket_id}/reply", response_model=MessageOut, status_code=201)
async def reply(
    ticket_id: PathId, body: ReplyIn, session: DB, actor: Writer, store: Store
) -> MessageOut:
    message = await service.reply(
        session,
        actor,
        ticket_id,
        text=body.text,
        html=body.html,
        attachments=decode_attachments(body.attachments),
        status=body.status.value if body.status else None,
        store=store,
    )
    view = (await queries.messages_by_ids(session, [message.id]))[message.id]
    return MessageOut.of_view(view)


@router.post("/tickets/{ticket_id}/notes", response_model=MessageOut, status_code=201)
async def add_note(
    ticket_id: PathId, body: NoteIn, session: DB, actor: Writer, store: Store
) -> MessageOut:
    message = await service.add_note(
        session,
        actor,
        ticket_id,
        text=body.text,
        html=body.html,
        attachments=decode_attachments(body.attachments),
        store=store,
    )
    view = (await queries.messages_by_ids(session, [message.id]))[message.id]
    return MessageOut.of_view(view)


@router.get("/tickets/{ticket_id}/messages", response_model=MessagePage)
async def list_messages(
    ticket_id: PathId,
    session: DB,
    actor: Reader,
    include_notes: bool = True,
    cursor: Annotated[str | None, Query(description="the previous page's next_cursor")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> MessagePage:
    after = None
    if cursor is not None:
        if not (cursor.isdigit() and cursor.isascii()):
            raise Invalid("cursor", "not a cursor this list handed out")
        after = int(cursor)
    page = await queries.list_messages(
        session, actor, ticket_id, include_notes=include_notes, after_id=after, limit=limit
    )
    return MessagePage(
        items=[MessageOut.of_view(v) for v in page.items], next_cursor=page.next_cursor
    )


@router.post("/tickets/{ticket_id}/merge", response_model=TicketOut)
async def merge(ticket_id: PathId, body: MergeIn, session: DB, actor: Writer) -> TicketOut:
    target = await changes.merge_tickets(session, actor, source_id=ticket_id, target_id=body.into)
    return TicketOut.of(await queries.get_ticket(session, actor, target.id))


@router.post("/tickets/{ticket_id}/links", response_model=LinkOut, status_code=201)
async def link(ticket_id: PathId, body: LinkIn, session: DB, actor: Writer) -> LinkOut:
    return LinkOut.of(await changes.link_tickets(session, actor, ticket_id, body.other_id))


@router.get("/tickets/{ticket_id}/activity", response_model=FactPage)
async def ticket_activity(
    ticket_id: PathId,
    session: DB,
    actor: Reader,
    after_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> FactPage:
    await queries.get_ticket(session, actor, ticket_id)
    rows = await facts.list_facts(
        session, facts.FactFilter(ticket_id=ticket_id), after_id=after_id, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return FactPage(
        items=[FactOut.of(f) for f in rows], next_cursor=str(rows[-1].id) if more and rows else None
    )


@router.get("/attachments/{attachment_id}")
async def download(
    attachment_id: PathId,
    session: DB,
    actor: Annotated[Actor, Depends(require_reading(Scope.tickets_read))],
    store: Store,
) -> Response:
    """A message's file, always as a download; for API tokens and for agents signed in to the
    console (the ticket page links here)."""
    attachment = await queries.get_attachment(session, actor, attachment_id)
    data = store.get(attachment.sha256)
    # Always a download, never rendered by the browser in our origin.
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(attachment.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "X-Madad-Content-Type": attachment.content_type,
        },
    )
