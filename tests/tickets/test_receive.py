"""The one ingress: contact resolution, threading, idempotency, facts — on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from madad.activity.models import Activity
from madad.auth.permissions import SYSTEM
from madad.contacts.models import Contact, ContactIdentity
from madad.db import Database, utcnow
from madad.errors import Conflict, Invalid, TooLarge
from madad.files import FileStore
from madad.tickets import changes, service
from madad.tickets.inbound import Inbound, InboundAttachment, Received, Sender
from madad.tickets.models import Attachment, Message, Ticket, TicketLink


def msg(text: str = "My order has not arrived", **kw: object) -> Inbound:
    sender = kw.pop("sender", Sender(name="Sana Khan", email="sana@example.com"))
    return Inbound(channel=kw.pop("channel", "api"), sender=sender, text=text, **kw)  # type: ignore[arg-type]


async def receive(db: Database, inbound: Inbound) -> Received:
    async with db.session() as session:
        return await service.receive(session, inbound)


async def kinds(db: Database, ticket_id: int) -> list[str]:
    async with db.session(write=False) as session:
        rows = await session.execute(
            select(Activity.kind).where(Activity.ticket_id == ticket_id).order_by(Activity.id)
        )
        return list(rows.scalars())


async def test_first_message_creates_contact_and_ticket_with_facts(db: Database) -> None:
    got = await receive(db, msg(external_id="m1", subject="Where is my order?"))
    assert got.created and got.new_ticket
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, got.ticket_id)
        contact = await session.get(Contact, got.contact_id)
        assert ticket is not None and contact is not None
        assert ticket.subject == "Where is my order?"
        assert ticket.status == "new" and ticket.channel == "api"
        assert ticket.waiting_since is not None
        assert contact.name == "Sana Khan"
        idents = (await session.execute(select(ContactIdentity))).scalars().all()
        assert [(i.kind, i.value, i.is_primary) for i in idents] == [
            ("email", "sana@example.com", True)
        ]
    assert await kinds(db, got.ticket_id) == ["ticket.created", "message.received"]


async def test_same_external_message_twice_is_stored_once(db: Database) -> None:
    first = await receive(db, msg(external_id="ext-1"))
    again = await receive(db, msg(external_id="ext-1"))
    assert again.created is False
    assert (again.ticket_id, again.message_id) == (first.ticket_id, first.message_id)
    async with db.session(write=False) as session:
        assert await session.scalar(select(func.count()).select_from(Message)) == 1
        assert (
            await session.scalar(
                select(func.count())
                .select_from(Activity)
                .where(Activity.kind == "message.received")
            )
            == 1
        )


async def test_same_external_id_with_different_content_is_a_conflict(db: Database) -> None:
    await receive(db, msg("first text", external_id="ext-2"))
    with pytest.raises(Conflict):
        await receive(db, msg("other text", external_id="ext-2"))


async def test_contact_is_found_by_any_identity(db: Database) -> None:
    a = await receive(
        db, msg(external_id="1", sender=Sender(email="Zara@Example.COM", phone="+92 300 1234567"))
    )
    b = await receive(db, msg(external_id="2", channel="sms", sender=Sender(phone="+923001234567")))
    assert a.contact_id == b.contact_id
    c = await receive(db, msg(external_id="3", sender=Sender(email="zara@example.com")))
    assert c.contact_id == a.contact_id


async def test_new_identity_is_added_to_the_contact_found(db: Database) -> None:
    a = await receive(db, msg(external_id="1", sender=Sender(email="omar@example.com")))
    await receive(
        db, msg(external_id="2", sender=Sender(email="omar@example.com", handle="twitter:@OmarK"))
    )
    b = await receive(db, msg(external_id="3", sender=Sender(handle="twitter:omark")))
    assert b.contact_id == a.contact_id


async def test_messages_of_a_contact_thread_into_their_open_ticket(db: Database) -> None:
    a = await receive(db, msg("hello", external_id="1"))
    b = await receive(db, msg("anyone there?", external_id="2"))
    assert b.ticket_id == a.ticket_id and not b.new_ticket
    # A different channel is a different conversation.
    c = await receive(db, msg("hello on chat", external_id="3", channel="chat"))
    assert c.ticket_id != a.ticket_id


async def test_conversation_key_threads_and_separates(db: Database) -> None:
    a = await receive(db, msg("one", external_id="1", conversation_key="conv-A"))
    b = await receive(db, msg("two", external_id="2", conversation_key="conv-B"))
    c = await receive(db, msg("three", external_id="3", conversation_key="conv-A"))
    assert a.ticket_id == c.ticket_id != b.ticket_id


async def test_reply_reference_threads_even_from_another_sender(db: Database) -> None:
    a = await receive(db, msg("original", external_id="orig"))
    colleague = Sender(email="boss@example.com")
    b = await receive(
        db, msg("adding to this", external_id="r1", in_reply_to=("orig",), sender=colleague)
    )
    assert b.ticket_id == a.ticket_id


async def test_ticket_hint_is_ignored_for_another_contact(db: Database) -> None:
    a = await receive(db, msg("mine", external_id="1"))
    other = Sender(email="stranger@example.com")
    b = await receive(db, msg("not yours", external_id="2", ticket_hint=a.ticket_id, sender=other))
    assert b.ticket_id != a.ticket_id


async def test_reply_to_recently_solved_ticket_reopens_it(db: Database) -> None:
    a = await receive(db, msg("help", external_id="1"))
    async with db.session() as session:
        await changes.update_ticket(session, SYSTEM, a.ticket_id, {"status": "solved"})
    b = await receive(
        db, msg("still broken", external_id="2", conversation_key=None, in_reply_to=("1",))
    )
    assert b.ticket_id == a.ticket_id and b.reopened
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, a.ticket_id)
        assert ticket is not None
        assert ticket.status == "open" and ticket.reopen_count == 1 and ticket.solved_at is None
    assert (await kinds(db, a.ticket_id)).count("ticket.status_changed") == 2


async def test_reply_long_after_solving_opens_a_linked_follow_up(db: Database) -> None:
    a = await receive(db, msg("help", external_id="1"))
    old = utcnow() - timedelta(days=30)
    async with db.session() as session:
        await changes.update_ticket(session, SYSTEM, a.ticket_id, {"status": "solved"}, at=old)
    b = await receive(db, msg("again", external_id="2", in_reply_to=("1",)))
    assert b.new_ticket and b.follow_up_of == a.ticket_id
    async with db.session(write=False) as session:
        link = await session.scalar(select(TicketLink).where(TicketLink.ticket_id == b.ticket_id))
        assert link is not None and (link.other_id, link.kind) == (a.ticket_id, "follow_up")


async def test_reply_to_closed_ticket_opens_a_follow_up(db: Database) -> None:
    a = await receive(db, msg("help", external_id="1", conversation_key="c"))
    async with db.session() as session:
        await changes.update_ticket(session, SYSTEM, a.ticket_id, {"status": "closed"})
    b = await receive(db, msg("again", external_id="2", conversation_key="c"))
    assert b.new_ticket and b.follow_up_of == a.ticket_id
    # The conversation continues on the follow-up from now on.
    c = await receive(db, msg("and again", external_id="3", conversation_key="c"))
    assert c.ticket_id == b.ticket_id


async def test_customer_reply_to_pending_ticket_sets_it_open(db: Database) -> None:
    a = await receive(db, msg("help", external_id="1"))
    async with db.session() as session:
        await changes.update_ticket(session, SYSTEM, a.ticket_id, {"status": "pending"})
    await receive(db, msg("here is the info", external_id="2"))
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, a.ticket_id)
        assert ticket is not None and ticket.status == "open"
        assert ticket.waiting_since is not None


async def test_html_is_sanitised_before_it_is_stored(db: Database) -> None:
    html = (
        '<p onclick="steal()">Hi <b>there</b><script>alert(1)</script>'
        '<a href="javascript:alert(2)">x</a><img src=x onerror=alert(3)></p>'
    )
    got = await receive(db, msg("", html=html, external_id="h"))
    async with db.session(write=False) as session:
        message = await session.get(Message, got.message_id)
        assert message is not None and message.html is not None
        lowered = message.html.lower()
        for bad in ("script", "onclick", "onerror", "javascript:"):
            assert bad not in lowered
        assert "<b>there</b>" in message.html
        assert message.text.startswith("Hi there")


async def test_attachments_are_kept_in_the_file_store(db: Database) -> None:
    data = b"%PDF-1.4 invoice"
    got = await receive(
        db,
        msg(
            "see attached",
            external_id="a",
            attachments=(
                InboundAttachment("../../etc/passwd invoice.pdf", "application/pdf", data),
            ),
        ),
    )
    async with db.session(write=False) as session:
        att = await session.scalar(
            select(Attachment).where(Attachment.message_id == got.message_id)
        )
        assert att is not None
        assert att.filename == "passwd invoice.pdf" and att.size == len(data)
    assert FileStore(db.settings.files_dir).get(att.sha256) == data


async def test_a_failed_receive_leaves_nothing_behind(db: Database) -> None:
    big = InboundAttachment(
        "huge.bin", "application/octet-stream", b"x" * (db.settings.max_attachment_bytes + 1)
    )
    with pytest.raises(TooLarge):
        await receive(db, msg("too big", external_id="big", attachments=(big,)))
    async with db.session(write=False) as session:
        for model in (Contact, Ticket, Message, Activity):
            assert await session.scalar(select(func.count()).select_from(model)) == 0


async def test_a_message_needs_a_sender_identity_and_content(db: Database) -> None:
    with pytest.raises(Invalid):
        await receive(db, msg("x", sender=Sender(name="Nobody")))
    with pytest.raises(Invalid):
        await receive(db, msg("", external_id="e"))
    with pytest.raises(Invalid):
        await receive(db, msg("x", sender=Sender(email="not an email")))


# --- a batch in one transaction behaves as the same messages received one by one -----------


async def receive_batch(db: Database, inbounds: list[Inbound]) -> list[object]:
    async with db.session() as session:
        return list(await service.receive_many(session, inbounds))


async def count(db: Database, model: type) -> int:
    async with db.session(write=False) as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_new_sender_twice_in_one_batch_is_one_contact_and_one_ticket(
    db: Database,
) -> None:
    a, b = await receive_batch(
        db, [msg("hi", external_id="1"), msg("still there?", external_id="2")]
    )
    assert isinstance(a, Received) and isinstance(b, Received)
    assert a.contact_id == b.contact_id and a.ticket_id == b.ticket_id
    assert a.new_ticket and not b.new_ticket
    assert await count(db, Contact) == 1 and await count(db, Ticket) == 1
    assert await kinds(db, a.ticket_id) == [
        "ticket.created",
        "message.received",
        "message.received",
    ]


async def test_identities_shared_within_a_batch_resolve_to_one_contact(db: Database) -> None:
    by_email = Sender(name="Omar", email="omar@example.com")
    both = Sender(email="omar@example.com", phone="+923001234567")
    by_phone = Sender(phone="+923001234567")
    got = await receive_batch(
        db,
        [
            msg("one", external_id="1", sender=by_email),
            msg("two", external_id="2", sender=both),
            msg("three", external_id="3", sender=by_phone, channel="phone"),
        ],
    )
    assert len({r.contact_id for r in got}) == 1  # type: ignore[attr-defined]
    assert await count(db, Contact) == 1
    assert await count(db, ContactIdentity) == 2


async def test_a_repeated_external_id_in_one_batch_is_stored_once(db: Database) -> None:
    first, again, other = await receive_batch(
        db,
        [
            msg("same", external_id="x"),
            msg("same", external_id="x"),
            msg("different", external_id="x"),
        ],
    )
    assert isinstance(first, Received) and first.created
    assert isinstance(again, Received) and not again.created
    assert again.message_id == first.message_id
    assert isinstance(other, Conflict)
    assert await count(db, Message) == 1


async def test_a_reply_to_an_earlier_message_of_the_same_batch_threads(db: Database) -> None:
    colleague = Sender(email="boss@example.com")
    a, b = await receive_batch(
        db,
        [
            msg("original", external_id="orig"),
            msg("adding to this", external_id="r1", in_reply_to=("orig",), sender=colleague),
        ],
    )
    assert a.ticket_id == b.ticket_id  # type: ignore[attr-defined]
    assert a.contact_id != b.contact_id  # type: ignore[attr-defined]


async def test_interleaved_conversations_in_one_batch_stay_apart(db: Database) -> None:
    got = await receive_batch(
        db,
        [
            msg("a1", external_id="1", conversation_key="A"),
            msg("b1", external_id="2", conversation_key="B"),
            msg("a2", external_id="3", conversation_key="A"),
            msg("b2", external_id="4", conversation_key="B"),
        ],
    )
    tickets = [r.ticket_id for r in got]  # type: ignore[attr-defined]
    assert tickets[0] == tickets[2] != tickets[1] == tickets[3]
    async with db.session(write=False) as session:
        rows = await session.execute(
            select(Message.external_id, Message.ticket_id).order_by(Message.id)
        )
        assert [(e, t) for e, t in rows] == [
            ("1", tickets[0]),
            ("2", tickets[1]),
            ("3", tickets[0]),
            ("4", tickets[1]),
        ]


async def test_a_batch_reopens_a_solved_ticket_once(db: Database) -> None:
    a = await receive(db, msg("help", external_id="1"))
    async with db.session() as session:
        await changes.update_ticket(session, SYSTEM, a.ticket_id, {"status": "solved"})
    again, more = await receive_batch(
        db,
        [
            msg("it broke again", external_id="2", in_reply_to=("1",)),
            msg("still broken", external_id="3", in_reply_to=("1",)),
        ],
    )
    assert again.ticket_id == more.ticket_id == a.ticket_id  # type: ignore[attr-defined]
    assert again.reopened and not more.reopened  # type: ignore[attr-defined]
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, a.ticket_id)
        assert ticket is not None and ticket.status == "open" and ticket.reopen_count == 1


async def test_receive_sees_changes_made_earlier_in_the_same_transaction(db: Database) -> None:
    a = await receive(db, msg("help", external_id="1"))
    async with db.session() as session:
        # Solve it and, in the same unit of work, the customer writes again.
        await changes.update_ticket(session, SYSTEM, a.ticket_id, {"status": "solved"})
        again = await service.receive(
            session, msg("still broken", external_id="2", in_reply_to=("1",))
        )
    assert again.ticket_id == a.ticket_id and again.reopened
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, a.ticket_id)
        assert ticket is not None and ticket.status == "open" and ticket.reopen_count == 1
        assert ticket.waiting_since is not None
