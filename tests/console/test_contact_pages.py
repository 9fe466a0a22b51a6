"""The console's contact and organisation pages over HTTP, on both databases: lists with search
and pages, details, timeline, tickets, notes, editing, churn, merging, escaping, CSRF and
bounded statement counts."""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import httpx
from sqlalchemy import func, select

from madad.activity.models import Activity
from madad.auth.permissions import SYSTEM
from madad.contacts import organisations
from madad.contacts import service as contacts
from madad.contacts.models import Contact, ContactNote, Organisation
from madad.db import Database, utcnow
from madad.web import i18n
from tests.conftest import Person, count_statements
from tests.console.conftest import Browser
from tests.console.test_inbox_and_ticket import post_inbound

CORPUS = Path(__file__).parents[1] / "corpus"
NAUGHTY: list[str] = json.loads((CORPUS / "naughty-strings" / "blns.json").read_text())


# --- helpers ---------------------------------------------------------------------------------


async def submit(browser: Browser, path: str, data: dict[str, object]) -> httpx.Response:
    """Post a form the way a browser does: the CSRF token as a field, no htmx."""
    return await browser.client.post(
        path, data={**data, "csrf_token": browser.csrf}, headers={"accept": "text/html"}
    )


def edit_form(**changes: str) -> dict[str, str]:
    form = {
        "name": "",
        "emails": "",
        "phones": "",
        "handles": "",
        "language": "",
        "time_zone": "",
        "birthday": "",
        "organisation": "",
        "custom": "",
    }
    form.update(changes)
    return form


async def facts_of(db: Database, kind: str) -> list[Activity]:
    async with db.session(write=False) as session:
        rows = await session.execute(select(Activity).where(Activity.kind == kind))
        return list(rows.scalars())


async def make_organisation(db: Database, **values: object) -> int:
    async with db.session() as session:
        view = await organisations.create_organisation(session, SYSTEM, values)
    return view.organisation.id


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.handlers: list[tuple[str, str]] = []
        self.js_urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name))
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.js_urls.append(value or "")


def assert_no_markup_injected(page: str) -> None:
    """Only our own two scripts, no event handler attributes, no javascript: URLs."""
    tags = _Tags()
    tags.feed(page)
    assert all(src and src.startswith("/static/") for src in tags.scripts), tags.scripts
    assert len(tags.scripts) == 2
    assert tags.handlers == [] and tags.js_urls == []


# --- the contact list ------------------------------------------------------------------------


async def test_the_contact_list_searches_by_name_email_and_phone_and_pages(
    agent_browser: Browser, db: Database
) -> None:
    async with db.session() as session:
        for n in range(52):
            await contacts.create_contact(
                session,
                SYSTEM,
                contacts.ContactIn(name=f"Person {n}", emails=[f"p{n}@example.com"]),
            )
        await contacts.create_contact(
            session,
            SYSTEM,
            contacts.ContactIn(
                name="Zainab Qureshi", emails=["zainab@shop.pk"], phones=["+92 300 1234567"]
            ),
        )
    first = await agent_browser.get("/contacts")
    assert first.status_code == 200
    assert first.text.count('<a href="/contacts/') == 50
    assert "Zainab Qureshi" in first.text  # newest first
    next_url = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await agent_browser.get(next_url.replace("&amp;", "&"))
    assert second.status_code == 200 and second.text.count('<a href="/contacts/') == 3
    assert 'rel="next"' not in second.text and "First page" in second.text
    for q in ("zainab", "ZAINAB@shop", "+92300123"):
        found = await agent_browser.get("/contacts", params={"q": q})
        assert "Zainab Qureshi" in found.text and "Person 1<" not in found.text, q
    none = await agent_browser.get("/contacts", params={"q": "nobody-at-all"})
    assert "No contact matches nobody-at-all" in none.text
    for params in ({"cursor": "not-a-cursor"}, {"q": "nul\x00byte"}, {"q": "x" * 201}):
        bad = await agent_browser.get("/contacts", params=params)
        assert bad.status_code == 422, params


