"""A signed-in customer's requests: the list (status in plain words, last update, channel), a
request's public conversation only (no notes, nothing other people wrote into it), replies into
the same ticket through the one ingress (a solved request reopens, a closed one gets a
follow-up), files only for the owner, the new request form (topics, files, the help-centre
article it started from), agents' replies reaching the customer by email, and every naughty
string stored and shown back escaped."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from sqlalchemy import select

from madad.activity.models import Activity
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, actor_for
from madad.config import Settings
from madad.kb import service as kb
from madad.kb.service import Text
from madad.portal import service as portal
from madad.tickets import changes
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, Sender
from madad.tickets.models import Message, Ticket, TicketLink, TicketTag
from tests.channels.email.conftest import SmtpCapture, make_mailbox, smtp_values
from tests.channels.email.conftest import smtp_capture as smtp_capture  # the fixture
from tests.conftest import count_statements, make_person
from tests.console.conftest import PASSWORD
from tests.console.conftest import sign_in as agent_sign_in
from tests.kb.conftest import AUTHOR
from tests.portal.conftest import (
    client_of,
    db_of,
    form_id_of,
    make_customer,
    sign_in,
    work,
)

CORPUS = Path(__file__).parents[1] / "corpus"


class Tags(HTMLParser):
    """The elements and attributes a piece of HTML really has (not what its text says)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes.update(name for name, _ in attrs)


NAUGHTY: list[str] = json.loads((CORPUS / "naughty-strings" / "blns.json").read_text())
XSS = sorted((CORPUS / "xss").rglob("*.test"))


async def post_message(db, email: str, text: str, **kw) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as session:
        got = await tickets.receive(
            session, Inbound(channel=kw.pop("channel", "api"), sender=Sender(email=email),
                             text=text, **kw),
        )  # fmt: skip
        return got.ticket_id


