"""POST /api/v1/inbound: what integrations see, including every kind of bad input."""

from __future__ import annotations

import base64

import httpx
import pytest
from sqlalchemy import func, select

from madad.activity.models import Activity
from madad.contacts.models import Contact
from madad.tickets.models import Message, Ticket
from tests.conftest import Person

PROBLEM = "application/problem+json"


def body(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {
        "external_id": "tw-1",
        "contact": {"handle": "twitter:@sana", "name": "Sana"},
        "text": "My order has not arrived",
    }
    base.update(kw)
    return base


async def count(app: object, model: type) -> int:
    async with app.state.db.session(write=False) as session:  # type: ignore[attr-defined]
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def test_inbound_creates_a_ticket_and_repeats_answer_200(
    client: httpx.AsyncClient, integration: Person
) -> None:
    first = await client.post("/api/v1/inbound", json=body(), headers=integration.headers)
    assert first.status_code == 201, first.text
    ids = first.json()
    assert ids["created"] is True and ids["new_ticket"] is True
    again = await client.post("/api/v1/inbound", json=body(), headers=integration.headers)
    assert again.status_code == 200
    assert {k: again.json()[k] for k in ("ticket_id", "message_id", "contact_id")} == {
        k: ids[k] for k in ("ticket_id", "message_id", "contact_id")
    }
    assert again.json()["created"] is False


async def test_idempotency_key_replays_and_refuses_a_different_body(
    app: object, client: httpx.AsyncClient, integration: Person
) -> None:
    headers = {**integration.headers, "Idempotency-Key": "abc-123"}
    first = await client.post("/api/v1/inbound", json=body(external_id="k1"), headers=headers)
    assert first.status_code == 201
    replay = await client.post("/api/v1/inbound", json=body(external_id="k1"), headers=headers)
    assert replay.status_code == 200 and replay.json()["ticket_id"] == first.json()["ticket_id"]
    other = await client.post("/api/v1/inbound", json=body(external_id="k2"), headers=headers)
    assert other.status_code == 409
    assert other.headers["content-type"] == PROBLEM
    assert "Idempotency-Key" in other.json()["detail"]
    assert await count(app, Message) == 1


async def test_same_external_id_with_other_text_is_409(
    client: httpx.AsyncClient, integration: Person
) -> None:
    await client.post("/api/v1/inbound", json=body(), headers=integration.headers)
    r = await client.post(
        "/api/v1/inbound", json=body(text="something else"), headers=integration.headers
    )
    assert r.status_code == 409 and r.json()["title"] == "Conflict"


async def test_attachments_arrive_and_download_as_attachments(
    client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    data = b"<html><script>alert(1)</script></html>"
    r = await client.post(
        "/api/v1/inbound",
        json=body(
            attachments=[
                {
                    "filename": "évidence.html",
                    "content_type": "text/html",
                    "data": base64.b64encode(data).decode(),
                }
            ]
        ),
        headers=integration.headers,
    )
    assert r.status_code == 201, r.text
    msgs = await client.get(
        f"/api/v1/tickets/{r.json()['ticket_id']}/messages", headers=agent.headers
    )
    att = msgs.json()["items"][0]["attachments"][0]
    assert att["filename"] == "évidence.html" and att["size"] == len(data)
    dl = await client.get(att["url"], headers=agent.headers)
    assert dl.status_code == 200 and dl.content == data
    # Never rendered as HTML in our origin.
    assert dl.headers["content-type"] == "application/octet-stream"
    assert dl.headers["content-disposition"].startswith("attachment;")
    assert dl.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"contact": {"email": "a@example.com"}, "text": "x"}, 422, "external_id"),
        (body(contact={"name": "No identity"}), 422, "contact"),
        (body(contact={"email": "not-an-email"}), 422, "contact.email"),
        (body(contact={"phone": "call me maybe"}), 422, "contact.phone"),
        (body(text=""), 422, "text"),
        (body(text=12), 422, "text"),
        (body(priority="whenever"), 422, "priority"),
        (body(unknown_field=1), 422, "unknown_field"),
        (
            body(attachments=[{"filename": "a", "data": "%%%not base64"}]),
            422,
            "attachments[0].data",
        ),
        (body(text="nul \x00 byte"), 422, "text"),
        (body(tags=["not a tag!"]), 422, "tags"),
        (body(received_at="2026-01-01T10:00:00"), 422, "received_at"),
    ],
)
async def test_bad_input_is_a_clear_4xx_and_stores_nothing(
    app: object,
    client: httpx.AsyncClient,
    integration: Person,
    payload: dict[str, object],
    status: int,
    field: str,
) -> None:
    r = await client.post("/api/v1/inbound", json=payload, headers=integration.headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["status"] == status and problem["detail"]
    named = [e["field"] for e in problem.get("errors", [])] + [problem["detail"]]
    assert any(field in n for n in named), problem
    for model in (Contact, Ticket, Message, Activity):
        assert await count(app, model) == 0


async def test_malformed_json_is_400(client: httpx.AsyncClient, integration: Person) -> None:
    r = await client.post(
        "/api/v1/inbound",
        content=b'{"external_id": "x", ',
        headers={**integration.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["title"] == "Malformed JSON"


async def test_oversized_body_is_413(
    app: object, client: httpx.AsyncClient, integration: Person
) -> None:
    limit = app.state.settings.max_request_bytes  # type: ignore[attr-defined]
    r = await client.post(
        "/api/v1/inbound",
        content=b"x" * (limit + 10),
        headers={**integration.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM


async def test_oversized_chunked_body_is_413(
    app: object, client: httpx.AsyncClient, integration: Person
) -> None:
    limit = app.state.settings.max_request_bytes  # type: ignore[attr-defined]

    async def chunks():  # no Content-Length: the limit is counted as the body streams in
        for _ in range(limit // 65536 + 2):
            yield b" " * 65536

    r = await client.post(
        "/api/v1/inbound",
        content=chunks(),
        headers={**integration.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413


async def test_no_token_is_401_and_wrong_scope_is_403(
    client: httpx.AsyncClient, integration: Person
) -> None:
    r = await client.post("/api/v1/inbound", json=body())
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = await client.post(
        "/api/v1/inbound", json=body(), headers={"Authorization": "Bearer mdd_nope_nope"}
    )
    assert r.status_code == 401
    r = await client.post(
        "/api/v1/inbound", json=body(), headers={"Authorization": "Basic dXNlcjpwYXNz"}
    )
    assert r.status_code == 401
    # The integration token may post messages but not read tickets.
    r = await client.get("/api/v1/tickets", headers=integration.headers)
    assert r.status_code == 403 and "tickets:read" in r.json()["detail"]


async def test_conversation_and_reply_threading_over_the_api(
    client: httpx.AsyncClient, integration: Person
) -> None:
    a = await client.post(
        "/api/v1/inbound",
        json=body(external_id="1", conversation_id="dm-7"),
        headers=integration.headers,
    )
    b = await client.post(
        "/api/v1/inbound",
        json=body(external_id="2", conversation_id="dm-7", text="hello?"),
        headers=integration.headers,
    )
    assert a.json()["ticket_id"] == b.json()["ticket_id"]
