"""What a signed-in customer sees and does: their requests (and their organisation's where an
admin allows it), a request's public conversation and its files, replies, new requests.

Every query is scoped by the customer in its WHERE clause (`_visible`); a ticket the customer
may not see is "not found", never "forbidden", so ids reveal nothing. Messages go in through
the one ingress (`tickets.service.receive`) on the `portal` channel, exactly once per form.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.models import User
from madad.contacts.models import Contact
from madad.db import utcnow
from madad.errors import Forbidden, Invalid, NotFound, TooManyRequests
from madad.files import FileStore
from madad.kb import reading as kb_reading
from madad.kb.models import Article, Version
from madad.pagination import Page, clamp_limit, decode_cursor, encode_cursor
from madad.portal.access import Customer
from madad.portal.mail import CHANNEL
from madad.portal.models import Topic
from madad.tickets import service as tickets
from madad.tickets.content import MAX_TEXT
from madad.tickets.inbound import Inbound, InboundAttachment, Received, Sender
from madad.tickets.models import Attachment, Message, Ticket

PAGE_SIZE = 25
MAX_SUBJECT = 300
NEW_REQUESTS_PER_HOUR = 10
REPLIES_PER_HOUR = 60
_FORM_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_VISITOR = re.compile(r"^[A-Za-z0-9-]{8,64}$")


class Moved(Exception):
    """The ticket was merged into another one the customer may see."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(ticket_id)
        self.ticket_id = ticket_id


@dataclass
class TicketRow:
    ticket: Ticket
    own: bool
    requester: str | None = None  # a colleague's name, on the organisation's list


@dataclass
class Entry:
    """One message of the public conversation as the customer sees it."""

    message: Message
    from_customer: bool
    author: str | None  # the agent's name on their replies
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class Conversation:
    ticket: Ticket
    own: bool
    requester: str | None
    entries: list[Entry]


@dataclass(frozen=True)
class ArticleRef:
    id: int
    slug: str
    title: str
    language: str


def _visible(customer: Customer) -> ColumnElement[bool]:
    """The tickets this customer may read: their own, and their organisation's when allowed."""
    mine = Ticket.contact_id == customer.contact_id
    if customer.sees_organisation and customer.organisation_id is not None:
        return or_(mine, Ticket.organisation_id == customer.organisation_id)
    return mine


def _shown() -> ColumnElement[bool]:
    """The messages of a ticket a customer is shown: public ones, from the team or from the
    ticket's own customer (never notes, never what other people wrote into it)."""
    return and_(
        Message.visibility == "public",
        or_(Message.direction == "outbound", Message.author_contact_id == Ticket.contact_id),
    )


def _written_for(message: Message, ticket: Ticket) -> bool:
    """False for the team's replies to another customer, moved here when that customer's
    ticket was merged into this one (tickets.changes.merge_tickets marks them)."""
    written_for = message.meta.get("for_contact_id") if message.meta else None
    return written_for is None or written_for == ticket.contact_id


async def _names(session: AsyncSession, contact_ids: set[int]) -> dict[int, str | None]:
    if not contact_ids:
        return {}
    rows = await session.execute(
        select(Contact.id, Contact.name).where(Contact.id.in_(contact_ids))
    )
    return {cid: name for cid, name in rows}


# --- lists ---------------------------------------------------------------------------------------


