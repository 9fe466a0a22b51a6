"""The public corpus (tests/channels/email/corpus/public/*/messages: real-world messages from
redistributable test suites, see corpus/README.md) through the real ingestion path, on SQLite and
PostgreSQL: nothing raises; every message is stored as a ticket message or recorded as a bounce
or quarantined with a reason; the same bytes twice are stored once; stored HTML is sanitised.

And quote stripping measured against the replies whose expected text the suite ships (talon).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import func, select

from madad.channels.email.ingest import Arrival, Ingested, ingest
from madad.channels.email.models import EmailRecord
from madad.channels.email.parse import parse_email
from madad.channels.email.quotes import split_reply
from madad.db import Database
from madad.tickets.models import Attachment, Message, Ticket
from tests.channels.email.conftest import CORPUS, make_mailbox

PUBLIC = CORPUS / "public"
MESSAGES = sorted(p for p in PUBLIC.glob("*/messages/*") if p.is_file())
TALON = PUBLIC / "talon"
# The disposition each message may get the first time; `own` needs Madad's signed Message-ID,
# which no public message has.
FIRST = {"message", "bounce", "quarantined", "duplicate"}
# flufl.bounce's messages are bounces in every MTA's format, except this one: a person's Outlook
# reply that its suite keeps to prove it finds no bounced address in it.
PEOPLE_IN_FLUFL = {"groupwise_03.txt"}


def name(path: Path) -> str:
    return str(path.relative_to(PUBLIC))


class _Unsafe(HTMLParser):
    """What the sanitiser must have removed: script/style-ish elements, event handlers and
    script URLs in any attribute."""

    URL = re.compile(r"^\s*(javascript|vbscript|data\s*:\s*text/html)", re.I)

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "iframe", "object", "embed"):
            self.found.append(f"<{tag}>")
        for key, value in attrs:
            if key.lower().startswith("on"):
                self.found.append(f"{tag} {key}=")
            if value is not None and self.URL.match(re.sub(r"[\x00-\x20]", "", value)):
                self.found.append(f"{tag} {key}={value[:40]!r}")

    handle_startendtag = handle_starttag


def unsafe_html(html: str) -> list[str]:
    finder = _Unsafe()
    finder.feed(html)
    finder.close()
    # Whatever the parser made of it, the raw markers must not be there either.
    lowered = html.lower()
    found = list(finder.found)
    if "<script" in lowered:
        found.append("<script")
    if re.search(r"<[^>]*\son[a-z]+\s*=", lowered):
        found.append("on*= in a tag")
    if re.search(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", lowered):
        found.append("javascript: URL")
    return found


async def count(db: Database, model: type) -> int:
    async with db.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def _check_first(db: Database, path: Path, r: Ingested, seen_ids: set[str]) -> list[str]:
    """What is wrong with the first ingestion of `path` (empty when all is well)."""
    problems: list[str] = []
    if r.disposition not in FIRST:
        return [f"disposition {r.disposition!r}"]
    if r.disposition == "duplicate":
        # Only a message whose Message-ID and content an earlier file had.
        mid = parse_email(path.read_bytes()).message_id
        if mid is None or mid not in seen_ids:
            problems.append("a duplicate of nothing ingested before")
        return problems
    async with db.session(write=False) as session:
        records = list(
            (
                await session.execute(
                    select(EmailRecord).where(
                        EmailRecord.direction == "inbound",
                        EmailRecord.raw_sha256 == hashlib.sha256(path.read_bytes()).hexdigest(),
                        EmailRecord.kind == r.disposition,
                    )
                )
            ).scalars()
        )
        if r.disposition == "message":
            if r.message_id is None or r.ticket_id is None:
                return ["stored as a message without message/ticket ids"]
            message = await session.get(Message, r.message_id)
            ticket = await session.get(Ticket, r.ticket_id)
            if message is None or ticket is None or message.ticket_id != ticket.id:
                return ["the stored message or its ticket is missing"]
            attachments = await session.scalar(
                select(func.count())
                .select_from(Attachment)
                .where(Attachment.message_id == message.id)
            )
            if not (message.text.strip() or (message.html or "").strip() or attachments):
                problems.append("stored with no text, no HTML and no attachments")
            if not any(rec.message_id == message.id for rec in records):
                problems.append("no email record for the stored message")
        elif r.disposition == "quarantined":
            reasons = [rec.info.get("reason") for rec in records if rec.message_id is None]
            if not any(reasons):
                problems.append("quarantined without a recorded reason")
        elif r.disposition == "bounce" and not any(rec.info.get("report") for rec in records):
            problems.append("a bounce without its report summary")
    return problems


async def test_every_public_message_is_stored_once_or_recorded_with_a_reason(
    db: Database,
) -> None:
    assert len(MESSAGES) >= 100, "the public corpus is missing"
    box = await make_mailbox(db)
    failures: list[str] = []
    outcomes: Counter[str] = Counter()
    seen_ids: set[str] = set()
    for path in MESSAGES:
        raw = path.read_bytes()
        try:
            first = await ingest(db, Arrival(raw, "file", mailbox_id=box))
        except Exception as exc:  # every failure is reported at the end
            failures.append(f"{name(path)}: first ingest raised {type(exc).__name__}: {exc}")
            continue
        outcomes[f"{path.parts[-3]}:{first.disposition}"] += 1
        if (
            path.parts[-3] == "flufl.bounce"
            and first.disposition == "message"
            and not first.auto
            and path.name not in PEOPLE_IN_FLUFL
        ):
            # Bounces in formats other than RFC 3464 are kept, but never answered.
            failures.append(f"{name(path)}: a bounce taken for a person's mail")
        for problem in await _check_first(db, path, first, seen_ids):
            failures.append(f"{name(path)}: {problem}")
        mid = parse_email(raw).message_id
        if mid:
            seen_ids.add(mid)
        messages, records = await count(db, Message), await count(db, EmailRecord)
        try:
            again = await ingest(db, Arrival(raw, "imap", mailbox_id=box))
        except Exception as exc:
            failures.append(f"{name(path)}: second ingest raised {type(exc).__name__}: {exc}")
            continue
        if again.disposition != "duplicate":
            failures.append(f"{name(path)}: the same bytes again gave {again.disposition!r}")
        elif first.message_id is not None and again.message_id != first.message_id:
            failures.append(f"{name(path)}: the duplicate names another message")
        if (await count(db, Message), await count(db, EmailRecord)) != (messages, records):
            failures.append(f"{name(path)}: the same bytes again stored something")
    async with db.session(write=False) as session:
        stored = (await session.execute(select(Message.id, Message.html))).all()
    html_count = 0
    for message_id, html in stored:
        if html:
            html_count += 1
            for found in unsafe_html(html):
                failures.append(f"message {message_id}: unsanitised HTML: {found}")
    print(f"\n{len(MESSAGES)} public messages, {html_count} stored with HTML:")
    for key, n in sorted(outcomes.items()):
        print(f"  {key}: {n}")
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)


def _norm(text: str) -> str:
    return " ".join(text.split())


def talon_expected(path: Path) -> str:
    """talon's own test: the reply is `<name>_reply_text` when it ships one, else "Hello".

    talon keeps signatures ("Sent from my iPhone") and Madad cuts them, so the expected text
    gets Madad's signature cut too: what is measured here is quote stripping."""
    expected = TALON / "expected" / f"{path.stem}_reply_text"
    text = expected.read_text().strip() if expected.exists() else "Hello"
    return split_reply(text).body


TALON_REPLIES = sorted((TALON / "messages").glob("*.eml"))
STANDARD_REPLIES = [p for p in TALON_REPLIES if p.name != "reply-quotations-share-block.eml"]


async def test_quote_stripping_on_talons_standard_replies(db: Database) -> None:
    assert len(STANDARD_REPLIES) >= 10
    box = await make_mailbox(db)
    matched: list[str] = []
    missed: list[str] = []
    for path in STANDARD_REPLIES:
        r = await ingest(db, Arrival(path.read_bytes(), "file", mailbox_id=box))
        assert r.disposition == "message", (path.name, r.disposition, r.warnings)
        async with db.session(write=False) as session:
            message = await session.get(Message, r.message_id)
        assert message is not None
        if _norm(message.text) == _norm(talon_expected(path)):
            matched.append(path.name)
        else:
            missed.append(f"{path.name}: {message.text[:120]!r}")
    rate = len(matched) / len(STANDARD_REPLIES)
    print(f"\ntalon standard replies: {len(matched)}/{len(STANDARD_REPLIES)} = {rate:.0%}")
    for line in missed:
        print("  missed", line)
    assert missed == []
