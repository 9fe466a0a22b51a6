"""Webhook subscriptions, the fact consumer that turns facts into deliveries, and delivery.

Each delivery is a POST of JSON signed with HMAC-SHA256 over "<timestamp>.<body>" with the
webhook's secret (see docs/webhooks.md for the headers), retried with backoff by the job queue,
and logged attempt by attempt.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.activity import service as facts
from madad.auth.permissions import Actor, Scope
from madad.auth.service import audit
from madad.db import utcnow
from madad.dialects import insert_ignoring_conflicts
from madad.errors import Invalid, NotFound
from madad.pagination import Page, clamp_limit
from madad.tickets import queries as ticket_queries
from madad.webhooks.models import Webhook, WebhookDelivery
from madad.webhooks.transport import BlockedDestination, guarded_client, is_public

DELIVER_JOB = "webhooks.deliver"
SIGNATURE_HEADER = "Madad-Signature"
TIMESTAMP_HEADER = "Madad-Timestamp"
EVENT_HEADER = "Madad-Event"
DELIVERY_HEADER = "Madad-Delivery"
USER_AGENT = "Madad-Webhooks/1"
MAX_EXCERPT = 1000


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value: "v1=" + hex HMAC-SHA256(secret, "<timestamp>." + body)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def verify(
    secret: str,
    timestamp: int,
    body: bytes,
    signature: str,
    *,
    tolerance: int = 300,
    now: float | None = None,
) -> bool:
    """What a receiver does: check the signature and that the timestamp is recent."""
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def matches(patterns: Sequence[str], kind: str) -> bool:
    for p in patterns:
        if p == "*" or p == kind or (p.endswith(".*") and kind.startswith(p[:-1])):
            return True
    return False


def _clean_events(events: Sequence[str]) -> list[str]:
    out = []
    for e in events:
        e = e.strip()
        if not e or len(e) > 64 or not all(c.isalnum() or c in "._*" for c in e):
            raise Invalid("events", f"{e!r} is not a fact kind, a prefix like ticket.* or *")
        if e not in out:
            out.append(e)
    if not out:
        raise Invalid("events", "subscribe to at least one kind of fact")
    return out


def _clean_url(url: str, allow_private: bool) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid("url", "an http:// or https:// URL with a host")
    if len(url) > 2000:
        raise Invalid("url", "at most 2000 characters")
    if parts.username or parts.password:
        raise Invalid("url", "credentials in the URL are not allowed; verify the signature instead")
    if not allow_private:
        host = parts.hostname
        literal = None
        with contextlib.suppress(ValueError):
            literal = ipaddress.ip_address(host)
        if (
            host == "localhost"
            or host.endswith(".localhost")
            or (literal is not None and not is_public(str(literal)))
        ):
            raise Invalid(
                "url", "points at a private or loopback address; set allow_private to allow it"
            )
    return url


async def create_webhook(
    session: AsyncSession,
    actor: Actor,
    *,
    url: str,
    events: Sequence[str],
    description: str | None = None,
    allow_private: bool = False,
    active: bool = True,
) -> Webhook:
    actor.require(Scope.webhooks)
    hook = Webhook(
        url=_clean_url(url, allow_private),
        events=_clean_events(events),
        secret="whsec_" + secrets.token_urlsafe(32),
        description=description,
        allow_private=allow_private,
        active=active,
        created_by_id=actor.user_id,
    )
    session.add(hook)
    await session.flush()
    audit(
        session,
        actor,
        "webhook.created",
        "webhook",
        hook.id,
        {"url": hook.url, "events": hook.events, "allow_private": allow_private},
    )
    return hook


async def get_webhook(session: AsyncSession, actor: Actor, webhook_id: int) -> Webhook:
    actor.require(Scope.webhooks)
    hook = await session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"webhook {webhook_id} does not exist")
    return hook


async def list_webhooks(session: AsyncSession, actor: Actor) -> list[Webhook]:
    actor.require(Scope.webhooks)
    return list((await session.execute(select(Webhook).order_by(Webhook.id))).scalars())


async def update_webhook(
    session: AsyncSession, actor: Actor, webhook_id: int, changes: Mapping[str, Any]
) -> Webhook:
    hook = await get_webhook(session, actor, webhook_id)
    allowed = {"url", "events", "description", "allow_private", "active", "rotate_secret"}
    unknown = set(changes) - allowed
    if unknown:
        raise Invalid(sorted(unknown)[0], "not a webhook field")
    if "allow_private" in changes:
        hook.allow_private = bool(changes["allow_private"])
    if "url" in changes or "allow_private" in changes:
        hook.url = _clean_url(changes.get("url", hook.url), hook.allow_private)
    if "events" in changes:
        hook.events = _clean_events(changes["events"])
    if "description" in changes:
        hook.description = changes["description"]
    if "active" in changes:
        hook.active = bool(changes["active"])
    if changes.get("rotate_secret"):
        hook.secret = "whsec_" + secrets.token_urlsafe(32)
    hook.updated_at = utcnow()
    await session.flush()
    audit(
        session,
        actor,
        "webhook.updated",
        "webhook",
        hook.id,
        {k: v for k, v in changes.items() if k != "rotate_secret"}
        | ({"secret": "rotated"} if changes.get("rotate_secret") else {}),
    )
    return hook


async def delete_webhook(session: AsyncSession, actor: Actor, webhook_id: int) -> None:
    hook = await get_webhook(session, actor, webhook_id)
    await session.delete(hook)
    await session.flush()
    audit(session, actor, "webhook.deleted", "webhook", webhook_id, {"url": hook.url})


async def list_deliveries(
    session: AsyncSession,
    actor: Actor,
    webhook_id: int,
    *,
    status: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> Page[WebhookDelivery]:
    await get_webhook(session, actor, webhook_id)
    limit = clamp_limit(limit)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    if before_id is not None:
        stmt = stmt.where(WebhookDelivery.id < before_id)
    rows = list(
        (await session.execute(stmt.order_by(WebhookDelivery.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, str(rows[-1].id) if more and rows else None)


async def redeliver(session: AsyncSession, actor: Actor, delivery_id: int) -> WebhookDelivery:
    actor.require(Scope.webhooks)
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} does not exist")
    delivery.status = "pending"
    await jobs.enqueue(session, DELIVER_JOB, {"delivery_id": delivery.id})
    audit(session, actor, "webhook.redelivered", "webhook_delivery", delivery.id)
    return delivery


# --- from facts to deliveries -------------------------------------------------------------------

_MESSAGE_KINDS = {"message.received", "message.sent", "note.added", "message.delivery"}


Enricher = Callable[[AsyncSession, list[facts.Fact], dict[int, dict[str, Any]]], Awaitable[None]]
ENRICHERS: dict[str, list[Enricher]] = {}


def enricher(kind: str) -> Callable[[Enricher], Enricher]:
    """Register what another domain adds to the event body of facts of `kind` (e.g. a survey's
    link for the integration that sends it by SMS); called with those facts and their bodies.
    Only webhooks see it: the fact log keeps no such thing."""

    def register(fn: Enricher) -> Enricher:
        ENRICHERS.setdefault(kind, []).append(fn)
        return fn

    return register


async def payloads_for(session: AsyncSession, batch: list[facts.Fact]) -> dict[int, dict[str, Any]]:
    """The event body of each fact; message facts carry the message itself, and registered
    enrichers add their part."""
    ids = [
        f.data.get("message_id")
        for f in batch
        if f.kind in _MESSAGE_KINDS and isinstance(f.data.get("message_id"), int)
    ]
    messages = await ticket_queries.messages_by_ids(session, ids)
    out = {}
    for f in batch:
        event = facts.event_of(f)
        view = messages.get(f.data.get("message_id")) if f.kind in _MESSAGE_KINDS else None
        if view is not None:
            m = view.message
            event["message"] = {
                "id": m.id,
                "ticket_id": m.ticket_id,
                "channel": m.channel,
                "direction": m.direction,
                "visibility": m.visibility,
                "author_type": m.author_type,
                "author_user_id": m.author_user_id,
                "author_contact_id": m.author_contact_id,
                "text": m.text,
                "html": m.html,
                "external_id": m.external_id,
                "created_at": m.created_at.isoformat(),
                "attachments": [
                    {
                        "id": a.id,
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "size": a.size,
                        "url": f"/api/v1/attachments/{a.id}",
                    }
                    for a in view.attachments
                ],
            }
        out[f.id] = event
    for kind, enrichers in ENRICHERS.items():
        of_kind = [f for f in batch if f.kind == kind]
        for fn in enrichers if of_kind else ():
            await fn(session, of_kind, out)
    return out


async def _no_active_webhook(session: AsyncSession) -> bool:
    found = await session.scalar(select(Webhook.id).where(Webhook.active.is_(True)).limit(1))
    return found is None


@facts.consumer("webhooks", idle=_no_active_webhook)
async def fan_out(session: AsyncSession, batch: list[facts.Fact]) -> None:
    """Each new fact becomes one delivery per subscribed, active webhook."""
    hooks = list((await session.execute(select(Webhook).where(Webhook.active.is_(True)))).scalars())
    if not hooks:
        return
    wanted = [(h, f) for f in batch for h in hooks if matches(h.events, f.kind)]
    if not wanted:
        return
    payloads = await payloads_for(session, list({f.id: f for _, f in wanted}.values()))
    now = utcnow()
    for hook, fact in wanted:
        stmt = (
            insert_ignoring_conflicts(
                session, WebhookDelivery.__table__, index_elements=["webhook_id", "activity_id"]
            )
            .values(
                webhook_id=hook.id,
                activity_id=fact.id,
                event=fact.kind,
                payload=payloads[fact.id],
                status="pending",
                attempts=0,
                created_at=now,
            )
            .returning(WebhookDelivery.id)
        )
        delivery_id = (await session.execute(stmt)).scalar_one_or_none()
        if delivery_id is not None:
            await jobs.enqueue(
                session,
                DELIVER_JOB,
                {"delivery_id": delivery_id},
                idempotency_key=f"webhook:{delivery_id}",
            )


@jobs.handler(DELIVER_JOB)
async def deliver(ctx: jobs.JobContext) -> None:
    """POST one delivery; log the attempt; retry later on failure (until attempts run out)."""
    delivery_id = int(ctx.payload["delivery_id"])
    # Read first, outside the job's write transaction: the request may take seconds.
    async with ctx.db.session(write=False) as read:
        row = (
            await read.execute(
                select(WebhookDelivery, Webhook)
                .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
                .where(WebhookDelivery.id == delivery_id)
            )
        ).first()
    if row is None:
        return  # the webhook was deleted with its deliveries
    delivery, hook = row
    if delivery.status == "delivered":
        return
    attempt = delivery.attempts + 1
    if not hook.active:
        await _log(
            ctx.session,
            delivery_id,
            status="dead",
            attempt=attempt,
            error="the webhook was deactivated",
        )
        return
    body = orjson.dumps(
        {
            "delivery_id": delivery.id,
            "event": delivery.event,
            "attempt": attempt,
            "data": delivery.payload,
        }
    )
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: delivery.event,
        DELIVERY_HEADER: str(delivery.id),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
    }
    started = time.monotonic()
    status_code: int | None = None
    excerpt: str | None = None
    error: str | None = None
    try:
        async with guarded_client(
            allow_private=hook.allow_private, timeout=ctx.settings.webhook_timeout_seconds
        ) as client:
            response = await client.post(hook.url, content=body, headers=headers)
            status_code = response.status_code
            excerpt = response.text[:MAX_EXCERPT]
            if not 200 <= status_code < 300:
                error = f"the receiver answered HTTP {status_code}"
    except BlockedDestination as exc:
        error = str(exc)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration = int((time.monotonic() - started) * 1000)
    if error is None:
        await _log(
            ctx.session,
            delivery_id,
            status="delivered",
            attempt=attempt,
            status_code=status_code,
            excerpt=excerpt,
            duration_ms=duration,
        )
        return
    final = ctx.last_attempt
    await _log(
        ctx.session,
        delivery_id,
        status="dead" if final else "failed",
        attempt=attempt,
        status_code=status_code,
        excerpt=excerpt,
        error=error,
        duration_ms=duration,
    )
    if not final:
        raise jobs.RetryLater(error)


async def _log(
    session: AsyncSession,
    delivery_id: int,
    *,
    status: str,
    attempt: int,
    status_code: int | None = None,
    excerpt: str | None = None,
    error: str | None = None,
    duration_ms: int | None = None,
) -> None:
    delivery = await session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        return
    now = utcnow()
    delivery.status = status
    delivery.attempts = attempt
    delivery.last_attempt_at = now
    delivery.response_status = status_code
    delivery.response_excerpt = excerpt
    delivery.error = error
    delivery.duration_ms = duration_ms
    if status == "delivered":
        delivery.delivered_at = now
