"""`POST /api/v1/channels/phone/events`: call events from any phone system (PBX or cloud contact
centre), one event or an array of them; `GET /api/v1/channels/phone/calls/{call_id}`: a call's
state and its events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Response

from madad.auth.permissions import Actor, Scope
from madad.channels.phone import service
from madad.channels.phone.schemas import CallEventIn, CallOut, EventResultOut, EventsOut
from madad.errors import Invalid
from madad.web.deps import DB, require

router = APIRouter(prefix="/api/v1/channels/phone", tags=["channels"])

PhoneSystem = Annotated[Actor, Depends(require(Scope.inbound))]
Reader = Annotated[Actor, Depends(require(Scope.tickets_read))]
MAX_BATCH = 1000


@router.post(
    "/events",
    response_model=EventsOut,
    status_code=201,
    responses={200: {"description": "every event was stored before", "model": EventsOut}},
)
async def post_events(
    response: Response,
    session: DB,
    actor: PhoneSystem,
    body: Annotated[CallEventIn | list[CallEventIn], Body()],
) -> EventsOut:
    """Store call events: 201 when anything new was stored, 200 when all were repeats."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise Invalid("body", "an event or a non-empty array of events")
    if len(items) > MAX_BATCH:
        raise Invalid("body", f"at most {MAX_BATCH} events per request")
    outcomes = await service.record_events(session, [i.to_event() for i in items])
    response.status_code = 201 if any(o.stored for o in outcomes) else 200
    return EventsOut(results=[EventResultOut.of(o) for o in outcomes])


@router.get("/calls/{call_id}", response_model=CallOut, response_model_by_alias=True)
async def get_call(
    call_id: Annotated[str, Path(min_length=1, max_length=200)], session: DB, actor: Reader
) -> CallOut:
    call, events = await service.get_call(session, call_id)
    return CallOut.of(call, events)
