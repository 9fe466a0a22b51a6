"""Webhooks: signed deliveries to a real receiver on loopback, retries, the delivery log, and
refusal of private destinations unless an admin allows them."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

import httpx
import pytest
from sqlalchemy import update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from madad import jobs
from madad.activity import service as facts
from madad.jobs import Job
from madad.webhooks import service as webhooks
from madad.webhooks.models import Webhook
from madad.webhooks.transport import BlockedDestination, guarded_client
from tests.conftest import Person
from tests.servers import serve_app
from tests.tickets.helpers import inbound


@dataclass
class Receiver:
    """A webhook receiver: records what arrives, answers with the next scripted status."""

    statuses: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.received.append((dict(request.headers), await request.body()))
            status = self.statuses.pop(0) if self.statuses else 200
            return Response("thanks" if status < 300 else "try later", status_code=status)

        return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


async def settle(app: object) -> None:
    """Let the worker do what a running server does in the background."""
    db = app.state.db  # type: ignore[attr-defined]
    await facts.drain_consumers(db)
    await jobs.Worker(db, app.state.settings).drain()  # type: ignore[attr-defined]


async def make_hook(client: httpx.AsyncClient, admin: Person, url: str, events: list[str]) -> dict:
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": url, "events": events, "allow_private": True},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_deliveries_are_signed_and_logged(
    app: object, client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    receiver = Receiver()
    async with serve_app(receiver.app()) as base:
        hook = await make_hook(client, admin, base + "/hook", ["message.received", "ticket.*"])
        assert hook["secret"].startswith("whsec_")
        posted = await inbound(client, agent, text="Where is my refund?")
        await settle(app)
    events = {}
    for headers, body in receiver.received:
        ts = int(headers["madad-timestamp"])
        assert abs(time.time() - ts) < 60
        assert webhooks.verify(hook["secret"], ts, body, headers["madad-signature"])
        assert not webhooks.verify(hook["secret"], ts, body + b" ", headers["madad-signature"])
        assert not webhooks.verify("whsec_wrong", ts, body, headers["madad-signature"])
        doc = httpx.Response(200, content=body).json()
        assert headers["madad-event"] == doc["event"]
        assert headers["madad-delivery"] == str(doc["delivery_id"])
        events[doc["event"]] = doc
    assert set(events) == {"ticket.created", "message.received"}
    message = events["message.received"]["data"]["message"]
    assert message["text"] == "Where is my refund?"
    assert events["message.received"]["data"]["ticket_id"] == posted["ticket_id"]
    log = (
        await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin.headers)
    ).json()["items"]
    assert {d["status"] for d in log} == {"delivered"}
    assert all(d["response_status"] == 200 and d["attempts"] == 1 for d in log)
    assert all(d["duration_ms"] is not None for d in log)


async def test_a_failing_receiver_is_retried_with_backoff(
    app: object, client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    receiver = Receiver(statuses=[503, 500])
    async with serve_app(receiver.app()) as base:
        hook = await make_hook(client, admin, base + "/hook", ["ticket.created"])
        await inbound(client, agent)
        await settle(app)
        log = (
            await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin.headers)
        ).json()["items"]
        assert [(d["status"], d["attempts"], d["response_status"]) for d in log] == [
            ("failed", 1, 503)
        ]
        assert "503" in log[0]["error"] and log[0]["response_excerpt"] == "try later"
        db = app.state.db  # type: ignore[attr-defined]
        for _ in range(2):
            async with db.session() as session:  # the backoff elapses
                await session.execute(
                    update(Job)
                    .where(Job.kind == webhooks.DELIVER_JOB)
                    .values(run_at=facts.utcnow())
                )
            await jobs.Worker(db, app.state.settings).drain()  # type: ignore[attr-defined]
    log = (
        await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin.headers)
    ).json()["items"]
    assert [(d["status"], d["attempts"]) for d in log] == [("delivered", 3)]
    assert len(receiver.received) == 3
    # Every attempt carries the same delivery id: receivers can drop repeats.
    assert len({h["madad-delivery"] for h, _ in receiver.received}) == 1


async def test_only_subscribed_kinds_are_delivered(
    app: object, client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    receiver = Receiver()
    async with serve_app(receiver.app()) as base:
        await make_hook(client, admin, base + "/hook", ["message.sent"])
        t = await inbound(client, agent)
        await client.post(
            f"/api/v1/tickets/{t['ticket_id']}/reply",
            json={"text": "On its way!"},
            headers=agent.headers,
        )
        await settle(app)
    kinds = [h["madad-event"] for h, _ in receiver.received]
    assert kinds == ["message.sent"]
    doc = httpx.Response(200, content=receiver.received[0][1]).json()
    # What a social bridge needs to carry the reply back to the customer.
    assert doc["data"]["message"]["text"] == "On its way!"
    assert doc["data"]["message"]["direction"] == "outbound"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
    ],
)
async def test_private_destinations_need_an_admins_permission(
    client: httpx.AsyncClient, admin: Person, url: str
) -> None:
    r = await client.post(
        "/api/v1/webhooks", json={"url": url, "events": ["*"]}, headers=admin.headers
    )
    assert r.status_code == 422 and "private" in r.json()["detail"]


async def test_a_name_that_resolves_inside_is_refused_at_connection_time(
    app: object, client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    """A public-looking name may resolve (or re-resolve) to an inside address: the check that
    counts is the one made when connecting, after resolution."""
    receiver = Receiver()
    async with serve_app(receiver.app()) as base:
        port = base.rsplit(":", 1)[1]
        # The machine's own host name resolves to a loopback address here.
        url = f"http://{socket.gethostname()}:{port}/hook"
        hook = await make_hook(client, admin, url, ["ticket.created"])
        async with app.state.db.session() as session:  # type: ignore[attr-defined]
            await session.execute(
                update(Webhook).where(Webhook.id == hook["id"]).values(allow_private=False)
            )
        await inbound(client, agent)
        await settle(app)
        with pytest.raises(BlockedDestination):
            async with guarded_client(allow_private=False, timeout=5) as http:
                await http.post(url, content=b"{}")
    assert receiver.received == []
    log = (
        await client.get(f"/api/v1/webhooks/{hook['id']}/deliveries", headers=admin.headers)
    ).json()["items"]
    assert log[0]["status"] == "failed" and "non-public address" in log[0]["error"]


async def test_webhook_admin_api(client: httpx.AsyncClient, admin: Person) -> None:
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "ftp://example.com", "events": ["*"]},
        headers=admin.headers,
    )
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://user:pw@example.com/h", "events": ["*"]},
        headers=admin.headers,
    )
    assert r.status_code == 422
    r = await client.post(
        "/api/v1/webhooks",
        json={"url": "https://example.com/h", "events": ["bad kind!"]},
        headers=admin.headers,
    )
    assert r.status_code == 422
    hook = (
        await client.post(
            "/api/v1/webhooks",
            json={"url": "https://example.com/h", "events": ["ticket.*"]},
            headers=admin.headers,
        )
    ).json()
    rotated = (
        await client.patch(
            f"/api/v1/webhooks/{hook['id']}", json={"rotate_secret": True}, headers=admin.headers
        )
    ).json()
    assert rotated["secret"] != hook["secret"]
    listed = (await client.get("/api/v1/webhooks", headers=admin.headers)).json()
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert (
        await client.delete(f"/api/v1/webhooks/{hook['id']}", headers=admin.headers)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/webhooks/{hook['id']}", headers=admin.headers)
    ).status_code == 404


def test_event_patterns() -> None:
    assert webhooks.matches(["*"], "ticket.created")
    assert webhooks.matches(["ticket.*"], "ticket.created")
    assert not webhooks.matches(["ticket.*"], "tickets.created")
    assert webhooks.matches(["message.sent"], "message.sent")
    assert not webhooks.matches(["message.sent"], "message.received")