async def test_a_contact_can_be_added_from_the_list(agent_browser: Browser, db: Database) -> None:
    r = await submit(agent_browser, "/contacts", {"name": "Hina", "email": "hina@example.com"})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=created")
    page = await agent_browser.get(r.headers["location"])
    assert "Hina" in page.text and "hina@example.com" in page.text and "Created." in page.text
    again = await submit(
        agent_browser, "/contacts", {"name": "Hina 2", "email": "HINA@example.com"}
    )
    assert again.status_code == 422 and "belongs to contact" in again.text
    assert 'value="Hina 2"' in again.text
    async with db.session(write=False) as session:
        assert await session.scalar(select(func.count(Contact.id))) == 1


# --- one contact -----------------------------------------------------------------------------


async def test_the_contact_page_shows_who_they_are_their_tickets_and_timeline(
    agent_browser: Browser, integration: Person, db: Database
) -> None:
    org = await make_organisation(db, name="Karachi Textiles", plan="Business", seats=40)
    first = await post_inbound(
        agent_browser.client,
        integration,
        "a",
        subject="Invoice is wrong",
        conversation_id="one",
        contact={
            "email": "sana@example.com",
            "name": "Sana Khan",
            "time_zone": "Asia/Karachi",
            "language": "ur",
        },
    )
    cid = first["contact_id"]
    async with db.session() as session:
        await contacts.update_contact(
            session,
            SYSTEM,
            cid,
            {
                "organisation_id": org,
                "birthday": utcnow().date().replace(year=1990),
                "custom": {"tier": "gold"},
            },
        )
    await agent_browser.post(f"/tickets/{first['ticket_id']}/reply", {"text": "Fixed it."})
    await agent_browser.post(
        f"/tickets/{first['ticket_id']}/properties",
        {"status": "solved", "priority": "normal", "assignee": "", "team": "", "tags": ""},
    )
    second = await post_inbound(
        agent_browser.client, integration, "b", subject="Login trouble", conversation_id="two"
    )
    r = await agent_browser.get(f"/contacts/{cid}")
    assert r.status_code == 200
    page = r.text
    assert "Sana Khan" in page and "sana@example.com" in page
    assert "Asia/Karachi" in page and "1990" in page and "tier" in page and "gold" in page
    assert "Urdu (ur)" in page
    assert f'href="/organisations/{org}"' in page and "Karachi Textiles" in page
    assert "Business" in page and ">40<" in page
    # Their local time, in their zone (not the agent's, which is UTC).
    now = utcnow()
    expected = {i18n.fmt_time_in(now + timedelta(minutes=m), "Asia/Karachi") for m in (0, 1)}
    assert any(f"<dd>{t}</dd>" in page for t in expected), expected
    # Tickets on every channel with their outcome.
    tickets = page.split('id="tickets"')[1].split("</section>")[0]
    assert "Invoice is wrong" in tickets and "Login trouble" in tickets and "Solved" in tickets
    # The timeline: localised lines, newest first, linking tickets.
    timeline = page.split('id="timeline"')[1].split("</section>")[0]
    assert "Ayesha Agent replied in" in timeline
    assert "Sana Khan opened" in timeline
    assert "Ayesha Agent changed" in timeline and "from Open to Solved" in timeline
    assert f'href="/tickets/{second["ticket_id"]}"' in timeline
    assert timeline.index("Login trouble") < timeline.index("Invoice is wrong")
    assert "Last heard from" in page and "2 tickets" in page


async def test_unknown_and_merged_contacts(agent_browser: Browser, db: Database) -> None:
    assert (await agent_browser.get("/contacts/999999")).status_code == 404
    # Beyond what a row id can hold on PostgreSQL: refused, never a database error.
    for path in ("/contacts/99999999999", "/organisations/99999999999"):
        assert (await agent_browser.get(path)).status_code == 422, path
    r = await submit(agent_browser, "/contacts/99999999999/notes", {"body": "x"})
    assert r.status_code == 422
    async with db.session() as session:
        a = await contacts.create_contact(session, SYSTEM, contacts.ContactIn(name="A"))
        b = await contacts.create_contact(session, SYSTEM, contacts.ContactIn(name="B"))
        source, target = a.contact.id, b.contact.id
        await contacts.merge_contacts(session, SYSTEM, source_id=source, target_id=target)
    r = await agent_browser.get(f"/contacts/{source}")
    assert r.status_code == 303 and r.headers["location"] == f"/contacts/{target}"