async def test_the_list_and_a_requests_public_conversation(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    agent = await make_person(db, role=Role.agent, name="Ayesha Agent")
    actor = actor_for(agent.id, "agent", "Ayesha Agent")
    _, email = await make_customer(db, "Sana Khan")
    _, other = await make_customer(db, "Omar Stranger")
    tid = await post_message(
        db, email, "Please send my invoice", subject="Invoice for March",
        external_id="a-1", conversation_key="conv-1",
    )  # fmt: skip
    # Someone else writes into the same conversation: it is not shown to Sana.
    assert await post_message(db, other, "OTHER PERSON TEXT", conversation_key="conv-1") == tid
    async with db.session() as session:
        await tickets.reply(session, actor, tid, text="Here it is, attached.")
        await tickets.add_note(session, actor, tid, text="NOTE: customer is grumpy")
    portal_ = await sign_in(portal_app, portal_settings, email)

    listing = await portal_.get("/portal")
    assert listing.status_code == 200
    assert "Invoice for March" in listing.text and "In progress" in listing.text
    assert "Message" in listing.text  # the channel, in the customer's words
    page = await portal_.get(f"/portal/tickets/{tid}")
    assert page.status_code == 200
    assert "Please send my invoice" in page.text
    assert "Here it is, attached." in page.text and "Ayesha Agent" in page.text
    assert "grumpy" not in page.text and "OTHER PERSON TEXT" not in page.text
    assert "Omar" not in page.text

    # The pages cost the same statements for one request or twenty.
    with count_statements(db) as one:
        await portal_.get("/portal")
        await portal_.get(f"/portal/tickets/{tid}")
    for n in range(20):
        await post_message(db, email, f"More {n}", conversation_key=f"more-{n}")
    async with db.session() as session:
        for _ in range(5):
            await tickets.reply(session, actor, tid, text="and more")
    with count_statements(db) as many:
        await portal_.get("/portal")
        await portal_.get(f"/portal/tickets/{tid}")
    assert many.count == one.count, (one.statements, many.statements)
    await portal_.client.aclose()


async def test_replies_go_into_the_same_ticket_solved_reopens_closed_follows_up(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    _, email = await make_customer(db, "Bilal Ahmed")
    tid = await post_message(db, email, "My order is late", channel="email", subject="Order 42")
    async with db.session() as session:
        await changes.update_ticket(session, SYSTEM, tid, {"status": "solved"})
    p = await sign_in(portal_app, portal_settings, email)
    page = await p.get(f"/portal/tickets/{tid}")
    assert "This request is solved" in page.text
    form_id = form_id_of(page.text)
    files = [("attachments", ("receipt.pdf", b"%PDF-1.4 receipt", "application/pdf"))]
    r = await p.post(
        f"/portal/tickets/{tid}/reply", {"text": "Still not here", "form_id": form_id}, files
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/portal/tickets/{tid}?")
    # The same form sent twice (a double click, a retry) is stored once.
    again = await p.post(
        f"/portal/tickets/{tid}/reply", {"text": "Still not here", "form_id": form_id}, files
    )
    assert again.status_code == 303
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, tid)
        assert ticket is not None and ticket.status == "open" and ticket.reopen_count == 1
        msgs = (
            await session.scalars(
                select(Message).where(Message.ticket_id == tid).order_by(Message.id)
            )
        ).all()
        assert [(m.channel, m.text) for m in msgs] == [
            ("email", "My order is late"), ("portal", "Still not here"),
        ]  # fmt: skip
        kinds = (
            await session.scalars(select(Activity.kind).where(Activity.ticket_id == tid))
        ).all()
        assert "message.received" in kinds and "ticket.status_changed" in kinds
    page = await p.get(f"/portal/tickets/{tid}")
    assert "Your reply is sent" not in page.text  # only after the redirect's ?done=replied
    assert "receipt.pdf" in page.text
    link = page.text.split('href="/portal/attachments/')[1].split('"')[0]
    got = await p.get(f"/portal/attachments/{link}")
    assert got.status_code == 200 and got.content == b"%PDF-1.4 receipt"
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"].startswith('attachment; filename="receipt.pdf"')
    assert got.headers["x-content-type-options"] == "nosniff"

    # Nothing to say and no file: the form says so and nothing is stored.
    r = await p.post(
        f"/portal/tickets/{tid}/reply", {"text": "  ", "form_id": form_id_of(page.text)}
    )
    assert r.status_code == 422 and "Write your reply first" in r.text

    # A request merged meanwhile: the reply, typed on the old page, goes to the one it joined.
    other = await post_message(db, email, "Also: wrong size", conversation_key="size")
    old_form = form_id_of((await p.get(f"/portal/tickets/{other}")).text)
    async with db.session() as session:
        await changes.merge_tickets(session, SYSTEM, source_id=other, target_id=tid)
    r = await p.post(f"/portal/tickets/{other}/reply", {"text": "Size M", "form_id": old_form})
    assert r.status_code == 303 and r.headers["location"].startswith(f"/portal/tickets/{tid}?")
    async with db.session(write=False) as session:
        last = await session.scalar(
            select(Message).where(Message.ticket_id == tid).order_by(Message.id.desc()).limit(1)
        )
        assert last is not None and last.text == "Size M"

    # A closed request: the reply opens a follow-up that refers to it.
    async with db.session() as session:
        await changes.update_ticket(session, SYSTEM, tid, {"status": "closed"})
    page = await p.get(f"/portal/tickets/{tid}")
    assert "This request is closed" in page.text
    r = await p.post(
        f"/portal/tickets/{tid}/reply", {"text": "Again!", "form_id": form_id_of(page.text)}
    )
    assert r.status_code == 303
    follow_up = int(r.headers["location"].split("/portal/tickets/")[1].split("?")[0])
    assert follow_up != tid
    async with db.session(write=False) as session:
        link_row = await session.scalar(select(TicketLink).where(TicketLink.ticket_id == follow_up))
        assert link_row is not None and (link_row.other_id, link_row.kind) == (tid, "follow_up")
    await p.client.aclose()


async def test_a_new_request_with_a_topic_files_and_the_article_it_started_from(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    await make_person(db, role=Role.admin, email="admin@example.com", password=PASSWORD)
    async with client_of(portal_app) as console:
        from tests.conftest import Person

        admin = await agent_sign_in(console, Person(0, "admin@example.com", "admin", ""))
        r = await admin.post("/admin/portal", {"topics": "Billing | بلنگ\nDelivery\n"})
        assert r.status_code == 204
        shown = await admin.get("/admin/portal")
        assert "topic:billing" in shown.text and "topic:delivery" in shown.text
        assert "No enabled mailbox has an SMTP server" in shown.text  # none was set up
        assert "MADAD_BASE_URL is not set" not in shown.text
    async with db.session() as session:
        article = await kb.create_article(
            session, AUTHOR, translations={"en": Text("Track your parcel", "Use the link.")},
            publish=["en"],
        )  # fmt: skip
        draft = await kb.create_article(
            session, AUTHOR, translations={"en": Text("Secret draft plan", "Not yet.")},
            publish=[],
        )  # fmt: skip
    _, email = await make_customer(db, "Hina Baig")
    p = await sign_in(portal_app, portal_settings, email)

    form = await p.get(f"/portal/new?article={article.article.id}")
    assert "Track your parcel" in form.text and "Billing" in form.text
    files = [
        ("attachments", ("photo.jpg", b"\xff\xd8\xff jpeg", "image/jpeg")),
        ("attachments", ("notes.txt", b"parcel 42", "text/plain")),
    ]
    r = await p.post(
        "/portal/new",
        {
            "topic": "billing", "subject": "", "description": "Charged twice",
            "form_id": form_id_of(form.text), "article": str(article.article.id),
            "visitor": "0f8fad5b-d9cb-469f-a165-70867728950e",
            "help_session": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        },
        files,
    )  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].endswith("?done=sent")
    tid = int(r.headers["location"].split("/portal/tickets/")[1].split("?")[0])
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, tid)
        assert ticket is not None
        assert (ticket.channel, ticket.subject, ticket.status) == ("portal", "Billing", "new")
        assert ticket.custom_fields == {"kb_article_id": article.article.id}
        tags = (
            await session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == tid))
        ).all()
        assert list(tags) == ["topic:billing"]
        started = (
            await session.scalars(select(Activity).where(Activity.kind == "kb.contact_started"))
        ).all()
        assert [(f.ticket_id, f.channel, f.data) for f in started] == [
            (tid, "portal", {"article_id": article.article.id, "language": "en",
                             "channel": "portal",
                             "visitor": "0f8fad5b-d9cb-469f-a165-70867728950e",
                             "help_session": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}),
        ]  # fmt: skip
    page = await p.get(r.headers["location"])
    assert "we have your request" in page.text and "photo.jpg" in page.text
    assert "notes.txt" in page.text

    # A draft (or an unknown id) is no article: not shown, not stored, no kb fact.
    form = await p.get(f"/portal/new?article={draft.article.id}")
    assert "Secret draft plan" not in form.text
    r = await p.post(
        "/portal/new",
        {"subject": "Free subject", "description": "Hello", "form_id": form_id_of(form.text),
         "article": str(draft.article.id)},
    )  # fmt: skip
    assert r.status_code == 303
    tid2 = int(r.headers["location"].split("/portal/tickets/")[1].split("?")[0])
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, tid2)
        assert (
            ticket is not None and ticket.custom_fields == {} and ticket.subject == "Free subject"
        )
        assert len((await session.scalars(
            select(Activity).where(Activity.kind == "kb.contact_started"))).all()) == 1  # fmt: skip

    # Not from an article, but from a browser that visited the help centre: a contact started
    # (what deflection counts), without an article; a malformed id is dropped, not an error.
    for visitor, expected in (("0f8fad5b-d9cb-469f-a165-70867728950e", True), ("<x>" * 5, False)):
        form = await p.get("/portal/new")
        r = await p.post(
            "/portal/new",
            {"subject": "Other", "description": "Hi", "form_id": form_id_of(form.text),
             "visitor": visitor},
        )  # fmt: skip
        assert r.status_code == 303
        tid3 = int(r.headers["location"].split("/portal/tickets/")[1].split("?")[0])
        async with db.session(write=False) as session:
            fact = await session.scalar(
                select(Activity).where(
                    Activity.kind == "kb.contact_started", Activity.ticket_id == tid3
                )
            )
        assert (fact is not None) == expected
        if fact is not None:
            assert fact.data["article_id"] is None and fact.data["visitor"] == visitor

    # Bad forms say what is wrong and store nothing.
    async with db.session(write=False) as session:
        before = len((await session.scalars(select(Ticket.id))).all())
    bad = [
        ({"subject": "No text", "description": " "}, None, 422, "Describe what you need"),
        ({"subject": "", "description": "No subject"}, None, 422, "Give your request a subject"),
        ({"topic": "no-such", "description": "x"}, None, 422, "Choose one of the topics"),
        ({"subject": "s", "description": "d", "form_id": "short"}, None, 422, "Reload the page"),
        (
            {"subject": "Many", "description": "files"},
            [("attachments", (f"f{n}.txt", b"x", "text/plain")) for n in range(21)],
            422, "at most 20 files",
        ),
    ]  # fmt: skip
    for data, files_, status, message in bad:
        form = await p.get("/portal/new")
        r = await p.post("/portal/new", {"form_id": form_id_of(form.text), **data}, files_)
        assert r.status_code == status and message in r.text, (data, r.status_code)
        if data.get("subject"):
            assert f'value="{data["subject"]}"' in r.text  # what was typed stays on the form
    async with db.session(write=False) as session:
        assert len((await session.scalars(select(Ticket.id))).all()) == before
    await p.client.aclose()


