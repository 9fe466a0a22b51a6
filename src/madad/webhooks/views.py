"""Console admin pages of the webhooks domain: subscriptions (create, edit, deactivate, rotate
the signing secret, delete) and each webhook's delivery log with redelivery.

Only admins and owners reach them (the `webhooks:manage` scope); everyone else gets 403.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madad.api_types import SafeStr
from madad.auth.admin_views import see_other
from madad.auth.permissions import Scope
from madad.auth.sessions import SignedIn
from madad.errors import Invalid, MadadError
from madad.web import i18n
from madad.web.console import require_page
from madad.web.deps import DB, PathId
from madad.web.templating import render
from madad.webhooks import service

router = APIRouter(include_in_schema=False)

Admin = Annotated[SignedIn, Depends(require_page(Scope.webhooks))]
Done = Annotated[str | None, Query(max_length=40)]
Url = Annotated[SafeStr, Form(max_length=2000)]
Events = Annotated[SafeStr, Form(max_length=5000)]
Description = Annotated[SafeStr, Form(max_length=500)]
# Webhook ids are 32-bit integers on PostgreSQL, delivery ids 64-bit.
HookId = Annotated[int, Path(ge=1, le=2**31 - 1)]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]

DELIVERY_STATUSES = ("pending", "delivered", "failed", "dead")
DELIVERIES_SHOWN = 50
# Suggestions for the events field (any fact kind, a prefix such as ticket.* or * works).
SUGGESTED_EVENTS = (
    "*",
    "ticket.*",
    "ticket.created",
    "ticket.status_changed",
    "ticket.assigned",
    "message.received",
    "message.sent",
    "contact.*",
    "organisation.*",
)


def events_of(text: str) -> list[str]:
    """Event kinds separated by commas, spaces or lines."""
    return [e for e in re.split(r"[\s,;]+", text) if e]


def done_message(code: str | None) -> str | None:
    messages = {
        "created": i18n.gettext("Webhook created. Deliveries are signed with the secret below."),
        "saved": i18n.gettext("Webhook saved."),
        "deactivated": i18n.gettext("Webhook deactivated: nothing more is sent to it."),
        "activated": i18n.gettext("Webhook active again."),
        "rotated": i18n.gettext("New signing secret made; the old one no longer signs anything."),
        "deleted": i18n.gettext("Webhook deleted with its delivery log."),
        "redelivered": i18n.gettext("Delivery queued again."),
    }
    return messages.get(code or "")


def delivery_status_label(status: str) -> str:
    labels = {
        "pending": i18n.gettext("Pending"),
        "delivered": i18n.gettext("Delivered"),
        "failed": i18n.gettext("Failed, will retry"),
        "dead": i18n.gettext("Gave up"),
    }
    return labels.get(status, status)


# --- the list --------------------------------------------------------------------------------

EMPTY = {"url": "", "events": "ticket.*", "description": "", "allow_private": False}


async def _webhooks_page(
    request: Request,
    session: AsyncSession,
    who: SignedIn,
    *,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "hooks": await service.list_webhooks(session, who.actor),
        "form": form or EMPTY,
        "suggested": SUGGESTED_EVENTS,
        "error": error,
        "done": done_message(done),
    }
    return render(request, "admin_webhooks.html", context, status)


@router.get("/admin/webhooks", response_class=HTMLResponse)
async def webhooks_page(request: Request, session: DB, who: Admin, done: Done = None) -> Response:
    return await _webhooks_page(request, session, who, done=done)


@router.post("/admin/webhooks", response_class=HTMLResponse)
async def create_webhook(
    request: Request,
    session: DB,
    who: Admin,
    url: Url = "",
    events: Events = "",
    description: Description = "",
    allow_private: Annotated[bool, Form()] = False,
) -> Response:
    form = {
        "url": url,
        "events": events,
        "description": description,
        "allow_private": allow_private,
    }
    try:
        hook = await service.create_webhook(
            session,
            who.actor,
            url=url,
            events=events_of(events),
            description=description or None,
            allow_private=allow_private,
        )
    except MadadError as exc:
        await session.rollback()
        return await _webhooks_page(request, session, who, form=form, error=exc.detail, status=422)
    return see_other(request, f"/admin/webhooks/{hook.id}?done=created")


# --- one webhook -----------------------------------------------------------------------------


async def _webhook_page(
    request: Request,
    session: AsyncSession,
    who: SignedIn,
    webhook_id: PathId,
    *,
    delivery_status: str | None = None,
    before: int | None = None,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    hook = await service.get_webhook(session, who.actor, webhook_id)
    if delivery_status and delivery_status not in DELIVERY_STATUSES:
        raise Invalid("status", i18n.gettext("choose one of the statuses offered"))
    deliveries = await service.list_deliveries(
        session,
        who.actor,
        webhook_id,
        status=delivery_status or None,
        before_id=before,
        limit=DELIVERIES_SHOWN,
    )
    base = f"/admin/webhooks/{webhook_id}"
    query = f"status={delivery_status}&" if delivery_status else ""
    context = {
        "hook": hook,
        "deliveries": deliveries.items,
        "older_url": f"{base}?{query}before={deliveries.next_cursor}#deliveries"
        if deliveries.next_cursor
        else None,
        "newest_url": f"{base}?{query.rstrip('&')}#deliveries" if before else None,
        "delivery_status": delivery_status or "",
        "statuses": DELIVERY_STATUSES,
        "status_label": delivery_status_label,
        "form": form
        or {
            "url": hook.url,
            "events": ", ".join(hook.events),
            "description": hook.description or "",
            "allow_private": hook.allow_private,
        },
        "suggested": SUGGESTED_EVENTS,
        "error": error,
        "done": done_message(done),
    }
    return render(request, "admin_webhook.html", context, status)


@router.get("/admin/webhooks/{webhook_id}", response_class=HTMLResponse)
async def webhook_page(
    request: Request,
    session: DB,
    who: Admin,
    webhook_id: HookId,
    status: Annotated[str | None, Query(max_length=16)] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    done: Done = None,
) -> Response:
    return await _webhook_page(
        request, session, who, webhook_id, delivery_status=status, before=before, done=done
    )


@router.post("/admin/webhooks/{webhook_id}", response_class=HTMLResponse)
async def save_webhook(
    request: Request,
    session: DB,
    who: Admin,
    webhook_id: HookId,
    url: Url = "",
    events: Events = "",
    description: Description = "",
    allow_private: Annotated[bool, Form()] = False,
) -> Response:
    form = {
        "url": url,
        "events": events,
        "description": description,
        "allow_private": allow_private,
    }
    changes = {
        "url": url,
        "events": events_of(events),
        "description": description or None,
        "allow_private": allow_private,
    }
    try:
        await service.update_webhook(session, who.actor, webhook_id, changes)
    except MadadError as exc:
        await session.rollback()
        return await _webhook_page(
            request, session, who, webhook_id, form=form, error=exc.detail, status=exc.status
        )
    return see_other(request, f"/admin/webhooks/{webhook_id}?done=saved")


@router.post("/admin/webhooks/{webhook_id}/active")
async def set_active(
    request: Request, session: DB, who: Admin, webhook_id: HookId, active: Annotated[bool, Form()]
) -> Response:
    await service.update_webhook(session, who.actor, webhook_id, {"active": active})
    done = "activated" if active else "deactivated"
    return see_other(request, f"/admin/webhooks/{webhook_id}?done={done}")


@router.post("/admin/webhooks/{webhook_id}/rotate")
async def rotate_secret(request: Request, session: DB, who: Admin, webhook_id: HookId) -> Response:
    await service.update_webhook(session, who.actor, webhook_id, {"rotate_secret": True})
    return see_other(request, f"/admin/webhooks/{webhook_id}?done=rotated")


@router.post("/admin/webhooks/{webhook_id}/delete")
async def delete_webhook(request: Request, session: DB, who: Admin, webhook_id: HookId) -> Response:
    await service.delete_webhook(session, who.actor, webhook_id)
    return see_other(request, "/admin/webhooks?done=deleted")


@router.post("/admin/webhooks/deliveries/{delivery_id}/redeliver")
async def redeliver(request: Request, session: DB, who: Admin, delivery_id: DeliveryId) -> Response:
    delivery = await service.redeliver(session, who.actor, delivery_id)
    return see_other(request, f"/admin/webhooks/{delivery.webhook_id}?done=redelivered#deliveries")
