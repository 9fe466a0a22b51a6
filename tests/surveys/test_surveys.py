"""Surveys end to end: a solved email ticket sends a CSAT email through a real SMTP server
(aiosmtpd on loopback); its one-click link opens a page that records nothing until the
customer confirms with a POST; answers change within the window and not after; forged and
expired links get a clear page; quiet periods, one survey per ticket and NPS sampling hold for
any sequence (hypothesis); the agents' pulse is anonymous; a supervisor follows up a low score.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, update

from madad import jobs
from madad.activity import service as facts
from madad.activity.models import Activity
from madad.app import create_app
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, actor_for
from madad.bus import MemoryBus
from madad.channels.email.ingest import Arrival, ingest
from madad.config import Settings
from madad.contacts import service as contacts
from madad.contacts.schemas import ContactCreate
from madad.db import Database, utcnow
from madad.surveys import service
from madad.surveys.models import Survey
from madad.tickets import changes
from madad.tickets.models import Ticket
from madad.webhooks import service as webhooks
from madad.webhooks.models import WebhookDelivery
from tests.channels.email.conftest import SmtpCapture, corpus, make_mailbox, smtp_values
from tests.channels.email.conftest import smtp_capture as smtp_capture  # the fixture
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in


@pytest.fixture
def quick(settings: Settings) -> Settings:
    """The suite's settings with surveys sent right after a solve."""
    return settings.model_copy(update={"survey_delay_minutes": 0.0})


