"""Customer isolation: every portal and help-centre route the application has, enumerated from
its router, is called with another customer's ids and slugs — by a colleague (before and after
the organisation shares its requests), by a customer of another organisation, and by nobody —
and no answer reveals the other customer's subject, messages, notes, files or the knowledge
base's drafts and internal articles; nothing is written into their requests. An admin turns the
sharing on from the organisation's page; an agent cannot."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, actor_for
from madad.config import Settings
from madad.db import Database
from madad.kb import service as kb
from madad.kb.service import Text
from madad.tickets import changes
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, InboundAttachment, Sender
from madad.tickets.models import Attachment, Message, Ticket
from tests.conftest import make_person
from tests.console.conftest import PASSWORD
from tests.console.conftest import sign_in as agent_sign_in
from tests.kb.conftest import AUTHOR
from tests.portal.conftest import (
    BASE,
    client_of,
    db_of,
    make_customer,
    make_organisation,
    sign_in,
)

# What only Alice may see. Each is unique text, so finding it anywhere is a leak.
SUBJECT = "ALPHA-SUBJECT-7731"
BODY = "ALPHA-BODY-7731 my card ends 4242"
REPLY = "ALPHA-REPLY-7731"
NOTE = "ALPHA-NOTE-7731"
FILE_NAME = "alpha-7731-passport.pdf"
FILE_DATA = b"ALPHA-FILE-7731"
NOTE_FILE = "alpha-7731-note.txt"
DRAFT = "DRAFT-SECRET-7731"
UNPUBLISHED = "UNPUBLISHED-SECRET-7731"
INTERNAL = "INTERNAL-SECRET-7731"
ALICE_ONLY = [SUBJECT, BODY, REPLY, NOTE, FILE_NAME, FILE_DATA.decode(), NOTE_FILE]
KB_SECRETS = [DRAFT, UNPUBLISHED, INTERNAL]
SHARED = [SUBJECT, BODY, REPLY, FILE_NAME]  # what colleagues read once the organisation shares


@dataclass
class World:
    alice_id: int
    alice: str
    bilal: str
    chen: str
    acme: int
    tickets: list[int]  # Alice's: the live one, one merged into it, a solved one
    attachments: list[int]  # on her message, on the note
    slugs: list[str]  # of the draft-only and the internal article
    article_ids: list[int]  # the published one with a pending draft, the draft, the internal


async def build(db: Database) -> World:
    acme = await make_organisation(db, "Acme Traders")
    globex = await make_organisation(db, "Globex")
    alice_id, alice = await make_customer(db, "Alice Alpha", organisation_id=acme)
    _, bilal = await make_customer(db, "Bilal Bravo", organisation_id=acme)
    _, chen = await make_customer(db, "Chen Charlie", organisation_id=globex)
    agent = await make_person(db, role=Role.agent, name="Ayesha Agent")
    actor = actor_for(agent.id, "agent", "Ayesha Agent")
    async with db.session() as session:

        async def post(email: str, subject: str, text: str, **kw: Any) -> int:
            got = await tickets.receive(
                session,
                Inbound(channel="api", sender=Sender(email=email), subject=subject, text=text,
                        thread_by_contact=False, **kw),
            )  # fmt: skip
            return got.ticket_id

        live = await post(
            alice, SUBJECT, BODY,
            attachments=(InboundAttachment(FILE_NAME, "application/pdf", FILE_DATA),),
        )  # fmt: skip
        await tickets.reply(session, actor, live, text=REPLY)
        await tickets.add_note(
            session, actor, live, text=NOTE,
            attachments=(InboundAttachment(NOTE_FILE, "text/plain", b"note file"),),
        )  # fmt: skip
        merged = await post(alice, SUBJECT + "-dup", BODY + " again")
        await changes.merge_tickets(session, actor, source_id=merged, target_id=live)
        solved = await post(alice, SUBJECT + "-old", BODY + " old")
        await changes.update_ticket(session, SYSTEM, solved, {"status": "solved"})
        await post(bilal, "BRAVO-SUBJECT", "Bilal's own question")
        await post(chen, "CHARLIE-SUBJECT", "Chen's own question")
        attachments = list(
            (
                await session.scalars(
                    select(Attachment.id)
                    .join(Message, Message.id == Attachment.message_id)
                    .where(Message.ticket_id == live)
                    .order_by(Attachment.id)
                )
            ).all()
        )
        public = await kb.create_article(
            session, AUTHOR, translations={"en": Text("Public guide", "Shown to all")},
            publish=["en"],
        )  # fmt: skip
        await kb.update_article(
            session, AUTHOR, public.article.id,
            translations={"en": Text(DRAFT, DRAFT + " body"), "ur": Text(DRAFT, DRAFT)},
        )  # fmt: skip
        draft = await kb.create_article(
            session, AUTHOR, translations={"en": Text(UNPUBLISHED, UNPUBLISHED)}, publish=[]
        )
        internal = await kb.create_article(
            session, AUTHOR, translations={"en": Text(INTERNAL, INTERNAL)}, internal=True,
            publish=["en"],
        )  # fmt: skip
    assert len(attachments) == 2
    return World(
        alice_id, alice, bilal, chen, acme, [live, merged, solved], attachments,
        [draft.article.slug, internal.article.slug, public.article.slug],
        [public.article.id, draft.article.id, internal.article.id],
    )  # fmt: skip


def routes(app: object) -> list[tuple[str, str]]:
    """(method, path) of every portal and help-centre route the application serves."""
    out = []
    for included in app.routes:  # type: ignore[attr-defined]
        router = getattr(included, "original_router", None)
        for route in getattr(router, "routes", [included]):
            path = getattr(route, "path", "")
            if path.startswith(("/portal", "/help", "/api/v1/kb")):
                out += [(m, path) for m in sorted(getattr(route, "methods", None) or ())]
    # Signing out ends the visit: it goes last.
    return sorted(((m, p) for m, p in out if m != "HEAD"), key=lambda c: "sign-out" in c[1])


def urls(path: str, w: World) -> list[str]:
    """The path with every parameter filled with Alice's things (and forged ones)."""
    values: dict[str, list[str]] = {
        "lang": ["ur"],
        "ticket_id": [str(t) for t in w.tickets],
        "attachment_id": [str(a) for a in w.attachments],
        "token": ["1.forged.signature"],
        "slug": w.slugs,
        "name": ["portal.css", "help.css", "../models.py"],
        "article_id": [str(a) for a in w.article_ids],
    }
    found = [(m.group(0), m.group(1)) for m in re.finditer(r"\{(\w+)(?::\w+)?\}", path)]
    unknown = [name for _, name in found if name not in values]
    assert not unknown, f"{path}: fill {unknown} with another customer's values in this test"
    filled = [path]
    for whole, name in found:
        filled = [f.replace(whole, v) for f in filled for v in values[name]]
    return filled


