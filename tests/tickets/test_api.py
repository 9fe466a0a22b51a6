"""The tickets API as an agent uses it: lists, filters, changes, replies, notes, merges."""

from __future__ import annotations

import httpx
import pytest

from madad.auth.models import Role
from tests.conftest import Person, count_statements, make_person
from tests.tickets.helpers import inbound


async def test_list_filters_and_counts(
    client: httpx.AsyncClient, agent: Person, admin: Person
) -> None:
    a = await inbound(client, agent, email="a@example.com", tags=["billing"])
    b = await inbound(client, agent, email="b@example.com", priority="urgent")
    await inbound(client, agent, email="c@example.com")
    r = await client.patch(
        f"/api/v1/tickets/{a['ticket_id']}",
        json={"assignee_id": agent.id, "status": "open"},
        headers=agent.headers,
    )
    assert r.status_code == 200, r.text

    async def ids(query: str) -> list[int]:
        r = await client.get(f"/api/v1/tickets?{query}", headers=agent.headers)
        assert r.status_code == 200, r.text
        return [t["id"] for t in r.json()["items"]]

    assert await ids("assignee=me") == [a["ticket_id"]]
    assert a["ticket_id"] not in await ids("assignee=none")
    assert await ids("tag=billing") == [a["ticket_id"]]
    assert await ids("priority=urgent") == [b["ticket_id"]]
    assert await ids("status=open") == [a["ticket_id"]]
    assert len(await ids("status=new,open")) == 3
    assert await ids(f"q=%23{b['ticket_id']}") == [b["ticket_id"]]
    assert await ids("sort=priority&limit=1") == [b["ticket_id"]]
    r = await client.get("/api/v1/tickets/count?assignee=none", headers=agent.headers)
    assert r.json() == {"count": 2}


async def test_waiting_longest_puts_answered_tickets_last_and_pages_through_them(
    client: httpx.AsyncClient, agent: Person
) -> None:
    created = [
        (await inbound(client, agent, email=f"w{i}@example.com"))["ticket_id"] for i in range(7)
    ]
    for ticket_id in created[::2]:  # answered: nobody waits on these any more
        r = await client.post(
            f"/api/v1/tickets/{ticket_id}/reply", headers=agent.headers, json={"text": "Done"}
        )
        assert r.status_code == 201, r.text
    seen: list[int] = []
    cursor = None
    while True:
        url = "/api/v1/tickets?sort=waiting&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=agent.headers)).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    waiting = [t for t in created if t not in created[::2]]
    assert seen == waiting + sorted(created[::2])


async def test_cursor_pagination_visits_every_ticket_once(
    client: httpx.AsyncClient, agent: Person
) -> None:
    created = [
        (await inbound(client, agent, email=f"p{i}@example.com"))["ticket_id"] for i in range(7)
    ]
    for sort in ("last_activity", "created", "oldest", "priority", "waiting"):
        seen: list[int] = []
        cursor = None
        while True:
            url = f"/api/v1/tickets?sort={sort}&limit=3" + (f"&cursor={cursor}" if cursor else "")
            page = (await client.get(url, headers=agent.headers)).json()
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(created), sort
        assert len(seen) == len(set(seen))


