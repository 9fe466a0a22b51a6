"""Signing customers in: magic links (signed, expiring, single use, rate-limited per address and
per client), customers' sessions (a random cookie token whose hash is stored), signing out.

Nothing here tells whether an address is known: a request for an unknown address is stored and
counted like any other and simply gets no link. A link only ever signs in the contact that owns
the address it was sent to, and a session ends as soon as that address leaves the contact.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.activity import service as facts
from madad.contacts import service as contacts
from madad.contacts.identities import normalise_email
from madad.contacts.models import Contact, ContactIdentity, Organisation
from madad.db import settings_of, utcnow
from madad.dialects import lock_keys
from madad.errors import TooManyRequests
from madad.portal.models import CustomerSession, OrganisationSharing, SignInLink

LINK_LIFETIME = timedelta(minutes=30)
SESSION_LIFETIME = timedelta(days=30)
IDLE_LIMIT = timedelta(days=7)
TOUCH_EVERY = timedelta(minutes=1)
PER_ADDRESS_PER_HOUR = 5
PER_CLIENT_PER_HOUR = 20
KEEP_LINKS = timedelta(days=1)
KEEP_ENDED_SESSIONS = timedelta(days=7)
SEND_LINK_JOB = "portal.send_link"


class LinkProblem(Exception):
    """A sign-in link that cannot be used: `invalid` (forged, mangled), `expired` or `used`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Customer:
    """Who is signed in to the portal: a contact, and what they may see."""

    contact_id: int
    name: str | None
    address: str
    organisation_id: int | None
    organisation_name: str | None
    sees_organisation: bool  # the organisation lets its members see each other's tickets
    csrf_token: str
    session_id: int
    last_seen_at: datetime


def _keyed(secret: str, purpose: str, value: str) -> str:
    return hmac.new(secret.encode(), f"portal:{purpose}:{value}".encode(), "sha256").hexdigest()


