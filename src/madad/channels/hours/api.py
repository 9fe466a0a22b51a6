"""`/api/v1/live/queues`: admins list, create and change live queues and their calendars;
`GET /api/v1/live/queues/{key}/status` tells anyone (the widget, the help centre) whether the
queue is open, when it opens next and its hours this week."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response

from madad.auth.permissions import Actor, Scope
from madad.channels.hours import service
from madad.channels.hours.public import PublicRoute, preflight
from madad.channels.hours.schemas import QueueIn, QueueOut, QueuePatch, StatusOut
from madad.web.deps import DB, require

router = APIRouter(prefix="/api/v1/live/queues", tags=["live"])
# The public status, readable by a widget on any site (CORS on every answer, errors included).
public = APIRouter(prefix="/api/v1/live/queues", tags=["live"], route_class=PublicRoute)

Admin = Annotated[Actor, Depends(require(Scope.channels_manage))]
Key = Annotated[str, Path(min_length=1, max_length=64)]


@router.get("", response_model=list[QueueOut])
async def list_queues(session: DB, actor: Admin) -> list[QueueOut]:
    return [QueueOut.of(q) for q in await service.list_queues(session, actor)]


@router.post("", response_model=QueueOut, status_code=201)
async def create_queue(body: QueueIn, session: DB, actor: Admin) -> QueueOut:
    queue = await service.create_queue(
        session,
        actor,
        name=body.name,
        key=body.key,
        time_zone=body.time_zone,
        weekly_hours=body.weekly_hours,
        holidays=[h.model_dump() for h in body.holidays],
        callbacks_enabled=body.callbacks_enabled,
    )
    return QueueOut.of(queue)


@router.get("/{key}", response_model=QueueOut)
async def get_queue(key: Key, session: DB, actor: Admin) -> QueueOut:
    return QueueOut.of(await service.get_queue(session, actor, key))


@router.patch("/{key}", response_model=QueueOut)
async def update_queue(key: Key, body: QueuePatch, session: DB, actor: Admin) -> QueueOut:
    return QueueOut.of(await service.update_queue(session, actor, key, body.changes()))


@public.get("/{key}/status", response_model=StatusOut)
async def queue_status(key: Key, session: DB, response: Response) -> StatusOut:
    """Public: open now, opens_at (the next opening), closes_at, this week's hours."""
    queue = await service.public_queue(session, key)
    response.headers["Cache-Control"] = "public, max-age=30"
    return StatusOut.of(service.status(queue))


@public.options("/{key}/status", include_in_schema=False)
async def status_preflight(key: Key) -> Response:
    return preflight()
