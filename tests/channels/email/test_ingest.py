"""Inbound email into tickets: idempotency, threading, bounces, loops, bad mail — on SQLite and
PostgreSQL, through the real ingest and the real file store."""

from __future__ import annotations

from sqlalchemy import func, select

from madad.activity.models import Activity
from madad.auth.permissions import SYSTEM
from madad.channels.email.ingest import Arrival, ingest, ingest_many
from madad.channels.email.models import EmailRecord
from madad.contacts.models import ContactIdentity
from madad.db import Database
from madad.tickets import changes
from madad.tickets.models import Attachment, Message, Ticket
from tests.channels.email.conftest import CORPUS, corpus, make_mailbox
from tests.channels.email.helpers import raw_email


async def count(db: Database, model: type) -> int:
    async with db.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_an_email_opens_a_ticket_and_the_same_email_again_changes_nothing(
    db: Database,
) -> None:
    raw = raw_email(message_id="first@example.com")
    first = await ingest(db, Arrival(raw, "api"))
    assert first.disposition == "message" and first.new_ticket
    again = await ingest(db, Arrival(raw, "imap"))
    assert again.disposition == "duplicate" and again.message_id == first.message_id
    # The same message with other transport headers (another source) is still the same.
    other = await ingest(db, Arrival(b"Received: from mx by relay\r\n" + raw, "smtp"))
    assert other.disposition == "duplicate" and other.ticket_id == first.ticket_id
    assert await count(db, Message) == 1 and await count(db, Ticket) == 1
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, first.ticket_id)
        assert ticket is not None and ticket.subject == "My order has not arrived"
        assert ticket.channel == "email"


async def test_a_batch_with_repeats_stores_each_email_once(db: Database) -> None:
    a, b = raw_email(message_id="a@x.example"), raw_email(message_id="b@x.example")
    results = await ingest_many(db, [Arrival(a, "imap"), Arrival(b, "imap"), Arrival(a, "imap")])
    assert [r.disposition for r in results] == ["message", "message", "duplicate"]
    assert await count(db, Message) == 2


async def test_a_reply_threads_by_in_reply_to_and_reopens_a_solved_ticket(db: Database) -> None:
    first = await ingest(db, Arrival(raw_email(message_id="q1@example.com"), "imap"))
    async with db.session() as session:
        ticket = await changes.get_ticket_row(session, first.ticket_id, lock=True)
        await changes.set_status(session, ticket, "solved", agent_id=None)
    reply = raw_email(
        subject="Re: My order has not arrived",
        text="It still has not come.\n\nOn Mon, 4 Mar 2024 at 10:02, Support <support@madad.test> "
        "wrote:\n> We are on it",
        message_id="q2@example.com",
        in_reply_to="q1@example.com",
        references=["q1@example.com"],
    )
    second = await ingest(db, Arrival(reply, "imap"))
    assert second.ticket_id == first.ticket_id and second.reopened
    async with db.session(write=False) as session:
        message = await session.get(Message, second.message_id)
        assert message is not None and message.text == "It still has not come."
        assert message.meta["email"]["quoted"] is True


async def test_a_colleague_in_the_thread_threads_by_references_but_never_by_subject(
    db: Database,
) -> None:
    first = await ingest(db, Arrival(raw_email(message_id="t1@example.com"), "imap"))
    colleague = raw_email(
        sender="Boss <boss@example.com>",
        subject=f"Re: My order [#{first.ticket_id}]",
        message_id="t2@example.com",
        references=["t1@example.com"],
    )
    assert (await ingest(db, Arrival(colleague, "imap"))).ticket_id == first.ticket_id
    stranger = raw_email(
        sender="Someone <someone@example.org>",
        subject=f"Re: My order has not arrived [#{first.ticket_id}]",
        message_id="t3@example.com",
    )
    result = await ingest(db, Arrival(stranger, "imap"))
    assert result.new_ticket and result.ticket_id != first.ticket_id


async def test_the_subject_token_threads_the_same_customer(db: Database) -> None:
    first = await ingest(db, Arrival(raw_email(message_id="s1@example.com"), "imap"))
    again = raw_email(subject=f"Another thing [#{first.ticket_id}]", message_id="s2@example.com")
    assert (await ingest(db, Arrival(again, "imap"))).ticket_id == first.ticket_id
    fresh = raw_email(subject="A new question", message_id="s3@example.com")
    assert (await ingest(db, Arrival(fresh, "imap"))).new_ticket


async def test_a_different_message_reusing_a_message_id_is_kept_too(db: Database) -> None:
    one = await ingest(db, Arrival(raw_email(message_id="dup@example.com", text="one"), "imap"))
    two = await ingest(db, Arrival(raw_email(message_id="dup@example.com", text="two"), "imap"))
    assert one.disposition == two.disposition == "message"
    assert one.message_id != two.message_id
    assert any("already used" in w for w in two.warnings)
    again = await ingest(db, Arrival(raw_email(message_id="dup@example.com", text="two"), "api"))
    assert again.disposition == "duplicate"