async def list_tickets(
    session: AsyncSession,
    customer: Customer,
    *,
    organisation: bool = False,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page[TicketRow]:
    """The customer's requests (or, with `organisation`, every request of their organisation,
    when it shares them), most recently active first."""
    limit = clamp_limit(limit, maximum=100)
    if organisation:
        if not customer.sees_organisation or customer.organisation_id is None:
            raise NotFound("no such list")
        scope = Ticket.organisation_id == customer.organisation_id
    else:
        scope = Ticket.contact_id == customer.contact_id
    stmt = select(Ticket).where(scope, Ticket.merged_into_id.is_(None))
    if cursor:
        at, last_id = decode_cursor(cursor, 2)
        if not isinstance(last_id, int) or not hasattr(at, "isoformat"):
            raise Invalid("cursor", "not a cursor this list handed out")
        stmt = stmt.where(
            or_(
                Ticket.last_activity_at < at,
                and_(Ticket.last_activity_at == at, Ticket.id < last_id),
            )
        )
    stmt = stmt.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc()).limit(limit + 1)
    rows = list((await session.execute(stmt)).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    others = {t.contact_id for t in rows if t.contact_id != customer.contact_id}
    names = await _names(session, others)
    items = [
        TicketRow(t, t.contact_id == customer.contact_id, names.get(t.contact_id)) for t in rows
    ]
    next_cursor = encode_cursor([rows[-1].last_activity_at, rows[-1].id]) if more else None
    return Page(items, next_cursor)


# --- one request ---------------------------------------------------------------------------------


async def _ticket(
    session: AsyncSession, customer: Customer, ticket_id: int, *, follow: bool = False
) -> Ticket:
    """The ticket, if the customer may read it; a merged one raises Moved (or, with `follow`,
    gives the ticket it was merged into)."""
    ticket = await session.scalar(select(Ticket).where(Ticket.id == ticket_id, _visible(customer)))
    if ticket is None:
        raise NotFound("no such request")
    hops = 0
    while ticket.merged_into_id is not None and hops < 10:
        target = await session.scalar(
            select(Ticket).where(Ticket.id == ticket.merged_into_id, _visible(customer))
        )
        if target is None:
            raise NotFound("no such request")
        ticket, hops = target, hops + 1
    if ticket.id != ticket_id and not follow:
        raise Moved(ticket.id)
    return ticket


async def conversation(
    session: AsyncSession, customer: Customer, ticket_id: int, *, follow: bool = False
) -> Conversation:
    """A request and its public conversation, with each message's files: four queries."""
    ticket = await _ticket(session, customer, ticket_id, follow=follow)
    messages = list(
        (
            await session.execute(
                select(Message)
                .join(Ticket, Ticket.id == Message.ticket_id)
                .where(Message.ticket_id == ticket.id, _shown())
                .order_by(Message.created_at, Message.id)
            )
        ).scalars()
    )
    messages = [m for m in messages if _written_for(m, ticket)]
    files: dict[int, list[Attachment]] = {}
    if messages:
        for a in (
            await session.execute(
                select(Attachment)
                .where(Attachment.message_id.in_([m.id for m in messages]))
                .order_by(Attachment.id)
            )
        ).scalars():
            files.setdefault(a.message_id, []).append(a)
    agents = {m.author_user_id for m in messages if m.author_user_id is not None}
    names: dict[int, str] = {}
    if agents:
        rows = await session.execute(select(User.id, User.name).where(User.id.in_(agents)))
        names = {uid: name for uid, name in rows}
    own = ticket.contact_id == customer.contact_id
    requester = None if own else (await _names(session, {ticket.contact_id})).get(ticket.contact_id)
    entries = [
        Entry(
            m,
            m.direction == "inbound",
            names.get(m.author_user_id) if m.author_user_id is not None else None,
            files.get(m.id, []),
        )
        for m in messages
    ]
    return Conversation(ticket, own, requester, entries)


async def attachment(session: AsyncSession, customer: Customer, attachment_id: int) -> Attachment:
    """A file of a message the customer is shown, on their own request: files stay with the
    person who opened the request, even where the organisation shares its requests."""
    row = (
        await session.execute(
            select(Attachment, Message, Ticket)
            .join(Message, Message.id == Attachment.message_id)
            .join(Ticket, Ticket.id == Message.ticket_id)
            .where(
                Attachment.id == attachment_id,
                _shown(),
                Ticket.contact_id == customer.contact_id,
            )
        )
    ).first()
    if row is None or not _written_for(row[1], row[2]):
        raise NotFound("no such file")
    return row[0]


# --- writing -------------------------------------------------------------------------------------


def _form_id(value: str) -> str:
    if not _FORM_ID.match(value or ""):
        raise Invalid("form_id", "the form is incomplete; reload the page and try again")
    return value


def _text(value: str | None, field_name: str, maximum: int) -> str:
    text = (value or "").replace("\r\n", "\n").strip()
    if len(text) > maximum:
        raise Invalid(field_name, f"at most {maximum} characters")
    return text


async def _recent_messages(
    session: AsyncSession, customer: Customer, now: datetime | None = None
) -> int:
    since = (now or utcnow()) - timedelta(hours=1)
    return (
        await session.scalar(
            select(func.count(Message.id)).where(
                Message.author_contact_id == customer.contact_id,
                Message.channel == CHANNEL,
                Message.created_at >= since,
            )
        )
    ) or 0


async def reply(
    session: AsyncSession,
    customer: Customer,
    ticket_id: int,
    *,
    text: str | None,
    attachments: Sequence[InboundAttachment] = (),
    form_id: str,
    language: str,
    store: FileStore | None = None,
    at: datetime | None = None,
) -> Received:
    """The customer's reply to their own request: a customer message into the same ticket
    (a solved one reopens; a closed one gets a follow-up, as for an email). A reply to a
    request merged meanwhile goes to the request it was merged into. `at` dates it (the demo's
    history); the portal's pages leave it out."""
    ticket = await _ticket(session, customer, ticket_id, follow=True)
    if ticket.contact_id != customer.contact_id:
        raise Forbidden("only the person who opened this request can reply to it")
    body = _text(text, "text", MAX_TEXT)
    if not body and not attachments:
        raise Invalid("text", "write a reply first")
    if await _recent_messages(session, customer, at) >= REPLIES_PER_HOUR:
        raise TooManyRequests("too many messages in an hour; try again later")
    return await tickets.receive(
        session,
        Inbound(
            channel=CHANNEL,
            sender=Sender(email=customer.address),
            text=body,
            external_id=f"c{customer.contact_id}-r-{_form_id(form_id)}",
            ticket_hint=ticket.id,
            thread_by_contact=False,
            attachments=tuple(attachments),
            meta={"portal": {"language": language}},
            received_at=at,
        ),
        store=store,
    )


async def open_request(
    session: AsyncSession,
    customer: Customer,
    *,
    subject: str | None,
    description: str | None,
    topic: str | None = None,
    attachments: Sequence[InboundAttachment] = (),
    article_id: int | None = None,
    visitor: str | None = None,
    help_session: str | None = None,
    form_id: str,
    language: str,
    store: FileStore | None = None,
    at: datetime | None = None,
) -> Received:
    """A new request from the portal's form: a new ticket, whatever else is open. From a
    browser that visited the help centre (its visitor and visit ids come with the form) it
    records `kb.contact_started` for the knowledge-base report (deflection); started from an
    article's "Contact us", it also names the article (custom field `kb_article_id`). `at`
    dates it (the demo's history); the portal's pages leave it out."""
    chosen = None
    if topic:
        chosen = await session.scalar(select(Topic).where(Topic.key == topic[:48]))
        if chosen is None:
            raise Invalid("topic", "choose one of the topics offered")
    title = _text(subject, "subject", MAX_SUBJECT)
    if not title and chosen is not None:
        title = chosen.titles.get(language) or chosen.titles.get("en") or chosen.key
    if not title:
        raise Invalid("subject", "give a subject or choose a topic")
    body = _text(description, "description", MAX_TEXT)
    if not body:
        raise Invalid("description", "describe what you need")
    since = (at or utcnow()) - timedelta(hours=1)
    opened = await session.scalar(
        select(func.count(Ticket.id)).where(
            Ticket.contact_id == customer.contact_id,
            Ticket.channel == CHANNEL,
            Ticket.created_at >= since,
        )
    )
    if (opened or 0) >= NEW_REQUESTS_PER_HOUR:
        raise TooManyRequests("too many new requests in an hour; try again later")
    article = await public_article(session, article_id, language) if article_id else None
    custom: dict[str, Any] = {"kb_article_id": article.id} if article else {}
    received = await tickets.receive(
        session,
        Inbound(
            channel=CHANNEL,
            sender=Sender(email=customer.address, language=language),
            subject=title,
            text=body,
            external_id=f"c{customer.contact_id}-n-{_form_id(form_id)}",
            thread_by_contact=False,
            attachments=tuple(attachments),
            tags=(f"topic:{chosen.key}",) if chosen else (),
            custom_fields=custom,
            meta={"portal": {"language": language}},
            received_at=at,
        ),
        store=store,
    )
    visitor = visitor if visitor and _VISITOR.match(visitor) else None
    help_session = help_session if help_session and _VISITOR.match(help_session) else None
    from_help = article is not None or visitor is not None or help_session is not None
    if from_help and received.created and received.new_ticket:
        await kb_reading.record_contact_started(
            session,
            channel=CHANNEL,
            language=language,
            ticket_id=received.ticket_id,
            contact_id=received.contact_id,
            article_id=article.id if article else None,
            visitor=visitor,
            help_session=help_session,
            at=at,
        )
    return received


# --- the help centre's articles ------------------------------------------------------------------


async def public_article(
    session: AsyncSession, article_id: int | None, language: str
) -> ArticleRef | None:
    """A published, public article (in the customer's language, else English), or None."""
    if article_id is None or not 1 <= article_id < 2**31:
        return None
    rows = (
        await session.execute(
            select(Article.id, Article.slug, Version.title, Version.language)
            .join(Version, Version.article_id == Article.id)
            .where(
                Article.id == article_id,
                Article.internal.is_(False),
                Version.status == "published",
                Version.language.in_({language, "en"}),
            )
        )
    ).all()
    if not rows:
        return None
    best = next((r for r in rows if r.language == language), rows[0])
    return ArticleRef(best.id, best.slug, best.title, best.language)


async def topics(session: AsyncSession) -> list[Topic]:
    return list((await session.scalars(select(Topic).order_by(Topic.position, Topic.id))).all())