def _signature(secret: str, link_id: int, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"portal-link:{link_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode().rstrip("=")


def link_token(secret: str, link: SignInLink) -> str:
    """What the email carries: `{id}.{nonce}.{signature}`."""
    return f"{link.id}.{link.nonce}.{_signature(secret, link.id, link.nonce)}"


def read_token(secret: str, token: str) -> tuple[int, str] | None:
    """(link id, nonce) of a well-formed, correctly signed token; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[0].isascii() or len(parts[0]) > 9:
        return None
    link_id, nonce, sig = int(parts[0]), parts[1], parts[2]
    if not nonce or len(nonce) > 32 or len(sig) > 40:
        return None
    if not hmac.compare_digest(sig.encode(), _signature(secret, link_id, nonce).encode()):
        return None
    return link_id, nonce


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- asking for a link ---------------------------------------------------------------------------


async def request_link(
    session: AsyncSession,
    *,
    email: str,
    client_address: str | None,
    language: str,
    origin: str | None,
    next_path: str | None = None,
) -> None:
    """Keep the request and, when the address is a known contact's and there is a site to link
    to, queue the email with the link. Raises Invalid for text that is no email address and
    TooManyRequests past the limits — the same way for known and unknown addresses."""
    address = normalise_email(email[:320], "email")
    secret = settings_of(session).resolved_secret_key()
    by_address = _keyed(secret, "address", address)
    by_client = _keyed(secret, "client", client_address) if client_address else None
    await lock_keys(session, [f"portal-link:{by_address}"])
    now = utcnow()
    hour_ago = now - timedelta(hours=1)
    limits = [(SignInLink.address_digest == by_address, PER_ADDRESS_PER_HOUR, "for this address")]
    if by_client is not None:
        limits.append((SignInLink.client_digest == by_client, PER_CLIENT_PER_HOUR, "from here"))
    for whose, allowed, where in limits:
        # Refused while the hour holds `allowed` links: open again when the oldest of the latest
        # that many is an hour old.
        oldest_counted = await session.scalar(
            select(SignInLink.created_at)
            .where(whose, SignInLink.created_at >= hour_ago)
            .order_by(SignInLink.created_at.desc())
            .offset(allowed - 1)
            .limit(1)
        )
        if oldest_counted is not None:
            wait = (oldest_counted + timedelta(hours=1) - now).total_seconds()
            raise TooManyRequests(
                f"too many sign-in links {where}; try again in an hour", retry_after=ceil(wait)
            )
    contact = await contacts.find_contact(session, "email", address)
    link = SignInLink(
        nonce=secrets.token_urlsafe(12),
        address_digest=by_address,
        client_digest=by_client,
        contact_id=contact.id if contact else None,
        address=address if contact else None,
        language=language,
        origin=origin,
        next_path=next_path,
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    session.add(link)
    await session.flush()
    if contact is not None and origin:
        await jobs.enqueue(
            session, SEND_LINK_JOB, {"link_id": link.id}, idempotency_key=f"portal-link:{link.id}"
        )


async def link_of(session: AsyncSession, token: str) -> SignInLink:
    """The link a token names, if it can still sign someone in; raises LinkProblem."""
    read = read_token(settings_of(session).resolved_secret_key(), token[:100])
    if read is None:
        raise LinkProblem("invalid")
    link = await session.get(SignInLink, read[0])
    if link is None or link.contact_id is None or link.nonce != read[1]:
        raise LinkProblem("invalid")
    if link.used_at is not None:
        raise LinkProblem("used")
    if link.expires_at <= utcnow():
        raise LinkProblem("expired")
    return link


async def use_link(
    session: AsyncSession, token: str, *, user_agent: str | None = None
) -> tuple[str, SignInLink]:
    """Spend the link (once: two simultaneous uses cannot both win) and open a session; returns
    the cookie token (shown once) and the link (its language and where to go next)."""
    link = await link_of(session, token)
    now = utcnow()
    spent = await session.execute(
        update(SignInLink)
        .where(
            SignInLink.id == link.id,
            SignInLink.used_at.is_(None),
            SignInLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise LinkProblem("used")
    assert link.contact_id is not None and link.address is not None
    contact = await contacts.find_contact(session, "email", link.address)
    if contact is None:  # the address left the contact since the link was sent
        raise LinkProblem("invalid")
    cookie = secrets.token_urlsafe(32)
    row = CustomerSession(
        token_hash=_digest(cookie),
        contact_id=contact.id,
        address=link.address,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    await session.flush()
    facts.record(
        session, "portal.signed_in", contact_id=contact.id, channel="portal", at=now, data={}
    )
    return cookie, link


# --- who is signed in ----------------------------------------------------------------------------


async def customer_of(session: AsyncSession, token: str) -> Customer | None:
    """Who holds this cookie token: the session must be live and the address it was opened with
    must still belong to the same (surviving) contact."""
    if not token or len(token) > 200:
        return None
    row = (
        await session.execute(
            select(CustomerSession, ContactIdentity.contact_id)
            .outerjoin(
                ContactIdentity,
                and_(
                    ContactIdentity.kind == "email",
                    ContactIdentity.value == CustomerSession.address,
                ),
            )
            .where(CustomerSession.token_hash == _digest(token))
        )
    ).first()
    if row is None:
        return None
    web, owner_id = row
    now = utcnow()
    if (
        owner_id is None
        or web.ended_at is not None
        or web.expires_at <= now
        or web.last_seen_at + IDLE_LIMIT <= now
    ):
        return None
    contact = await contacts.find_contact(session, "email", web.address)
    if contact is None:
        return None
    if contact.id != web.contact_id:
        # A merge moved the address (and the tickets) to the surviving contact: follow it.
        # Anything else (the address given to somebody else) ends the session.
        survivor = await session.get(Contact, web.contact_id)
        hops = 0
        while survivor is not None and survivor.merged_into_id is not None and hops < 10:
            survivor = await session.get(Contact, survivor.merged_into_id)
            hops += 1
        if survivor is None or survivor.id != contact.id:
            return None
    org_name, sees = None, False
    if contact.organisation_id is not None:
        found = (
            await session.execute(
                select(Organisation.name, OrganisationSharing.members_see_tickets)
                .outerjoin(
                    OrganisationSharing,
                    OrganisationSharing.organisation_id == Organisation.id,
                )
                .where(Organisation.id == contact.organisation_id)
            )
        ).first()
        if found is not None:
            org_name, sees = found[0], bool(found[1])
    return Customer(
        contact_id=contact.id,
        name=contact.name,
        address=web.address,
        organisation_id=contact.organisation_id,
        organisation_name=org_name,
        sees_organisation=sees,
        csrf_token=web.csrf_token,
        session_id=web.id,
        last_seen_at=web.last_seen_at,
    )


async def touch(session: AsyncSession, session_id: int) -> None:
    """Note activity (at most once a minute per session), which keeps it from idling out."""
    now = utcnow()
    await session.execute(
        update(CustomerSession)
        .where(CustomerSession.id == session_id, CustomerSession.last_seen_at < now - TOUCH_EVERY)
        .values(last_seen_at=now)
    )


async def sign_out(session: AsyncSession, token: str) -> None:
    await session.execute(
        update(CustomerSession)
        .where(CustomerSession.token_hash == _digest(token), CustomerSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


@jobs.periodic("portal.purge", every_seconds=3600)
async def purge(ctx: jobs.JobContext) -> None:
    """Sign-in requests are kept a day (the rate limits look back an hour); sessions a week
    after they ended or expired."""
    now = utcnow()
    await ctx.session.execute(delete(SignInLink).where(SignInLink.created_at < now - KEEP_LINKS))
    await ctx.session.execute(
        delete(CustomerSession).where(
            or_(
                CustomerSession.ended_at < now - KEEP_ENDED_SESSIONS,
                CustomerSession.expires_at < now - KEEP_ENDED_SESSIONS,
                CustomerSession.last_seen_at < now - IDLE_LIMIT - KEEP_ENDED_SESSIONS,
            )
        )
    )