async def test_a_bad_cursor_or_sort_is_422(client: httpx.AsyncClient, agent: Person) -> None:
    r = await client.get("/api/v1/tickets?cursor=garbage", headers=agent.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "cursor"
    r = await client.get("/api/v1/tickets?sort=random", headers=agent.headers)
    assert r.status_code == 422
    r = await client.get("/api/v1/tickets?assignee=someone", headers=agent.headers)
    assert r.status_code == 422


async def test_reply_note_and_the_conversation_in_order(
    client: httpx.AsyncClient, agent: Person
) -> None:
    t = await inbound(client, agent)
    tid = t["ticket_id"]
    r = await client.post(
        f"/api/v1/tickets/{tid}/notes", json={"text": "VIP customer"}, headers=agent.headers
    )
    assert r.status_code == 201 and r.json()["visibility"] == "note"
    r = await client.post(
        f"/api/v1/tickets/{tid}/reply",
        json={"text": "Sorry! It ships today.", "status": "pending"},
        headers=agent.headers,
    )
    assert r.status_code == 201, r.text
    reply = r.json()
    assert reply["direction"] == "outbound" and reply["delivery_status"] == "queued"
    ticket = (await client.get(f"/api/v1/tickets/{tid}", headers=agent.headers)).json()
    # Replying assigns an unassigned ticket to the agent and clears the customer's wait.
    assert ticket["assignee_id"] == agent.id
    assert ticket["status"] == "pending" and ticket["waiting_since"] is None
    msgs = (await client.get(f"/api/v1/tickets/{tid}/messages", headers=agent.headers)).json()[
        "items"
    ]
    assert [(m["author_type"], m["visibility"]) for m in msgs] == [
        ("contact", "public"),
        ("agent", "note"),
        ("agent", "public"),
    ]
    public = (
        await client.get(
            f"/api/v1/tickets/{tid}/messages?include_notes=false", headers=agent.headers
        )
    ).json()["items"]
    assert len(public) == 2
    facts = (await client.get(f"/api/v1/tickets/{tid}/activity", headers=agent.headers)).json()[
        "items"
    ]
    assert [f["kind"] for f in facts] == [
        "ticket.created",
        "message.received",
        "note.added",
        "message.sent",
        "ticket.assigned",
        "ticket.status_changed",
    ]


async def test_patch_records_one_fact_per_change(
    client: httpx.AsyncClient, agent: Person, admin: Person
) -> None:
    team = (
        await client.post("/api/v1/teams", json={"name": "Billing"}, headers=admin.headers)
    ).json()
    tid = (await inbound(client, agent))["ticket_id"]
    r = await client.patch(
        f"/api/v1/tickets/{tid}",
        json={
            "priority": "high",
            "team_id": team["id"],
            "add_tags": ["refund", "VIP"],
            "custom_fields": {"order": "A-1"},
            "escalation_level": 1,
            "escalation_reason": "angry",
            "subject": "Refund for order A-1",
        },
        headers=agent.headers,
    )
    assert r.status_code == 200, r.text
    t = r.json()
    assert (t["priority"], t["team_id"], t["tags"], t["escalation_level"]) == (
        "high",
        team["id"],
        ["refund", "vip"],
        1,
    )
    assert t["custom_fields"] == {"order": "A-1"} and t["subject"] == "Refund for order A-1"
    r = await client.patch(
        f"/api/v1/tickets/{tid}",
        json={"remove_tags": ["vip"], "custom_fields": {"order": None}},
        headers=agent.headers,
    )
    assert r.json()["tags"] == ["refund"] and r.json()["custom_fields"] == {}
    kinds = [
        f["kind"]
        for f in (
            await client.get(f"/api/v1/tickets/{tid}/activity", headers=agent.headers)
        ).json()["items"]
    ]
    for kind in (
        "ticket.priority_changed",
        "ticket.team_changed",
        "ticket.tags_changed",
        "ticket.escalated",
        "ticket.updated",
    ):
        assert kind in kinds


async def test_bad_changes_are_refused_and_change_nothing(
    client: httpx.AsyncClient, agent: Person
) -> None:
    tid = (await inbound(client, agent))["ticket_id"]
    await client.patch(f"/api/v1/tickets/{tid}", json={"status": "open"}, headers=agent.headers)
    before = (await client.get(f"/api/v1/tickets/{tid}", headers=agent.headers)).json()
    cases = [
        ({"status": "new"}, 422),
        ({"status": "done"}, 422),
        ({"assignee_id": 999999}, 422),
        ({"team_id": 999999}, 422),
        ({"escalation_level": 9}, 422),
        ({"subject": ""}, 422),
        ({"priority": "high", "assignee_id": 999999}, 422),  # all or nothing
        ({"nonsense": True}, 422),
    ]
    for change, status in cases:
        r = await client.patch(f"/api/v1/tickets/{tid}", json=change, headers=agent.headers)
        assert r.status_code == status, (change, r.text)
    after = (await client.get(f"/api/v1/tickets/{tid}", headers=agent.headers)).json()
    assert after == before
    r = await client.patch(
        "/api/v1/tickets/424242", json={"priority": "low"}, headers=agent.headers
    )
    assert r.status_code == 404 and r.json()["title"] == "Not found"


async def test_closed_tickets_take_no_replies(client: httpx.AsyncClient, agent: Person) -> None:
    tid = (await inbound(client, agent))["ticket_id"]
    await client.patch(f"/api/v1/tickets/{tid}", json={"status": "closed"}, headers=agent.headers)
    r = await client.post(
        f"/api/v1/tickets/{tid}/reply", json={"text": "hi"}, headers=agent.headers
    )
    assert r.status_code == 409
    r = await client.patch(f"/api/v1/tickets/{tid}", json={"status": "open"}, headers=agent.headers)
    assert r.status_code == 409


async def test_merge_moves_the_conversation_and_closes_the_source(
    client: httpx.AsyncClient, agent: Person
) -> None:
    a = (await inbound(client, agent, email="x@example.com", tags=["a"]))["ticket_id"]
    b = (await inbound(client, agent, email="y@example.com", tags=["b"]))["ticket_id"]
    r = await client.post(f"/api/v1/tickets/{b}/merge", json={"into": a}, headers=agent.headers)
    assert r.status_code == 200, r.text
    target = r.json()
    assert target["id"] == a and target["tags"] == ["a", "b"]
    source = (await client.get(f"/api/v1/tickets/{b}", headers=agent.headers)).json()
    assert source["status"] == "closed" and source["merged_into_id"] == a
    msgs = (await client.get(f"/api/v1/tickets/{a}/messages", headers=agent.headers)).json()
    assert len(msgs["items"]) == 2
    # Merged tickets leave the lists, and cannot be merged again or merged into.
    listed = [
        t["id"]
        for t in (await client.get("/api/v1/tickets", headers=agent.headers)).json()["items"]
    ]
    assert b not in listed
    assert (
        await client.post(f"/api/v1/tickets/{b}/merge", json={"into": a}, headers=agent.headers)
    ).status_code == 409
    assert (
        await client.post(f"/api/v1/tickets/{a}/merge", json={"into": a}, headers=agent.headers)
    ).status_code == 422


async def test_links_are_listed_on_both_tickets(client: httpx.AsyncClient, agent: Person) -> None:
    a = (await inbound(client, agent, email="x@example.com"))["ticket_id"]
    b = (await inbound(client, agent, email="y@example.com"))["ticket_id"]
    r = await client.post(f"/api/v1/tickets/{a}/links", json={"other_id": b}, headers=agent.headers)
    assert r.status_code == 201
    for tid in (a, b):
        links = (await client.get(f"/api/v1/tickets/{tid}", headers=agent.headers)).json()["links"]
        assert [(lk["ticket_id"], lk["other_id"], lk["kind"]) for lk in links] == [
            (min(a, b), max(a, b), "related")
        ]


@pytest.mark.parametrize("pages", [1, 3])
async def test_ticket_list_costs_a_fixed_number_of_statements(
    app: object, client: httpx.AsyncClient, agent: Person, pages: int
) -> None:
    """However many tickets, tags and contacts a page holds, the list issues the same
    statements: one for the page, one for tags, one for contacts (plus authentication)."""
    for i in range(pages * 10):
        await inbound(client, agent, email=f"n{i}@example.com", tags=["t1", "t2"])
    with count_statements(app.state.db) as counter:  # type: ignore[attr-defined]
        r = await client.get("/api/v1/tickets?limit=50", headers=agent.headers)
    assert r.status_code == 200 and len(r.json()["items"]) == pages * 10
    assert counter.count <= 5, counter.statements


async def test_messages_list_costs_a_fixed_number_of_statements(
    app: object, client: httpx.AsyncClient, agent: Person
) -> None:
    tid = (await inbound(client, agent))["ticket_id"]
    for i in range(12):
        await client.post(
            f"/api/v1/tickets/{tid}/notes", json={"text": f"note {i}"}, headers=agent.headers
        )
    with count_statements(app.state.db) as counter:  # type: ignore[attr-defined]
        r = await client.get(f"/api/v1/tickets/{tid}/messages", headers=agent.headers)
    assert len(r.json()["items"]) == 13
    assert counter.count <= 5, counter.statements


async def test_an_agent_cannot_administer(
    app: object, client: httpx.AsyncClient, agent: Person
) -> None:
    r = await client.post("/api/v1/teams", json={"name": "X"}, headers=agent.headers)
    assert r.status_code == 403
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://example.com/h", "events": ["*"]},
        headers=agent.headers,
    )
    assert r.status_code == 403
    supervisor = await make_person(app.state.db, role=Role.supervisor)  # type: ignore[attr-defined]
    r = await client.post(
        "/api/v1/users", json={"email": "z@example.com", "name": "Z"}, headers=supervisor.headers
    )
    assert r.status_code == 403


async def test_ids_out_of_range_are_a_422_not_a_database_error(
    client: httpx.AsyncClient, agent: Person
) -> None:
    for path in (
        "/api/v1/tickets/99999999999",
        "/api/v1/contacts/99999999999",
        "/api/v1/tickets/0",
    ):
        r = await client.get(path, headers=agent.headers)
        assert r.status_code == 422, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_priority_sort_pages_across_priority_levels(
    client: httpx.AsyncClient, agent: Person
) -> None:
    made: list[tuple[int, str]] = []
    for i, priority in enumerate(["low", "urgent", "normal", "high", "normal", "urgent", "low"]):
        got = await inbound(client, agent, email=f"r{i}@example.com", priority=priority)
        made.append((int(got["ticket_id"]), priority))  # type: ignore[call-overload]
    rank = {"urgent": 3, "high": 2, "normal": 1, "low": 0}
    expected = [t for t, _ in sorted(made, key=lambda m: (-rank[m[1]], -m[0]))]
    seen: list[int] = []
    cursor = None
    while True:
        url = "/api/v1/tickets?sort=priority&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(url, headers=agent.headers)).json()
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == expected
