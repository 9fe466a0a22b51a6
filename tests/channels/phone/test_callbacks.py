"""Callbacks: a customer asks to be called back inside a queue's hours; agents take the task
(exclusively), call, and log the outcome; overdue ones are flagged. Through the real API and
pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import func, select

from madad.activity.models import Activity
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, actor_for
from madad.channels.hours import calendar as cal
from madad.channels.hours import service as hours
from madad.channels.phone import callbacks
from madad.channels.phone.callbacks_models import Callback
from madad.db import Database, commit
from madad.errors import Conflict, TooManyRequests
from madad.tickets.models import Message, Ticket
from tests.conftest import Person, count_statements, make_person
from tests.console.conftest import PASSWORD, sign_in

QUEUES = "/api/v1/live/queues"
LIST = "/api/v1/live/callbacks"
CORPUS = Path(__file__).parents[2] / "corpus"
NAUGHTY: list[str] = json.loads((CORPUS / "naughty-strings" / "blns.json").read_text())
KARACHI = ZoneInfo("Asia/Karachi")


def soon(minutes: int = 60, length: int = 30) -> tuple[str, str]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=minutes)
    return start.isoformat(), (start + timedelta(minutes=length)).isoformat()


def body(phone: str = "+92 300 1234567", window: tuple[str, str] | None = None, **extra: object):
    start, end = window or soon()
    return {"name": "Zara Khan", "phone": phone, "window_start": start, "window_end": end, **extra}


async def open_queue(client: httpx.AsyncClient, admin: Person, **extra: object) -> None:
    """ "billing", open around the clock unless told."""
    payload = {
        "name": "billing",
        "time_zone": "Asia/Karachi",
        "weekly_hours": {d: ["00:00-24:00"] for d in cal.WEEKDAYS},
        **extra,
    }
    r = await client.post(QUEUES, json=payload, headers=admin.headers)
    assert r.status_code == 201, r.text


async def ask(client: httpx.AsyncClient, payload: dict, **headers: str) -> httpx.Response:
    return await client.post(f"{QUEUES}/billing/callbacks", json=payload, headers=headers)


async def facts(db: Database, kind: str) -> list[Activity]:
    async with db.session(write=False) as s:
        return list(await s.scalars(select(Activity).where(Activity.kind == kind)))


async def test_a_request_becomes_a_ticket_for_the_contact_and_a_fact(
    client: httpx.AsyncClient, app: object, admin: Person, agent: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    known = await client.post(
        "/api/v1/contacts",
        json={"name": "Zara", "phones": ["+923001234567"]},
        headers=agent.headers,
    )
    assert known.status_code == 201, known.text
    start, end = soon(90, 60)
    r = await ask(client, body(window=(start, end), email="zara@example.com", note="Invoice 7"))
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "open" and made["queue"] == "billing"
    assert datetime.fromisoformat(made["due_at"]) == datetime.fromisoformat(end)

    listed = (await client.get(LIST, headers=agent.headers)).json()
    assert listed["overdue"] == 0
    [item] = listed["items"]
    assert item["contact_id"] == known.json()["id"]  # found by the phone number
    assert item["phone"] == "+923001234567" and item["email"] == "zara@example.com"
    assert item["overdue"] is False and item["agent_id"] is None
    ticket = (
        await client.get(f"/api/v1/tickets/{item['ticket_id']}", headers=agent.headers)
    ).json()
    assert ticket["channel"] == "phone" and ticket["contact"]["id"] == known.json()["id"]
    messages = await client.get(
        f"/api/v1/tickets/{item['ticket_id']}/messages", headers=agent.headers
    )
    text = messages.json()["items"][0]["text"]
    assert "Callback requested (queue billing)" in text and "Note: Invoice 7" in text
    assert "(Asia/Karachi)" in text

    [fact] = await facts(db, "live.callback_requested")
    assert fact.channel == "phone" and fact.ticket_id == item["ticket_id"]
    assert fact.data["session"] == str(made["id"]) and fact.data["queue"] == "billing"
    # The email from a public form is kept on the callback, not joined to the contact.
    contact = (
        await client.get(f"/api/v1/contacts/{item['contact_id']}", headers=agent.headers)
    ).json()
    assert "zara@example.com" not in json.dumps(contact)


def next_weekday(weekday: int, hour: int, minute: int = 0) -> datetime:
    today = datetime.now(UTC).astimezone(KARACHI).date()
    ahead = (weekday - today.weekday()) % 7 or 7
    day = today + timedelta(days=ahead)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=KARACHI)


async def test_windows_outside_business_hours_are_refused_clearly(
    client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    await open_queue(client, admin, weekly_hours={"monday": ["09:00-17:00"]})
    monday = next_weekday(0, 10)
    tuesday = next_weekday(1, 10)
    r = await ask(
        client, body(window=(tuesday.isoformat(), (tuesday + timedelta(hours=1)).isoformat()))
    )
    assert r.status_code == 422
    problem = r.json()
    assert problem["errors"][0]["field"] == "window_start"
    assert "outside the queue's business hours" in problem["detail"]
    assert "next opens Mon" in problem["detail"] and "09:00 (Asia/Karachi)" in problem["detail"]

    late = monday.replace(hour=16, minute=30)
    r = await ask(client, body(window=(late.isoformat(), (late + timedelta(hours=1)).isoformat())))
    assert r.status_code == 422 and "closes at Mon" in r.json()["detail"]
    assert "17:00" in r.json()["detail"]

    past = datetime.now(UTC) - timedelta(hours=2)
    cases = [
        ((monday.isoformat(), monday.isoformat()), "window_end"),
        ((past.isoformat(), (past + timedelta(minutes=30)).isoformat()), "window_start"),
        (("2026-11-24T10:00:00", "2026-11-24T11:00:00"), "window_start"),  # no zone
        ((monday.isoformat(), (monday + timedelta(hours=13)).isoformat()), "window_end"),
        (("not a time", monday.isoformat()), "window_start"),
    ]
    for window, field in cases:
        r = await ask(client, body(window=window))
        assert r.status_code == 422, (window, r.text)
        assert r.json()["errors"][0]["field"] == field, (window, r.json())
    for bad in (
        {"phone": "call me"},
        {"name": " "},
        {"email": "not-an-address"},
        {"note": "x" * 2001},
    ):
        r = await ask(
            client,
            {**body(window=(monday.isoformat(), (monday + timedelta(hours=1)).isoformat())), **bad},
        )
        assert r.status_code == 422, (bad, r.text)
    assert (await client.post(f"{QUEUES}/nope/callbacks", json=body())).status_code == 404

    ok = await ask(
        client, body(window=(monday.isoformat(), (monday + timedelta(hours=1)).isoformat()))
    )
    assert ok.status_code == 201, ok.text
    r = await client.patch(
        f"{QUEUES}/billing", json={"callbacks_enabled": False}, headers=admin.headers
    )
    r = await ask(
        client,
        body(
            phone="+92 300 7654321",
            window=(monday.isoformat(), (monday + timedelta(hours=1)).isoformat()),
        ),
    )
    assert r.status_code == 422 and "no callback requests" in r.json()["detail"]
    assert len((await client.get(LIST, headers=agent.headers)).json()["items"]) == 1


async def test_repeats_are_answered_with_the_first_request(
    client: httpx.AsyncClient, app: object, admin: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    window = soon(60)
    first = await ask(client, body(window=window), **{"Idempotency-Key": "form-1"})
    again = await ask(client, body(window=window), **{"Idempotency-Key": "form-1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    other = await ask(client, body(window=soon(120)), **{"Idempotency-Key": "form-1"})
    assert other.status_code == 409
    # The same number and window without a key: the same request.
    plain = await ask(client, body(phone="0092-300-1234567", window=window))
    assert plain.status_code == 200 and plain.json()["id"] == first.json()["id"]
    # Submitted twice at once: stored once.
    both = await asyncio.gather(*(ask(client, body(phone="+44 20 7946 0000")) for _ in range(2)))
    assert sorted(r.status_code for r in both) == [200, 201]
    assert both[0].json()["id"] == both[1].json()["id"]
    async with db.session(write=False) as s:
        assert await s.scalar(select(func.count(Callback.id))) == 2
        assert await s.scalar(select(func.count(Ticket.id))) == 2
    assert len(await facts(db, "live.callback_requested")) == 2


async def test_requests_are_limited_per_number_and_per_client(
    app: object, client: httpx.AsyncClient, admin: Person
) -> None:
    await open_queue(client, admin)
    for i in range(callbacks.PER_NUMBER_PER_HOUR):
        assert (await ask(client, body(window=soon(60 + i * 30)))).status_code == 201
    r = await ask(client, body(window=soon(300)))
    assert r.status_code == 429 and "this number" in r.json()["detail"]
    # Retry-After says when the first of the hour's requests stops counting: about an hour.
    assert 3500 <= int(r.headers["Retry-After"]) <= 3601
    assert r.headers["Access-Control-Allow-Origin"] == "*"

    def from_address(host: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(host, 5000))  # type: ignore[arg-type]
        return httpx.AsyncClient(transport=transport, base_url="http://madad.test")

    async with from_address("203.0.113.7") as one, from_address("198.51.100.9") as two:
        for i in range(callbacks.PER_ADDRESS_PER_HOUR):
            r = await ask(one, body(phone=f"+92 301 55500{i:02d}"))
            assert r.status_code == 201, r.text
        r = await ask(one, body(phone="+92 301 5559999"))
        assert r.status_code == 429 and "from here" in r.json()["detail"]
        assert 3500 <= int(r.headers["Retry-After"]) <= 3601
        assert (await ask(two, body(phone="+92 301 5559999"))).status_code == 201


async def test_two_agents_taking_at_once_one_gets_it(
    client: httpx.AsyncClient, app: object, admin: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    agents = [await make_person(db, role=Role.agent, name=f"Agent {i}") for i in range(4)]
    ids = []
    for i in range(8):
        r = await ask(client, body(phone=f"+92 302 00000{i:02d}"))
        ids.append(r.json()["id"])
    for callback_id in ids:
        results = await asyncio.gather(
            *(client.post(f"{LIST}/{callback_id}/take", headers=a.headers) for a in agents)
        )
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409, 409, 409], [r.text for r in results]
        winner = next(a for a, r in zip(agents, results, strict=True) if r.status_code == 200)
        loser = next(r for r in results if r.status_code == 409)
        assert "has already taken this callback" in loser.json()["detail"]
        taken = (await client.get(f"{LIST}/{callback_id}", headers=winner.headers)).json()
        assert taken["status"] == "taken" and taken["agent_id"] == winner.id
        ticket = (
            await client.get(f"/api/v1/tickets/{taken['ticket_id']}", headers=winner.headers)
        ).json()
        assert ticket["assignee_id"] == winner.id
        # Taking one's own again is no error.
        again = await client.post(f"{LIST}/{callback_id}/take", headers=winner.headers)
        assert again.status_code == 200


async def test_outcomes_go_on_the_ticket_and_unreached_callbacks_are_retried(
    client: httpx.AsyncClient, app: object, admin: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha")
    bilal = await make_person(db, role=Role.agent, name="Bilal")
    callback_id = (await ask(client, body())).json()["id"]
    url = f"{LIST}/{callback_id}"

    r = await client.post(f"{url}/outcome", json={"outcome": "reached"}, headers=ayesha.headers)
    assert r.status_code == 409 and "take the callback" in r.json()["detail"]
    assert (await client.post(f"{url}/take", headers=ayesha.headers)).status_code == 200
    r = await client.post(f"{url}/outcome", json={"outcome": "reached"}, headers=bilal.headers)
    assert r.status_code == 409  # not Bilal's
    r = await client.post(f"{url}/outcome", json={"outcome": "maybe"}, headers=ayesha.headers)
    assert r.status_code == 422
    r = await client.post(
        f"{url}/outcome",
        json={"outcome": "no_answer", "note": "Rang 10 times"},
        headers=ayesha.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "not_reached" and r.json()["attempts"] == 1

    # Not reached: back in the queue, then Bilal takes it and reaches the customer.
    r = await client.post(f"{url}/retry", headers=bilal.headers)
    assert r.status_code == 200 and r.json()["status"] == "open" and r.json()["agent_id"] is None
    assert (await client.post(f"{url}/take", headers=bilal.headers)).status_code == 200
    r = await client.post(
        f"{url}/outcome",
        json={"outcome": "reached", "note": "Refund agreed <b>today</b>"},
        headers=bilal.headers,
    )
    assert r.json()["status"] == "done" and r.json()["attempts"] == 2
    assert r.json()["outcome"] == "reached"
    for action in ("take", "retry", "release"):
        assert (await client.post(f"{url}/{action}", headers=bilal.headers)).status_code == 409
    assert (await client.get(LIST, headers=bilal.headers)).json()["items"] == []
    done = (await client.get(LIST, params={"status": "done"}, headers=bilal.headers)).json()
    assert [c["id"] for c in done["items"]] == [callback_id]

    ticket_id = r.json()["ticket_id"]
    async with db.session(write=False) as s:
        notes = list(
            await s.scalars(
                select(Message.text)
                .where(Message.ticket_id == ticket_id, Message.visibility == "note")
                .order_by(Message.id)
            )
        )
    assert notes == [
        "Callback attempt 1: no answer\n\nRang 10 times",
        "Callback attempt 2: reached the customer\n\nRefund agreed <b>today</b>",
    ]
    done_facts = sorted(await facts(db, "live.callback_done"), key=lambda f: f.id)
    assert [(f.agent_id, f.data["outcome"], f.data["attempt"]) for f in done_facts] == [
        (ayesha.id, "no_answer", 1),
        (bilal.id, "reached", 2),
    ]
    assert all(f.channel == "phone" and f.data["session"] == str(callback_id) for f in done_facts)
    assert all(f.data["queue"] == "billing" and f.ticket_id == ticket_id for f in done_facts)


async def test_overdue_callbacks_are_flagged_and_counted(
    client: httpx.AsyncClient, app: object, admin: Person, agent: Person
) -> None:
    """Overdue is decided when asked: an active callback whose window has ended."""
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    then = datetime.now(UTC) - timedelta(hours=3)
    async with db.session() as s:
        late = await callbacks.request_callback(
            s,
            "billing",
            callbacks.CallbackRequest(
                name="Late Larkin",
                phone="+92 333 0000001",
                window_start=then + timedelta(minutes=10),
                window_end=then + timedelta(minutes=40),
            ),
            now=then,
        )
    fresh = (await ask(client, body(phone="+92 333 0000002"))).json()
    listed = (await client.get(LIST, headers=agent.headers)).json()
    assert listed["overdue"] == 1
    assert [(c["id"], c["overdue"]) for c in listed["items"]] == [
        (late.callback.id, True),
        (fresh["id"], False),
    ]
    only = (await client.get(LIST, params={"overdue": "true"}, headers=agent.headers)).json()
    assert [c["id"] for c in only["items"]] == [late.callback.id]

    browser = await sign_in(client, await make_person(db, role=Role.agent, password=PASSWORD))
    page = await browser.get("/callbacks")
    assert page.status_code == 200
    assert "1 overdue" in page.text
    row = page.text.split(f'id="callback-{late.callback.id}"')[1].split("</tr>")[0]
    assert "Overdue" in row and "Late Larkin" in row
    # Taken or not, it stays overdue until done.
    await client.post(f"{LIST}/{late.callback.id}/take", headers=agent.headers)
    assert (await client.get(LIST, headers=agent.headers)).json()["overdue"] == 1
    await client.post(
        f"{LIST}/{late.callback.id}/outcome",
        json={"outcome": "wrong_number"},
        headers=agent.headers,
    )
    assert (await client.get(LIST, headers=agent.headers)).json()["overdue"] == 0


async def test_the_console_page_takes_and_logs(
    client: httpx.AsyncClient, app: object, admin: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    callback_id = (await ask(client, body(note="Call after lunch"))).json()["id"]
    ayesha = await sign_in(
        client, await make_person(db, role=Role.agent, name="Ayesha", password=PASSWORD)
    )
    r = await ayesha.post(f"/callbacks/{callback_id}/take")
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/callbacks?done=taken"
    page = await ayesha.get("/callbacks?done=taken")
    assert (
        "The callback is yours" in page.text
        and f'action="/callbacks/{callback_id}/outcome"' in page.text
    )

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://madad.test",  # type: ignore[arg-type]
    ) as other:
        bilal = await sign_in(
            other, await make_person(db, role=Role.agent, name="Bilal", password=PASSWORD)
        )
        r = await bilal.client.post(
            f"/callbacks/{callback_id}/take",
            data={"csrf_token": bilal.csrf},
            headers={"accept": "text/html"},
        )
        assert r.status_code == 409 and "Ayesha has already taken this callback" in r.text
        assert f'action="/callbacks/{callback_id}/outcome"' not in r.text  # not his to log

    r = await ayesha.post(
        f"/callbacks/{callback_id}/outcome", {"outcome": "left_voicemail", "note": "Left details"}
    )
    assert r.headers["hx-redirect"] == "/callbacks?done=logged"
    page = await ayesha.get("/callbacks")
    row = page.text.split(f'id="callback-{callback_id}"')[1].split("</tr>")[0]
    assert "Not reached" in row and "Left a voicemail" in row and "Take and try again" in row


async def test_only_agents_see_and_work_callbacks(
    client: httpx.AsyncClient, admin: Person, integration: Person
) -> None:
    await open_queue(client, admin)
    callback_id = (await ask(client, body())).json()["id"]
    assert (await client.get(LIST)).status_code == 401
    assert (await client.get(LIST, headers=integration.headers)).status_code == 403
    r = await client.post(f"{LIST}/{callback_id}/take", headers=integration.headers)
    assert r.status_code == 403
    assert (await client.get(f"{LIST}/999999", headers=admin.headers)).status_code == 404
    assert (await client.get(f"{LIST}?status=lost", headers=admin.headers)).status_code == 422


@pytest.mark.parametrize("part", [0, 1, 2])
async def test_naughty_strings_are_stored_exactly_and_shown_escaped(
    client: httpx.AsyncClient, app: object, admin: Person, part: int
) -> None:
    """Every naughty string as a name, a note, a phone number, a time and a key: a 201 or a
    4xx, never a 500; what is stored comes back exactly and is escaped on the page."""
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    strings = NAUGHTY[part::3]  # the page shows the 200 soonest
    stored: dict[int, str] = {}
    for i, s in enumerate(strings):
        transport = httpx.ASGITransport(app=app, client=(f"10.{part}.{i // 250}.{i % 250}", 1))  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://madad.test") as c:
            phone = f"+92 304 {part}{i:06d}"
            r = await ask(c, body(phone=phone, window=soon(60 + i), note=s, name=s))
            assert r.status_code in (201, 422), (i, s, r.text)
            if r.status_code == 201:
                stored[r.json()["id"]] = s
            else:
                assert r.json()["errors"][0]["field"] == "name", (i, s, r.json())
            for bad in ({"phone": s}, {"window_start": s}, {"email": s}):
                r = await ask(c, {**body(phone=phone, window=soon(60 + i)), **bad})
                assert r.status_code in (200, 201, 422, 429), (i, s, bad, r.text)
            if s.strip() not in ("", ".", ".."):  # those name no key: the path is another one
                r = await c.post(f"{QUEUES}/{quote(s, safe='')}/callbacks", json=body())
                assert r.status_code in (404, 422), (i, s, r.text)
    assert len(stored) > len(strings) * 0.9
    listed = (await client.get(LIST, params={"limit": 500}, headers=admin.headers)).json()["items"]
    by_id = {c["id"]: c for c in listed}
    for callback_id, s in stored.items():
        assert by_id[callback_id]["name"] == s and by_id[callback_id]["note"] == (
            s if s.strip() else None
        )
    browser = await sign_in(client, await make_person(db, role=Role.agent, password=PASSWORD))
    page = (await browser.get("/callbacks")).text
    for s in stored.values():
        assert str(escape(s)) in page, s
    script = next(s for s in NAUGHTY if s.startswith("<script>"))
    assert script not in page


async def test_the_rate_limit_counts_only_this_hour(
    app: object, client: httpx.AsyncClient, admin: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    then = datetime.now(UTC) - timedelta(hours=2)
    async with db.session() as s:
        for i in range(callbacks.PER_NUMBER_PER_HOUR):
            await callbacks.request_callback(
                s, "billing",
                callbacks.CallbackRequest(
                    name="Early", phone="+92 305 1111111",
                    window_start=then + timedelta(minutes=10 + i * 40),
                    window_end=then + timedelta(minutes=40 + i * 40),
                ),
                now=then,
            )  # fmt: skip
    assert (await ask(client, body(phone="+92 305 1111111"))).status_code == 201
    async with db.session() as s:
        with pytest.raises(TooManyRequests) as refused:
            for i in range(callbacks.PER_NUMBER_PER_HOUR):
                await callbacks.request_callback(
                    s, "billing",
                    callbacks.CallbackRequest(
                        name="Now", phone="+92 305 1111111",
                        window_start=datetime.now(UTC) + timedelta(minutes=90 + i * 40),
                        window_end=datetime.now(UTC) + timedelta(minutes=120 + i * 40),
                    ),
                )  # fmt: skip
    # The hour's first counted request was the one made through the API just before.
    assert refused.value.retry_after is not None and 3500 <= refused.value.retry_after <= 3601


async def test_a_widget_on_any_site_can_ask_and_read_the_answer(
    client: httpx.AsyncClient, admin: Person
) -> None:
    """CORS on every answer of the public request, problem documents included; never cookies."""
    await open_queue(client, admin)
    origin = {"Origin": "https://shop.example.com"}
    pre = await client.options(
        f"{QUEUES}/billing/callbacks",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert pre.status_code == 204
    assert pre.headers["access-control-allow-origin"] == "*"
    assert "POST" in pre.headers["access-control-allow-methods"]
    assert "Idempotency-Key" in pre.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in pre.headers
    answers = [
        await client.post(f"{QUEUES}/billing/callbacks", json=body(), headers=origin),
        await client.post(f"{QUEUES}/billing/callbacks", json={"name": "x"}, headers=origin),
        await client.post(
            f"{QUEUES}/billing/callbacks",
            content=b"{",
            headers={**origin, "Content-Type": "application/json"},
        ),
        await client.post(f"{QUEUES}/nope/callbacks", json=body(), headers=origin),
        await client.post(
            f"{QUEUES}/billing/callbacks", json=body(window=soon(-60)), headers=origin
        ),
    ]
    assert [r.status_code for r in answers] == [201, 422, 400, 404, 422]
    for r in answers:
        assert r.headers["access-control-allow-origin"] == "*", r.text
    assert answers[1].headers["content-type"] == "application/problem+json"
    # The agents' API stays same-origin.
    r = await client.get(LIST, headers={**origin, **admin.headers})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


async def test_the_list_costs_the_same_statements_for_one_callback_or_ten(
    client: httpx.AsyncClient, app: object, admin: Person
) -> None:
    db: Database = app.state.db  # type: ignore[attr-defined]
    await open_queue(client, admin)
    agents = [await make_person(db, role=Role.agent, name=f"Agent {i}") for i in range(3)]

    async def cost() -> int:
        with count_statements(db) as counter:
            r = await client.get(LIST, headers=admin.headers)
        assert r.status_code == 200
        return counter.count

    await ask(client, body(phone="+92 306 0000000"))
    await client.post(f"{LIST}/1/take", headers=agents[0].headers)
    one = await cost()
    for i in range(1, callbacks.PER_ADDRESS_PER_HOUR):
        r = await ask(client, body(phone=f"+92 306 00000{i:02d}"))
        await client.post(f"{LIST}/{r.json()['id']}/take", headers=agents[i % 3].headers)
    assert len((await client.get(LIST, headers=admin.headers)).json()["items"]) == 10
    assert await cost() == one


async def test_a_take_waiting_on_another_finds_it_taken(db: Database) -> None:
    """Exclusivity without timing luck: the second take waits on the first one's transaction
    (a row lock on PostgreSQL, the write lock on SQLite) and, once it commits, gets a Conflict."""
    ayesha = await make_person(db, role=Role.agent, name="Ayesha")
    bilal = await make_person(db, role=Role.agent, name="Bilal")
    async with db.session() as s:
        await hours.create_queue(
            s, SYSTEM, name="billing", time_zone="UTC",
            weekly_hours={d: ["00:00-24:00"] for d in cal.WEEKDAYS},
        )  # fmt: skip
        start = datetime.now(UTC) + timedelta(hours=1)
        made = await callbacks.request_callback(
            s,
            "billing",
            callbacks.CallbackRequest("Zara", "+92 300 1234567", start, start + timedelta(hours=1)),
        )
    callback_id = made.callback.id
    first, second = db.new_session(), db.new_session()
    try:
        await callbacks.take(first, actor_for(ayesha.id, "agent", "Ayesha"), callback_id)
        waiting = asyncio.create_task(
            callbacks.take(second, actor_for(bilal.id, "agent", "Bilal"), callback_id)
        )
        await asyncio.sleep(0.5)
        assert not waiting.done()  # held up by the first take's transaction
        await commit(first)
        with pytest.raises(Conflict, match="Ayesha has already taken this callback"):
            await waiting
    finally:
        await second.rollback()
        await first.close()
        await second.close()
    async with db.session(write=False) as s:
        row = await s.get(Callback, callback_id)
        assert row is not None and row.agent_id == ayesha.id and row.status == "taken"
        ticket = await s.get(Ticket, row.ticket_id)
        assert ticket is not None and ticket.assignee_id == ayesha.id
