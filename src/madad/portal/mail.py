"""The portal's email: sign-in links, sent through the email channel's outbound path (the jobs
outbox, the default mailbox's SMTP server, retries), and agents' replies to portal requests,
which the email channel delivers like any reply (the customer can answer by email too).

A sign-in email is not kept in the email records: its link signs someone in, and the records
are readable by every agent.
"""

from __future__ import annotations

import html
import logging

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.channels.email.models import Mailbox
from madad.channels.email.outbound import (
    DELIVER_JOB,
    Outgoing,
    SendDeferred,
    SendFailed,
    compose,
    send,
)
from madad.channels.email.threads import own_message_id
from madad.config import Settings
from madad.contacts.models import Contact
from madad.db import utcnow
from madad.portal import access
from madad.portal.models import SignInLink
from madad.tickets.delivery import register_deliverer
from madad.web import i18n

log = logging.getLogger("madad.portal")

CHANNEL = "portal"
# A reply to a portal request reaches the customer by email (with the ticket's threading
# tokens), as replies on the email channel do; the portal shows it at once anyway.
register_deliverer(CHANNEL, DELIVER_JOB)


def home_of(language: str) -> str:
    return "/portal" if language == "en" else f"/portal/{language}"


def link_url(link: SignInLink, secret: str) -> str:
    origin = (link.origin or "").rstrip("/")
    return f"{origin}{home_of(link.language)}/sign-in/{access.link_token(secret, link)}"


def letter_text(language: str, name: str | None, url: str) -> dict[str, str]:
    """Subject, text and HTML of the sign-in email, in the language the customer asked in."""
    i18n.activate(language)
    _ = i18n.gettext
    greeting = _("Hello %(name)s,", name=name) if name else _("Hello,")
    lines = [
        _("Use this link to sign in to your support requests:"),
        _("The link works once, within 30 minutes."),
        _("If you did not ask to sign in, ignore this email: nobody can sign in without it."),
    ]
    text = "\n\n".join([greeting, lines[0], url, lines[1], lines[2]])
    direction = "rtl" if language in i18n.RTL else "ltr"
    body = (
        f'<div dir="{direction}"><p>{html.escape(greeting)}</p><p>{html.escape(lines[0])}</p>'
        f'<p><a href="{html.escape(url)}">{html.escape(_("Sign in"))}</a></p>'
        f"<p>{html.escape(lines[1])}</p><p>{html.escape(lines[2])}</p></div>"
    )
    return {"subject": _("Your sign-in link"), "text": text, "html": body}


async def sending_mailbox(session: AsyncSession) -> Mailbox | None:
    """The mailbox sign-in links leave from: the default one that has an SMTP server."""
    return await session.scalar(
        select(Mailbox)
        .where(Mailbox.enabled.is_(True), Mailbox.smtp_host.is_not(None))
        .order_by(Mailbox.is_default.desc(), Mailbox.id)
        .limit(1)
    )


async def plan(
    session: AsyncSession, link_id: int, settings: Settings
) -> tuple[Outgoing, Mailbox] | str:
    """The sign-in email to send, or why there is none."""
    link = await session.get(SignInLink, link_id)
    if link is None or link.contact_id is None or not link.address or not link.origin:
        return "no such link"
    if link.used_at is not None or link.expires_at <= utcnow():
        return "the link was used or expired before it could be sent"
    box = await sending_mailbox(session)
    if box is None:
        return "no enabled mailbox with an SMTP server"
    contact = await session.get(Contact, link.contact_id)
    secret = settings.resolved_secret_key()
    words = letter_text(link.language, contact.name if contact else None, link_url(link, secret))
    domain = box.address.rpartition("@")[2]
    return (
        Outgoing(
            from_name=box.display_name or box.name,
            from_address=box.address,
            to_name=contact.name if contact else None,
            to_address=link.address,
            subject=words["subject"],
            text=words["text"],
            html=words["html"],
            message_id=own_message_id("l", link.id, domain, secret),
            headers={"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"},
        ),
        box,
    )


@jobs.handler(access.SEND_LINK_JOB)
async def send_link(ctx: jobs.JobContext) -> None:
    link_id = int(ctx.payload["link_id"])
    async with ctx.db.session(write=False) as read:
        planned = await plan(read, link_id, ctx.settings)
    if isinstance(planned, str):
        log.info("sign-in link %s not sent: %s", link_id, planned)
        return
    outgoing, box = planned
    try:
        await send(box, compose(outgoing), outgoing.to_address, ctx.settings)
    except SendFailed as exc:
        log.warning("sign-in link %s refused: %s", link_id, exc)
    except SendDeferred as exc:
        if ctx.last_attempt:
            log.warning("sign-in link %s not sent: %s", link_id, exc)
            return
        # A link outlives its email by little: retry soon, not on the usual backoff.
        raise jobs.RetryLater(str(exc), delay=30) from exc
