"""The console's sign-in, inbox and ticket pages over HTTP, on both databases."""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from sqlalchemy import func, select

from madad.activity.models import Activity
from madad.auth.models import Role
from madad.db import Database
from madad.tickets.models import Message, Ticket
from tests.conftest import Person, count_statements, make_person
from tests.console.conftest import PASSWORD, Browser, sign_in


async def post_inbound(
    client: httpx.AsyncClient, who: Person, external_id: str, **body: object
) -> dict:
    payload = {
        "external_id": external_id,
        "contact": body.pop("contact", {"email": "sana@example.com", "name": "Sana Khan"}),
        "text": body.pop("text", "My parcel has not arrived"),
        **body,
    }
    r = await client.post("/api/v1/inbound", headers=who.headers, json=payload)
    assert r.status_code == 201, r.text
    return r.json()


async def count(db: Database, stmt: object) -> int:
    async with db.session(write=False) as session:
        return int((await session.execute(stmt)).scalar_one())  # type: ignore[arg-type]


# --- signing in and out ------------------------------------------------------------------------


async def test_pages_need_a_session_and_send_you_back_after_signing_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    r = await client.get("/inbox?view=pending", headers={"accept": "text/html"})
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Finbox%3Fview%3Dpending"
    person = await make_person(db, role=Role.agent, password=PASSWORD)
    r = await client.post(
        "/login", data={"email": person.email, "password": PASSWORD, "next": "/inbox?view=pending"}
    )
    assert r.status_code == 303 and r.headers["location"] == "/inbox?view=pending"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_a_wrong_password_is_refused_and_guessing_is_throttled(
    client: httpx.AsyncClient, db: Database
) -> None:
    person = await make_person(db, role=Role.agent, password=PASSWORD)
    for _ in range(10):
        r = await client.post("/login", data={"email": person.email, "password": "nope-nope"})
        assert r.status_code == 401 and "Wrong email or password" in r.text
        assert "set-cookie" not in r.headers
    r = await client.post("/login", data={"email": person.email, "password": PASSWORD})
    assert r.status_code == 429 and "set-cookie" not in r.headers
    assert 14 * 60 < int(r.headers["retry-after"]) <= 15 * 60  # when the first guess expires


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
async def test_next_never_leaves_the_site(
    client: httpx.AsyncClient, db: Database, target: str
) -> None:
    person = await make_person(db, role=Role.agent, password=PASSWORD)
    r = await client.post(
        "/login", data={"email": person.email, "password": PASSWORD, "next": target}
    )
    assert r.status_code == 303 and r.headers["location"] == "/inbox"


async def test_signing_out_ends_the_session_for_that_cookie(agent_browser: Browser) -> None:
    r = await agent_browser.client.post("/logout", data={"csrf_token": agent_browser.csrf})
    assert r.status_code == 303
    stale = agent_browser.client.cookies.get("madad_session")
    assert stale is None  # the browser forgets it ...
    # ... and the server would refuse it anyway: sign in again, sign out, replay the old cookie.
    again = await sign_in(agent_browser.client, agent_browser.person)
    old = again.client.cookies.get("madad_session")
    await again.client.post("/logout", data={"csrf_token": again.csrf})
    again.client.cookies.set("madad_session", old or "")
    r = await again.get("/inbox")
    assert r.status_code == 303


async def test_deactivating_a_user_ends_their_sessions(
    agent_browser: Browser, admin: Person
) -> None:
    r = await agent_browser.client.patch(
        f"/api/v1/users/{agent_browser.person.id}", headers=admin.headers, json={"is_active": False}
    )
    assert r.status_code == 200, r.text
    assert (await agent_browser.get("/inbox")).status_code == 303


# --- CSRF ------------------------------------------------------------------------------------


async def test_unsafe_requests_need_the_csrf_token_and_our_origin(
    agent_browser: Browser, integration: Person, db: Database
) -> None:
    got = await post_inbound(agent_browser.client, integration, "m1")
    path = f"/tickets/{got['ticket_id']}/reply"
    r = await agent_browser.client.post(path, data={"text": "no token"})
    assert r.status_code == 403
    r = await agent_browser.client.post(
        path, data={"text": "wrong token"}, headers={"x-csrf-token": "forged"}
    )
    assert r.status_code == 403
    r = await agent_browser.client.post(
        path,
        data={"text": "cross-site", "csrf_token": agent_browser.csrf},
        headers={"origin": "https://evil.example"},
    )
    assert r.status_code == 403
    assert await count(db, select(func.count(Message.id))) == 1  # only the customer's message
    r = await agent_browser.client.post(
        path, data={"text": "with the form field", "csrf_token": agent_browser.csrf}
    )
    assert r.status_code == 200
    assert await count(db, select(func.count(Message.id))) == 2


# --- the inbox -------------------------------------------------------------------------------