async def test_messages_without_message_id_are_idempotent_by_content(db: Database) -> None:
    raw = raw_email(message_id=None)
    first = await ingest(db, Arrival(raw, "file"))
    assert first.disposition == "message" and "no Message-ID header" in first.warnings
    assert (await ingest(db, Arrival(raw, "file"))).disposition == "duplicate"


async def test_a_delivery_report_marks_the_address_bouncing_and_opens_no_ticket(
    db: Database,
) -> None:
    await ingest(db, Arrival(raw_email(sender="gone@example.com", message_id="g1@x"), "imap"))
    tickets_before = await count(db, Ticket)
    result = await ingest(db, Arrival(corpus("dsn_bounce.eml"), "imap"))
    assert result.disposition == "bounce" and result.auto == "delivery-report"
    assert await count(db, Ticket) == tickets_before
    async with db.session(write=False) as session:
        bouncing = await session.scalar(
            select(ContactIdentity.bouncing).where(ContactIdentity.value == "gone@example.com")
        )
        assert bouncing is True
        kinds = set((await session.execute(select(Activity.kind))).scalars())
        assert "email.bounced" in kinds
    assert (await ingest(db, Arrival(corpus("dsn_bounce.eml"), "api"))).disposition == "duplicate"


async def test_automatic_mail_is_stored_but_tagged(db: Database) -> None:
    result = await ingest(db, Arrival(corpus("auto_reply.eml"), "imap"))
    assert result.disposition == "message" and result.auto == "auto-submitted"
    bulk = await ingest(db, Arrival(corpus("bulk_list.eml"), "imap"))
    assert bulk.auto == "precedence-list"


async def test_mail_without_a_sender_is_quarantined_with_its_original(db: Database) -> None:
    result = await ingest(db, Arrival(corpus("no_from.eml"), "smtp"))
    assert result.disposition == "quarantined"
    assert await count(db, Ticket) == 0
    async with db.session(write=False) as session:
        record = await session.scalar(select(EmailRecord))
        assert record is not None and record.kind == "quarantined" and record.raw_sha256
        assert record.info["reason"] == "no sender address"
    assert (await ingest(db, Arrival(corpus("no_from.eml"), "smtp"))).disposition == "duplicate"


async def test_corpus_messages_are_all_stored(db: Database) -> None:
    names = sorted(p.name for p in CORPUS.glob("*.eml"))
    results = {n: await ingest(db, Arrival(corpus(n), "file")) for n in names}
    expected = {"dsn_bounce.eml": "bounce", "no_from.eml": "quarantined"}
    for name, r in results.items():
        assert r.disposition == expected.get(name, "message"), (name, r)
    assert results["malformed.eml"].warnings
    async with db.session(write=False) as session:
        texts = {m.external_id: m.text for m in (await session.execute(select(Message))).scalars()}
        assert texts["urdu-1@example.pk"].startswith("السلام علیکم")
        assert "نے لکھا" not in texts["urdu-1@example.pk"]
        assert texts["ar-1256@example.sa"] == "مرحبا، لم يصل طلبي بعد. شكرا لكم."
        assert texts["ar-88596@example.eg"] == "هل يمكنني تغيير العنوان؟"
        assert texts["raw8-1@example.pk"] == "میرا بل غلط ہے۔"
        assert "Forwarded message" in texts["fwd-1@example.com"]
        subjects = {t.subject for t in (await session.execute(select(Ticket))).scalars()}
        assert {"آرڈر کا مسئلہ", "طلب متأخر", "استفسار", "شکایت: بل غلط ہے"} <= subjects
        files = {a.filename: a for a in (await session.execute(select(Attachment))).scalars()}
        assert files["shot.png"].inline and files["shot.png"].content_id == "shot@example.com"
        assert files["passwd.jpg"].content_type == "text/html"  # sniffed, not believed
        assert files["رسید.pdf"].content_type == "application/pdf"
        html = await session.scalar(
            select(Message.html).where(Message.external_id == "htmlonly-1@example.org")
        )
        assert html and "<script" not in html and "tracker.example" not in html
        assert "javascript:" not in html and "onclick" not in html


async def test_the_mailbox_is_found_by_recipient(db: Database) -> None:
    box = await make_mailbox(db, address="help@madad.test", name="Help")
    r = await ingest(db, Arrival(raw_email(to="Help Desk <help@madad.test>"), "api"))
    async with db.session(write=False) as session:
        record = await session.scalar(
            select(EmailRecord).where(EmailRecord.message_id == r.message_id)
        )
        assert record is not None and record.mailbox_id == box
    assert SYSTEM.is_system
