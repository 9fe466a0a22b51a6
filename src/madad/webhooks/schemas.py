"""API shapes of the webhooks domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from madad.api_types import SafeStr, Strict
from madad.webhooks.models import Webhook, WebhookDelivery


class WebhookOut(BaseModel):
    id: int
    url: str
    events: list[str]
    description: str | None
    active: bool
    allow_private: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, h: Webhook) -> WebhookOut:
        return cls(
            id=h.id,
            url=h.url,
            events=h.events,
            description=h.description,
            active=h.active,
            allow_private=h.allow_private,
            created_at=h.created_at,
            updated_at=h.updated_at,
        )


class WebhookWithSecret(WebhookOut):
    secret: str = Field(description="signs every delivery; keep it secret")

    @classmethod
    def of(cls, h: Webhook) -> WebhookWithSecret:
        return cls(**WebhookOut.of(h).model_dump(), secret=h.secret)


class WebhookCreate(Strict):
    url: str = Field(max_length=2000)
    events: list[str] = Field(min_length=1, max_length=100)
    description: SafeStr | None = Field(default=None, max_length=500)
    allow_private: bool = Field(
        default=False, description="allow loopback/private destinations (trusted networks only)"
    )
    active: bool = True


class WebhookPatch(Strict):
    url: str | None = Field(default=None, max_length=2000)
    events: list[str] | None = Field(default=None, min_length=1, max_length=100)
    description: SafeStr | None = Field(default=None, max_length=500)
    allow_private: bool | None = None
    active: bool | None = None
    rotate_secret: bool | None = None


class DeliveryOut(BaseModel):
    id: int
    webhook_id: int
    activity_id: int
    event: str
    status: str
    attempts: int
    response_status: int | None
    response_excerpt: str | None
    error: str | None
    duration_ms: int | None
    created_at: datetime
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=d.id,
            webhook_id=d.webhook_id,
            activity_id=d.activity_id,
            event=d.event,
            status=d.status,
            attempts=d.attempts,
            response_status=d.response_status,
            response_excerpt=d.response_excerpt,
            error=d.error,
            duration_ms=d.duration_ms,
            created_at=d.created_at,
            last_attempt_at=d.last_attempt_at,
            delivered_at=d.delivered_at,
            payload=d.payload,
        )


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None = None
