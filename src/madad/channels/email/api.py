"""JSON routes of the email channel: raw inbound mail (for providers' inbound webhooks), the
original email behind a message, quarantined mail, and mailbox administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from madad.auth.permissions import Actor, Scope
from madad.channels.email import service
from madad.channels.email.ingest import Arrival, ingest
from madad.channels.email.schemas import (
    ConnectionOut,
    IngestOut,
    MailboxIn,
    MailboxOut,
    MailboxPatch,
    OriginalOut,
    QuarantinedOut,
)
from madad.db import Database
from madad.errors import Invalid, TooLarge
from madad.files import FileStore, content_disposition
from madad.web.deps import DB, get_store, reading_actor, require

router = APIRouter(prefix="/api/v1", tags=["email"])

Integration = Annotated[Actor, Depends(require(Scope.inbound))]
Reader = Annotated[Actor, Depends(require(Scope.tickets_read))]
Admin = Annotated[Actor, Depends(require(Scope.channels_manage))]
Store = Annotated[FileStore, Depends(get_store)]


@router.post(
    "/channels/email/inbound",
    response_model=IngestOut,
    status_code=201,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
    responses={
        200: {"description": "already received: the stored ids", "model": IngestOut},
        202: {"description": "kept, but not as a ticket message (bounce, own mail, quarantined)"},
        413: {"description": "larger than MADAD_EMAIL_MAX_MESSAGE_BYTES"},
    },
)
async def receive_raw(
    request: Request,
    response: Response,
    actor: Integration,
    store: Store,
    mailbox_id: Annotated[int | None, Query(description="the mailbox it was sent to")] = None,
) -> IngestOut:
    """Store one raw RFC 5322 email (the request body, as received by a mail provider)."""
    db: Database = request.app.state.db
    limit = db.settings.email_max_message_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the email is larger than {limit} bytes")
    raw = await request.body()
    if len(raw) > limit:
        raise TooLarge(f"the email is larger than {limit} bytes")
    if not raw.strip():
        raise Invalid("body", "the request body must be a raw email (RFC 5322), not empty")
    result = await ingest(db, Arrival(raw, "api", mailbox_id=mailbox_id), store=store)
    response.status_code = {"message": 201, "duplicate": 200}.get(result.disposition, 202)
    return IngestOut(
        disposition=result.disposition,
        created=result.created,
        ticket_id=result.ticket_id,
        message_id=result.message_id,
        contact_id=result.contact_id,
        new_ticket=result.new_ticket,
        reopened=result.reopened,
        automatic=result.auto,
        warnings=result.warnings,
    )


def _raw_response(raw: bytes, name: str) -> Response:
    return Response(
        content=raw,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


@router.get("/channels/email/messages/{message_id}/original", response_model=OriginalOut)
async def original(message_id: int, session: DB, actor: Reader, store: Store) -> OriginalOut:
    """The full email behind a ticket message: headers, unstripped text and HTML, files."""
    found = await service.original_of_message(session, actor, message_id, store)
    return OriginalOut.of(found, f"/api/v1/channels/email/messages/{message_id}/original.eml")


@router.get("/channels/email/messages/{message_id}/original.eml")
async def original_raw(message_id: int, session: DB, actor: Reader, store: Store) -> Response:
    """The email exactly as it arrived (or was sent), as a download."""
    found = await service.original_of_message(session, actor, message_id, store)
    return _raw_response(found.raw, f"message-{message_id}.eml")


@router.get("/channels/email/quarantine", response_model=list[QuarantinedOut])
async def quarantine(
    session: DB,
    actor: Admin,
    before_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[QuarantinedOut]:
    """Mail kept but not turned into ticket messages (no sender, empty, too large …)."""
    rows = await service.list_quarantined(session, actor, before_id=before_id, limit=limit)
    return [QuarantinedOut.of(r) for r in rows]


@router.get("/channels/email/records/{record_id}.eml")
async def record_raw(record_id: int, session: DB, actor: Admin, store: Store) -> Response:
    found = await service.original_of_record(session, actor, record_id, store)
    return _raw_response(found.raw, f"email-{record_id}.eml")


# --- inline images ----------------------------------------------------------------------------

# Raster images a browser may show from our origin; anything else (SVG above all) is a download.
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(data: bytes) -> str | None:
    """The image type by the file's own first bytes (never what the email claimed)."""
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


Viewer = Annotated[Actor, Depends(reading_actor)]


@router.get("/attachments/inline/{sha256}")
async def inline_image(
    sha256: Annotated[str, Path(pattern="^[0-9a-f]{64}$")],
    session: DB,
    actor: Viewer,
    store: Store,
) -> Response:
    """An inline (cid:) image of an email, by its content's SHA-256, as the console's message
    HTML refers to it: shown when it is a raster image, otherwise downloaded."""
    found = await service.inline_attachment(session, actor, sha256)
    data = store.get(found.sha256)
    kind = image_type(data)
    disposition = content_disposition(found.filename)
    if kind is not None:
        disposition = "inline" + disposition.removeprefix("attachment")
    return Response(
        content=data,
        media_type=kind or "application/octet-stream",
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            # The address is the content's digest: it never changes.
            "Cache-Control": "private, max-age=31536000, immutable",
        },
    )


# --- mailboxes --------------------------------------------------------------------------------


@router.get("/mailboxes", response_model=list[MailboxOut])
async def list_mailboxes(session: DB, actor: Admin) -> list[MailboxOut]:
    """Every mailbox with its last poll status and error."""
    return [MailboxOut.of(b) for b in await service.list_mailboxes(session, actor)]


@router.post("/mailboxes", response_model=MailboxOut, status_code=201)
async def create_mailbox(body: MailboxIn, session: DB, actor: Admin) -> MailboxOut:
    box = await service.create_mailbox(session, actor, body.model_dump(exclude_unset=True))
    return MailboxOut.of(box)


@router.get("/mailboxes/{mailbox_id}", response_model=MailboxOut)
async def get_mailbox(mailbox_id: int, session: DB, actor: Admin) -> MailboxOut:
    return MailboxOut.of(await service.get_mailbox(session, actor, mailbox_id))


@router.patch("/mailboxes/{mailbox_id}", response_model=MailboxOut)
async def update_mailbox(
    mailbox_id: int, body: MailboxPatch, session: DB, actor: Admin
) -> MailboxOut:
    box = await service.update_mailbox(
        session, actor, mailbox_id, body.model_dump(exclude_unset=True)
    )
    return MailboxOut.of(box)


@router.delete("/mailboxes/{mailbox_id}", status_code=204)
async def delete_mailbox(mailbox_id: int, session: DB, actor: Admin) -> Response:
    await service.delete_mailbox(session, actor, mailbox_id)
    return Response(status_code=204)


@router.post("/mailboxes/{mailbox_id}/test", response_model=ConnectionOut)
async def test_mailbox(
    mailbox_id: int, session: DB, actor: Admin, request: Request
) -> ConnectionOut:
    """Log in to the mailbox's IMAP and SMTP servers; nothing is read, changed or sent."""
    box = await service.get_mailbox(session, actor, mailbox_id)
    return ConnectionOut.of(await service.test_connection(box, request.app.state.settings))


@router.post("/mailboxes/{mailbox_id}/poll", status_code=202)
async def poll_mailbox(mailbox_id: int, session: DB, actor: Admin) -> dict[str, str]:
    """Poll the mailbox now (in the background)."""
    await service.poll_now(session, actor, mailbox_id)
    return {"status": "queued"}
