"""API shapes of the email channel: mailboxes (passwords write-only), ingest results, originals."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from madad.api_types import SafeStr, Strict
from madad.channels.email.models import EmailRecord, Mailbox
from madad.channels.email.service import ConnectionReport, Original

Security = Literal["ssl", "starttls", "none"]


class MailboxPatch(Strict):
    name: SafeStr | None = Field(default=None, min_length=1, max_length=100)
    address: str | None = Field(default=None, max_length=320)
    display_name: SafeStr | None = Field(default=None, max_length=200)
    enabled: bool | None = None
    is_default: bool | None = None
    verify_tls: bool | None = None
    imap_host: str | None = Field(default=None, max_length=253)
    imap_port: int | None = Field(default=None, ge=1, le=65535)
    imap_security: Security | None = None
    imap_username: SafeStr | None = Field(default=None, max_length=320)
    imap_password: SafeStr | None = Field(default=None, max_length=1000, description="write-only")
    imap_folder: str | None = Field(default=None, max_length=200)
    after_import: Literal["seen", "move"] | None = None
    move_to_folder: str | None = Field(default=None, max_length=200)
    poll_interval_seconds: int | None = Field(default=None, ge=10, le=86400)
    smtp_host: str | None = Field(default=None, max_length=253)
    smtp_port: int | None = Field(default=None, ge=1, le=65535)
    smtp_security: Security | None = None
    smtp_username: SafeStr | None = Field(default=None, max_length=320)
    smtp_password: SafeStr | None = Field(default=None, max_length=1000, description="write-only")
    plus_addressing: bool | None = None
    ack_enabled: bool | None = None
    ack_subject: SafeStr | None = Field(default=None, max_length=500)
    ack_text: SafeStr | None = Field(
        default=None,
        max_length=20000,
        description="Jinja template; variables: ticket_id, subject, name, mailbox",
    )


class MailboxIn(MailboxPatch):
    name: SafeStr = Field(min_length=1, max_length=100)
    address: str = Field(max_length=320)


class MailboxOut(BaseModel):
    id: int
    name: str
    address: str
    display_name: str | None
    enabled: bool
    is_default: bool
    verify_tls: bool
    imap_host: str | None
    imap_port: int | None
    imap_security: str
    imap_username: str | None
    has_imap_password: bool
    imap_folder: str
    after_import: str
    move_to_folder: str | None
    poll_interval_seconds: int
    smtp_host: str | None
    smtp_port: int | None
    smtp_security: str
    smtp_username: str | None
    has_smtp_password: bool
    plus_addressing: bool
    ack_enabled: bool
    ack_subject: str | None
    ack_text: str | None
    last_poll_at: datetime | None
    last_poll_status: str
    last_poll_error: str | None
    last_poll_count: int
    last_success_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, box: Mailbox) -> MailboxOut:
        values = {k: getattr(box, k) for k in cls.model_fields if hasattr(box, k)}
        return cls(
            **values,
            has_imap_password=bool(box.imap_password),
            has_smtp_password=bool(box.smtp_password),
        )


class CheckOut(BaseModel):
    ok: bool
    detail: str


class ConnectionOut(BaseModel):
    ok: bool
    imap: CheckOut | None = None
    smtp: CheckOut | None = None

    @classmethod
    def of(cls, report: ConnectionReport) -> ConnectionOut:
        return cls(
            ok=report.ok,
            imap=CheckOut(ok=report.imap.ok, detail=report.imap.detail) if report.imap else None,
            smtp=CheckOut(ok=report.smtp.ok, detail=report.smtp.detail) if report.smtp else None,
        )


class IngestOut(BaseModel):
    disposition: str = Field(description="message, duplicate, bounce, own or quarantined")
    created: bool
    ticket_id: int | None = None
    message_id: int | None = None
    contact_id: int | None = None
    new_ticket: bool = False
    reopened: bool = False
    automatic: str | None = Field(default=None, description="why it is automatic mail, if so")
    warnings: list[str] = []


class AttachmentInfo(BaseModel):
    filename: str
    content_type: str
    size: int
    inline: bool
    content_id: str | None


class OriginalOut(BaseModel):
    record_id: int
    direction: str
    kind: str
    source: str
    message_id: int | None
    ticket_id: int | None
    size: int
    headers: list[tuple[str, str]]
    text: str
    html: str | None = Field(description="sanitised; remote images removed")
    attachments: list[AttachmentInfo]
    warnings: list[str]
    raw_url: str

    @classmethod
    def of(cls, o: Original, raw_url: str) -> OriginalOut:
        r = o.record
        return cls(
            record_id=r.id,
            direction=r.direction,
            kind=r.kind,
            source=r.source,
            message_id=r.message_id,
            ticket_id=r.ticket_id,
            size=len(o.raw),
            headers=o.headers,
            text=o.parsed.text,
            html=o.html,
            attachments=[
                AttachmentInfo(
                    filename=a.filename,
                    content_type=a.content_type,
                    size=len(a.data),
                    inline=a.inline,
                    content_id=a.content_id,
                )
                for a in o.parsed.attachments
            ],
            warnings=sorted(set(o.parsed.warnings) | set(r.warnings)),
            raw_url=raw_url,
        )


class QuarantinedOut(BaseModel):
    id: int
    source: str
    mailbox_id: int | None
    peer_address: str | None
    subject: str | None
    size: int
    reason: str | None
    warnings: list[str]
    created_at: datetime

    @classmethod
    def of(cls, r: EmailRecord) -> QuarantinedOut:
        return cls(
            id=r.id,
            source=r.source,
            mailbox_id=r.mailbox_id,
            peer_address=r.peer_address,
            subject=r.subject,
            size=r.raw_size,
            reason=(r.info or {}).get("reason"),
            warnings=list(r.warnings),
            created_at=r.created_at,
        )