async def test_editing_a_contact_changes_what_changed_and_records_a_fact(
    agent_browser: Browser, db: Database
) -> None:
    org = await make_organisation(db, name="Lahore Foods")
    async with db.session() as session:
        view = await contacts.create_contact(
            session,
            SYSTEM,
            contacts.ContactIn(
                name="Omar", emails=["omar@example.com"], custom={"orders": 3, "vip": True}
            ),
        )
    cid = view.contact.id
    page = (await agent_browser.get(f"/contacts/{cid}")).text
    # Typed values are shown as JSON, so that saving the form keeps their type.
    assert "orders=3\n" in page or "orders=3<" in page
    assert "vip=true\n" in page or "vip=true<" in page
    r = await submit(
        agent_browser,
        f"/contacts/{cid}",
        edit_form(
            name="Omar Farooq",
            emails="omar.f@example.com\r\nomar@example.com",
            phones="+92 321 7654321",
            handles="instagram:@omarf",
            language="ur",
            time_zone="Asia/Karachi",
            birthday="1988-02-29",
            organisation="lahore FOODS",
            custom="orders=3\r\nvip=true\r\ntier = gold",
        ),
    )
    assert r.status_code == 303 and r.headers["location"] == f"/contacts/{cid}?done=saved"
    async with db.session(write=False) as session:
        saved = await contacts.get_contact(session, SYSTEM, cid)
    c = saved.contact
    assert c.name == "Omar Farooq" and c.language == "ur" and c.time_zone == "Asia/Karachi"
    assert sorted(saved.values("email")) == ["omar.f@example.com", "omar@example.com"]
    assert [i.value for i in saved.identities if i.is_primary and i.kind == "email"] == [
        "omar.f@example.com"
    ]
    assert saved.values("phone") == ["+923217654321"]
    assert saved.values("handle") == ["instagram:omarf"]
    assert str(c.birthday) == "1988-02-29" and c.organisation_id == org
    assert c.custom == {"orders": 3, "vip": True, "tier": "gold"}
    [fact] = await facts_of(db, "contact.updated")
    assert fact.contact_id == cid and fact.agent_id == agent_browser.person.id
    assert set(fact.data["fields"]) == {
        "name",
        "emails",
        "phones",
        "handles",
        "language",
        "time_zone",
        "birthday",
        "organisation_id",
        "custom",
    }
    shown = await agent_browser.get(f"/contacts/{cid}?done=saved")
    assert "Saved." in shown.text and "edited the details of Omar Farooq" in shown.text
    # Saving the form as shown changes nothing and records nothing.
    again = await submit(
        agent_browser,
        f"/contacts/{cid}",
        edit_form(
            name="Omar Farooq",
            emails="omar.f@example.com\nomar@example.com",
            phones="+923217654321",
            handles="instagram:omarf",
            language="ur",
            time_zone="Asia/Karachi",
            birthday="1988-02-29",
            organisation="Lahore Foods",
            custom="orders=3\nvip=true\ntier=gold",
        ),
    )
    assert again.status_code == 303
    assert len(await facts_of(db, "contact.updated")) == 1


async def test_a_bad_edit_is_refused_whole_and_keeps_what_was_typed(
    agent_browser: Browser, db: Database
) -> None:
    async with db.session() as session:
        view = await contacts.create_contact(
            session, SYSTEM, contacts.ContactIn(name="Bilal", emails=["bilal@example.com"])
        )
    cid = view.contact.id
    cases = [
        {"time_zone": "Mars/Olympus"},
        {"emails": "not an address"},
        {"birthday": "29/02/1988"},
        {"organisation": "No Such Company"},
        {"custom": "just words"},
        {"language": "english please"},
    ]
    for case in cases:
        form = edit_form(**{"name": "Bilal Renamed", "emails": "bilal@example.com", **case})
        r = await submit(agent_browser, f"/contacts/{cid}", form)
        assert r.status_code == 422, case
        assert 'role="alert"' in r.text and 'value="Bilal Renamed"' in r.text, case
    # Text no database can store exactly is refused before it reaches one.
    r = await submit(agent_browser, f"/contacts/{cid}", edit_form(name="Bil\x00al"))
    assert r.status_code == 422
    async with db.session(write=False) as session:
        assert (await session.get(Contact, cid)).name == "Bilal"  # type: ignore[union-attr]
    assert await facts_of(db, "contact.updated") == []


