"""`POST /api/v1/inbound`: the channel social-media bridges and custom integrations use.

Idempotent twice over: the same `external_id` is stored once, and a request repeated with the
same `Idempotency-Key` gets the first answer (a different body under the same key is a 409).
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import Actor, Scope
from madad.channels.api import service
from madad.channels.api.schemas import DeliveryReport, InboundIn, InboundOut
from madad.channels.intake import IntakeBatcher
from madad.db import Database
from madad.errors import Conflict, Invalid
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, Received, Sender
from madad.tickets.schemas import MessageOut, decode_attachments
from madad.web.deps import DB, PathId, require

router = APIRouter(prefix="/api/v1", tags=["channels"])

Integration = Annotated[Actor, Depends(require(Scope.inbound))]


def _inbound(body: InboundIn) -> Inbound:
    c = body.contact
    return Inbound(
        channel=service.CHANNEL,
        sender=Sender(
            name=c.name,
            email=c.email,
            phone=c.phone,
            handle=c.handle,
            language=c.language,
            time_zone=c.time_zone,
        ),
        text=body.text,
        html=body.html,
        subject=body.subject,
        external_id=body.external_id,
        conversation_key=body.conversation_id,
        in_reply_to=(body.in_reply_to,) if body.in_reply_to else (),
        attachments=tuple(decode_attachments(body.attachments)),
        tags=tuple(body.tags),
        priority=body.priority.value if body.priority else None,
        custom_fields=body.custom_fields,
        meta={"source": body.source} if body.source else {},
        received_at=body.received_at,
    )


def _principal(actor: Actor) -> str:
    return f"token:{actor.token_id}" if actor.token_id is not None else f"user:{actor.user_id}"


@router.post(
    "/inbound",
    response_model=InboundOut,
    status_code=201,
    responses={
        200: {"description": "already received: the stored ids", "model": InboundOut},
        409: {"description": "the external_id or Idempotency-Key was used for a different message"},
    },
)
async def receive_inbound(
    request: Request,
    response: Response,
    body: InboundIn,
    actor: Integration,
) -> InboundOut:
    # No request-scoped session here: the message is stored by the intake batcher's own
    # transaction (a write session held by this request would block it on SQLite).
    db: Database = request.app.state.db
    batcher: IntakeBatcher = request.app.state.intake
    key = request.headers.get("idempotency-key")
    if key is not None and not 1 <= len(key) <= 255:
        raise Invalid("Idempotency-Key", "1-255 characters")
    digest = hashlib.sha256(await request.body()).hexdigest()
    principal = _principal(actor)
    prepared = tickets.prepare(_inbound(body), db.settings)

    def remember(session: AsyncSession, received: Received) -> None:
        if key is not None:
            service.remember(
                session,
                principal,
                key,
                digest,
                201 if received.created else 200,
                _out(received).model_dump(mode="json"),
            )

    for _ in range(3):
        if key is not None:
            async with db.session(write=False) as session:
                prior = await service.remembered(session, principal, key)
            if prior is not None:
                if prior.request_hash != digest:
                    raise Conflict("this Idempotency-Key was used with a different request body")
                response.status_code = 200
                return InboundOut(**prior.response)
        try:
            received = await batcher.submit(prepared, also=remember)
        except IntegrityError:
            continue  # a concurrent request with the same key won: look again
        response.status_code = 201 if received.created else 200
        return _out(received)
    raise Conflict("the message kept colliding with concurrent writes; retry")


def _out(received: Received) -> InboundOut:
    return InboundOut(
        ticket_id=received.ticket_id,
        message_id=received.message_id,
        contact_id=received.contact_id,
        created=received.created,
        new_ticket=received.new_ticket,
        reopened=received.reopened,
        follow_up_of=received.follow_up_of,
    )


@router.post("/messages/{message_id}/delivery", response_model=MessageOut)
async def report_delivery(
    message_id: PathId, body: DeliveryReport, session: DB, actor: Integration
) -> MessageOut:
    """An integration reports what became of an agent's reply it carried."""
    message = await tickets.set_delivery_status(
        session, actor, message_id, status=body.status, error=body.error
    )
    return MessageOut.of(message)
