"""Call events from a phone system: any arrival order and any repeat give one call timeline, one
ticket and one fact per event, dated by the event's own time."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from madad.activity.models import Activity
from madad.channels.phone.models import PhoneCall, PhoneEvent
from madad.db import Database
from madad.metrics.definitions import (
    Period,
    abandonment_rate,
    hold_time,
    live_contacts,
    service_level,
    speed_of_answer,
)
from madad.tickets.models import Message, Ticket
from tests.conftest import Person
from tests.console.conftest import sign_in

URL = "/api/v1/channels/phone/events"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
CORPUS = Path(__file__).parents[2] / "corpus"


def at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat()


def event(call: str, name: str, seconds: float, **extra: Any) -> dict[str, Any]:
    return {
        "call_id": call,
        "from": "+92 300 1234567",
        "to": "+92 21 111 000 111",
        "queue": "billing",
        "event": name,
        "timestamp": at(seconds),
        **extra,
    }


def answered_call(call: str, agent: Person) -> list[dict[str, Any]]:
    """Queued at 0, answered after 30 s, on hold 40–70 s, ended at 100 s with a recording."""
    return [
        event(call, "queued", 0),
        event(call, "ringing", 25, agent=agent.email),
        event(call, "answered", 30, agent=agent.email),
        event(call, "hold", 40, agent=agent.email),
        event(call, "resume", 70, agent=agent.email),
        event(call, "ended", 100, recording_url="https://pbx.example.com/rec/1.wav"),
    ]


async def post(client: httpx.AsyncClient, who: Person, body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=who.headers)


async def live_facts(db: Database) -> list[Activity]:
    async with db.session(write=False) as s:
        return list(
            await s.scalars(
                select(Activity).where(Activity.kind.like("live.%")).order_by(Activity.id)
            )
        )


def fact_summary(facts: list[Activity]) -> list[tuple]:
    return sorted(
        (f.kind, f.at, f.agent_id, f.channel, json.dumps(f.data, sort_keys=True)) for f in facts
    )


async def call_row(db: Database, call_id: str) -> PhoneCall:
    async with db.session(write=False) as s:
        call = await s.scalar(select(PhoneCall).where(PhoneCall.call_id == call_id))
    assert call is not None
    return call


def state_of(call: PhoneCall) -> tuple:
    return (
        call.state,
        call.queued_at,
        call.answered_at,
        call.agent_id,
        call.ended_at,
        call.abandoned_at,
        call.hold_seconds,
        call.recording_url,
    )


async def test_a_call_becomes_a_ticket_with_its_timeline_and_facts(
    app: Any, client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    r = await post(client, integration, answered_call("call-1", agent))
    assert r.status_code == 201, r.text
    results = r.json()["results"]
    assert [x["stored"] for x in results] == [True] * 6
    assert {x["ticket_id"] for x in results} == {results[0]["ticket_id"]}
    assert results[-1]["state"] == "ended"
    ticket_id = results[0]["ticket_id"]

    call = await call_row(app.state.db, "call-1")
    assert state_of(call) == (
        "ended",
        T0,
        T0 + timedelta(seconds=30),
        agent.id,
        T0 + timedelta(seconds=100),
        None,
        30.0,
        "https://pbx.example.com/rec/1.wav",
    )
    facts = await live_facts(app.state.db)
    assert [(f.kind, f.at) for f in facts] == [
        ("live.offered", T0),
        ("live.answered", T0 + timedelta(seconds=30)),
        ("live.hold", T0 + timedelta(seconds=40)),
        ("live.resumed", T0 + timedelta(seconds=70)),
        ("live.ended", T0 + timedelta(seconds=100)),
    ]
    assert all(f.ticket_id == ticket_id and f.channel == "phone" for f in facts)
    assert all(f.data["session"] == "call-1" and f.data["queue"] == "billing" for f in facts)
    assert facts[1].agent_id == agent.id

    ticket = (await client.get(f"/api/v1/tickets/{ticket_id}", headers=agent.headers)).json()
    assert ticket["channel"] == "phone"
    assert ticket["subject"] == "Call from +92 300 1234567"
    messages = (
        await client.get(f"/api/v1/tickets/{ticket_id}/messages", headers=agent.headers)
    ).json()["items"]
    texts = [m["text"] for m in messages]
    assert texts[0] == "Call from +92 300 1234567 to +92 21 111 000 111 (queue billing)"
    assert any(t.startswith("Answered by Ayesha Agent") for t in texts)
    assert any("Recording: https://pbx.example.com/rec/1.wav" in t for t in texts)
    # Agents add their own notes to the call's ticket through the ticket API.
    note = await client.post(
        f"/api/v1/tickets/{ticket_id}/notes",
        json={"text": "Customer wants a refund"},
        headers=agent.headers,
    )
    assert note.status_code == 201
    contact = (
        await client.get(f"/api/v1/contacts/{call.contact_id}", headers=agent.headers)
    ).json()
    assert contact["phones"] == ["+923001234567"]


async def test_shuffled_and_repeated_events_give_the_same_call_and_facts(
    app: Any, client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    in_order = answered_call("ordered", agent)
    assert (await post(client, integration, in_order)).status_code == 201

    shuffled = answered_call("shuffled", agent) * 2  # every event twice
    random.Random(5).shuffle(shuffled)
    assert shuffled[0]["event"] != "queued"
    stored = []
    for body in shuffled:  # one at a time, as a phone system would send them
        r = await post(client, integration, body)
        assert r.status_code in (200, 201), r.text
        stored.append(r.json()["results"][0]["stored"])
    assert sum(stored) == 6

    db = app.state.db
    assert state_of(await call_row(db, "ordered")) == state_of(await call_row(db, "shuffled"))
    facts = await live_facts(db)

    def of(call: str) -> list[tuple]:
        return [
            (k, a, ag, ch, d.replace(call, "CALL"))
            for k, a, ag, ch, d in fact_summary([f for f in facts if f.data["session"] == call])
        ]

    assert of("ordered") == of("shuffled") and len(of("ordered")) == 5
    async with db.session(write=False) as s:
        assert await s.scalar(select(func.count()).select_from(PhoneEvent)) == 12
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 2
        notes = await s.scalar(
            select(func.count()).select_from(Message).where(Message.visibility == "note")
        )
    assert notes == 12  # one timeline line per event of each call, none repeated


async def test_ended_before_answered_still_ends_the_call(
    app: Any, client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    r = await post(client, integration, event("late", "ended", 90))
    assert r.json()["results"][0]["state"] == "ended"
    r = await post(client, integration, event("late", "answered", 20, agent=str(agent.id)))
    assert r.json()["results"][0]["state"] == "ended"
    r = await post(client, integration, event("late", "queued", 0))
    assert r.json()["results"][0]["state"] == "ended"
    call = await call_row(app.state.db, "late")
    assert (call.queued_at, call.answered_at, call.agent_id) == (
        T0,
        T0 + timedelta(seconds=20),
        agent.id,
    )


async def test_concurrent_posts_for_one_call_make_one_ticket(
    app: Any, client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    events = answered_call("rush", agent)
    responses = await asyncio.gather(*(post(client, integration, e) for e in events * 3))
    assert all(r.status_code in (200, 201) for r in responses), [r.text for r in responses]
    assert len({r.json()["results"][0]["ticket_id"] for r in responses}) == 1
    assert sum(r.json()["results"][0]["stored"] for r in responses) == 6
    async with app.state.db.session(write=False) as s:
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 1
        assert await s.scalar(select(func.count()).select_from(PhoneEvent)) == 6
    assert len(await live_facts(app.state.db)) == 5
    assert (await call_row(app.state.db, "rush")).state == "ended"


async def test_an_abandoned_call_records_the_time_waited(
    app: Any, client: httpx.AsyncClient, integration: Person
) -> None:
    r = await post(
        client, integration, [event("gone", "abandoned", 47), event("gone", "queued", 2)]
    )
    assert r.status_code == 201 and r.json()["results"][0]["state"] == "abandoned"
    call = await call_row(app.state.db, "gone")
    assert (call.state, call.abandoned_at, call.answered_at) == (
        "abandoned",
        T0 + timedelta(seconds=47),
        None,
    )
    abandoned = [f for f in await live_facts(app.state.db) if f.kind == "live.abandoned"]
    assert len(abandoned) == 1
    (contact,) = live_contacts(await live_facts(app.state.db))
    assert contact.wait == 45.0 and not contact.short_abandon


async def test_a_hold_left_open_counts_to_the_end_of_the_call(
    app: Any, client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    events = [
        event("holds", "queued", 0),
        event("holds", "answered", 10, agent=agent.email),
        event("holds", "hold", 20),
        event("holds", "resume", 25),
        event("holds", "hold", 50),
        event("holds", "ended", 80),
    ]
    r = await post(client, integration, list(reversed(events)))
    assert r.status_code == 201
    assert (await call_row(app.state.db, "holds")).hold_seconds == 35.0


async def test_unknown_agent_is_stored_as_none_with_a_warning(
    app: Any, client: httpx.AsyncClient, integration: Person
) -> None:
    r = await post(client, integration, event("who", "answered", 5, agent="ghost@example.com"))
    assert r.status_code == 201
    result = r.json()["results"][0]
    assert result["agent_id"] is None and "ghost@example.com" in result["warnings"][0]
    assert (await call_row(app.state.db, "who")).agent_id is None


async def test_bad_events_are_problems_and_store_nothing(
    app: Any, client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    good = event("bad", "queued", 0)
    bad_bodies: list[Any] = [
        {**good, "event": "exploded"},
        {**good, "timestamp": "2026-11-02T09:00:00"},  # no zone
        {**good, "timestamp": "yesterday"},
        {**good, "call_id": ""},
        {k: v for k, v in good.items() if k != "from"},
        {**good, "recording_url": "javascript:alert(1)"},
        {**good, "recording_url": "file:///etc/passwd"},
        {**good, "surprise": 1},
        {**good, "call_id": "x\u0000y"},
        {**good, "data": {"k": "nul\u0000"}},
        {**good, "data": "not an object"},
        {**good, "data": {"big": 10**30}},
        {**good, "timestamp": "0001-01-01T00:00:00+05:00"},
        {**good, "from": "x" * 256},
        [good, {**good, "event": "nope"}],
        [],
        "queued",
        42,
    ]
    for body in bad_bodies:
        r = await post(client, integration, body)
        assert r.status_code == 422, (body, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.post(URL, json=good, headers=agent.headers)).status_code == 201
    r = await client.post(URL, json=good)
    assert r.status_code == 401
    async with app.state.db.session(write=False) as s:
        assert await s.scalar(select(func.count()).select_from(PhoneEvent)) == 1


async def test_naughty_strings_are_stored_exactly_and_shown_escaped(
    client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    naughty: list[str] = json.loads((CORPUS / "naughty-strings" / "blns.json").read_text())
    strings = [*(s for s in naughty if s and "\x00" not in s), '<script>alert("x")</script>']
    batch = [
        {
            "call_id": f"naughty-{i}",
            "from": s[:255],
            "to": s[:255],
            "queue": s[:255],
            "event": "queued",
            "timestamp": at(i),
            "data": {"note": s, s[:200]: i},
        }
        for i, s in enumerate(strings)
    ]
    r = await post(client, integration, batch)
    assert r.status_code == 201, r.text
    for i, s in enumerate(strings):
        call = await client.get(f"/api/v1/channels/phone/calls/naughty-{i}", headers=agent.headers)
        assert call.status_code == 200, (i, s, call.text)
        got = call.json()
        assert (got["from"], got["to"], got["queue"]) == (s[:255], s[:255], s[:255]), i
        assert got["events"][0]["data"] == {"note": s, s[:200]: i}
    ticket_id = r.json()["results"][-1]["ticket_id"]
    browser = await sign_in(client, agent)
    page = await browser.get(f"/tickets/{ticket_id}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(" in page.text and '<script>alert("x")' not in page.text


async def test_the_metric_engine_reads_the_calls_as_a_supervisor_would_count_them(
    app: Any, client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    calls = [
        *answered_call("a", agent),  # waited 30 s, held 30 s
        event("b", "queued", 10),
        event("b", "answered", 20, agent=agent.email),  # waited 10 s, never held
        event("b", "ended", 60),
        event("c", "queued", 0),
        event("c", "abandoned", 45),  # gave up after 45 s
        event("d", "queued", 0),
        event("d", "abandoned", 3),  # a short abandon: counted nowhere
        event("e", "queued", 100),
        event("e", "answered", 150, agent=agent.email),  # waited 50 s
        event("e", "hold", 160),  # held until the end: 40 s
        event("e", "ended", 200),
    ]
    random.Random(11).shuffle(calls)
    for i in range(0, len(calls), 3):
        assert (await post(client, integration, calls[i : i + 3])).status_code == 201

    facts = await live_facts(app.state.db)
    period = Period(T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    asa = speed_of_answer(facts, period)
    assert (asa.n, asa.mean, asa.median, asa.p90) == (3, 30.0, 30.0, 50.0)
    abandoned = abandonment_rate(facts, period)
    assert (abandoned.numerator, abandoned.denominator) == (1, 4)
    held = hold_time(facts, period)
    assert (held.n, held.mean, held.median) == (3, 70 / 3, 30.0)
    assert service_level(facts, period).value == 1 / 4
    assert speed_of_answer(facts, Period(T0 + timedelta(hours=1), T0 + timedelta(hours=2))).n == 0
