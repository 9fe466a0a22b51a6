"""An agent merges one customer's ticket into another customer's: the agents keep the whole
conversation, but in the portal the surviving ticket's customer never sees what the other
customer wrote, nor the team's replies written to them, nor their files."""

from __future__ import annotations

from sqlalchemy import select

from madad.auth.models import Role
from madad.auth.permissions import actor_for
from madad.config import Settings
from madad.tickets import changes
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, InboundAttachment, Sender
from madad.tickets.models import Attachment, Message
from tests.conftest import make_person
from tests.portal.conftest import db_of, make_customer, sign_in

OTHERS = ["CHEN-QUESTION-5190", "REPLY-FOR-CHEN-5190", "chen-5190-invoice.pdf"]


async def test_a_merge_across_customers_shows_neither_the_others_words_nor_our_replies_to_them(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    _, alice = await make_customer(db, "Alice Alpha")
    _, chen = await make_customer(db, "Chen Charlie")
    agent = await make_person(db, role=Role.agent, name="Ayesha Agent")
    actor = actor_for(agent.id, "agent", "Ayesha Agent")
    async with db.session() as session:

        async def post(email: str, text: str, **kw: object) -> int:
            got = await tickets.receive(
                session, Inbound(channel="api", sender=Sender(email=email), subject=text,
                                 text=text, thread_by_contact=False, **kw),  # type: ignore[arg-type]
            )  # fmt: skip
            return got.ticket_id

        kept = await post(alice, "ALICE-QUESTION-5190")
        await tickets.reply(session, actor, kept, text="REPLY-FOR-ALICE-5190")
        other = await post(chen, OTHERS[0])
        await tickets.reply(
            session, actor, other, text=OTHERS[1],
            attachments=(InboundAttachment(OTHERS[2], "application/pdf", b"%PDF chen"),),
        )  # fmt: skip
        await changes.merge_tickets(session, actor, source_id=other, target_id=kept)
        await tickets.reply(session, actor, kept, text="AFTER-MERGE-FOR-ALICE-5190")
        files = list(
            await session.scalars(
                select(Attachment.id)
                .join(Message, Message.id == Attachment.message_id)
                .where(Message.ticket_id == kept)
            )
        )
        moved = list(await session.scalars(select(Message.text).where(Message.ticket_id == kept)))
    assert set(OTHERS[:2]) <= set(moved) and len(files) == 1  # the agents keep everything

    portal = await sign_in(portal_app, portal_settings, alice)
    page = await portal.get(f"/portal/tickets/{kept}")
    assert page.status_code == 200
    for mine in ("ALICE-QUESTION-5190", "REPLY-FOR-ALICE-5190", "AFTER-MERGE-FOR-ALICE-5190"):
        assert mine in page.text
    assert [s for s in OTHERS if s in page.text] == []
    assert (await portal.get(f"/portal/attachments/{files[0]}")).status_code == 404
    listing = await portal.get("/portal")
    assert [s for s in OTHERS if s in listing.text] == []

    # Merged again, into a third ticket of Alice's: the mark stays with the reply to Chen.
    async with db.session() as session:
        third = await post(alice, "ALICE-LATER-5190")
        await changes.merge_tickets(session, actor, source_id=kept, target_id=third)
    page = await portal.get(f"/portal/tickets/{third}")
    assert "REPLY-FOR-ALICE-5190" in page.text
    assert [s for s in OTHERS if s in page.text] == []