async def test_a_note_is_added_and_shown_to_the_next_agent(
    agent_browser: Browser, db: Database
) -> None:
    async with db.session() as session:
        view = await contacts.create_contact(session, SYSTEM, contacts.ContactIn(name="Ali"))
    cid = view.contact.id
    r = await submit(
        agent_browser, f"/contacts/{cid}/notes", {"body": "Prefers WhatsApp\n  after 6pm"}
    )
    assert r.status_code == 303
    page = (await agent_browser.get(f"/contacts/{cid}")).text
    notes = page.split('id="notes"')[1].split("</section>")[0]
    assert "Prefers WhatsApp\n  after 6pm" in notes and "Ayesha Agent" in notes
    assert "Ayesha Agent left a note about Ali" in page
    [fact] = await facts_of(db, "contact.note_added")
    assert fact.contact_id == cid and fact.agent_id == agent_browser.person.id
    empty = await submit(agent_browser, f"/contacts/{cid}/notes", {"body": "   "})
    assert empty.status_code == 422 and "Write the note first." in empty.text
    async with db.session(write=False) as session:
        assert await session.scalar(select(func.count(ContactNote.id))) == 1


async def test_a_duplicate_is_merged_after_a_confirmation(
    agent_browser: Browser, integration: Person, db: Database
) -> None:
    keep = await post_inbound(
        agent_browser.client,
        integration,
        "k",
        subject="First question",
        conversation_id="k",
        contact={"email": "sana@example.com", "name": "Sana Khan"},
    )
    dup = await post_inbound(
        agent_browser.client,
        integration,
        "d",
        subject="Second question",
        conversation_id="d",
        contact={"phone": "+92 300 1112223", "name": "S. Khan"},
    )
    target, source = keep["contact_id"], dup["contact_id"]
    preview = await agent_browser.get(
        f"/contacts/{target}/merge", params={"duplicate": "+923001112223"}
    )
    assert preview.status_code == 200
    assert "S. Khan" in preview.text and "Sana Khan" in preview.text
    assert "The duplicate has 1 ticket." in preview.text
    assert f'name="duplicate_id" value="{source}"' in preview.text
    async with db.session(write=False) as session:  # a preview changes nothing
        assert (await session.get(Contact, source)).merged_into_id is None  # type: ignore[union-attr]
    by_number = await agent_browser.get(
        f"/contacts/{target}/merge", params={"duplicate": f"#{source}"}
    )
    assert by_number.status_code == 200 and "S. Khan" in by_number.text
    r = await submit(agent_browser, f"/contacts/{target}/merge", {"duplicate_id": str(source)})
    assert r.status_code == 303 and r.headers["location"] == f"/contacts/{target}?done=merged"
    page = (await agent_browser.get(f"/contacts/{target}")).text
    assert "First question" in page and "Second question" in page and "+923001112223" in page
    assert f"merged contact #{source} into Sana Khan" in page
    old = await agent_browser.get(f"/contacts/{source}")
    assert old.status_code == 303 and old.headers["location"] == f"/contacts/{target}"
    [fact] = await facts_of(db, "contact.merged")
    assert fact.data == {"source_id": source, "target_id": target}
    for bad in ("sana@example.com", "nobody@example.com", "hello", ""):
        refused = await agent_browser.get(f"/contacts/{target}/merge", params={"duplicate": bad})
        assert refused.status_code == 422 and 'role="alert"' in refused.text, bad


# --- organisations ---------------------------------------------------------------------------


async def test_the_organisation_list_searches_filters_and_creates(
    agent_browser: Browser, db: Database
) -> None:
    await make_organisation(db, name="Karachi Textiles", plan="Business", seats=40)
    await make_organisation(db, name="Quetta Dry Fruits", status="churned")
    page = await agent_browser.get("/organisations")
    assert "Karachi Textiles" in page.text and "Quetta Dry Fruits" in page.text
    churned = await agent_browser.get("/organisations", params={"status": "churned"})
    assert "Quetta Dry Fruits" in churned.text and "Karachi Textiles" not in churned.text
    found = await agent_browser.get("/organisations", params={"q": "karachi"})
    assert "Karachi Textiles" in found.text and "Quetta" not in found.text
    assert (await agent_browser.get("/organisations?status=dead")).status_code == 422
    r = await submit(
        agent_browser,
        "/organisations",
        {
            "name": "Peshawar Tiles",
            "plan": "Starter",
            "seats": "5",
            "domains": "tiles.pk, @Tiles.com",
        },
    )
    assert r.status_code == 303
    created = await agent_browser.get(r.headers["location"])
    assert "Peshawar Tiles" in created.text and "tiles.pk" in created.text
    assert "tiles.com" in created.text and "Starter" in created.text
    bad = await submit(agent_browser, "/organisations", {"name": "X", "seats": "many"})
    assert bad.status_code == 422 and 'value="many"' in bad.text