async def test_the_inbox_lists_views_with_counts_and_filters(
    agent_browser: Browser, integration: Person
) -> None:
    a = await post_inbound(agent_browser.client, integration, "a", subject="Refund for order 7")
    await post_inbound(
        agent_browser.client,
        integration,
        "b",
        subject="Cannot log in",
        contact={"email": "omar@example.com"},
        tags=["login"],
    )
    page = await agent_browser.get("/inbox?view=unassigned")
    assert page.status_code == 200
    assert "Refund for order 7" in page.text and "Cannot log in" in page.text
    assert 'data-count="unassigned">2<' in page.text
    assert 'data-count="mine">0<' in page.text
    filtered = await agent_browser.get("/inbox?view=open&tag=login")
    assert "Cannot log in" in filtered.text and "Refund for order 7" not in filtered.text
    searched = await agent_browser.get("/inbox?view=open&q=refund")
    assert "Refund for order 7" in searched.text and "Cannot log in" not in searched.text
    # Bulk: take the refund ticket.
    r = await agent_browser.post(
        "/inbox/bulk", {"ticket_ids": [str(a["ticket_id"])], "action": "assign:me"}
    )
    assert r.status_code == 204 and "madad:toast" in r.headers["hx-trigger"]
    mine = await agent_browser.get("/inbox?view=mine")
    assert "Refund for order 7" in mine.text and "Cannot log in" not in mine.text
    assert 'data-count="mine">1<' in mine.text
    counts = await agent_browser.get("/inbox/counts?view=mine")
    assert 'data-count="unassigned">1<' in counts.text


async def test_the_inbox_refuses_unknown_views_and_sorts(agent_browser: Browser) -> None:
    assert (await agent_browser.get("/inbox?view=everything")).status_code == 422
    assert (await agent_browser.get("/inbox?sort=random")).status_code == 422
    r = await agent_browser.post("/inbox/bulk", {"ticket_ids": ["1"], "action": "explode"})
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_inbox_pages_load_more_with_a_cursor(
    agent_browser: Browser, integration: Person
) -> None:
    for n in range(55):
        await post_inbound(
            agent_browser.client, integration, f"p{n}", contact={"email": f"c{n}@example.com"}
        )
    first = await agent_browser.get("/inbox?view=open")
    assert first.text.count('class="ticket-row') == 50 and "Load more" in first.text
    cursor = first.text.split("cursor=")[1].split('"')[0].replace("&amp;", "&")
    more = await agent_browser.get(f"/inbox/list?view=open&cursor={cursor}")
    assert more.text.count('class="ticket-row') == 5 and "Load more" not in more.text


# --- one ticket ------------------------------------------------------------------------------


async def test_reply_note_properties_and_events_show_in_the_conversation(
    agent_browser: Browser, integration: Person, db: Database
) -> None:
    got = await post_inbound(agent_browser.client, integration, "m1", subject="Where is it?")
    tid = got["ticket_id"]
    page = await agent_browser.get(f"/tickets/{tid}")
    assert page.status_code == 200 and "Where is it?" in page.text
    assert "My parcel has not arrived" in page.text
    r = await agent_browser.post(
        f"/tickets/{tid}/reply", {"text": "It ships today.", "status": "pending"}
    )
    assert r.status_code == 200 and "It ships today." in r.text
    r = await agent_browser.post(f"/tickets/{tid}/note", {"text": "Checked with the warehouse"})
    assert "Checked with the warehouse" in r.text and "Internal note" in r.text
    r = await agent_browser.post(
        f"/tickets/{tid}/properties",
        {
            "status": "open",
            "priority": "high",
            "assignee": str(agent_browser.person.id),
            "team": "",
            "tags": "shipping, vip",
            "escalation_level": "0",
        },
    )
    assert r.status_code == 200
    assert "changed priority to High" in r.text
    assert "assigned the ticket to Ayesha Agent" in r.text
    r = await agent_browser.post(f"/tickets/{tid}/escalate")
    assert "escalated the ticket" in r.text
    async with db.session(write=False) as session:
        ticket = await session.get(Ticket, tid)
        assert ticket is not None
        assert (ticket.status, ticket.priority, ticket.escalation_level) == ("open", "high", 1)
        kinds = set(
            (await session.execute(select(Activity.kind).where(Activity.ticket_id == tid)))
            .scalars()
            .all()
        )
    assert {"message.sent", "note.added", "ticket.assigned", "ticket.escalated"} <= kinds
    empty = await agent_browser.post(f"/tickets/{tid}/reply", {"text": "   "})
    assert empty.status_code == 422


async def test_merging_moves_the_conversation_and_redirects(
    agent_browser: Browser, integration: Person
) -> None:
    a = await post_inbound(agent_browser.client, integration, "a", conversation_id="one")
    b = await post_inbound(
        agent_browser.client, integration, "b", conversation_id="two", text="Second question"
    )
    r = await agent_browser.post(f"/tickets/{b['ticket_id']}/merge", {"into": f"#{a['ticket_id']}"})
    assert r.status_code == 204 and r.headers["hx-redirect"] == f"/tickets/{a['ticket_id']}"
    page = await agent_browser.get(f"/tickets/{a['ticket_id']}")
    assert "Second question" in page.text
    old = await agent_browser.get(f"/tickets/{b['ticket_id']}")
    assert old.status_code == 303 and old.headers["location"] == f"/tickets/{a['ticket_id']}"
    bad = await agent_browser.post(f"/tickets/{a['ticket_id']}/merge", {"into": "abc"})
    assert bad.status_code == 422


