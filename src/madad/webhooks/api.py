"""JSON routes of the webhooks domain: subscriptions, their delivery log, redelivery."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from madad.auth.permissions import Actor, Scope
from madad.errors import Invalid
from madad.web.deps import DB, PathId, require
from madad.webhooks import service
from madad.webhooks.schemas import (
    DeliveryOut,
    DeliveryPage,
    WebhookCreate,
    WebhookOut,
    WebhookPatch,
    WebhookWithSecret,
)

router = APIRouter(prefix="/api/v1", tags=["webhooks"])

Admin = Annotated[Actor, Depends(require(Scope.webhooks))]


@router.get("/webhooks", response_model=list[WebhookOut])
async def list_webhooks(session: DB, actor: Admin) -> list[WebhookOut]:
    return [WebhookOut.of(h) for h in await service.list_webhooks(session, actor)]


@router.post("/webhooks", response_model=WebhookWithSecret, status_code=201)
async def create_webhook(body: WebhookCreate, session: DB, actor: Admin) -> WebhookWithSecret:
    hook = await service.create_webhook(session, actor, **body.model_dump())
    return WebhookWithSecret.of(hook)


@router.get("/webhooks/{webhook_id}", response_model=WebhookWithSecret)
async def get_webhook(webhook_id: PathId, session: DB, actor: Admin) -> WebhookWithSecret:
    return WebhookWithSecret.of(await service.get_webhook(session, actor, webhook_id))


@router.patch("/webhooks/{webhook_id}", response_model=WebhookWithSecret)
async def update_webhook(
    webhook_id: PathId, body: WebhookPatch, session: DB, actor: Admin
) -> WebhookWithSecret:
    hook = await service.update_webhook(
        session, actor, webhook_id, body.model_dump(exclude_unset=True)
    )
    return WebhookWithSecret.of(hook)


@router.delete("/webhooks/{webhook_id}", status_code=204)
async def delete_webhook(webhook_id: PathId, session: DB, actor: Admin) -> Response:
    await service.delete_webhook(session, actor, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    webhook_id: PathId,
    session: DB,
    actor: Admin,
    status: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    before = None
    if cursor is not None:
        if not (cursor.isdigit() and cursor.isascii()):
            raise Invalid("cursor", "not a cursor this list handed out")
        before = int(cursor)
    page = await service.list_deliveries(
        session, actor, webhook_id, status=status, before_id=before, limit=limit
    )
    return DeliveryPage(items=[DeliveryOut.of(d) for d in page.items], next_cursor=page.next_cursor)


@router.post("/webhooks/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut)
async def redeliver(delivery_id: PathId, session: DB, actor: Admin) -> DeliveryOut:
    return DeliveryOut.of(await service.redeliver(session, actor, delivery_id))