async def test_files_over_the_limit_and_new_requests_over_the_hourly_limit(
    settings: Settings,
) -> None:
    from madad.app import create_app

    small = settings.model_copy(
        update={"base_url": "http://madad.test", "max_attachment_bytes": 1024}
    )
    app = create_app(small)
    async with app.router.lifespan_context(app):
        _, email = await make_customer(db_of(app), "Zara Sheikh")
        p = await sign_in(app, small, email)
        form = await p.get("/portal/new")
        big = [("attachments", ("big.bin", b"x" * 1025, "application/octet-stream"))]
        r = await p.post(
            "/portal/new",
            {"subject": "Big", "description": "file", "form_id": form_id_of(form.text)},
            big,
        )
        assert r.status_code == 413 and "each can be at most 1 KB" in r.text
        for n in range(portal.NEW_REQUESTS_PER_HOUR):
            form = await p.get("/portal/new")
            r = await p.post(
                "/portal/new",
                {"subject": f"n{n}", "description": "d", "form_id": form_id_of(form.text)},
            )
            assert r.status_code == 303, n
        form = await p.get("/portal/new")
        r = await p.post(
            "/portal/new",
            {"subject": "one more", "description": "d", "form_id": form_id_of(form.text)},
        )
        assert r.status_code == 429 and "wait a while" in r.text
        await p.client.aclose()


