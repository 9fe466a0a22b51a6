"""The SMTP listener (`madad smtp`): receives mail for the configured mailboxes, for MX or
forwarding setups, and stores it through the ingest before answering 250.

It never relays: recipients that are not a mailbox (or its +tag form) are refused at RCPT. A
message is acknowledged only after it is committed, so a crash makes the sender retry rather
than lose it; storage trouble answers 451 (try again later). Size is limited by
MADAD_EMAIL_MAX_MESSAGE_BYTES (announced with the SIZE extension).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import select

from madad.channels.email.ingest import Arrival, ingest
from madad.channels.email.models import Mailbox
from madad.channels.email.threads import base_address
from madad.db import Database
from madad.files import FileStore

log = logging.getLogger("madad.email.smtp")


class Handler:
    """aiosmtpd handler: accepts mail for known mailboxes and stores it."""

    def __init__(self, db: Database, store: FileStore, *, refresh_seconds: float = 30.0) -> None:
        self.db = db
        self.store = store
        self.refresh_seconds = refresh_seconds
        self._addresses: dict[str, int] = {}
        self._loaded = 0.0

    async def mailbox_for(self, address: str) -> int | None:
        if time.monotonic() - self._loaded > self.refresh_seconds:
            async with self.db.session(write=False) as session:
                rows = await session.execute(
                    select(Mailbox.address, Mailbox.id).where(Mailbox.enabled.is_(True))
                )
                self._addresses = {a: i for a, i in rows.all()}
            self._loaded = time.monotonic()
        return self._addresses.get(base_address(address))

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        try:
            known = await self.mailbox_for(address)
        except Exception:
            log.exception("mailbox lookup failed")
            return "451 4.3.0 temporary failure, try again later"
        if known is None:
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        if not raw:
            return "554 5.6.0 empty message"
        mailbox_id = None
        for rcpt in envelope.rcpt_tos:
            mailbox_id = await self.mailbox_for(rcpt)
            if mailbox_id is not None:
                break
        try:
            result = await ingest(
                self.db,
                Arrival(
                    raw,
                    "smtp",
                    mailbox_id=mailbox_id,
                    envelope_sender=envelope.mail_from or None,
                    envelope_recipients=tuple(envelope.rcpt_tos),
                ),
                store=self.store,
            )
        except Exception:
            log.exception("storing an SMTP message failed")
            return "451 4.3.0 could not store the message, try again later"
        return f"250 2.0.0 OK {result.disposition}"


def make_server(handler: Handler, *, hostname: str | None, max_bytes: int) -> Any:
    """A factory for the listening socket: one aiosmtpd SMTP protocol per connection."""

    def factory() -> SMTP:
        return SMTP(
            handler,
            hostname=hostname or socket.getfqdn(),
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
            decode_data=False,
            ident="Madad",
        )

    return factory


async def start(
    db: Database, store: FileStore, *, host: str, port: int
) -> asyncio.base_events.Server:
    """Listen on host:port; returns the server (close it to stop)."""
    settings = db.settings
    factory = make_server(
        Handler(db, store),
        hostname=settings.email_smtp_hostname,
        max_bytes=settings.email_max_message_bytes,
    )
    loop = asyncio.get_running_loop()
    return await loop.create_server(factory, host=host, port=port)


async def serve(
    db: Database, store: FileStore, *, host: str, port: int, stop: asyncio.Event
) -> None:
    server = await start(db, store, host=host, port=port)
    try:
        await stop.wait()
    finally:
        server.close()
        await server.wait_closed()