def form(csrf: str) -> dict[str, str]:
    return {
        "csrf_token": csrf, "form_id": "intruder-form-000001", "text": "INTRUDER",
        "subject": "INTRUDER", "description": "INTRUDER", "email": "x@example.com",
        "helpful": "yes", "members_see_tickets": "yes",
    }  # fmt: skip


async def visit(
    client: httpx.AsyncClient, csrf: str, calls: list[tuple[str, str]], w: World, q: str = ""
) -> list[tuple[str, str, httpx.Response]]:
    seen = []
    for method, path in calls:
        for url in urls(path, w):
            if method == "GET":
                r = await client.get(url + q, headers={"accept": "text/html"})
            else:
                r = await client.request(
                    method, url, data=form(csrf), headers={"origin": BASE, "accept": "text/html"}
                )
            seen.append((method, url, r))
    return seen


def leaks(seen: list[tuple[str, str, httpx.Response]], secrets: list[str]) -> list[str]:
    out = []
    for method, url, r in seen:
        assert r.status_code < 500, (method, url, r.status_code, r.text[:300])
        text = r.text + " ".join(f"{k}: {v}" for k, v in r.headers.items())
        out += [f"{method} {url} ({r.status_code}): {s}" for s in secrets if s in text]
    return out


async def test_no_url_shows_one_customer_anothers_requests_files_or_drafts(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    w = await build(db)
    calls = routes(portal_app)
    assert len(calls) >= 30, calls  # the enumeration found the routes (both languages)
    bilal = await sign_in(portal_app, portal_settings, w.bilal)
    chen = await sign_in(portal_app, portal_settings, w.chen)
    alice = await sign_in(portal_app, portal_settings, w.alice)
    secrets = ALICE_ONLY + KB_SECRETS

    # Nobody signed in: sign-in pages, not-found pages, the help centre's public pages.
    async with client_of(portal_app) as nobody:
        seen = await visit(nobody, "", calls, w, "?article=" + str(w.article_ids[1]))
    assert leaks(seen, secrets) == []
    for method, url, r in seen:
        if url.startswith(("/portal/tickets", "/portal/ur/tickets", "/portal/attachments")) or (
            url.startswith("/portal/ur/attachments")
        ):
            assert r.status_code in (303, 403), (method, url, r.status_code)
            if r.status_code == 303:
                assert "/sign-in?next=" in r.headers["location"]

    # Colleague and stranger, before the organisation shares anything.
    for who in (bilal, chen):
        assert (await who.get("/portal/organisation")).status_code == 404
        seen = await visit(who.client, who.csrf, calls, w)  # signs out at the end
        assert leaks(seen, secrets) == [], who
        for method, url, r in seen:
            if re.match(r"^/portal(/ur)?/(tickets|attachments)/\d+", url):
                assert r.status_code == 404, (method, url, r.status_code)
    bilal = await sign_in(portal_app, portal_settings, w.bilal)
    chen = await sign_in(portal_app, portal_settings, w.chen)

    # Alice herself sees hers (the check above can fail), but never the note or a draft.
    mine = await alice.get(f"/portal/tickets/{w.tickets[0]}")
    assert all(s in mine.text for s in (SUBJECT, BODY, REPLY, FILE_NAME))
    assert NOTE not in mine.text and NOTE_FILE not in mine.text
    merged = await alice.get(f"/portal/tickets/{w.tickets[1]}")
    assert merged.status_code == 303 and merged.headers["location"].endswith(
        f"/tickets/{w.tickets[0]}"
    )
    assert (await alice.get(f"/portal/attachments/{w.attachments[0]}")).content == FILE_DATA
    assert (await alice.get(f"/portal/attachments/{w.attachments[1]}")).status_code == 404
    seen = await visit(alice.client, alice.csrf, [c for c in calls if c[1].startswith("/help")], w)
    assert leaks(seen, KB_SECRETS) == []
    for url in ("/help/search?q=", "/help/ur/search?q=", "/api/v1/kb/search?q="):
        for word in ("7731", "secret", "draft secret", "internal"):
            r = await alice.get(url + word)
            assert r.status_code == 200, (url, word)
            assert not [s for s in KB_SECRETS if s in r.text], (url, word)
    sitemap = await alice.get("/help/sitemap.xml")
    assert w.slugs[0] not in sitemap.text and w.slugs[1] not in sitemap.text

    # The organisation shares its requests: Bilal reads Alice's (not her note, not her files,
    # no reply); Chen, in another organisation, still sees nothing.
    await share(portal_app, w.acme)
    shown = await bilal.get("/portal/organisation")
    assert shown.status_code == 200 and SUBJECT in shown.text and "BRAVO-SUBJECT" in shown.text
    assert "opened by Alice Alpha" in shown.text and "CHARLIE" not in shown.text
    page = await bilal.get(f"/portal/tickets/{w.tickets[0]}")
    assert page.status_code == 200 and BODY in page.text and REPLY in page.text
    assert NOTE not in page.text and "/attachments/" not in page.text
    assert 'action="/portal/tickets/' not in page.text  # no reply box
    seen = await visit(bilal.client, bilal.csrf, calls, w)
    assert leaks(seen, [NOTE, NOTE_FILE, FILE_DATA.decode(), *KB_SECRETS]) == []
    for method, url, r in seen:
        if re.match(r"^/portal(/ur)?/attachments/\d+", url):
            assert r.status_code == 404, url
        if method == "POST" and re.match(r"^/portal(/ur)?/tickets/\d+/reply", url):
            moved = r.status_code == 303 and "done=" not in r.headers["location"]  # merged
            assert r.status_code in (403, 404) or moved, (url, r.status_code)
    assert (await chen.get("/portal/organisation")).status_code == 404
    seen = await visit(chen.client, chen.csrf, calls, w)
    assert leaks(seen, secrets) == []

    # Nobody's visit wrote anything into Alice's requests.
    async with db.session(write=False) as session:
        intruding = (
            await session.scalars(
                select(Message.ticket_id).where(Message.text.contains("INTRUDER"))
            )
        ).all()
        alices = set(
            (await session.scalars(select(Ticket.id).where(Ticket.contact_id == w.alice_id))).all()
        )
    assert alices >= set(w.tickets) and not alices & set(intruding), intruding
    for p in (alice, bilal, chen):
        await p.client.aclose()


async def share(app: object, organisation_id: int) -> None:
    """An admin ticks "members can see the organisation's tickets" on its page."""
    db = db_of(app)
    await make_person(db, role=Role.admin, email="boss@example.com", password=PASSWORD)
    async with client_of(app) as console:
        from tests.conftest import Person

        admin = await agent_sign_in(console, Person(0, "boss@example.com", "admin", ""))
        page = await admin.get(f"/organisations/{organisation_id}")
        assert "Members can see the organisation" in page.text and 'type="checkbox"' in page.text
        r = await admin.post(
            f"/organisations/{organisation_id}/portal", {"members_see_tickets": "yes"}
        )
        assert r.status_code == 204
        page = await admin.get(f"/organisations/{organisation_id}")
        assert 'value="yes" checked' in page.text


async def test_only_admins_change_sharing_and_it_is_off_by_default(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    acme = await make_organisation(db, "Acme Traders")
    _, alice = await make_customer(db, "Alice Alpha", organisation_id=acme)
    _, bilal = await make_customer(db, "Bilal Bravo", organisation_id=acme)
    async with db.session() as session:
        got = await tickets.receive(
            session, Inbound(channel="api", sender=Sender(email=alice), subject=SUBJECT, text=BODY)
        )
    await make_person(db, role=Role.agent, email="agent@example.com", password=PASSWORD)
    async with client_of(portal_app) as console:
        from tests.conftest import Person

        agent = await agent_sign_in(console, Person(0, "agent@example.com", "agent", ""))
        page = await agent.get(f"/organisations/{acme}")
        assert "Members can see the organisation" in page.text and "Admins change this" in page.text
        assert 'type="checkbox"' not in page.text
        r = await agent.post(f"/organisations/{acme}/portal", {"members_see_tickets": "yes"})
        assert r.status_code == 403
    b = await sign_in(portal_app, portal_settings, bilal)
    assert (await b.get("/portal/organisation")).status_code == 404
    assert (await b.get(f"/portal/tickets/{got.ticket_id}")).status_code == 404
    home = await b.get("/portal")
    assert "/portal/organisation" not in home.text
    await share(portal_app, acme)
    home = await b.get("/portal")
    assert 'href="/portal/organisation"' in home.text and "Acme Traders" in home.text
    assert (await b.get(f"/portal/tickets/{got.ticket_id}")).status_code == 200
    # Turned off again, the tab and the page go.
    async with client_of(portal_app) as console:
        from tests.conftest import Person

        admin = await agent_sign_in(console, Person(0, "boss@example.com", "admin", ""))
        r = await admin.post(f"/organisations/{acme}/portal", {})
        assert r.status_code == 204
    assert (await b.get(f"/portal/tickets/{got.ticket_id}")).status_code == 404
    await b.client.aclose()
