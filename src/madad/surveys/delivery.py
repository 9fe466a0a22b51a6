"""Surveys by email: one-click ratings (each a signed link to the survey page with the score
chosen — the page asks the customer to confirm, so a scanner's GET records nothing), sent
through the ticket's mailbox (or the default one) and recorded like every email Madad sends."""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.activity import service as facts
from madad.channels.email.models import EmailRecord, Mailbox
from madad.channels.email.outbound import Outgoing, SendDeferred, SendFailed, compose, send
from madad.channels.email.threads import own_message_id
from madad.config import Settings
from madad.contacts.models import Contact, ContactIdentity
from madad.db import settings_of, utcnow
from madad.files import FileStore
from madad.surveys import service
from madad.surveys.models import Survey
from madad.tickets.models import Ticket
from madad.web import i18n
from madad.webhooks import service as webhooks

log = logging.getLogger("madad.surveys")


@dataclass
class Letter:
    outgoing: Outgoing
    mailbox: Mailbox


async def _address(session: AsyncSession, contact_id: int) -> str | None:
    return await session.scalar(
        select(ContactIdentity.value)
        .where(ContactIdentity.contact_id == contact_id, ContactIdentity.kind == "email")
        .order_by(ContactIdentity.bouncing, ContactIdentity.is_primary.desc(), ContactIdentity.id)
        .limit(1)
    )


async def _box_for(session: AsyncSession, ticket_id: int | None) -> Mailbox | None:
    if ticket_id is not None:
        mailbox_id = await session.scalar(
            select(EmailRecord.mailbox_id)
            .where(EmailRecord.ticket_id == ticket_id, EmailRecord.direction == "inbound")
            .order_by(EmailRecord.id.desc())
            .limit(1)
        )
        box = await session.get(Mailbox, mailbox_id) if mailbox_id else None
        if box is not None and box.enabled and box.smtp_host:
            return box
    return await session.scalar(
        select(Mailbox)
        .where(Mailbox.enabled.is_(True), Mailbox.smtp_host.is_not(None))
        .order_by(Mailbox.is_default.desc(), Mailbox.id)
        .limit(1)
    )


def letter_text(survey: Survey, link: str, name: str | None, subject: str | None) -> dict:
    """Subject, text and HTML of the survey email, in the customer's language."""
    i18n.activate(survey.language)
    _ = i18n.gettext
    greeting = _("Hello %(name)s,", name=name) if name else _("Hello,")
    if survey.kind == "csat":
        title = _("How did we do? (ticket #%(id)s)", id=survey.ticket_id)
        ask = _("How satisfied are you with the help you got with “%(subject)s”?",
                subject=subject or "")  # fmt: skip
        scale = [(n, label) for n, label in zip(range(1, 6), [
            _("Very dissatisfied"), _("Dissatisfied"), _("Neutral"), _("Satisfied"),
            _("Very satisfied")], strict=True)]  # fmt: skip
    else:
        title = _("Would you recommend us?")
        ask = _("How likely are you to recommend us to a friend or colleague? (0 = not at all, "
                "10 = extremely likely)")  # fmt: skip
        scale = [(n, str(n)) for n in range(0, 11)]
    choose = _("Choose your answer; you can add a comment on the next page.")
    text_lines = [greeting, "", ask, ""]
    text_lines += [f"{label}: {link}?score={n}" for n, label in scale]
    text_lines += ["", choose]
    buttons = " ".join(
        f'<a href="{html.escape(link)}?score={n}" '
        f'style="display:inline-block;padding:8px 12px;margin:2px;border:1px solid #0b5cad;'
        f'border-radius:6px;color:#0b5cad;text-decoration:none">{html.escape(label)}</a>'
        for n, label in scale
    )
    body = (
        f'<div dir="{"rtl" if survey.language == "ur" else "ltr"}">'
        f"<p>{html.escape(greeting)}</p><p>{html.escape(ask)}</p><p>{buttons}</p>"
        f"<p>{html.escape(choose)}</p></div>"
    )
    return {"subject": title, "text": "\n".join(text_lines), "html": body}