async def test_the_organisation_page_edits_churns_reactivates_and_merges(
    agent_browser: Browser, integration: Person, db: Database
) -> None:
    org = await make_organisation(
        db, name="Karachi Textiles", plan="Business", seats=40, domains=["ktex.pk"]
    )
    other = await make_organisation(db, name="K-Tex (old)", domains=["ktex-old.pk"])
    got = await post_inbound(
        agent_browser.client,
        integration,
        "m",
        subject="Bulk order",
        contact={"email": "buyer@ktex.pk", "name": "Farah"},
    )
    await post_inbound(
        agent_browser.client,
        integration,
        "o",
        subject="Old account",
        contact={"email": "legacy@ktex-old.pk", "name": "Legacy Buyer"},
    )
    page = (await agent_browser.get(f"/organisations/{org}")).text
    assert "Business" in page and ">40<" in page and "ktex.pk" in page
    assert "Farah" in page and "Bulk order" in page and "Farah opened" in page
    assert f'href="/tickets/{got["ticket_id"]}"' in page
    r = await submit(
        agent_browser,
        f"/organisations/{org}",
        {
            "name": "Karachi Textiles Ltd",
            "plan": "Enterprise",
            "seats": "120",
            "customer_since": "2021-03-01",
            "domains": "ktex.pk\nkarachitextiles.com",
            "custom": "account_manager=Adil",
            "notes": "Pays yearly",
        },
    )
    assert r.status_code == 303
    async with db.session(write=False) as session:
        o = await session.get(Organisation, org)
        assert o is not None
        assert (o.name, o.plan, o.seats) == ("Karachi Textiles Ltd", "Enterprise", 120)
        assert o.customer_since is not None and o.customer_since.date().isoformat() == "2021-03-01"
        assert o.custom == {"account_manager": "Adil"} and o.notes == "Pays yearly"
    bad = await submit(
        agent_browser,
        f"/organisations/{org}",
        {"name": "Renamed", "seats": "-3", "domains": "ktex.pk", "custom": "", "notes": ""},
    )
    assert bad.status_code == 422 and 'value="-3"' in bad.text
    r = await submit(agent_browser, f"/organisations/{org}/status", {"status": "churned"})
    assert r.status_code == 303
    churned = (await agent_browser.get(r.headers["location"])).text
    assert "Marked as churned." in churned and "Churned " in churned and "Reactivate" in churned
    r = await submit(agent_browser, f"/organisations/{org}/status", {"status": "active"})
    assert "Mark as churned" in (await agent_browser.get(r.headers["location"])).text
    assert len(await facts_of(db, "organisation.churned")) == 1
    assert len(await facts_of(db, "organisation.reactivated")) == 1
    # Merge the old organisation in, by name, after a confirmation.
    preview = await agent_browser.get(
        f"/organisations/{org}/merge", params={"duplicate": "k-tex (OLD)"}
    )
    assert preview.status_code == 200 and "The duplicate has 1 ticket." in preview.text
    r = await submit(agent_browser, f"/organisations/{org}/merge", {"duplicate_id": str(other)})
    assert r.status_code == 303
    merged = (await agent_browser.get(f"/organisations/{org}")).text
    assert "Legacy Buyer" in merged and "Old account" in merged and "ktex-old.pk" in merged
    old = await agent_browser.get(f"/organisations/{other}")
    assert old.status_code == 303 and old.headers["location"] == f"/organisations/{org}"
    self_merge = await agent_browser.get(
        f"/organisations/{org}/merge", params={"duplicate": str(org)}
    )
    assert self_merge.status_code == 422