async def test_the_customer_360_shows_earlier_tickets_and_who_they_are(
    agent_browser: Browser, integration: Person
) -> None:
    first = await post_inbound(
        agent_browser.client,
        integration,
        "old",
        subject="Billing question",
        conversation_id="c1",
        contact={"email": "sana@example.com", "name": "Sana Khan", "time_zone": "Asia/Karachi"},
    )
    second = await post_inbound(
        agent_browser.client, integration, "new", subject="Login trouble", conversation_id="c2"
    )
    page = await agent_browser.get(f"/tickets/{second['ticket_id']}")
    panel = page.text.split('id="customer-360"')[1]
    assert "Sana Khan" in panel and "sana@example.com" in panel
    assert f"/tickets/{first['ticket_id']}" in panel and "Billing question" in panel
    assert "Asia/Karachi" in panel


async def test_unknown_tickets_are_a_404_page(agent_browser: Browser) -> None:
    r = await agent_browser.get("/tickets/999999")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    assert "does not exist" in r.text


async def test_customer_html_is_sanitised_and_text_escaped_on_the_page(
    agent_browser: Browser, integration: Person
) -> None:
    got = await post_inbound(
        agent_browser.client,
        integration,
        "x",
        subject='<script>alert("s")</script>',
        contact={"email": "x@example.com", "name": "<img src=x onerror=alert(1)>"},
        html=(
            '<p>hi<img src="https://tracker.example/p.gif" onerror="alert(2)">'
            "<script>alert(3)</script></p>"
        ),
    )
    page = await agent_browser.get(f"/tickets/{got['ticket_id']}")
    assert "<script>alert" not in page.text
    assert "onerror" not in page.text.replace("onerror=alert(1)&gt;", "")
    assert "tracker.example" not in page.text
    assert "&lt;script&gt;alert(&#34;s&#34;)&lt;/script&gt;" in page.text
    inbox = await agent_browser.get("/inbox")
    assert "<script>alert" not in inbox.text and "<img src=x" not in inbox.text


# --- bounded statements ------------------------------------------------------------------------


async def test_pages_issue_a_bounded_number_of_statements(
    app: object, agent_browser: Browser, integration: Person
) -> None:
    db = app.state.db  # type: ignore[attr-defined]

    async def statements(path: str) -> int:
        with count_statements(db) as counter:
            r = await agent_browser.get(path)
            assert r.status_code == 200
        return counter.count

    one = await post_inbound(agent_browser.client, integration, "first", conversation_id="k")
    small = (await statements("/inbox"), await statements(f"/tickets/{one['ticket_id']}"))
    for n in range(30):
        await post_inbound(
            agent_browser.client,
            integration,
            f"more-{n}",
            conversation_id="k" if n % 2 else f"k{n}",
            contact={"email": "sana@example.com" if n % 3 else f"o{n}@example.com"},
            tags=[f"t{n}"],
        )
    large = (await statements("/inbox"), await statements(f"/tickets/{one['ticket_id']}"))
    assert large == small, (small, large)
    assert max(large) <= 20


# --- language ------------------------------------------------------------------------------


async def test_an_agent_who_picks_urdu_gets_a_right_to_left_page(agent_browser: Browser) -> None:
    r = await agent_browser.client.post(
        "/me",
        data={
            "language": "ur",
            "time_zone": "Asia/Karachi",
            "signature": "",
            "csrf_token": agent_browser.csrf,
        },
    )
    assert r.status_code == 200
    page = await agent_browser.get("/inbox")
    assert '<html lang="ur" dir="rtl">' in page.text
    bad = await agent_browser.client.post(
        "/me",
        data={"language": "xx", "time_zone": "Mars/Base", "csrf_token": agent_browser.csrf},
    )
    assert bad.status_code == 422


async def test_a_customers_file_downloads_from_the_ticket_page_with_the_agents_session(
    agent_browser: Browser, integration: Person, client: httpx.AsyncClient
) -> None:
    """The ticket page links each file to /api/v1/attachments/{id}: a signed-in agent's click
    sends the session cookie, no token — and gets the file; nobody else does."""
    invoice = base64.b64encode(b"%PDF-1.4 the invoice").decode()
    got = await post_inbound(
        agent_browser.client,
        integration,
        "with-file",
        attachments=[{"filename": "invoice.pdf", "content_type": "application/pdf",
                      "data": invoice}],
    )  # fmt: skip
    page = await agent_browser.get(f"/tickets/{got['ticket_id']}")
    link = re.search(r'href="(/api/v1/attachments/\d+)" download>invoice.pdf<', page.text)
    assert link, page.text
    r = await agent_browser.client.get(link.group(1))
    assert r.status_code == 200 and r.content == b"%PDF-1.4 the invoice"
    assert r.headers["content-disposition"].startswith("attachment")
    # A session cookie reads; it does not write, and without one there is no file.
    agent_browser.client.cookies.clear()
    anonymous = await agent_browser.client.get(link.group(1))
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"].startswith("application/problem+json")
