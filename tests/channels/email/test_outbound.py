"""Agents' replies leave as threaded emails through a real SMTP server (aiosmtpd on loopback);
the customer's answer to them comes back into the same ticket. Retries, refusals, signatures,
acknowledgements and their limits."""

from __future__ import annotations

from email.message import EmailMessage

from sqlalchemy import select, update

from madad import jobs
from madad.auth.models import User
from madad.auth.permissions import actor_for
from madad.channels.email.ingest import Arrival, ingest
from madad.channels.email.models import EmailRecord
from madad.channels.email.threads import parse_own_message_id
from madad.config import Settings
from madad.db import Database, utcnow
from madad.tickets import service as tickets
from madad.tickets.models import Message
from tests.channels.email.conftest import SmtpCapture, corpus, make_mailbox, smtp_values
from tests.channels.email.helpers import raw_email
from tests.conftest import make_person


async def _agent(db: Database, signature: str | None = "Ayesha\nMadad Support") -> object:
    person = await make_person(db, name="Ayesha Agent")
    async with db.session() as session:
        user = await session.get(User, person.id)
        assert user is not None
        user.signature = signature
    return actor_for(person.id, "agent", "Ayesha Agent")


async def _reply(db: Database, actor: object, ticket_id: int, **kw: object) -> int:
    async with db.session() as session:
        message = await tickets.reply(session, actor, ticket_id, **kw)  # type: ignore[arg-type]
        return message.id


async def _drain(db: Database, settings: Settings) -> None:
    await jobs.Worker(db, settings).drain(max_seconds=30)


async def _status(db: Database, message_id: int) -> tuple[str | None, str | None]:
    async with db.session(write=False) as session:
        m = await session.get(Message, message_id)
        assert m is not None
        return m.delivery_status, m.delivery_error


