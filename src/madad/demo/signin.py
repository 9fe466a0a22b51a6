"""Signing in to the demo's customer portal without a mailbox: the portal sends its magic link
by email, and a demo desk has no SMTP server to send it through. This asks for a link exactly as
the sign-in form does (`portal.access.request_link`: same limits, same 30 minutes, single use)
and shows it instead — for the demo's own customers only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from madad.contacts.models import Contact, ContactIdentity
from madad.db import Database
from madad.portal import access, mail
from madad.portal.models import SignInLink
from madad.tickets.models import Ticket


class NotADemoCustomer(Exception):
    """The address is not one of the demo's customers (or the database holds no demo)."""


@dataclass(frozen=True)
class PortalLink:
    name: str | None
    email: str
    url: str
    requests: int  # the customer's portal requests


async def portal_link(
    db: Database, origin: str, *, email: str | None = None, language: str = "en"
) -> PortalLink:
    """A fresh sign-in link for a demo customer (by default the one with the most portal
    requests in `language`), pointing at `origin`."""
    async with db.session() as session:
        stmt = (
            select(Contact, ContactIdentity.value, func.count(Ticket.id))
            .join(ContactIdentity, ContactIdentity.contact_id == Contact.id)
            .outerjoin(Ticket, (Ticket.contact_id == Contact.id) & (Ticket.channel == "portal"))
            .where(ContactIdentity.kind == "email", Contact.merged_into_id.is_(None))
            .group_by(Contact.id, ContactIdentity.value)
            .order_by(func.count(Ticket.id).desc(), Contact.id)
            .limit(1)
        )
        if email is not None:
            stmt = stmt.where(ContactIdentity.value == email.strip().lower())
        else:
            stmt = stmt.where(Contact.language == language)
        found = (await session.execute(stmt)).first()
        if found is None:
            raise NotADemoCustomer(email or "no demo customer has a portal request")
        contact, address, requests = found
        await access.request_link(
            session, email=address, client_address=None, language=language, origin=origin
        )
        link = await session.scalar(
            select(SignInLink)
            .where(SignInLink.contact_id == contact.id)
            .order_by(SignInLink.id.desc())
            .limit(1)
        )
        assert link is not None
        secret = db.settings.resolved_secret_key()
        return PortalLink(contact.name, address, mail.link_url(link, secret), int(requests))
