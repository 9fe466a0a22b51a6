"""What the widget does over HTTP and the start limits: a message left while the queue is
closed becomes an email ticket answered by email (the typed address never joins the visitor to
a customer); the form and chat starts are rate-limited with Retry-After; the widget learns the
inbox's live queue; the status gives open spans for the visitor's own clock. Both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from madad import jobs
from madad.activity.models import Activity
from madad.auth.models import AuditEntry, Role
from madad.auth.permissions import SYSTEM
from madad.channels.chat import offline, service
from madad.channels.chat.models import ChatInbox, ChatMessageLeft, ChatSession
from madad.channels.hours import calendar as cal
from madad.config import Settings
from madad.contacts.models import ContactIdentity
from madad.db import Database
from madad.errors import TooManyRequests
from madad.kb import service as kb
from madad.kb.service import Text
from madad.tickets.models import Message, Ticket
from tests.channels.chat.test_sockets import frames_until, is_type, new_inbox, visitor_hello, ws
from tests.channels.email.conftest import SmtpCapture, make_mailbox, smtp_values
from tests.channels.email.conftest import smtp_capture as smtp_capture  # the fixture
from tests.conftest import Person, make_person
from tests.kb.conftest import AUTHOR
from tests.servers import serve_here

NAUGHTY: list[str] = json.loads(
    (Path(__file__).parents[2] / "corpus" / "naughty-strings" / "blns.json").read_text()
)
SECRET = "test-secret-key-not-for-production"


async def inbox_of(client: httpx.AsyncClient, admin: Person, queue: str = "support") -> dict:
    r = await client.post(
        "/api/v1/chat/inboxes", json={"name": "Shop", "queue": queue}, headers=admin.headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def form(**extra: object) -> dict:
    return {"id": "f1", "name": "Zara", "email": "Zara@Example.com", "text": "Call me", **extra}


def leave(client: httpx.AsyncClient, key: str, body: dict, **headers: str):
    return client.post(f"/api/v1/chat/inboxes/{key}/messages", json=body, headers=headers)


async def test_a_message_left_is_an_email_ticket_answered_by_email(
    app: object,
    client: httpx.AsyncClient,
    admin: Person,
    agent: Person,
    settings: Settings,
    smtp_capture: SmtpCapture,
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    inbox = await inbox_of(client, admin)
    origin = {"Origin": "https://shop.example.com"}
    r = await leave(client, inbox["key"], form(language="ur"), **origin)
    assert r.status_code == 201, r.text
    assert r.json() == {"received": True, "email": "zara@example.com"}
    assert r.headers["access-control-allow-origin"] == "*"
    again = await leave(client, inbox["key"], form(), **origin)  # a double click
    assert again.status_code == 200
    async with db.session(write=False) as s:
        ticket = (await s.scalars(select(Ticket))).one()
        assert ticket.channel == "email" and ticket.custom_fields["email_unverified"] is True
        assert ticket.subject == "Message left on the website: Call me"
        messages = list(await s.scalars(select(Message).order_by(Message.id)))
        assert [(m.direction, m.visibility) for m in messages] == [
            ("inbound", "public"),
            ("outbound", "note"),
        ]
        assert messages[0].text == "Call me" and "not verified" in messages[1].text
        idents = list(
            await s.scalars(
                select(ContactIdentity).where(ContactIdentity.contact_id == ticket.contact_id)
            )
        )
        assert [(i.kind, i.value) for i in idents] == [("email", "zara@example.com")]
        assert await s.scalar(select(func.count(ChatMessageLeft.id))) == 1

    # The agent answers the ticket like any email: the reply goes to the typed address.
    box = await make_mailbox(db, **smtp_values(smtp_capture))
    assert box
    r = await client.post(
        f"/api/v1/tickets/{ticket.id}/reply", json={"text": "We open at nine."},
        headers=agent.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    await jobs.Worker(db, settings).drain(max_seconds=30)
    [sent] = smtp_capture.received
    assert sent.rcpt_tos == ["zara@example.com"]
    assert "We open at nine." in sent.message.get_body(("plain",)).get_content()


async def test_an_existing_customer_named_by_a_typed_address_is_told_it_is_unverified(
    app: object, client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    """The contact the address names gets the ticket (the reply reaches only its mailbox);
    a chat visitor who typed the same address stays a separate, anonymous contact."""
    db: Database = app.state.db  # type: ignore[attr-defined]
    known = await client.post(
        "/api/v1/contacts", json={"name": "Sana", "emails": ["sana@example.com"]},
        headers=agent.headers,
    )  # fmt: skip
    assert known.status_code == 201, known.text
    inbox = await inbox_of(client, admin)
    async with db.session() as s:
        row = await s.scalar(select(ChatInbox))
        assert row is not None
        visitor, _ = service.issue_visitor_token(SECRET, row.key)
        chat, _ = await service.start_chat(
            s, row, visitor, text="hi", client_id="c", email="sana@example.com"
        )
    r = await leave(client, inbox["key"], form(email="sana@example.com"))
    assert r.status_code == 201
    async with db.session(write=False) as s:
        ticket = await s.scalar(select(Ticket).where(Ticket.channel == "email"))
        assert ticket is not None and ticket.contact_id == known.json()["id"]
        assert ticket.custom_fields["email_unverified"] is True
        assert chat.contact_id != known.json()["id"]


async def test_bad_forms_are_refused_and_store_nothing(
    app: object, client: httpx.AsyncClient, admin: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    inbox = await inbox_of(client, admin)
    bad = [
        {k: v for k, v in form().items() if k != "email"},
        form(email="not an address"),
        form(name="   "),
        form(text=""),
        form(text="x" * 4001),
        form(id=""),
        form(extra="field"),
        form(name="a\x00b"),
    ]
    for body in bad:
        r = await leave(client, inbox["key"], body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["access-control-allow-origin"] == "*"
    assert (await leave(client, "nope", form())).status_code == 404
    pre = await client.options(
        f"/api/v1/chat/inboxes/{inbox['key']}/messages",
        headers={"Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 204 and "POST" in pre.headers["access-control-allow-methods"]
    async with db.session(write=False) as s:
        assert await s.scalar(select(func.count(Ticket.id))) == 0
        assert await s.scalar(select(func.count(ChatMessageLeft.id))) == 0


async def test_naughty_strings_are_kept_exactly(
    app: object, client: httpx.AsyncClient, admin: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    inbox = await inbox_of(client, admin)
    texts = [s for s in NAUGHTY if s.strip() and "\x00" not in s][:40]
    for i, text in enumerate(texts):
        transport = httpx.ASGITransport(app=app, client=(f"203.0.113.{i}", 5000))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://madad.test") as c:
            r = await leave(c, inbox["key"], form(id=f"n{i}", email=f"n{i}@example.com",
                                                  name=text[:200], text=text))  # fmt: skip
            assert r.status_code == 201, (i, r.text)
    async with db.session(write=False) as s:
        stored = list(
            await s.scalars(
                select(Message.text).where(Message.direction == "inbound").order_by(Message.id)
            )
        )
    assert stored == [t.strip() for t in texts]


async def test_the_form_is_limited_per_email_and_per_client_with_retry_after(
    app: object, client: httpx.AsyncClient, admin: Person
) -> None:
    inbox = await inbox_of(client, admin)
    for i in range(offline.PER_EMAIL):
        assert (await leave(client, inbox["key"], form(id=f"e{i}"))).status_code == 201
    r = await leave(client, inbox["key"], form(id="e-last"))
    assert r.status_code == 429 and "this email address" in r.json()["detail"]
    assert 3500 <= int(r.headers["Retry-After"]) <= 3601
    assert "Retry-After" in r.headers["access-control-expose-headers"]
    for i in range(offline.PER_ADDRESS - offline.PER_EMAIL):
        r = await leave(client, inbox["key"], form(id=f"a{i}", email=f"a{i}@example.com"))
        assert r.status_code == 201, r.text
    r = await leave(client, inbox["key"], form(id="a-last", email="other@example.com"))
    assert r.status_code == 429 and "from this address" in r.json()["detail"]
    # Another client is not held back by this one.
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 5000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://madad.test") as c:
        assert (await leave(c, inbox["key"], form(email="other@example.com"))).status_code == 201


async def test_chat_starts_are_limited_per_visitor_and_per_address(
    db: Database, settings: Settings
) -> None:
    async with db.session() as s:
        inbox = await service.create_inbox(s, SYSTEM, name="Shop")
    now = datetime.now(UTC)
    visitor, _ = service.issue_visitor_token(SECRET, inbox.key)
    for i in range(settings.chat_starts_per_visitor):
        async with db.session() as s:
            chat, _ = await service.start_chat(
                s, inbox, visitor, text="hi", client_id=f"v{i}", at=now + timedelta(seconds=i)
            )
            await service.leave(s, chat, at=now + timedelta(seconds=i))
    async with db.session() as s:
        with pytest.raises(TooManyRequests) as refused:
            await service.start_chat(s, inbox, visitor, text="hi", client_id="v-last", at=now)
    assert refused.value.retry_after == 3601
    # A repeat of a start already stored is answered, never refused.
    async with db.session() as s:
        _, received = await service.start_chat(s, inbox, visitor, text="hi", client_id="v0", at=now)
        assert not received.created
    # The hour's starts from one address, whichever visitors they claim to be.
    for _ in range(settings.chat_starts_per_address):
        other, _ = service.issue_visitor_token(SECRET, inbox.key)
        async with db.session() as s:
            await service.start_chat(
                s, inbox, other, text="hi", client_id="a", client_address="203.0.113.5", at=now
            )
    async with db.session() as s:
        fresh, _ = service.issue_visitor_token(SECRET, inbox.key)
        with pytest.raises(TooManyRequests, match="this address"):
            await service.start_chat(
                s, inbox, fresh, text="hi", client_id="a", client_address="203.0.113.5", at=now
            )
        await service.start_chat(
            s, inbox, fresh, text="hi", client_id="a", client_address="203.0.113.6", at=now
        )
    # An hour later the visitor may start again.
    async with db.session() as s:
        await service.start_chat(
            s, inbox, visitor, text="hi", client_id="later", at=now + timedelta(hours=1, seconds=30)
        )
        # The address is kept only as a keyed hash.
        hashes = set(await s.scalars(select(ChatSession.client_hash)))
        assert all(h is None or (len(h) == 64 and "203.0" not in h) for h in hashes)


async def test_the_widget_names_the_inbox_live_queue_and_the_status_has_open_spans(
    client: httpx.AsyncClient, admin: Person
) -> None:
    inbox = await inbox_of(client, admin, queue="billing")
    r = await client.get(f"/widget.js?inbox={inbox['key']}")
    assert '"queue":null' in r.text  # no posted hours: chat is always offered
    weekly = {d: ["09:00-17:00"] for d in cal.WEEKDAYS[:5]} | {"saturday": ["22:00-02:00"]}
    r = await client.post(
        "/api/v1/live/queues",
        json={"name": "billing", "key": "bill", "time_zone": "Asia/Karachi",
              "weekly_hours": weekly},
        headers=admin.headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = await client.get(f"/widget.js?inbox={inbox['key']}")
    assert '"queue":"bill"' in r.text
    status = (await client.get("/api/v1/live/queues/bill/status")).json()
    spans = [
        (datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"]))
        for s in status["open_spans"]
    ]
    assert 5 <= len(spans) <= 7  # five weekdays and Saturday night, within seven days
    for start, end in spans:
        assert end > start and start.utcoffset() == timedelta(0)
    hours = [(e - s).total_seconds() / 3600 for s, e in spans]
    assert set(hours) <= {8.0, 4.0}
    assert spans == sorted(spans)


async def test_a_refused_start_on_the_socket_says_when_to_retry(settings: Settings) -> None:
    limited = settings.model_copy(update={"chat_starts_per_visitor": 1})
    async with serve_here(limited) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as v:
            await visitor_hello(v)
            await v.send(json.dumps({"type": "start", "id": "a", "text": "one"}))
            await frames_until(v, is_type("state", state="queued"))
            await v.send(json.dumps({"type": "leave"}))
            await frames_until(v, is_type("state", state="abandoned"))
            await v.send(json.dumps({"type": "start", "id": "b", "text": "two"}))
            error = (await frames_until(v, is_type("error")))[-1]
    assert error["code"] == "toomanyrequests" and error["client_id"] == "b"
    assert 3500 <= error["retry_after"] <= 3601


async def test_one_inbox_is_the_help_centres_and_its_widget_is_served_there(
    app: object, client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    r = await client.get("/widget.js?help=1")
    assert r.status_code == 200 and "no chat inbox" in r.text  # none chosen: an empty script
    one, two = await inbox_of(client, admin), await inbox_of(client, admin, queue="sales")
    url = "/api/v1/chat/inboxes"
    r = await client.patch(f"{url}/{one['id']}", json={"help_centre": True}, headers=admin.headers)
    assert r.status_code == 200 and r.json()["help_centre"] is True
    r = await client.get("/widget.js?help=1")
    assert json.dumps(one["key"]) in r.text and json.dumps(two["key"]) not in r.text
    r = await client.patch(f"{url}/{two['id']}", json={"help_centre": True}, headers=admin.headers)
    listed = {
        i["id"]: i["help_centre"] for i in (await client.get(url, headers=admin.headers)).json()
    }
    assert listed == {one["id"]: False, two["id"]: True}
    assert json.dumps(two["key"]) in (await client.get("/widget.js?help=1")).text
    # Only admins change inboxes; bad changes are refused.
    assert (
        await client.patch(f"{url}/{one['id']}", json={"name": "x"}, headers=agent.headers)
    ).status_code == 403
    for bad in ({"name": ""}, {"help_centre": "maybe"}, {"colour": "red"}, {"name": "a\x00"}):
        r = await client.patch(f"{url}/{one['id']}", json=bad, headers=admin.headers)
        assert r.status_code == 422, (bad, r.text)
    assert (await client.patch(f"{url}/999999", json={}, headers=admin.headers)).status_code == 404
    async with db.session(write=False) as s:
        actions = list(await s.scalars(select(AuditEntry.action).where(
            AuditEntry.target_type == "chat_inbox")))  # fmt: skip
    assert actions.count("chat_inbox.updated") == 2 and actions.count("chat_inbox.created") == 2


async def test_a_chat_started_from_an_article_names_it_and_counts_as_a_contact(
    db: Database,
) -> None:
    async with db.session() as s:
        inbox = await service.create_inbox(s, SYSTEM, name="Help")
        article = await kb.create_article(
            s, AUTHOR, translations={"en": Text("Reset your password", "Press Forgot.")},
            publish=["en"],
        )  # fmt: skip
        internal = await kb.create_article(
            s, AUTHOR, translations={"en": Text("Internal", "For agents.")},
            publish=["en"], internal=True,
        )  # fmt: skip
        draft = await kb.create_article(s, AUTHOR, translations={"en": Text("Draft", "Later.")})
    started = []
    ids = article.article.id, internal.article.id, draft.article.id
    for value in (*ids, 999999, "1", True, None):
        visitor, _ = service.issue_visitor_token(SECRET, inbox.key)
        async with db.session() as s:
            chat, _ = await service.start_chat(
                s, inbox, visitor, text="hi", client_id="a", article=value,
                help_visitor="hv-12345678", language="en",
            )  # fmt: skip
            started.append(chat)
    async with db.session(write=False) as s:
        tickets = {t.id: t for t in await s.scalars(select(Ticket))}
        named = [tickets[c.ticket_id].custom_fields.get("kb_article_id") for c in started]
        assert named == [ids[0], None, None, None, None, None, None]
        [fact] = list(
            await s.scalars(select(Activity).where(Activity.kind == "kb.contact_started"))
        )
    assert (fact.ticket_id, fact.channel) == (started[0].ticket_id, "chat")
    assert fact.data == {
        "article_id": ids[0],
        "language": "en",
        "channel": "chat",
        "visitor": "hv-12345678",
        "session": started[0].public_id,
    }