async def test_a_reply_is_a_threaded_email_and_the_answer_comes_back_to_the_ticket(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    box = await make_mailbox(db, display_name="Madad Support", **smtp_values(smtp_capture))
    first = await ingest(db, Arrival(corpus("gmail_reply.eml"), "imap", mailbox_id=box))
    actor = await _agent(db)
    reply_id = await _reply(
        db, actor, first.ticket_id, text="It ships today.", html="<p>It <b>ships</b> today.</p>"
    )
    await _drain(db, settings)
    assert await _status(db, reply_id) == ("sent", None)
    [sent] = smtp_capture.received
    assert sent.rcpt_tos == ["sana@example.com"] and sent.mail_from == "support@madad.test"
    msg = sent.message
    assert msg["To"] == "sana@example.com"
    assert msg["From"] == "Ayesha Agent via Madad Support <support@madad.test>"
    assert msg["Subject"] == f"Re: My order has not arrived [#{first.ticket_id}]"
    assert msg["In-Reply-To"] == "<CAGmail-reply-1@mail.gmail.com>"
    assert msg["References"] == "<original-1@example.com> <CAGmail-reply-1@mail.gmail.com>"
    assert "+t" in msg["Reply-To"] and msg["Reply-To"].endswith("@madad.test>")
    own = parse_own_message_id(msg["Message-ID"].strip("<>"), settings.resolved_secret_key())
    assert own is not None and own.id == reply_id
    body = msg.get_body(("plain",))
    assert body is not None and "It ships today." in body.get_content()
    assert "-- \nAyesha\nMadad Support" in body.get_content()
    html = msg.get_body(("html",))
    assert html is not None and "<b>ships</b>" in html.get_content()

    # The customer answers the reply: threaded by In-Reply-To to Madad's own Message-ID.
    answer = raw_email(
        subject=msg["Subject"].replace("Re: ", "Re: Re: "),
        text="Great, thanks!",
        message_id="answer-1@mail.gmail.com",
        in_reply_to=msg["Message-ID"].strip("<>"),
    )
    back = await ingest(db, Arrival(answer, "imap", mailbox_id=box))
    assert back.ticket_id == first.ticket_id and not back.new_ticket
    # A second run of the job does not send again.
    async with db.session() as session:
        await jobs.enqueue(session, "email.deliver", {"message_id": reply_id})
    await _drain(db, settings)
    assert len(smtp_capture.received) == 1


async def test_our_own_mail_coming_back_is_recognised(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    box = await make_mailbox(db, **smtp_values(smtp_capture))
    first = await ingest(db, Arrival(raw_email(), "imap", mailbox_id=box))
    await _reply(db, await _agent(db), first.ticket_id, text="Hello")
    await _drain(db, settings)
    looped = await ingest(db, Arrival(smtp_capture.received[0].raw, "imap", mailbox_id=box))
    assert looped.disposition == "own"
    async with db.session(write=False) as session:
        count = len(list((await session.execute(select(Message))).scalars()))
    assert count == 2


async def test_a_server_that_defers_is_retried_and_one_that_refuses_fails_the_reply(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    box = await make_mailbox(db, **smtp_values(smtp_capture))
    first = await ingest(db, Arrival(raw_email(), "imap", mailbox_id=box))
    actor = await _agent(db)
    smtp_capture.answer = "451 4.3.0 try later"
    reply_id = await _reply(db, actor, first.ticket_id, text="Try one")
    await _drain(db, settings)
    assert await _status(db, reply_id) == ("queued", None)
    async with db.session() as session:
        job = await session.scalar(select(jobs.Job).where(jobs.Job.kind == "email.deliver"))
        assert job is not None and job.status == "pending" and "451" in (job.last_error or "")
        await session.execute(update(jobs.Job).values(run_at=utcnow()))
    smtp_capture.answer = None
    await _drain(db, settings)
    assert await _status(db, reply_id) == ("sent", None)

    smtp_capture.answer = "550 5.1.1 no such user"
    refused = await _reply(db, actor, first.ticket_id, text="Try two")
    await _drain(db, settings)
    status, error = await _status(db, refused)
    assert status == "failed" and error is not None and "550" in error


async def test_header_injection_through_names_and_subjects_is_impossible(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    box = await make_mailbox(db, **smtp_values(smtp_capture))
    evil = raw_email(
        sender='"Eve\\r\\nBcc: victim@example.org" <eve@example.com>',
        subject="Help =?utf-8?q?=0D=0ABcc=3A_victim=40example=2Eorg?= now",
    )
    first = await ingest(db, Arrival(evil, "imap", mailbox_id=box))
    await _reply(db, await _agent(db), first.ticket_id, text="Answer")
    await _drain(db, settings)
    [sent] = smtp_capture.received
    assert sent.rcpt_tos == ["eve@example.com"]
    head = sent.raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc:") for line in head.split(b"\r\n"))


async def test_new_tickets_get_one_acknowledgement_within_the_limit_and_automatic_mail_none(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    box = await make_mailbox(
        db,
        ack_enabled=True,
        ack_subject="We got it: {{ subject }} [#{{ ticket_id }}]",
        ack_text="Dear {{ name }}, ticket {{ ticket_id }} is open.",
        **smtp_values(smtp_capture),
    )
    first = await ingest(db, Arrival(raw_email(subject="Broken"), "imap", mailbox_id=box))
    await _drain(db, settings)
    [ack] = smtp_capture.received
    msg: EmailMessage = ack.message
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["Subject"] == f"We got it: Broken [#{first.ticket_id}]"
    body = msg.get_body(("plain",))
    assert body is not None
    assert body.get_content().strip() == f"Dear Sana Khan, ticket {first.ticket_id} is open."
    # A reply in the same ticket gets no acknowledgement; automatic mail never does.
    answer = raw_email(subject=f"Re: Broken [#{first.ticket_id}]")
    assert (await ingest(db, Arrival(answer, "imap", mailbox_id=box))).new_ticket is False
    await ingest(db, Arrival(corpus("auto_reply.eml"), "imap", mailbox_id=box))
    await _drain(db, settings)
    # The same sender writing many new emails gets at most the limit.
    for n in range(settings.email_ack_per_sender + 2):
        await ingest(db, Arrival(raw_email(subject=f"New {n}"), "imap", mailbox_id=box))
    await _drain(db, settings)
    to_sana = [c for c in smtp_capture.received if c.rcpt_tos == ["sana@example.com"]]
    assert len(to_sana) == settings.email_ack_per_sender
    assert all(c.rcpt_tos != ["hamza@example.com"] for c in smtp_capture.received)
    async with db.session(write=False) as session:
        acks = (
            await session.execute(select(EmailRecord).where(EmailRecord.kind == "ack"))
        ).scalars()
        assert len(list(acks)) == settings.email_ack_per_sender


async def test_a_bounce_of_a_reply_fails_it_and_notes_the_ticket(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    box = await make_mailbox(db, **smtp_values(smtp_capture))
    first = await ingest(db, Arrival(raw_email(sender="gone@example.com"), "imap", mailbox_id=box))
    reply_id = await _reply(db, await _agent(db), first.ticket_id, text="Hi")
    await _drain(db, settings)
    sent_id = smtp_capture.received[0].message["Message-ID"]
    dsn = corpus("dsn_bounce.eml").replace(b"<some-outbound-id@madad.test>", sent_id.encode())
    result = await ingest(db, Arrival(dsn, "imap", mailbox_id=box))
    assert result.disposition == "bounce" and result.ticket_id == first.ticket_id
    status, error = await _status(db, reply_id)
    assert status == "failed" and error is not None and "5.1.1" in error
    async with db.session(write=False) as session:
        notes = (
            await session.execute(select(Message).where(Message.visibility == "note"))
        ).scalars()
        assert any("delivery failed" in n.text for n in notes)
