"""Automatic mail on a settled ticket: an out-of-office answering a solved (or pending) ticket
is kept on it, visible to agents, and changes nothing — no reopen, no status fact; a person's
answer still reopens it."""

from __future__ import annotations

from sqlalchemy import select

from madad import jobs
from madad.activity.models import Activity
from madad.auth.permissions import actor_for
from madad.channels.email.ingest import Arrival, ingest
from madad.channels.email.models import EmailRecord
from madad.config import Settings
from madad.db import Database
from madad.tickets import changes
from madad.tickets import service as tickets
from madad.tickets.models import Message, Ticket
from tests.channels.email.conftest import SmtpCapture, make_mailbox, smtp_values
from tests.channels.email.helpers import raw_email
from tests.conftest import make_person

OUT_OF_OFFICE = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


async def set_status(db: Database, ticket_id: int, status: str) -> None:
    async with db.session() as session:
        ticket = await changes.get_ticket_row(session, ticket_id, lock=True)
        await changes.set_status(session, ticket, status, agent_id=None)


async def ticket_state(db: Database, ticket_id: int) -> tuple[str, int]:
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket.status, ticket.reopen_count


async def status_facts(db: Database, ticket_id: int) -> list[tuple[str, str]]:
    async with db.session(write=False) as session:
        rows = await session.execute(
            select(Activity.data)
            .where(Activity.ticket_id == ticket_id, Activity.kind == "ticket.status_changed")
            .order_by(Activity.id)
        )
        return [(d["from"], d["to"]) for d in rows.scalars()]


async def message(db: Database, message_id: int | None) -> Message:
    async with db.session(write=False) as session:
        found = await session.get(Message, message_id)
        assert found is not None
        return found


async def test_an_out_of_office_to_a_solved_ticket_is_kept_and_does_not_reopen_it(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    box = await make_mailbox(db, **smtp_values(smtp_capture))
    first = await ingest(db, Arrival(raw_email(message_id="q1@example.com"), "imap"))
    assert first.ticket_id is not None
    agent = await make_person(db, name="Ayesha Agent")
    async with db.session() as session:
        await tickets.reply(
            session,
            actor_for(agent.id, "agent", "Ayesha Agent"),
            first.ticket_id,
            text="It ships today.",
            status="solved",
        )
    await jobs.Worker(db, settings).drain(max_seconds=30)
    [sent] = smtp_capture.received
    assert await ticket_state(db, first.ticket_id) == ("solved", 0)
    before = await status_facts(db, first.ticket_id)

    # The customer's auto-responder answers our reply (RFC 3834: In-Reply-To is set).
    ooo = raw_email(
        subject="Automatic reply: " + sent.message["Subject"],
        text="I am out of the office until Monday.",
        message_id="ooo-1@example.com",
        in_reply_to=sent.message["Message-ID"].strip("<>"),
        headers=OUT_OF_OFFICE,
    )
    kept = await ingest(db, Arrival(ooo, "imap", mailbox_id=box))
    assert kept.disposition == "message" and kept.auto == "auto-submitted"
    assert kept.ticket_id == first.ticket_id and not kept.reopened and not kept.new_ticket
    assert await ticket_state(db, first.ticket_id) == ("solved", 0)
    assert await status_facts(db, first.ticket_id) == before
    note = await message(db, kept.message_id)
    assert note.ticket_id == first.ticket_id and note.visibility == "note"
    assert "I am out of the office until Monday." in note.text
    assert note.text.startswith("Automatic reply from sana@example.com (auto-submitted)")
    async with db.session(write=False) as session:
        record = await session.scalar(
            select(EmailRecord).where(EmailRecord.external_id == "ooo-1@example.com")
        )
        assert record is not None and record.message_id == note.id and record.auto
    # The same email again (another source, other transport headers) stores nothing more.
    again = await ingest(db, Arrival(b"Received: from mx by relay\r\n" + ooo, "smtp"))
    assert again.disposition == "duplicate" and again.message_id == note.id
    async with db.session(write=False) as session:
        count = len(
            (await session.execute(select(Message.id).where(Message.ticket_id == first.ticket_id)))
            .scalars()
            .all()
        )
    assert count == 3  # the question, the reply, the out-of-office

    # A person answering still reopens the ticket.
    answer = raw_email(
        subject="Re: " + sent.message["Subject"],
        text="It has not come, actually.",
        message_id="answer-1@example.com",
        in_reply_to=sent.message["Message-ID"].strip("<>"),
    )
    back = await ingest(db, Arrival(answer, "imap", mailbox_id=box))
    assert back.ticket_id == first.ticket_id and back.reopened
    assert await ticket_state(db, first.ticket_id) == ("open", 1)


async def test_auto_replies_threaded_by_references_leave_pending_tickets_pending(
    db: Database,
) -> None:
    first = await ingest(db, Arrival(raw_email(message_id="p1@example.com"), "imap"))
    assert first.ticket_id is not None
    await set_status(db, first.ticket_id, "pending")
    ooo = raw_email(
        subject="Out of office: My order has not arrived",
        text="Back next week.",
        message_id="ooo-2@example.com",
        in_reply_to="p1@example.com",
        references=["p1@example.com"],
        headers={"X-Autoreply": "yes"},
    )
    kept = await ingest(db, Arrival(ooo, "imap"))
    assert kept.ticket_id == first.ticket_id and kept.auto == "autoreply"
    assert await ticket_state(db, first.ticket_id) == ("pending", 0)
    assert (await message(db, kept.message_id)).visibility == "note"


async def test_automatic_mail_on_an_open_ticket_and_list_mail_take_the_usual_way(
    db: Database,
) -> None:
    first = await ingest(db, Arrival(raw_email(message_id="o1@example.com"), "imap"))
    assert first.ticket_id is not None
    ooo = raw_email(
        message_id="ooo-3@example.com", in_reply_to="o1@example.com", headers=OUT_OF_OFFICE
    )
    on_open = await ingest(db, Arrival(ooo, "imap"))
    assert on_open.ticket_id == first.ticket_id
    stored = await message(db, on_open.message_id)
    assert stored.visibility == "public" and stored.direction == "inbound"
    # A person writing through a mailing list is a person: a solved ticket reopens.
    await set_status(db, first.ticket_id, "solved")
    listed = raw_email(
        message_id="list-1@example.com",
        in_reply_to="o1@example.com",
        headers={"List-Id": "<support.lists.example.com>"},
    )
    via_list = await ingest(db, Arrival(listed, "imap"))
    assert via_list.auto == "list" and via_list.reopened
    assert await ticket_state(db, first.ticket_id) == ("open", 1)
    # An out-of-office answering nothing Madad knows opens its own ticket, tagged.
    lone = await ingest(db, Arrival(raw_email(message_id="ooo-4@x", headers=OUT_OF_OFFICE), "imap"))
    assert lone.new_ticket and lone.ticket_id != first.ticket_id
