"""Chat sessions and the queue on both databases: a chat is a ticket with live facts the metric
engine reads like a phone call's; offers go round robin within each agent's limit; exactly one
of several agents accepting at once wins; a visitor who leaves unanswered has abandoned."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from madad import jobs
from madad.activity.models import Activity
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, actor_for
from madad.channels.chat import queue, service, transfers
from madad.channels.chat.models import ChatInbox, ChatSession
from madad.db import Database
from madad.errors import Conflict, Invalid, TooLarge
from madad.metrics.definitions import (
    Period,
    abandonment_rate,
    live_contacts,
    service_level,
    speed_of_answer,
)
from madad.tickets import service as tickets
from madad.tickets.models import Message, Ticket
from tests.conftest import make_person

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
SECRET = "test-secret-key-not-for-production"


async def make_inbox(db: Database, queue_name: str = "sales") -> ChatInbox:
    async with db.session() as session:
        return await service.create_inbox(session, SYSTEM, name="Website", queue=queue_name)


async def agent(db: Database, name: str, *, status: str = "online", max_chats: int = 3):
    person = await make_person(db, role=Role.agent, name=name)
    actor = actor_for(person.id, "agent", name)
    async with db.session() as session:
        await queue.set_availability(session, actor, status=status, max_chats=max_chats)
    return actor


async def start(
    db: Database, inbox: ChatInbox, text: str = "Hello", *, at: datetime = T0, **kw: object
) -> ChatSession:
    visitor, _token = service.issue_visitor_token(SECRET, inbox.key)
    async with db.session() as session:
        chat, _ = await service.start_chat(
            session, inbox, visitor, text=text, client_id="m1", at=at, **kw
        )
    return chat


async def live_facts(db: Database) -> list[Activity]:
    async with db.session(write=False) as session:
        return list(
            await session.scalars(
                select(Activity).where(Activity.kind.startswith("live.")).order_by(Activity.id)
            )
        )


def test_a_visitor_token_proves_only_what_was_signed() -> None:
    visitor, token = service.issue_visitor_token(SECRET, "inbox-a")
    assert service.visitor_of(SECRET, "inbox-a", token) == visitor
    # Another inbox, another secret, a claimed id with the signature of another: no identity.
    assert service.visitor_of(SECRET, "inbox-b", token) is None
    assert service.visitor_of("another-secret", "inbox-a", token) is None
    other, _other_token = service.issue_visitor_token(SECRET, "inbox-a")
    forged = other + "." + token.split(".", 1)[1]
    assert service.visitor_of(SECRET, "inbox-a", forged) is None
    assert service.visitor_of(SECRET, "inbox-a", visitor) is None  # an unsigned claim
    assert service.visitor_of(SECRET, "inbox-a", None) is None
    assert service.visitor_of(SECRET, "inbox-a", "x" * 5000) is None


def test_expected_wait_scales_the_median_recent_wait_by_position_and_agents() -> None:
    assert queue.expected_wait([], 1, 1) is None
    assert queue.expected_wait([10, 30, 1000], 1, 1) == 30
    assert queue.expected_wait([10, 30, 1000], 3, 1) == 90
    assert queue.expected_wait([10, 30, 1000], 3, 2) == 45
    assert queue.expected_wait([20], 2, 0) == 40  # nobody online: as if one


async def test_a_chat_is_a_ticket_in_the_queue_with_the_phone_facts(db: Database) -> None:
    inbox = await make_inbox(db)
    chat = await start(db, inbox, "Where is my parcel?", name="Zara", email="Zara@Example.com")
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, chat.ticket_id)
        assert ticket is not None and ticket.channel == "chat"
        assert ticket.custom_fields == {"chat_email": "zara@example.com"}
        lines = await service.visitor_lines(session, chat)
    assert [(x.author, x.text, x.client_id, x.name) for x in lines] == [
        ("visitor", "Where is my parcel?", "m1", "Zara")
    ]
    assert chat.state == "queued"
    [offered] = await live_facts(db)
    assert (offered.kind, offered.channel, offered.ticket_id) == (
        "live.offered",
        "chat",
        chat.ticket_id,
    )
    assert offered.data == {"session": chat.public_id, "queue": "sales"}


async def test_a_typed_email_never_joins_an_existing_customer(db: Database) -> None:
    inbox = await make_inbox(db)
    a = await start(db, inbox, "one", email="ceo@example.com")
    b = await start(db, inbox, "two", email="ceo@example.com")
    assert a.contact_id != b.contact_id  # two visitor tokens, two contacts, whatever they typed


async def test_the_same_client_message_is_stored_once(db: Database) -> None:
    inbox = await make_inbox(db)
    chat = await start(db, inbox)
    for _ in range(3):
        async with db.session() as session:
            row = await session.get(ChatSession, chat.id)
            assert row is not None
            await service.post_message(session, row, text="again", client_id="m2")
    async with db.session(write=False) as session:
        lines = await service.visitor_lines(session, chat)
    assert [x.text for x in lines] == ["Hello", "again"]
    # Repeating the start itself (a reload mid-request) continues the same chat.
    async with db.session() as session:
        again, received = await service.start_chat(
            session, inbox, chat.visitor_id, text="Hello", client_id="m1"
        )
    assert again.id == chat.id and received.created is False


async def test_bad_and_oversized_messages_are_refused_clearly(db: Database) -> None:
    inbox = await make_inbox(db)
    chat = await start(db, inbox)
    async with db.session() as session:
        row = await session.get(ChatSession, chat.id)
        assert row is not None
        with pytest.raises(TooLarge, match="at most 4000 characters"):
            await service.post_message(session, row, text="x" * 4001, client_id="big")
        with pytest.raises(Invalid, match="write a message first"):
            await service.post_message(session, row, text="   ", client_id="blank")
        with pytest.raises(Invalid):
            await service.post_message(session, row, text="nul\x00", client_id="nul")
        with pytest.raises(Invalid):
            await service.post_message(session, row, text="ok", client_id="")
        with pytest.raises(Invalid):
            await service.start_chat(session, inbox, "v" * 32, text="hi", client_id="a", email="no")


async def test_offers_go_round_robin_within_each_agents_limit(db: Database) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha", max_chats=1)
    bilal = await agent(db, "Bilal", max_chats=2)
    await agent(db, "Away Agent", status="away")
    chats = [await start(db, inbox, at=T0 + timedelta(seconds=i)) for i in range(4)]
    async with db.session() as session:
        made = await queue.offer_waiting(session, at=T0 + timedelta(seconds=10))
    # Oldest first; each agent in turn while they have a free place; nobody away gets one.
    assert made == [
        (chats[0].public_id, ayesha.user_id),
        (chats[1].public_id, bilal.user_id),
        (chats[2].public_id, bilal.user_id),
    ]
    # Live offers are not made again; an expired one moves on to another agent with room.
    async with db.session() as session:
        assert await queue.offer_waiting(session, at=T0 + timedelta(seconds=20)) == []
        await queue.accept(session, bilal, chats[1].public_id, at=T0 + timedelta(seconds=21))
    async with db.session() as session:
        later = T0 + timedelta(seconds=10 + queue.OFFER_SECONDS + 1)
        made = await queue.offer_waiting(session, at=later)
    # Bilal holds one chat (limit 2); Ayesha's and Bilal's offers expired: each moves on.
    assert (chats[0].public_id, bilal.user_id) in made
    assert all(a != ayesha.user_id or s != chats[0].public_id for s, a in made)


async def test_accept_answers_once_assigns_and_respects_the_limit(db: Database) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha", max_chats=1)
    first = await start(db, inbox, at=T0)
    second = await start(db, inbox, at=T0 + timedelta(seconds=1))
    async with db.session() as session:
        await queue.accept(session, ayesha, first.public_id, at=T0 + timedelta(seconds=12))
    async with db.session() as session:
        with pytest.raises(Conflict, match="limit"):
            await queue.accept(session, ayesha, second.public_id)
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, first.ticket_id)
        assert ticket is not None and ticket.assignee_id == ayesha.user_id
    answered = [f for f in await live_facts(db) if f.kind == "live.answered"]
    assert [(f.agent_id, f.data["session"], f.channel) for f in answered] == [
        (ayesha.user_id, first.public_id, "chat")
    ]


async def test_exactly_one_of_several_agents_accepting_at_once_wins(db: Database) -> None:
    inbox = await make_inbox(db)
    actors = [await agent(db, f"Agent {i}") for i in range(5)]
    chat = await start(db, inbox)

    async def try_accept(actor) -> str:
        try:
            async with db.session() as session:
                await queue.accept(session, actor, chat.public_id)
            return "won"
        except Conflict:
            return "lost"

    results = await asyncio.gather(*(try_accept(a) for a in actors))
    assert sorted(results) == ["lost"] * 4 + ["won"]
    answered = [f for f in await live_facts(db) if f.kind == "live.answered"]
    assert len(answered) == 1
    async with db.session(write=False) as session:
        row = await session.get(ChatSession, chat.id)
        assert row is not None and row.state == "active"
        assert actors[results.index("won")].user_id == row.agent_id


async def test_a_reply_goes_the_ordinary_way_and_the_visitor_sees_it_never_a_note(
    db: Database,
) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha Agent")
    chat = await start(db, inbox)
    async with db.session() as session:
        await queue.accept(session, ayesha, chat.public_id)
        await tickets.add_note(session, ayesha, chat.ticket_id, text="internal: VIP")
        reply = await tickets.reply(session, ayesha, chat.ticket_id, text="Hi, I'm Ayesha")
    async with db.session(write=False) as session:
        lines = await service.visitor_lines(session, chat)
        message = await session.get(Message, reply.id)
    assert [(x.author, x.name, x.text) for x in lines] == [
        ("visitor", None, "Hello"),
        ("agent", "Ayesha Agent", "Hi, I'm Ayesha"),
    ]
    assert message is not None and message.delivery_status == "queued"
    # The outbound job marks it sent (the bus carried it the moment it committed).
    async with db.session() as session:
        ctx = jobs.JobContext(
            session=session,
            db=db,
            job_id=0,
            kind=service.DELIVER_JOB,
            payload={"message_id": reply.id},
            attempt=1,
            max_attempts=3,
            settings=db.settings,
        )
        await service.deliver(ctx)
    async with db.session(write=False) as session:
        message = await session.get(Message, reply.id)
        assert message is not None and message.delivery_status == "sent"


async def test_transfer_and_end_write_their_facts(db: Database) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha")
    bilal = await agent(db, "Bilal")
    offline = await agent(db, "Off", status="offline")
    chat = await start(db, inbox)
    async with db.session() as session:
        await queue.accept(session, ayesha, chat.public_id)
    async with db.session() as session:
        with pytest.raises(Conflict, match="offline"):
            await transfers.transfer(session, ayesha, chat.public_id, to_user_id=offline.user_id)
    async with db.session() as session:
        await transfers.transfer(session, ayesha, chat.public_id, to_user_id=bilal.user_id)
    async with db.session() as session:
        await queue.end(session, bilal, chat.public_id)
        await queue.end(session, bilal, chat.public_id)  # twice: one fact
    kinds = [(f.kind, f.agent_id) for f in await live_facts(db)]
    assert kinds == [
        ("live.offered", None),
        ("live.answered", ayesha.user_id),
        ("live.transferred", ayesha.user_id),
        ("live.ended", bilal.user_id),
    ]
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, chat.ticket_id)
        assert ticket is not None and ticket.assignee_id == bilal.user_id
    async with db.session() as session:
        row = await session.get(ChatSession, chat.id)
        assert row is not None
        with pytest.raises(Conflict, match="ended"):
            await service.post_message(session, row, text="still there?", client_id="late")


async def test_leaving_unanswered_or_going_away_is_abandonment(db: Database) -> None:
    inbox = await make_inbox(db)
    left = await start(db, inbox, at=T0)
    gone = await start(db, inbox, at=T0)
    stays = await start(db, inbox, at=T0)
    async with db.session() as session:
        row = await session.get(ChatSession, left.id)
        assert row is not None
        await service.leave(session, row, at=T0 + timedelta(seconds=40))
        await service.visitor_seen(session, [stays.id], at=T0 + timedelta(seconds=100))
    async with db.session() as session:
        n = await queue.abandon_gone(session, at=T0 + timedelta(seconds=120))
    assert n == 1
    async with db.session(write=False) as session:
        states = {
            c.id: c.state
            for c in await session.scalars(select(ChatSession).order_by(ChatSession.id))
        }
    assert states == {left.id: "abandoned", gone.id: "abandoned", stays.id: "queued"}
    abandoned = {
        f.data["session"]: f.at for f in await live_facts(db) if f.kind == "live.abandoned"
    }
    # Gone is dated when the grace ran out after its widget was last seen, not when noticed.
    assert abandoned == {
        left.public_id: T0 + timedelta(seconds=40),
        gone.public_id: T0 + queue.VISITOR_GRACE,
    }


async def test_the_metric_engine_reads_chat_like_phone(db: Database) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha")
    quick = await start(db, inbox, at=T0)
    slow = await start(db, inbox, at=T0 + timedelta(seconds=1))
    gives_up = await start(db, inbox, at=T0 + timedelta(seconds=2))
    async with db.session() as session:
        await queue.accept(session, ayesha, quick.public_id, at=T0 + timedelta(seconds=10))
        await queue.accept(session, ayesha, slow.public_id, at=T0 + timedelta(seconds=61))
        row = await session.get(ChatSession, gives_up.id)
        assert row is not None
        await service.leave(session, row, at=T0 + timedelta(seconds=32))
        await queue.end(session, ayesha, quick.public_id, at=T0 + timedelta(seconds=300))
    facts = await live_facts(db)
    period = Period(T0, T0 + timedelta(hours=1))
    asa = speed_of_answer(facts, period)
    assert (asa.n, asa.mean, asa.p90) == (2, 35.0, 60.0)
    rate = abandonment_rate(facts, period)
    assert (rate.numerator, rate.denominator) == (1, 3)
    level = service_level(facts, period, 20)
    assert (level.numerator, level.denominator) == (1, 3)
    assert {c.channel for c in live_contacts(facts)} == {"chat"}


async def test_position_and_expected_wait_come_from_the_queue_and_recent_answers(
    db: Database,
) -> None:
    inbox = await make_inbox(db)
    ayesha = await agent(db, "Ayesha", max_chats=5)
    now = datetime.now(UTC)
    answered = await start(db, inbox, at=now - timedelta(seconds=100))
    async with db.session() as session:
        await queue.accept(session, ayesha, answered.public_id, at=now - timedelta(seconds=60))
    first = await start(db, inbox, at=now - timedelta(seconds=5))
    second = await start(db, inbox, at=now - timedelta(seconds=4))
    async with db.session(write=False) as session:
        place_first = await queue.place_in_queue(session, first)
        place_second = await queue.place_in_queue(session, second)
        row = await session.get(ChatSession, answered.id)
        assert row is not None
        assert await queue.place_in_queue(session, row) is None
    assert place_first == queue.QueuePlace(1, 40.0)
    assert place_second == queue.QueuePlace(2, 80.0)