async def test_an_agents_reply_to_a_portal_request_reaches_the_customer_by_email(
    portal_app: object, portal_settings: Settings, smtp_capture: SmtpCapture
) -> None:
    db = db_of(portal_app)
    await make_mailbox(db, display_name="Madad Support", **smtp_values(smtp_capture))
    agent = await make_person(db, role=Role.agent, name="Ayesha Agent")
    _, email = await make_customer(db, "Nida Ali")
    p = await sign_in(portal_app, portal_settings, email)
    form = await p.get("/portal/new")
    r = await p.post(
        "/portal/new",
        {
            "subject": "Login trouble",
            "description": "Cannot log in",
            "form_id": form_id_of(form.text),
        },
    )
    tid = int(r.headers["location"].split("/portal/tickets/")[1].split("?")[0])
    await work(db, portal_settings)
    smtp_capture.received.clear()  # the sign-in link
    async with db.session() as session:
        await tickets.reply(
            session, actor_for(agent.id, "agent", "Ayesha Agent"), tid, text="Try this link"
        )
    await work(db, portal_settings)
    [mail] = smtp_capture.received
    assert mail.rcpt_tos == [email]
    assert mail.message["Subject"] == f"Re: Login trouble [#{tid}]"
    assert "Try this link" in mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    async with db.session(write=False) as session:
        sent = await session.scalar(
            select(Message.delivery_status).where(
                Message.ticket_id == tid, Message.direction == "outbound"
            )
        )
        assert sent == "sent"
    page = await p.get(f"/portal/tickets/{tid}")
    assert "Try this link" in page.text and "Ayesha Agent" in page.text
    await p.client.aclose()