async def plan(session: AsyncSession, survey_id: int, settings: Settings) -> Letter | str:
    """The email to send, or why there is none."""
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.contact_id is None:
        return "no such survey"
    to = await _address(session, survey.contact_id)
    if not to:
        return "the customer has no email address"
    box = await _box_for(session, survey.ticket_id)
    if box is None:
        return "no enabled mailbox with an SMTP server"
    contact = await session.get(Contact, survey.contact_id)
    ticket = await session.get(Ticket, survey.ticket_id) if survey.ticket_id else None
    words = letter_text(
        survey,
        service.link_of(settings, survey),
        contact.name if contact else None,
        ticket.subject if ticket else None,
    )
    domain = box.address.rpartition("@")[2]
    return Letter(
        Outgoing(
            from_name=box.display_name or box.name,
            from_address=box.address,
            to_name=contact.name if contact else None,
            to_address=to,
            subject=words["subject"],
            text=words["text"],
            html=words["html"],
            message_id=own_message_id("s", survey.id, domain, settings.resolved_secret_key()),
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        ),
        box,
    )


@jobs.handler(service.DELIVER_JOB)
async def deliver(ctx: jobs.JobContext) -> None:
    survey_id = int(ctx.payload["survey_id"])
    async with ctx.db.session(write=False) as read:
        letter = await plan(read, survey_id, ctx.settings)
    survey = await ctx.session.get(Survey, survey_id)
    if survey is None:
        return
    if isinstance(letter, str):
        survey.delivery_error = letter[:500]  # the link stays available through the API
        return
    message = compose(letter.outgoing)
    try:
        await send(letter.mailbox, message, letter.outgoing.to_address, ctx.settings)
    except SendFailed as exc:
        survey.delivery_error = str(exc)[:500]
        return
    except SendDeferred as exc:
        if ctx.last_attempt:
            survey.delivery_error = str(exc)[:500]
            return
        raise jobs.RetryLater(str(exc)) from exc
    raw = message.as_bytes()
    blob = FileStore(ctx.settings.files_dir).put(raw)
    ctx.session.add(
        EmailRecord(
            direction="outbound",
            kind="survey",
            external_id=letter.outgoing.message_id,
            rfc_message_id=letter.outgoing.message_id,
            mailbox_id=letter.mailbox.id,
            ticket_id=survey.ticket_id,
            source="smtp-out",
            peer_address=letter.outgoing.to_address.lower(),
            subject=letter.outgoing.subject[:500],
            refs=[],
            recipients=[letter.outgoing.to_address.lower()],
            raw_sha256=blob.key,
            raw_size=blob.size,
            warnings=[],
            info={"survey_id": survey.id},
            created_at=utcnow(),
        )
    )
    survey.delivery_error = None


@webhooks.enricher("survey.sent")
async def survey_links(
    session: AsyncSession, batch: list[facts.Fact], bodies: dict[int, dict[str, Any]]
) -> None:
    """A survey sent by link (a phone, chat or API contact) reaches the customer through an
    integration: its webhook event carries the link and the customer's phone and email."""
    by_link = [f for f in batch if f.data.get("via") == "link"]
    ids = {
        int(f.data["survey_id"]): f.id for f in by_link if str(f.data.get("survey_id")).isdigit()
    }
    if not ids:
        return
    settings = settings_of(session)
    surveys = (await session.execute(select(Survey).where(Survey.id.in_(ids)))).scalars()
    for s in surveys:
        reach: dict[str, str | None] = {"phone": None, "email": None}
        if s.contact_id is not None:
            rows = await session.execute(
                select(ContactIdentity.kind, ContactIdentity.value)
                .where(ContactIdentity.contact_id == s.contact_id)
                .order_by(ContactIdentity.is_primary.desc(), ContactIdentity.id)
            )
            for kind, value in rows:
                if kind in reach and reach[kind] is None:
                    reach[kind] = value
        bodies[ids[s.id]]["survey"] = {
            "id": s.id,
            "kind": s.kind,
            "language": s.language,
            "link": service.link_of(settings, s),
            "expires_at": s.expires_at.isoformat(),
            "contact": reach,
        }
