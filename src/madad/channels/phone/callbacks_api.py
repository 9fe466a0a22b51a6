"""Callbacks over HTTP. Public: `POST /api/v1/live/queues/{key}/callbacks` (a customer asks to
be called back). Agents (tickets scopes): `/api/v1/live/callbacks` — list by due time with the
overdue count, one callback, take, release, outcome, retry."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from madad.api_types import SafeStr
from madad.auth.permissions import Actor, Scope
from madad.channels.hours.public import PublicRoute, preflight
from madad.channels.phone import callbacks as service
from madad.web.deps import DB, PathId, require

router = APIRouter(prefix="/api/v1/live", tags=["live"])
# A customer's request, from a widget on any site (CORS on every answer, errors included).
public = APIRouter(prefix="/api/v1/live", tags=["live"], route_class=PublicRoute)

Reader = Annotated[Actor, Depends(require(Scope.tickets_read))]
Writer = Annotated[Actor, Depends(require(Scope.tickets_write))]
Key = Annotated[str, Path(min_length=1, max_length=64)]


class CallbackIn(BaseModel):
    """A customer's request. The window must lie inside the queue's business hours."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "name": "Zara Khan",
                "phone": "+92 300 1234567",
                "email": "zara@example.com",
                "note": "About my last invoice",
                "window_start": "2026-11-24T10:00:00+05:00",
                "window_end": "2026-11-24T11:00:00+05:00",
            }
        },
    )

    name: SafeStr = Field(min_length=1, max_length=200)
    phone: SafeStr = Field(min_length=1, max_length=40)
    email: SafeStr | None = Field(default=None, max_length=320)
    note: SafeStr | None = Field(default=None, max_length=service.MAX_NOTE)
    window_start: AwareDatetime
    window_end: AwareDatetime

    def to_request(self) -> service.CallbackRequest:
        return service.CallbackRequest(
            name=self.name,
            phone=self.phone,
            email=self.email,
            note=self.note,
            window_start=self.window_start,
            window_end=self.window_end,
        )


class RequestedOut(BaseModel):
    id: int
    status: str
    queue: str
    window_start: datetime
    window_end: datetime
    due_at: datetime


class CallbackOut(BaseModel):
    id: int
    queue: str
    status: str
    overdue: bool
    name: str
    phone: str
    email: str | None
    note: str | None
    window_start: datetime
    window_end: datetime
    due_at: datetime
    ticket_id: int | None
    contact_id: int | None
    agent_id: int | None
    agent_name: str | None
    taken_at: datetime | None
    attempts: int
    outcome: str | None
    outcome_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, v: service.CallbackView) -> CallbackOut:
        c = v.callback
        return cls(
            id=c.id,
            queue=c.queue,
            status=c.status,
            overdue=v.overdue,
            name=c.name,
            phone=c.phone,
            email=c.email,
            note=c.note,
            window_start=c.window_start,
            window_end=c.window_end,
            due_at=c.due_at,
            ticket_id=c.ticket_id,
            contact_id=c.contact_id,
            agent_id=c.agent_id,
            agent_name=v.agent_name,
            taken_at=c.taken_at,
            attempts=c.attempts,
            outcome=c.outcome,
            outcome_at=c.outcome_at,
            created_at=c.created_at,
        )


class CallbacksOut(BaseModel):
    items: list[CallbackOut]
    overdue: int = Field(description="active callbacks past their due time, in all queues")


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["reached", "no_answer", "wrong_number", "left_voicemail"]
    note: SafeStr | None = Field(default=None, max_length=service.MAX_NOTE)


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    due_at: AwareDatetime | None = None


@public.post(
    "/queues/{key}/callbacks",
    response_model=RequestedOut,
    status_code=201,
    responses={200: {"description": "a repeat of an earlier request", "model": RequestedOut}},
)
async def request_callback(
    key: Key,
    body: CallbackIn,
    request: Request,
    response: Response,
    session: DB,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> RequestedOut:
    """Public: ask to be called back. 201 new, 200 a repeat (same Idempotency-Key, or the same
    number and window); 422 when the window is outside the queue's hours; 429 when too many
    requests came for the number or from the client."""
    done = await service.request_callback(
        session,
        key,
        body.to_request(),
        idempotency_key=idempotency_key,
        client_address=request.client.host if request.client else None,
    )
    response.status_code = 201 if done.created else 200
    c = done.callback
    return RequestedOut(
        id=c.id,
        status=c.status,
        queue=c.queue,
        window_start=c.window_start,
        window_end=c.window_end,
        due_at=c.due_at,
    )


@public.options("/queues/{key}/callbacks", include_in_schema=False)
async def request_preflight(key: Key) -> Response:
    return preflight()


@router.get("/callbacks", response_model=CallbacksOut)
async def list_callbacks(
    session: DB,
    actor: Reader,
    status: Annotated[list[str] | None, Query(max_length=10)] = None,
    queue: Annotated[str | None, Query(max_length=100)] = None,
    agent_id: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
    overdue: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> CallbacksOut:
    """Callbacks by due time (active ones unless `status` says: open, taken, not_reached, done,
    active), each flagged overdue when its due time has passed, with the overdue count."""
    views = await service.list_callbacks(
        session, actor, statuses=status, queue=queue, agent_id=agent_id, overdue=overdue,
        limit=limit,
    )  # fmt: skip
    return CallbacksOut(
        items=[CallbackOut.of(v) for v in views],
        overdue=await service.count_overdue(session, actor),
    )


@router.get("/callbacks/{callback_id}", response_model=CallbackOut)
async def get_callback(callback_id: PathId, session: DB, actor: Reader) -> CallbackOut:
    return CallbackOut.of(await service.get_callback(session, actor, callback_id))


async def _one(session: DB, actor: Actor, callback_id: int) -> CallbackOut:
    return CallbackOut.of(await service.get_callback(session, actor, callback_id))


@router.post("/callbacks/{callback_id}/take", response_model=CallbackOut)
async def take(callback_id: PathId, session: DB, actor: Writer) -> CallbackOut:
    """Assign it (and its ticket) to me; 409 when another agent has it."""
    await service.take(session, actor, callback_id)
    return await _one(session, actor, callback_id)


@router.post("/callbacks/{callback_id}/release", response_model=CallbackOut)
async def release(callback_id: PathId, session: DB, actor: Writer) -> CallbackOut:
    await service.release(session, actor, callback_id)
    return await _one(session, actor, callback_id)


@router.post("/callbacks/{callback_id}/outcome", response_model=CallbackOut)
async def log_outcome(
    callback_id: PathId, body: OutcomeIn, session: DB, actor: Writer
) -> CallbackOut:
    """How the call went; the note goes on the ticket. No answer or a voicemail leaves it
    `not_reached`, to be taken again or retried."""
    await service.log_outcome(session, actor, callback_id, outcome=body.outcome, note=body.note)
    return await _one(session, actor, callback_id)


@router.post("/callbacks/{callback_id}/retry", response_model=CallbackOut)
async def retry(
    callback_id: PathId, session: DB, actor: Writer, body: RetryIn | None = None
) -> CallbackOut:
    """Put a callback that was not reached back in the queue (optionally with a new due time)."""
    await service.retry(session, actor, callback_id, due_at=body.due_at if body else None)
    return await _one(session, actor, callback_id)