@pytest.mark.parametrize("corpus", ["naughty", "xss"])
async def test_naughty_strings_and_xss_are_stored_and_shown_back_escaped(
    portal_app: object, portal_settings: Settings, monkeypatch: pytest.MonkeyPatch, corpus: str
) -> None:
    # The hourly limits are not what this test is about: one customer sends everything.
    monkeypatch.setattr(portal, "NEW_REQUESTS_PER_HOUR", 10**6)
    monkeypatch.setattr(portal, "REPLIES_PER_HOUR", 10**6)
    db = db_of(portal_app)
    _, email = await make_customer(db, "Naughty Tester")
    p = await sign_in(portal_app, portal_settings, email)
    strings = (
        NAUGHTY
        if corpus == "naughty"
        else [f.read_text(errors="replace").split("\n--\n", 1)[0] for f in XSS]
    )
    form = await p.get("/portal/new")
    r = await p.post(
        "/portal/new",
        {"subject": "Corpus", "description": "start", "form_id": form_id_of(form.text)},
    )
    tid = int(r.headers["location"].split("/portal/tickets/")[1].split("?")[0])
    stored_any = 0
    for i, s in enumerate(strings):
        expected = s.replace("\r\n", "\n").strip()
        r = await p.post(
            f"/portal/tickets/{tid}/reply", {"text": s, "form_id": f"corpus-{corpus}-{i:06d}"}
        )
        if not expected:
            assert r.status_code == 422, i
            continue
        assert r.status_code == 303, (i, s, r.text[:300])
        stored_any += 1
        if corpus == "naughty" and i % 4 == 0:  # subjects too (a quarter: it takes a while)
            subject = expected[: portal.MAX_SUBJECT]
            form = await p.get("/portal/new")
            r = await p.post(
                "/portal/new",
                {"subject": subject, "description": s, "form_id": form_id_of(form.text)},
            )
            assert r.status_code == 303, (i, s)
            new_id = int(r.headers["location"].split("/portal/tickets/")[1].split("?")[0])
            page = await p.get(f"/portal/tickets/{new_id}")
            assert str(escape(subject.strip())) in page.text, i
    async with db.session(write=False) as session:
        texts = (
            await session.scalars(
                select(Message.text)
                .where(Message.ticket_id == tid, Message.channel == "portal")
                .order_by(Message.id)
            )
        ).all()
    kept = [s.replace("\r\n", "\n").strip() for s in strings]
    assert list(texts)[1:] == [k for k in kept if k]
    page = await p.get(f"/portal/tickets/{tid}")
    for k in kept:
        if k:
            assert str(escape(k)) in page.text
    body = page.text.split('<ol class="portal-conversation">')[1].split("</ol>")[0]
    tags = Tags()
    tags.feed(body)
    assert tags.names <= {"li", "p", "strong", "time", "div"}, tags.names
    assert not [a for a in tags.attributes if a.startswith("on") or a in ("src", "href")]
    assert stored_any > 100
    await p.client.aclose()


async def test_the_agents_see_portal_sign_ins_and_help_centre_starts_on_the_timeline(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    contact_id, email = await make_customer(db, "Rabia Malik")
    p = await sign_in(portal_app, portal_settings, email)
    form = await p.get("/portal/new")
    r = await p.post(
        "/portal/new",
        {"subject": "From help", "description": "Hi", "form_id": form_id_of(form.text),
         "visitor": "0f8fad5b-d9cb-469f-a165-70867728950e"},
    )  # fmt: skip
    assert r.status_code == 303
    await p.client.aclose()
    await make_person(db, role=Role.agent, email="agent@example.com", password=PASSWORD)
    async with client_of(portal_app) as console:
        from tests.conftest import Person

        agent = await agent_sign_in(console, Person(0, "agent@example.com", "agent", ""))
        page = await agent.get(f"/contacts/{contact_id}")
        assert "Rabia Malik signed in to the customer portal" in page.text
        assert "Rabia Malik opened" in page.text and "from the help centre" in page.text
