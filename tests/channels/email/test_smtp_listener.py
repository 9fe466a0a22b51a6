"""`madad smtp`: the listener receives mail for the mailboxes (fed by aiosmtplib on loopback),
refuses other recipients and oversized mail, and answers 250 only once the mail is stored."""

from __future__ import annotations

import aiosmtplib
import pytest
from sqlalchemy import select

from madad.channels.email import smtp_server
from madad.db import Database
from madad.files import FileStore
from madad.tickets.models import Message, Ticket
from tests.channels.email.conftest import corpus, make_mailbox
from tests.channels.email.helpers import raw_email


async def test_the_listener_stores_mail_for_its_mailboxes_only(db: Database) -> None:
    await make_mailbox(db, address="help@madad.test")
    db.settings.email_max_message_bytes = 200_000
    server = await smtp_server.start(db, FileStore(db.settings.files_dir), host="127.0.0.1", port=0)
    port = server.sockets[0].getsockname()[1]
    try:
        raw = corpus("urdu_utf8.eml")
        errors, reply = await aiosmtplib.send(
            raw,
            sender="ayesha@example.pk",
            recipients=["help+sales@madad.test"],
            hostname="127.0.0.1",
            port=port,
        )
        assert errors == {} and reply.endswith("OK message")
        # Sent twice (a retrying sender): stored once.
        await aiosmtplib.send(
            raw,
            sender="ayesha@example.pk",
            recipients=["help@madad.test"],
            hostname="127.0.0.1",
            port=port,
        )
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await aiosmtplib.send(
                raw_email(),
                sender="x@example.com",
                recipients=["someone@elsewhere.example"],
                hostname="127.0.0.1",
                port=port,
            )
        assert refused.value.recipients[0].code == 550
        with pytest.raises(aiosmtplib.SMTPResponseException) as too_big:
            await aiosmtplib.send(
                raw_email(text="y" * 300_000),
                sender="x@example.com",
                recipients=["help@madad.test"],
                hostname="127.0.0.1",
                port=port,
            )
        assert too_big.value.code == 552
    finally:
        server.close()
        await server.wait_closed()
    async with db.session(write=False) as session:
        messages = list((await session.execute(select(Message))).scalars())
        assert len(messages) == 1
        assert messages[0].meta["email"]["source"] == "smtp"
        subject = await session.scalar(select(Ticket.subject))
        assert subject == "آرڈر کا مسئلہ"