@pytest.fixture
async def quick_app(quick: Settings) -> AsyncIterator[object]:
    app = create_app(quick)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def web(quick_app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=quick_app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def work(db: Database, settings: Settings) -> None:
    for _ in range(3):
        await facts.drain_consumers(db)
        await jobs.Worker(db, settings).drain(max_seconds=30)


async def solve(db: Database, ticket_id: int, agent_id: int | None = None) -> None:
    async with db.session() as session:
        actor = actor_for(agent_id, "agent", "Agent") if agent_id else SYSTEM
        await changes.update_ticket(session, actor, ticket_id, {"status": "solved"})


async def kinds(db: Database, ticket_id: int) -> list[str]:
    async with db.session(write=False) as session:
        rows = await session.execute(
            select(Activity.kind).where(Activity.ticket_id == ticket_id).order_by(Activity.id)
        )
        return [k for k in rows.scalars() if k.startswith("survey.")]


async def test_csat_by_email_one_click_confirm_change_and_close(
    quick_app: object, web: httpx.AsyncClient, quick: Settings, smtp_capture: SmtpCapture
) -> None:
    db: Database = quick_app.state.db  # type: ignore[attr-defined]
    box = await make_mailbox(db, display_name="Madad Support", **smtp_values(smtp_capture))
    got = await ingest(db, Arrival(corpus("gmail_reply.eml"), "imap", mailbox_id=box))
    await solve(db, got.ticket_id)
    await work(db, quick)
    [mail] = smtp_capture.received
    assert mail.rcpt_tos == ["sana@example.com"]
    msg = mail.message
    assert msg["Subject"] == f"How did we do? (ticket #{got.ticket_id})"
    assert msg["Auto-Submitted"] == "auto-generated"
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    links = re.findall(r"(/survey/[\w.-]+)\?score=(\d)", text)
    assert [n for _, n in links] == ["1", "2", "3", "4", "5"]
    path = links[0][0]

    # A mail scanner fetching every link records nothing.
    for link, n in links:
        page = await web.get(f"{link}?score={n}")
        assert page.status_code == 200
    assert await kinds(db, got.ticket_id) == ["survey.sent", "survey.sent"]  # CSAT and CES
    page = await web.get(f"{path}?score=4")
    assert 'value="4" checked' in page.text

    # The customer confirms with the page's POST (and the page's beacon says it was seen).
    assert (await web.post(f"{path}/opened")).status_code == 204
    r = await web.post(path, data={"score": "4", "ces_score": "6", "comment": "Quick <b>help</b>"})
    assert r.status_code == 200 and "Your answer is saved" in r.text
    assert "Quick &lt;b&gt;help&lt;/b&gt;" in r.text
    async with db.session(write=False) as session:
        s = await session.scalar(select(Survey).where(Survey.ticket_id == got.ticket_id))
        assert s is not None and (s.score, s.ces_score, s.comment) == (4, 6, "Quick <b>help</b>")
    assert await kinds(db, got.ticket_id) == [
        "survey.sent", "survey.sent", "survey.opened", "survey.answered", "survey.answered",
    ]  # fmt: skip

    # A second answer within the window replaces the first (one answer stands).
    r = await web.post(path, data={"score": "2", "comment": ""})
    assert r.status_code == 200
    async with db.session(write=False) as session:
        s = await session.scalar(select(Survey).where(Survey.ticket_id == got.ticket_id))
        assert s is not None and (s.score, s.comment, s.ces_score) == (2, None, None)
        assert s.changed_at is not None

    # After the window the answer is final; the page says so and nothing changes.
    async with db.session() as session:
        await session.execute(update(Survey).values(answered_at=utcnow() - timedelta(hours=49)))
    r = await web.post(path, data={"score": "5"})
    assert r.status_code == 410 and "Your answer is final" in r.text
    assert (await web.get(path)).status_code == 410
    async with db.session(write=False) as session:
        s = await session.scalar(select(Survey).where(Survey.ticket_id == got.ticket_id))
        assert s is not None and s.score == 2

    # Bad input never stores anything and says why.
    async with db.session() as session:
        await session.execute(update(Survey).values(answered_at=None, score=None))
    for data in ({"score": "9"}, {"score": "x"}, {}, {"score": "3", "comment": "x" * 5001}):
        r = await web.post(path, data=data)
        assert r.status_code == 422, data
    async with db.session(write=False) as session:
        s = await session.scalar(select(Survey).where(Survey.ticket_id == got.ticket_id))
        assert s is not None and s.answered_at is None


async def test_forged_and_expired_links_get_a_clear_page(
    quick_app: object, web: httpx.AsyncClient
) -> None:
    db: Database = quick_app.state.db  # type: ignore[attr-defined]
    person = await make_person(db)
    async with db.session() as session:
        survey = await service.open_nps(session, contact_id=await _contact(db))
        token = service.link_of(quick_app.state.settings, survey).rsplit("/", 1)[1]  # type: ignore[attr-defined]
    assert person
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        f"{survey.id + 1}." + token.split(".", 1)[1],
        "1.2",
        "<script>alert(1)</script>",
        "9" * 40,
    ]
    for bad in forged:
        r = await web.get(f"/survey/{bad}")
        assert r.status_code == 404 and "This link does not work" in r.text
        assert "<script>alert(1)" not in r.text
        r = await web.post(f"/survey/{bad}", data={"score": "10"})
        assert r.status_code == 404
    async with db.session() as session:
        await session.execute(update(Survey).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = await web.get(f"/survey/{token}")
    assert r.status_code == 410 and "This survey has closed" in r.text
    r = await web.post(f"/survey/{token}", data={"score": "10"})
    assert r.status_code == 410
    r = await web.post(f"/survey/{token}", data={"score": "10"},
                       headers={"Origin": "https://evil.example"})  # fmt: skip
    assert r.status_code == 403


async def test_a_phone_contacts_survey_link_goes_to_the_integration_by_webhook(
    quick_app: object, quick: Settings, web: httpx.AsyncClient
) -> None:
    """No email for a caller: the survey is a link, and the webhook event of its sending
    carries it (with the caller's number) for an SMS sender; the fact log does not."""
    db: Database = quick_app.state.db  # type: ignore[attr-defined]
    bridge = await make_person(db, role=Role.agent, name="PBX")
    async with db.session() as session:
        admin = actor_for(bridge.id, "admin", "Admin")
        await webhooks.create_webhook(session, admin, url="http://127.0.0.1:9/sms",
                                      events=["survey.sent"], allow_private=True)  # fmt: skip
    r = await web.post("/api/v1/channels/phone/events", headers=bridge.headers, json={
        "call_id": "c-1", "from": "+92 300 1234567", "event": "queued",
        "timestamp": utcnow().isoformat()})  # fmt: skip
    assert r.status_code == 201, r.text
    ticket_id = r.json()["results"][0]["ticket_id"]
    await solve(db, ticket_id)
    await facts.drain_consumers(db)
    await jobs.Worker(db, quick).drain(max_seconds=30)  # the CSAT job: a survey by link
    await facts.drain_consumers(db)  # its fact fans out to the webhook
    async with db.session(write=False) as session:
        survey = (await session.execute(select(Survey))).scalar_one()
        sent = await session.execute(select(Activity).where(Activity.kind == "survey.sent"))
        logged = [f.data for f in sent.scalars()]
        deliveries = list((await session.execute(select(WebhookDelivery))).scalars())
    assert survey.via == "link" and survey.ticket_id == ticket_id
    # One event for the survey, one for its CES question (which carries no second link).
    assert len(deliveries) == 2
    (body,) = [d.payload["survey"] for d in deliveries if "survey" in d.payload]
    assert body["contact"] == {"phone": "+923001234567", "email": None}
    assert body["kind"] == "csat" and body["link"] == service.link_of(quick, survey)
    assert all("/survey/" not in str(data) for data in logged)  # no agent can answer for one
    page = await web.get("/survey/" + body["link"].rsplit("/", 1)[1] + "?score=5")
    assert page.status_code == 200 and "Send my answer" in page.text


async def _contact(db: Database, email: str = "nida@example.com") -> int:
    async with db.session() as session:
        view = await contacts.create_contact(
            session, SYSTEM, ContactCreate(name="Nida", emails=[email])
        )
        return view.contact.id


async def test_one_survey_per_ticket_and_a_quiet_period(quick_app: object, quick: Settings) -> None:
    db: Database = quick_app.state.db  # type: ignore[attr-defined]
    bridge = await make_person(db, role=Role.agent, name="Bridge")
    tickets = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=quick_app),  # type: ignore[arg-type]
                                 base_url="http://t") as c:  # fmt: skip
        for i in range(3):
            r = await c.post("/api/v1/inbound", headers=bridge.headers, json={
                "external_id": f"q{i}", "contact": {"email": "same@example.com", "name": "Same"},
                "subject": f"Question {i}", "text": "Hello"})  # fmt: skip
            assert r.status_code == 201, r.text
            tickets.append(r.json()["ticket_id"])
    await solve(db, tickets[0])
    await work(db, quick)
    # Reopen and solve again: still one survey for the ticket.
    async with db.session() as session:
        await changes.update_ticket(session, SYSTEM, tickets[0], {"status": "open"})
    await solve(db, tickets[0])
    await solve(db, tickets[1])  # same customer, inside the quiet period: no second survey
    await work(db, quick)
    async with db.session(write=False) as session:
        rows = list((await session.execute(select(Survey))).scalars())
    assert [(s.ticket_id, s.via) for s in rows] == [(tickets[0], "link")]