# --- safety ----------------------------------------------------------------------------------


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(
    agent_browser: Browser, db: Database
) -> None:
    async with db.session() as session:
        view = await contacts.create_contact(session, SYSTEM, contacts.ContactIn(name="Nadia"))
    cid = view.contact.id
    org = await make_organisation(db, name="Sialkot Sports")
    attempts = [
        (f"/contacts/{cid}", edit_form(name="Hacked")),
        (f"/contacts/{cid}/notes", {"body": "forged"}),
        ("/contacts", {"name": "Forged", "email": "forged@example.com"}),
        (f"/organisations/{org}/status", {"status": "churned"}),
        (f"/organisations/{org}", {"name": "Hacked"}),
    ]
    for path, data in attempts:
        r = await agent_browser.client.post(path, data=data)
        assert r.status_code == 403, path
        r = await agent_browser.client.post(path, data={**data, "csrf_token": "forged"})
        assert r.status_code == 403, path
    async with db.session(write=False) as session:
        assert (await session.get(Contact, cid)).name == "Nadia"  # type: ignore[union-attr]
        assert await session.scalar(select(func.count(Contact.id))) == 1
        assert await session.scalar(select(func.count(ContactNote.id))) == 0
        o = await session.get(Organisation, org)
        assert o is not None and (o.name, o.status) == ("Sialkot Sports", "active")


async def test_naughty_strings_come_back_escaped_and_never_fail(
    agent_browser: Browser, db: Database
) -> None:
    assert len(NAUGHTY) > 500
    async with db.session() as session:
        view = await contacts.create_contact(session, SYSTEM, contacts.ContactIn(name="Start"))
    cid = view.contact.id
    org = await make_organisation(db, name="Start Org")
    path = f"/contacts/{cid}"
    for i, s in enumerate(NAUGHTY):
        one_line = " ".join(s.split("\n"))
        r = await submit(
            agent_browser,
            path,
            edit_form(name=s[:200], custom=f"note={one_line}" if one_line.strip() else ""),
        )
        assert r.status_code == 303, (i, s, r.text[:300])
        if s.strip():
            r = await submit(agent_browser, f"{path}/notes", {"body": s})
            assert r.status_code == 303, (i, s)
        page = await agent_browser.get(path)
        assert page.status_code == 200, (i, s)
        assert_no_markup_injected(page.text)
        if "<script" in s:
            assert "&lt;script" in page.text, i
        for url in ("/contacts", "/organisations"):
            found = await agent_browser.get(url, params={"q": s[:200]})
            assert found.status_code == 200, (url, i, s)
            assert_no_markup_injected(found.text)
    async with db.session(write=False) as session:
        stored = await session.get(Contact, cid)
        assert stored is not None and stored.name == (NAUGHTY[-1][:200] or None)
    r = await submit(
        agent_browser,
        f"/organisations/{org}",
        {"name": '<script>alert("o")</script>', "custom": "x=<img src=x onerror=alert(1)>"},
    )
    assert r.status_code == 303
    page = (await agent_browser.get(f"/organisations/{org}")).text
    assert_no_markup_injected(page)
    assert "&lt;script&gt;alert(&#34;o&#34;)&lt;/script&gt;" in page


# --- bounded statements ----------------------------------------------------------------------


async def test_contact_and_organisation_pages_issue_a_bounded_number_of_statements(
    app: object, agent_browser: Browser, integration: Person, db: Database
) -> None:
    app_db = app.state.db  # type: ignore[attr-defined]
    org = await make_organisation(db, name="Multan Mangoes", domains=["mangoes.pk"])

    async def statements(path: str) -> int:
        with count_statements(app_db) as counter:
            r = await agent_browser.get(path)
            assert r.status_code == 200
        return counter.count

    one = await post_inbound(
        agent_browser.client, integration, "first", contact={"email": "a@mangoes.pk"}
    )
    cid = one["contact_id"]
    await submit(agent_browser, f"/contacts/{cid}/notes", {"body": "first note"})
    pages = (f"/contacts/{cid}", f"/organisations/{org}")
    small = [await statements(p) for p in pages]
    for n in range(30):
        await post_inbound(
            agent_browser.client,
            integration,
            f"more-{n}",
            conversation_id=f"c{n}",
            contact={"email": "a@mangoes.pk" if n % 2 else f"b{n}@mangoes.pk"},
        )
        await submit(agent_browser, f"/contacts/{cid}/notes", {"body": f"note {n}"})
    large = [await statements(p) for p in pages]
    assert large == small, (small, large)
    assert max(large) <= 25, large
