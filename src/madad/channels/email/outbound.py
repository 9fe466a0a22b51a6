"""Outbound email: agents' replies and acknowledgement auto-replies, composed so that mail
clients thread them (Message-ID, In-Reply-To, References), sent with aiosmtplib through the
jobs outbox with retries.

A reply is sent at least once and never twice on purpose: the job checks the record of what was
sent first, and a retry after a crash re-sends with the same Message-ID, which mail clients
show once.
"""

from __future__ import annotations

import html as html_lib
import logging
import ssl
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.activity import service as facts
from madad.auth.models import User
from madad.auth.permissions import SYSTEM
from madad.channels.email import passwords
from madad.channels.email.ingest import ACK_JOB, CHANNEL
from madad.channels.email.models import EmailRecord, Mailbox
from madad.channels.email.parse import one_line
from madad.channels.email.threads import (
    own_message_id,
    plus_address,
    references_for,
    reply_subject,
)
from madad.config import Settings
from madad.contacts.models import Contact, ContactIdentity
from madad.db import utcnow
from madad.files import FileStore
from madad.kb import bot
from madad.kb.content import LANGUAGES
from madad.tickets import service as tickets
from madad.tickets.delivery import register_deliverer
from madad.tickets.models import Attachment, Message, Ticket

log = logging.getLogger("madad.email")

DELIVER_JOB = "email.deliver"
register_deliverer(CHANNEL, DELIVER_JOB)

DEFAULT_ACK_TEXT = (
    "Hello{% if name %} {{ name }}{% endif %},\n\n"
    "Thank you for writing to us. We have received your message and opened ticket "
    "#{{ ticket_id }}; we will answer as soon as we can. To add anything, reply to this email.\n\n"
    "{{ mailbox }}"
)
_templates = SandboxedEnvironment(autoescape=False)


class SendFailed(Exception):
    """The SMTP server refused the mail for good (5xx): retrying will not help."""


class SendDeferred(Exception):
    """The mail could not be handed over now (network, 4xx, authentication): retry later."""


@dataclass(frozen=True)
class FileOut:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Outgoing:
    """One email ready to compose and send."""

    from_name: str | None
    from_address: str
    to_name: str | None
    to_address: str
    subject: str
    text: str
    html: str | None
    message_id: str
    reply_to: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    files: list[FileOut] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)


def _address(name: str | None, address: str) -> HeaderAddress:
    local, _, domain = one_line(address, 320).rpartition("@")
    return HeaderAddress(display_name=one_line(name or "", 200), username=local, domain=domain)


def compose(out: Outgoing) -> EmailMessage:
    """A MIME message: text and HTML alternatives, attachments, threading headers. Every header
    value is one line (no header injection through names or subjects)."""
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _address(out.from_name, out.from_address)
    msg["To"] = _address(out.to_name, out.to_address)
    if out.reply_to:
        msg["Reply-To"] = _address(out.from_name, out.reply_to)
    msg["Subject"] = one_line(out.subject, 500)
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = f"<{out.message_id}>"
    if out.in_reply_to:
        msg["In-Reply-To"] = f"<{out.in_reply_to}>"
    if out.references:
        msg["References"] = " ".join(f"<{r}>" for r in out.references)
    for name, value in out.headers.items():
        msg[name] = one_line(value, 200)
    msg.set_content(out.text or " ", subtype="plain", charset="utf-8", cte="quoted-printable")
    if out.html:
        msg.add_alternative(out.html, subtype="html", charset="utf-8", cte="quoted-printable")
    for f in out.files:
        maintype, _, subtype = (f.content_type or "application/octet-stream").partition("/")
        if maintype == "text" or maintype == "multipart" or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(f.data, maintype=maintype, subtype=subtype, filename=f.filename)
    return msg