@st.composite
def solves(draw: st.DrawFn) -> list[tuple[int, int]]:
    """(ticket index, hours since start) of solves of one customer's tickets, in time order."""
    events = draw(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 24 * 60)), max_size=12))
    return sorted(events, key=lambda e: e[1])


SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@hsettings(max_examples=15, deadline=None, suppress_health_check=SLOW)
@given(events=solves(), quiet_days=st.integers(1, 30))
def test_quiet_period_and_one_per_ticket_hold_for_any_solves(
    quick: Settings, events: list[tuple[int, int]], quiet_days: int
) -> None:
    asyncio.run(_quiet_example(quick.model_copy(update={"survey_quiet_days": quiet_days}), events))


async def _quiet_example(settings: Settings, events: list[tuple[int, int]]) -> None:
    db = Database(settings, bus=MemoryBus())
    try:
        start = datetime(2030, 1, 1, tzinfo=UTC)
        contact = await _contact(db, f"c{id(events)}-{len(events)}@example.com")
        async with db.session() as session:
            ids = []
            for i in range(5):
                t = Ticket(subject=f"t{i}", status="solved", priority="normal", channel="api",
                           contact_id=contact, created_at=start, updated_at=start)  # fmt: skip
                session.add(t)
                await session.flush()
                ids.append(t.id)
        for index, hours in events:
            async with db.session() as session:
                await service.open_csat(session, ids[index], at=start + timedelta(hours=hours))
        async with db.session(write=False) as session:
            sent = list(
                (
                    await session.execute(
                        select(Survey).where(Survey.contact_id == contact).order_by(Survey.sent_at)
                    )
                ).scalars()
            )
        assert len({s.ticket_id for s in sent}) == len(sent)  # one per ticket
        for a, b in itertools.pairwise(sent):
            assert b.sent_at - a.sent_at >= timedelta(days=settings.survey_quiet_days)
        if events:  # the first solve always gets its survey
            assert sent and sent[0].sent_at == start + timedelta(hours=events[0][1])
    finally:
        await db.dispose()


@given(contact=st.integers(1, 10**9), period=st.integers(0, 10**6),
       low=st.floats(0, 1), high=st.floats(0, 1))  # fmt: skip
