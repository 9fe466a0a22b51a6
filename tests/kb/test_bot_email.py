"""The answer bot in the email acknowledgement: when it is confident about a new email's
question, the acknowledgement (sent through a real SMTP server) lists up to three articles by
their absolute help-centre address and `kb.bot_offered` is recorded with channel email; when it
is not, the acknowledgement is as before. The customer's answer is an ordinary message."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import select

from madad import jobs
from madad.activity.models import Activity
from madad.channels.email.ingest import Arrival, ingest
from madad.channels.email.outbound import ARTICLES_HEADING
from madad.config import Settings
from madad.db import Database, utcnow
from madad.metrics import definitions as d
from tests.channels.email.conftest import SmtpCapture, make_mailbox, smtp_values
from tests.channels.email.helpers import raw_email
from tests.kb.conftest import write


async def facts_of(db: Database, ticket_id: int) -> list[Activity]:
    async with db.session(write=False) as session:
        return list(
            (
                await session.scalars(
                    select(Activity).where(Activity.ticket_id == ticket_id).order_by(Activity.id)
                )
            ).all()
        )


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return body.get_content()


async def test_a_confident_bot_lists_articles_in_the_acknowledgement(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    reset = await write(
        db, "Reset your password", "Forgot your password? Use the link on the sign-in page."
    )
    await write(db, "Track your order", "Every order ships with a tracking number.")
    await write(db, "Password policy for agents", "Internal.", internal=True)
    box = await make_mailbox(db, ack_enabled=True, **smtp_values(smtp_capture))
    mail = raw_email(
        subject="Can't sign in",
        text="Hi,\n\nI forgot my password, how do I reset it?\n\nThanks,\nSana Khan",
    )
    first = await ingest(db, Arrival(mail, "imap", mailbox_id=box))
    await jobs.Worker(db, settings).drain(max_seconds=30)
    [ack] = smtp_capture.received
    text = text_of(ack.message)
    base = f"http://{settings.host}:{settings.port}"
    assert ARTICLES_HEADING in text
    assert f"- Reset your password\n  {base}/help/articles/reset-your-password" in text
    assert "password-policy-for-agents" not in text  # never an internal article
    assert text.index("We have received your message") < text.index(ARTICLES_HEADING)
    kinds = [f.kind for f in await facts_of(db, first.ticket_id)]
    [offered] = [f for f in await facts_of(db, first.ticket_id) if f.kind == "kb.bot_offered"]
    assert offered.channel == "email" and offered.contact_id == first.contact_id
    assert offered.data["articles"][0] == reset.article.id
    assert offered.data["language"] == "en" and offered.data["session"] is None
    assert kinds.index("kb.bot_offered") > kinds.index("ticket.created")

    # The customer answers the acknowledgement: an ordinary message on the same ticket, and
    # nothing the bot or the acknowledgement did is a first response.
    answer = raw_email(
        subject=f"Re: {ack.message['Subject']}",
        text="That did not help, the link has expired.",
        in_reply_to=ack.message["Message-ID"].strip("<>"),
    )
    back = await ingest(db, Arrival(answer, "imap", mailbox_id=box))
    assert back.ticket_id == first.ticket_id and not back.new_ticket
    stream = await facts_of(db, first.ticket_id)
    assert [f.kind for f in stream].count("message.received") == 2
    now = utcnow()
    period = d.Period(now - timedelta(days=1), now + timedelta(days=1))
    assert d.first_response_time(stream, period).n == 0
    assert d.requests_per_agent(stream, period) == {}


async def test_no_articles_when_the_bot_is_not_confident(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    await write(db, "Reset your password", "Use the link on the sign-in page.")
    box = await make_mailbox(db, ack_enabled=True, **smtp_values(smtp_capture))
    mail = raw_email(subject="Office visit", text="Can I bring my dog to your office?")
    first = await ingest(db, Arrival(mail, "imap", mailbox_id=box))
    await jobs.Worker(db, settings).drain(max_seconds=30)
    [ack] = smtp_capture.received
    assert ARTICLES_HEADING not in text_of(ack.message)
    assert "/help/" not in text_of(ack.message)
    kept = [f for f in await facts_of(db, first.ticket_id) if f.kind.startswith("kb.bot")]
    assert [(f.kind, f.channel, f.data["question"]) for f in kept] == [
        ("kb.bot_unanswered", "email", "Can I bring my dog to your office? Office visit")
    ]


async def test_a_template_that_names_the_articles_places_them_itself(
    db: Database, settings: Settings, smtp_capture: SmtpCapture
) -> None:
    await write(db, "Request a refund", "Refunds for an order are possible within 14 days.")
    box = await make_mailbox(
        db,
        ack_enabled=True,
        ack_text=(
            "Ticket {{ ticket_id }}.{% for a in articles %}\n* {{ a.title }}: {{ a.url }}"
            "{% endfor %}\nBye"
        ),
        **smtp_values(smtp_capture),
    )
    mail = raw_email(subject="Refund", text="I would like a refund for my order please.")
    first = await ingest(db, Arrival(mail, "imap", mailbox_id=box))
    await jobs.Worker(db, settings).drain(max_seconds=30)
    [ack] = smtp_capture.received
    base = f"http://{settings.host}:{settings.port}"
    assert text_of(ack.message).strip() == (
        f"Ticket {first.ticket_id}.\n* Request a refund: {base}/help/articles/request-a-refund\nBye"
    )
