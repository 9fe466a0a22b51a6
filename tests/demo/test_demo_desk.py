"""The demo is a whole desk, not only tickets: a published help centre and its 90 days of
reading, the answer bot in chat, live queues with posted hours that the chats and calls keep to,
chat inboxes (the demo shop's page carries one), callbacks, and portal requests a demo customer
sees after signing in — each written through the domain's own service."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select

from madad.activity.models import Activity
from madad.auth.permissions import SYSTEM
from madad.channels.chat import inboxes
from madad.channels.hours import calendar as cal
from madad.channels.hours import service as hours
from madad.channels.phone import callbacks
from madad.config import Settings
from madad.db import Database, utcnow
from madad.demo.articles import PIECES
from madad.demo.live import HELP_INBOX, SHOP_INBOX, SHOP_QUEUE
from madad.demo.signin import portal_link
from madad.kb import reading
from madad.kb import service as kb
from madad.metrics import kb as kb_metrics
from madad.metrics.definitions import Period
from madad.portal import access
from madad.portal import service as portal
from madad.tickets.models import Ticket
from tests.demo.test_demo import small_demo

DAYS = 20


async def _facts(db: Database, prefix: str) -> list[Activity]:
    async with db.session(write=False) as session:
        stmt = select(Activity).where(Activity.kind.like(f"{prefix}%")).order_by(Activity.at)
        return list((await session.scalars(stmt)).all())


async def test_the_demo_is_a_whole_desk(
    db: Database, settings: Settings, client: httpx.AsyncClient
) -> None:
    """One small demo (it takes a while), each part checked as its own behaviour."""
    r = await client.get("/demo/shop")
    assert r.status_code == 404  # no demo here yet
    before = utcnow()
    await small_demo(db, settings)
    await a_help_centre_is_published_with_ninety_days_of_its_reading(db, before)
    await contacts_from_the_help_centre_name_their_ticket_and_follow_a_visit(db)
    await live_queues_post_hours_that_the_chats_and_calls_keep_to(db)
    await demo_customers_find_their_portal_requests_after_signing_in(db)
    await the_demo_shop_page_carries_the_widget(db, client)


async def a_help_centre_is_published_with_ninety_days_of_its_reading(
    db: Database, before: datetime
) -> None:
    async with db.session(write=False) as session:
        everything = await kb.list_articles(session, include_internal=True, limit=200)
        public = await kb.list_articles(session, include_internal=False, limit=200)
        shelves, loose = await reading.shelves(session, "en")
        shelves_ur, _ = await reading.shelves(session, "ur")
        refund = await kb.search_articles(session, "refund", language="en")
        urdu = await kb.search_articles(session, "پاس ورڈ", language="ur")
        internal = await kb.search_articles(session, "refund approvals", include_internal=True)
        hidden = await kb.search_articles(session, "refund approvals")
    # Categories, sections and articles, published in English and (many) in Urdu.
    assert len(everything) == len(PIECES) >= 30
    assert all("en" in a.published for a in everything)
    assert sum("ur" in a.published for a in everything) >= 15
    assert 1 <= len(everything) - len(public) <= 6  # for agents only
    assert len(shelves) == 4 and not loose
    assert all(entries for shelf in shelves for _section, entries in shelf.sections)
    assert sum(len(e) for s in shelves for _x, e in s.sections) == len(public)
    assert any(a.related for a in public)
    # The help centre's search finds them, in both languages, and never an internal one.
    assert {"duplicate-charge", "refund-timing"} <= {h.slug for h in refund.hits}
    assert "reset-password" in {h.slug for h in urdu.hits}
    assert "refund-approvals" in {h.slug for h in internal.hits}
    assert "refund-approvals" not in {h.slug for h in hidden.hits}
    assert shelves_ur[0].category.titles["ur"]

    # Reading over the whole history, through the recorders (kb.* facts, live shapes).
    facts = await _facts(db, "kb.")
    kinds = Counter(f.kind for f in facts)
    assert kinds["kb.view"] > kinds["kb.read"] > kinds["kb.vote"] > 0
    assert kinds["kb.search"] > 0 and kinds["kb.contact_started"] > 0
    assert {"kb.bot_offered", "kb.bot_resolved", "kb.bot_handoff"} <= set(kinds)
    assert all(before - timedelta(days=DAYS + 1) <= f.at <= utcnow() for f in facts)
    first_week = [f for f in facts if f.at < before - timedelta(days=DAYS - 7)]
    assert len(first_week) > len(facts) / 8  # spread over the period, not all today
    ids = {a.article.id for a in public}
    reads = [f for f in facts if f.kind == "kb.read"]
    assert all(f.data["article_id"] in ids for f in facts if f.kind in ("kb.view", "kb.read"))
    assert all(10 <= f.data["read_seconds"] <= 1800 for f in reads)
    assert all(0 <= f.data["scroll_depth"] <= 1 for f in reads)
    assert all(f.data["visitor"] and f.data["help_session"] for f in reads)
    searches = [f for f in facts if f.kind == "kb.search"]
    assert any(f.data["results"] == 0 for f in searches)  # the content gaps
    assert any(f.data["results"] > 0 for f in searches)
    assert any(f.data.get("comment") for f in facts if f.kind == "kb.vote")
    assert {f.data["language"] for f in facts if f.kind == "kb.view"} == {"en", "ur"}

    # What the KB report computes from them looks like a help centre's.
    period = Period(before - timedelta(days=DAYS + 1), utcnow())
    deflection = kb_metrics.deflection(facts, period).value
    helpful = kb_metrics.helpful_votes(facts, period).value
    no_result = kb_metrics.searches(facts, period).no_result_rate.value
    bot = kb_metrics.bot_outcomes(facts, period)
    assert deflection is not None and 0.5 < deflection < 0.97
    assert helpful is not None and 0.4 < helpful < 0.95
    assert no_result is not None and 0.02 < no_result < 0.4
    assert bot.offers > 0 and 0 < bot.resolution_rate.value < bot.offers  # type: ignore[operator]
    median = kb_metrics.read_time(facts, period).median
    assert median is not None and 20 < median < 180


async def contacts_from_the_help_centre_name_their_ticket_and_follow_a_visit(
    db: Database,
) -> None:
    facts = await _facts(db, "kb.")
    async with db.session(write=False) as session:
        tickets = {t.id: t for t in (await session.scalars(select(Ticket))).all()}
    started = [f for f in facts if f.kind == "kb.contact_started"]
    assert {f.channel for f in started} == {"chat", "portal"}
    for f in started:
        ticket = tickets[f.ticket_id]
        assert ticket.channel == f.channel and ticket.created_at == f.at
        assert ticket.contact_id == f.contact_id
        visit = [
            r
            for r in facts
            if r.kind == "kb.view" and r.data["help_session"] == f.data["help_session"]
        ]
        assert visit and all(v.at < f.at for v in visit)
        if f.data["article_id"] is not None:
            assert f.data["article_id"] in {v.data["article_id"] for v in visit}
            assert ticket.custom_fields.get("kb_article_id") == f.data["article_id"]
    # The bot's offers are on chats, and an outcome follows its own offer.
    offers = {f.data["offer"]: f for f in facts if f.kind == "kb.bot_offered"}
    assert offers and {f.channel for f in offers.values()} == {"chat"}
    for f in facts:
        if f.kind in ("kb.bot_resolved", "kb.bot_handoff"):
            offer = offers[f.data["offer"]]
            assert offer.at < f.at and offer.ticket_id == f.ticket_id
            assert tickets[f.ticket_id].channel == "chat"


async def live_queues_post_hours_that_the_chats_and_calls_keep_to(db: Database) -> None:
    now = utcnow()
    async with db.session(write=False) as session:
        queues = {q.name: q for q in await hours.list_queues(session, SYSTEM)}
        calendars = await hours.calendars(session)
        chat_inboxes = {i.name: i for i in await inboxes.list_inboxes(session)}
        helping = await inboxes.help_inbox(session)
        overdue = await callbacks.count_overdue(session, SYSTEM)
        waiting = await callbacks.list_callbacks(session, SYSTEM)
    assert set(queues) == {"billing", "technical"}
    for queue in queues.values():
        assert queue.time_zone == "Asia/Karachi" and queue.callbacks_enabled
        assert queue.holidays and all(not h["hours"] for h in queue.holidays)
        assert "sunday" not in queue.weekly_hours and queue.weekly_hours["monday"]
    # Every chat and call in the history was offered while its queue was open.
    offered = await _facts(db, "live.offered")
    assert offered and {f.data["queue"] for f in offered} <= set(queues)
    assert all(cal.is_open(calendars[f.data["queue"]], f.at) for f in offered)
    # The help centre's inbox follows the technical queue's hours; the shop's posts none.
    assert helping is not None and helping.name == HELP_INBOX and helping.queue == "technical"
    assert chat_inboxes[SHOP_INBOX].queue == SHOP_QUEUE and SHOP_QUEUE not in calendars
    # Callbacks: some overdue, some still to come.
    assert overdue >= 1
    assert any(v.callback.status == "open" and v.callback.due_at > now for v in waiting)
    assert any(v.callback.status in ("taken", "done") for v in waiting)


async def demo_customers_find_their_portal_requests_after_signing_in(db: Database) -> None:
    link = await portal_link(db, "http://127.0.0.1:8000")
    assert link.requests > 0 and "/portal/sign-in/" in link.url
    token = link.url.rsplit("/", 1)[1]
    async with db.session() as session:
        cookie, _ = await access.use_link(session, token)
    async with db.session() as session:
        customer = await access.customer_of(session, cookie)
        assert customer is not None and customer.address == link.email
        page = await portal.list_tickets(session, customer, limit=100)
        assert len(page.items) >= link.requests
        row = next(r for r in page.items if r.ticket.channel == "portal")
        conversation = await portal.conversation(session, customer, row.ticket.id)
        assert conversation.entries and conversation.entries[0].from_customer


async def the_demo_shop_page_carries_the_widget(db: Database, client: httpx.AsyncClient) -> None:
    async with db.session(write=False) as session:
        shop = next(i for i in await inboxes.list_inboxes(session) if i.name == SHOP_INBOX)
    for path, lang in (("/demo/shop", "en"), ("/demo/shop/ur", "ur")):
        r = await client.get(path)
        assert r.status_code == 200
        assert f'<html lang="{lang}"' in r.text
        assert f'<script src="/widget.js?inbox={shop.key}" async></script>' in r.text
        assert 'data-madad-chat="open"' in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
    css = await client.get("/demo/assets/shop.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    widget = await client.get(f"/widget.js?inbox={shop.key}")
    assert widget.status_code == 200 and '"queue":null' in widget.text  # always open for chat