def test_nps_sampling_is_stable_and_monotone(
    contact: int, period: int, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    assert service.sampled(contact, period, low) == service.sampled(contact, period, low)
    if service.sampled(contact, period, low):
        assert service.sampled(contact, period, high)
    assert not service.sampled(contact, period, 0.0)
    assert service.sampled(contact, period, 1.0)


def test_nps_sample_share_is_about_right() -> None:
    share = sum(service.sampled(c, 7, 0.1) for c in range(20_000)) / 20_000
    assert 0.09 < share < 0.11


async def test_the_pulse_is_weekly_and_anonymous(quick_app: object, web: httpx.AsyncClient) -> None:
    db: Database = quick_app.state.db  # type: ignore[attr-defined]
    agent = await make_person(db, role=Role.agent, name="Ayesha", password=PASSWORD)
    browser = await sign_in(web, agent)
    page = await browser.get("/pulse")
    assert page.status_code == 200 and "Weekly pulse" in page.text
    answer = {"satisfaction": "4", "workload": "2", "tools": "5", "comment": "More <i>coffee</i>"}
    r = await web.post("/pulse", data={**answer, "csrf_token": browser.csrf})
    assert r.status_code == 200 and "Thank you" in r.text
    r = await web.post("/pulse", data={"satisfaction": "1", "workload": "1", "tools": "1",
                                       "csrf_token": browser.csrf})  # fmt: skip
    assert r.status_code == 409
    r = await web.post("/pulse", data={"satisfaction": "7", "csrf_token": browser.csrf})
    assert r.status_code in (409, 422)
    async with db.session(write=False) as session:
        rows = list((await session.execute(
            select(Activity).where(Activity.kind == "survey.answered"))).scalars())  # fmt: skip
    [fact] = rows
    assert fact.agent_id is None and fact.contact_id is None and fact.ticket_id is None
    assert fact.data["kind"] == "pulse" and fact.data["score"] == 4
    # Nothing in the answer says who gave it.
    assert set(fact.data) == {"survey_id", "kind", "period", "score", "workload", "tools",
                              "comment"}  # fmt: skip
    assert fact.data["survey_id"].startswith("pulse-") and fact.team_id is None


async def test_feedback_inbox_and_a_supervisors_follow_up(
    quick_app: object, web: httpx.AsyncClient, quick: Settings
) -> None:
    db: Database = quick_app.state.db  # type: ignore[attr-defined]
    bridge = await make_person(db, role=Role.agent, name="Bridge")
    r = await web.post("/api/v1/inbound", headers=bridge.headers, json={
        "external_id": "low1", "contact": {"email": "angry@example.com", "name": "Angry"},
        "subject": "Broken", "text": "It broke"})  # fmt: skip
    ticket_id = r.json()["ticket_id"]
    await solve(db, ticket_id)
    await work(db, quick)
    async with db.session() as session:
        survey = await session.scalar(select(Survey).where(Survey.ticket_id == ticket_id))
        assert survey is not None
        await service.answer(session, survey, score="1", comment="<script>alert('x')</script>")
    boss = await make_person(db, role=Role.supervisor, name="Zainab", password=PASSWORD)
    browser = await sign_in(web, boss)
    page = await browser.get("/reports/feedback?low=true")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text
    assert "<script>alert('x')" not in page.text
    r = await browser.post(f"/reports/feedback/{survey.id}/follow-up")
    assert r.status_code == 204 and r.headers["HX-Redirect"] == f"/tickets/{ticket_id}"
    async with db.session(write=False) as session:
        t = await session.get(Ticket, ticket_id)
        assert t is not None and t.assignee_id == boss.id and t.escalation_level >= 1
    r = await browser.post(f"/reports/feedback/{survey.id}/follow-up")
    assert r.status_code == 409
    # The API lists it with its link, for admins only.
    admin = await make_person(db, role=Role.admin, name="Adil")
    r = await web.get(f"/api/v1/surveys?ticket_id={ticket_id}", headers=admin.headers)
    assert r.status_code == 200
    [item] = r.json()["items"]
    assert item["score"] == 1 and "/survey/" in item["link"]
    r = await web.get("/api/v1/surveys", headers=bridge.headers)
    assert r.status_code == 403
    r = await web.get("/api/v1/surveys?kind=weird", headers=admin.headers)
    assert r.status_code == 422