def text_to_html(text: str) -> str:
    paragraphs = [p for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return (
        "".join(f"<p>{html_lib.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
        or "<p></p>"
    )


def with_signature(text: str, html: str | None, signature: str | None) -> tuple[str, str]:
    body_html = html or text_to_html(text)
    if not signature or not signature.strip():
        return text, body_html
    sig = signature.strip()
    return (
        f"{text.rstrip()}\n\n-- \n{sig}",
        f'{body_html}<div class="signature"><br>-- <br>'
        f"{html_lib.escape(sig).replace(chr(10), '<br>')}</div>",
    )


# --- sending ----------------------------------------------------------------------------------


def tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def smtp_options(box: Mailbox, secret_key: str, timeout: float) -> dict[str, object]:
    """aiosmtplib connection options for a mailbox's SMTP server."""
    if not box.smtp_host:
        raise SendFailed(f"mailbox {box.name!r} has no SMTP server configured")
    security = box.smtp_security
    port = box.smtp_port or {"ssl": 465, "starttls": 587}.get(security, 25)
    options: dict[str, object] = {
        "hostname": box.smtp_host,
        "port": port,
        "timeout": timeout,
        "use_tls": security == "ssl",
        "start_tls": security == "starttls",
        "tls_context": tls_context(box.verify_tls),
    }
    if security == "ssl":
        options.pop("start_tls")
    if box.smtp_username:
        options["username"] = box.smtp_username
        options["password"] = passwords.decrypt(secret_key, box.smtp_password) or ""
    return options


async def send(box: Mailbox, message: EmailMessage, recipient: str, settings: Settings) -> None:
    """Hand one message to the mailbox's SMTP server; raises SendFailed or SendDeferred."""
    options = smtp_options(
        box, settings.resolved_secret_key(), settings.email_network_timeout_seconds
    )
    try:
        await aiosmtplib.send(message, sender=box.address, recipients=[recipient], **options)  # type: ignore[arg-type]
    except aiosmtplib.SMTPRecipientsRefused as exc:
        raise SendFailed(_smtp_error(exc)) from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise SendDeferred(f"authentication failed: {exc.code} {exc.message}"[:500]) from exc
    except aiosmtplib.SMTPResponseException as exc:
        if 500 <= exc.code < 600:
            raise SendFailed(f"{exc.code} {exc.message}"[:500]) from exc
        raise SendDeferred(f"{exc.code} {exc.message}"[:500]) from exc
    except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
        raise SendDeferred(f"{type(exc).__name__}: {exc}"[:500]) from exc


def _smtp_error(exc: aiosmtplib.SMTPRecipientsRefused) -> str:
    parts = [f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients]
    return "; ".join(parts)[:500] or "recipient refused"


# --- replies ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a delivery job found: an email to send, or why there is nothing to send."""

    outgoing: Outgoing | None = None
    mailbox: Mailbox | None = None
    ticket_id: int | None = None
    done: bool = False  # already sent
    error: str | None = None  # cannot be sent at all
    record_id: int | None = None  # the record queued with it (acknowledgements)
    suggestions: list[bot.Suggestion] = field(default_factory=list)  # the bot's, in an ack
    question: str = ""  # what the bot was asked (kept as unanswered when it offers nothing)
    contact_id: int | None = None
    language: str = "en"


async def _latest_inbound(session: AsyncSession, ticket_id: int) -> EmailRecord | None:
    return await session.scalar(
        select(EmailRecord)
        .where(
            EmailRecord.ticket_id == ticket_id,
            EmailRecord.direction == "inbound",
            EmailRecord.kind == "message",
        )
        .order_by(EmailRecord.id.desc())
        .limit(1)
    )


async def _mailbox(session: AsyncSession, mailbox_id: int | None) -> Mailbox | None:
    if mailbox_id is not None:
        box = await session.get(Mailbox, mailbox_id)
        if box is not None and box.enabled:
            return box
    return await session.scalar(
        select(Mailbox)
        .where(Mailbox.enabled.is_(True), Mailbox.smtp_host.is_not(None))
        .order_by(Mailbox.is_default.desc(), Mailbox.id)
        .limit(1)
    )


async def _contact_address(session: AsyncSession, contact_id: int) -> str | None:
    return await session.scalar(
        select(ContactIdentity.value)
        .where(ContactIdentity.contact_id == contact_id, ContactIdentity.kind == "email")
        .order_by(ContactIdentity.bouncing, ContactIdentity.is_primary.desc(), ContactIdentity.id)
        .limit(1)
    )


async def plan_reply(
    session: AsyncSession, message_id: int, settings: Settings, store: FileStore
) -> Plan:
    """Everything needed to send an agent's reply, read before any network work."""
    message = await session.get(Message, message_id)
    if message is None or message.direction != "outbound" or message.visibility != "public":
        return Plan(error=f"message {message_id} is not a public reply", done=True)
    sent = await session.scalar(
        select(EmailRecord.id).where(
            EmailRecord.direction == "outbound", EmailRecord.message_id == message_id
        )
    )
    if sent is not None or message.delivery_status in ("sent", "delivered", "read"):
        return Plan(ticket_id=message.ticket_id, done=True)
    ticket = await session.get(Ticket, message.ticket_id)
    assert ticket is not None
    parent = await _latest_inbound(session, ticket.id)
    box = await _mailbox(session, parent.mailbox_id if parent else None)
    if box is None:
        return Plan(ticket_id=ticket.id, error="no enabled mailbox with an SMTP server")
    to = parent.peer_address if parent and parent.peer_address else None
    to = to or await _contact_address(session, ticket.contact_id)
    if not to:
        return Plan(ticket_id=ticket.id, error="the customer has no email address")
    author = await session.get(User, message.author_user_id) if message.author_user_id else None
    files = [
        FileOut(a.filename, a.content_type, store.get(a.sha256))
        for a in (
            await session.execute(
                select(Attachment)
                .where(Attachment.message_id == message.id)
                .order_by(Attachment.id)
            )
        ).scalars()
    ]
    secret = settings.resolved_secret_key()
    text, html = with_signature(message.text, message.html, author.signature if author else None)
    display = box.display_name or box.name
    mid = own_message_id("r", message.id, box.address.rpartition("@")[2], secret)
    parent_id = parent.rfc_message_id if parent else None
    return Plan(
        outgoing=Outgoing(
            from_name=f"{author.name} via {display}" if author else display,
            from_address=box.address,
            to_name=None,
            to_address=to,
            subject=reply_subject(ticket.subject, ticket.id),
            text=text,
            html=html,
            message_id=mid,
            reply_to=plus_address(box.address, ticket.id, secret) if box.plus_addressing else None,
            in_reply_to=parent_id,
            references=references_for(parent_id, list(parent.refs) if parent else []),
            files=files,
            headers={"X-Madad-Ticket": str(ticket.id)},
        ),
        mailbox=box,
        ticket_id=ticket.id,
    )


def record_sent(
    session: AsyncSession,
    plan: Plan,
    kind: str,
    raw: bytes,
    store: FileStore,
    *,
    message_id: int | None,
    info: dict[str, object] | None = None,
) -> None:
    out = plan.outgoing
    assert out is not None and plan.mailbox is not None
    blob = store.put(raw)
    session.add(
        EmailRecord(
            direction="outbound",
            kind=kind,
            external_id=out.message_id,
            rfc_message_id=out.message_id,
            mailbox_id=plan.mailbox.id,
            message_id=message_id,
            ticket_id=plan.ticket_id,
            source="smtp-out",
            peer_address=out.to_address.lower(),
            subject=one_line(out.subject, 500),
            in_reply_to=out.in_reply_to,
            refs=out.references,
            recipients=[out.to_address.lower()],
            raw_sha256=blob.key,
            raw_size=blob.size,
            warnings=[],
            info=dict(info or {}),
            created_at=utcnow(),
        )
    )


@jobs.handler(DELIVER_JOB)
async def deliver_reply(ctx: jobs.JobContext) -> None:
    """Send an agent's reply; record it and mark the message sent (or failed for good)."""
    message_id = int(ctx.payload["message_id"])
    store = FileStore(ctx.settings.files_dir)
    async with ctx.db.session(write=False) as read:
        plan = await plan_reply(read, message_id, ctx.settings, store)
    if plan.done:
        return
    if plan.error or plan.outgoing is None or plan.mailbox is None:
        await _failed(ctx, message_id, plan.error or "cannot be sent")
        return
    message = compose(plan.outgoing)
    try:
        await send(plan.mailbox, message, plan.outgoing.to_address, ctx.settings)
    except SendFailed as exc:
        await _failed(ctx, message_id, str(exc))
        return
    except SendDeferred as exc:
        if ctx.last_attempt:
            await _failed(ctx, message_id, str(exc))
            return
        raise jobs.RetryLater(str(exc)) from exc
    record_sent(ctx.session, plan, "reply", message.as_bytes(), store, message_id=message_id)
    await tickets.set_delivery_status(ctx.session, SYSTEM, message_id, status="sent")


async def _failed(ctx: jobs.JobContext, message_id: int, error: str) -> None:
    log.warning("email reply %s not delivered: %s", message_id, error)
    message = await ctx.session.get(Message, message_id)
    if message is not None and message.direction == "outbound" and message.visibility == "public":
        await tickets.set_delivery_status(
            ctx.session, SYSTEM, message_id, status="failed", error=error
        )


# --- acknowledgements -------------------------------------------------------------------------


def check_template(source: str) -> str | None:
    """Why an acknowledgement template cannot be used, or None when it can."""
    try:
        _templates.parse(source)
    except TemplateSyntaxError as exc:
        return f"{exc.message} (line {exc.lineno})"
    return None


ARTICLES_HEADING = "These articles in our help centre may already answer your question:"


def render_ack(
    box: Mailbox,
    *,
    ticket_id: int,
    subject: str,
    name: str | None,
    articles: list[tuple[str, str]] | None = None,
) -> tuple[str, str]:
    """The acknowledgement's subject and text from the mailbox's templates (sandboxed Jinja).

    `articles` are the answer bot's (title, absolute URL): a template that names `articles`
    places them itself; otherwise they are listed after its text."""
    values = {
        "ticket_id": ticket_id,
        "subject": subject,
        "name": name or "",
        "mailbox": box.display_name or box.name,
        "articles": [{"title": t, "url": u} for t, u in articles or []],
    }
    source = box.ack_text or DEFAULT_ACK_TEXT
    text = _templates.from_string(source).render(values)
    if articles and "articles" not in source:
        listed = "\n".join(f"- {title}\n  {url}" for title, url in articles)
        text = f"{text.rstrip()}\n\n{ARTICLES_HEADING}\n\n{listed}\n"
    title = (
        _templates.from_string(box.ack_subject).render(values)
        if box.ack_subject
        else reply_subject(subject, ticket_id)
    )
    return one_line(title, 500), text


async def plan_ack(
    session: AsyncSession, message_id: int, mailbox_id: int, to: str, settings: Settings
) -> Plan:
    """The acknowledgement the ingest queued (and recorded) for a new ticket."""
    message = await session.get(Message, message_id)
    box = await session.get(Mailbox, mailbox_id)
    if message is None or box is None or not box.ack_enabled or not box.enabled:
        return Plan(done=True)
    secret = settings.resolved_secret_key()
    mid = own_message_id("a", message_id, box.address.rpartition("@")[2], secret)
    record = await session.scalar(
        select(EmailRecord).where(
            EmailRecord.direction == "outbound", EmailRecord.external_id == mid
        )
    )
    if record is None or record.info.get("state") != "queued":
        return Plan(done=True)
    bouncing = await session.scalar(
        select(ContactIdentity.bouncing).where(
            ContactIdentity.kind == "email", ContactIdentity.value == to.lower()
        )
    )
    if bouncing:
        return Plan(done=True)
    ticket = await session.get(Ticket, message.ticket_id)
    assert ticket is not None
    inbound = await session.scalar(
        select(EmailRecord).where(EmailRecord.message_id == message_id).limit(1)
    )
    name = message.meta.get("email", {}).get("from_name") if message.meta else None
    language, question, suggestions = await _bot_answers(session, ticket, message, settings)
    base = (settings.base_url or f"http://{settings.host}:{settings.port}").rstrip("/")
    subject, text = render_ack(
        box,
        ticket_id=ticket.id,
        subject=ticket.subject,
        name=name,
        articles=[(s.title, bot.public_url(base, s)) for s in suggestions],
    )
    parent_id = inbound.rfc_message_id if inbound else None
    return Plan(
        outgoing=Outgoing(
            from_name=box.display_name or box.name,
            from_address=box.address,
            to_name=None,
            to_address=to,
            subject=subject,
            text=text,
            html=None,
            message_id=mid,
            reply_to=plus_address(box.address, ticket.id, secret) if box.plus_addressing else None,
            in_reply_to=parent_id,
            references=references_for(parent_id, list(inbound.refs) if inbound else []),
            headers={
                "Auto-Submitted": "auto-replied",
                "X-Auto-Response-Suppress": "All",
                "X-Madad-Ticket": str(ticket.id),
            },
        ),
        mailbox=box,
        ticket_id=ticket.id,
        record_id=record.id,
        suggestions=suggestions,
        question=question,
        language=language,
        contact_id=ticket.contact_id,
    )


async def _bot_answers(
    session: AsyncSession, ticket: Ticket, message: Message, settings: Settings
) -> tuple[str, str, list[bot.Suggestion]]:
    """The answer bot's language, question (the email's text, then its subject) and articles,
    in the customer's language when the knowledge base has it."""
    contact = await session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    language = contact.language if contact and contact.language in LANGUAGES else "en"
    question = f"{bot.question_of(message.text or '')}\n{ticket.subject or ''}"
    return language, question, await bot.suggest(session, question, lang=language)


async def _complete_ack(
    session: AsyncSession, plan: Plan, state: str, raw: bytes | None, store: FileStore
) -> None:
    record = await session.get(EmailRecord, plan.record_id)
    if record is None:
        return
    info = dict(record.info)
    info["state"] = state
    record.info = info
    if raw is not None and plan.outgoing is not None:
        blob = store.put(raw)
        record.raw_sha256, record.raw_size = blob.key, blob.size
        record.subject = one_line(plan.outgoing.subject, 500)
        record.in_reply_to = plan.outgoing.in_reply_to
        record.refs = plan.outgoing.references


@jobs.handler(ACK_JOB)
async def send_ack(ctx: jobs.JobContext) -> None:
    """Send the mailbox's acknowledgement of a new ticket (best effort: a refusal or the last
    failed attempt gives up, never touching the ticket)."""
    p = ctx.payload
    store = FileStore(ctx.settings.files_dir)
    async with ctx.db.session(write=False) as read:
        plan = await plan_ack(
            read, int(p["message_id"]), int(p["mailbox_id"]), p["to"], ctx.settings
        )
    if plan.done or plan.outgoing is None or plan.mailbox is None:
        return
    message = compose(plan.outgoing)
    try:
        await send(plan.mailbox, message, plan.outgoing.to_address, ctx.settings)
    except SendFailed as exc:
        log.info("acknowledgement for message %s refused: %s", p["message_id"], exc)
        await _complete_ack(ctx.session, plan, "refused", None, store)
        return
    except SendDeferred as exc:
        if ctx.last_attempt:
            await _complete_ack(ctx.session, plan, "failed", None, store)
            return
        raise jobs.RetryLater(str(exc)) from exc
    await _complete_ack(ctx.session, plan, "sent", message.as_bytes(), store)
    if plan.suggestions:
        bot.record_offered(
            ctx.session,
            plan.suggestions,
            channel=CHANNEL,
            language=plan.language,
            ticket_id=plan.ticket_id,
            contact_id=plan.contact_id,
        )
    elif plan.question.strip():
        bot.record_unanswered(
            ctx.session,
            plan.question,
            channel=CHANNEL,
            language=plan.language,
            ticket_id=plan.ticket_id,
            contact_id=plan.contact_id,
        )
    facts.record(
        ctx.session,
        "email.auto_replied",
        ticket_id=plan.ticket_id,
        channel=CHANNEL,
        data={"message_id": int(p["message_id"]), "mailbox_id": plan.mailbox.id},
    )
