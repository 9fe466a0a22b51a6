"""Signed user identities per inbox: a website signs {user_id, email, name} with the inbox's
secret (shown once, rotatable); a valid signature makes the visitor that user — their chats
join the CRM contact of that email and follow them to another device — while an unsigned,
forged, stale or other inbox's claim is an anonymous visitor. Over real sockets, both
databases."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from madad.auth.models import AuditEntry, Role
from madad.channels.chat import identity
from madad.channels.chat.models import ChatSession
from madad.config import Settings
from madad.db import Database
from madad.errors import Invalid
from madad.tickets.models import Ticket
from tests.channels.chat.test_sockets import frames_until, is_type, new_inbox, ws
from tests.conftest import make_person
from tests.servers import serve_here

SECRET = "mis_" + "k" * 43


def claims(secret: str = SECRET, **over: str) -> dict[str, str]:
    c = {"user_id": "u-42", "email": "Sana@Example.com", "name": "Sana Shop"}
    c["signature"] = identity.sign(secret, c["user_id"], c["email"], c["name"])
    c.update(over)
    return c


def test_only_the_inbox_secrets_signature_over_exactly_these_fields_proves_an_identity() -> None:
    who = identity.verify(SECRET, {"type": "identify", **claims()})
    assert who == identity.Identity("u-42", "sana@example.com", "Sana Shop")
    nameless = {"user_id": "7", "email": "a@example.com"}
    signed = identity.sign(SECRET, "7", "a@example.com")
    assert identity.verify(SECRET, {**nameless, "signature": signed}).name is None
    # The signature is the hex HMAC-SHA256 of "user_id\nemail\nname", so a server in any
    # language computes it the same way.
    import hashlib
    import hmac

    message = b"u-42\nSana@Example.com\nSana Shop"
    assert claims()["signature"] == hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    refused = [
        claims(user_id="u-43"),  # another user with this user's signature
        claims(email="ceo@example.com"),
        claims(name="Someone Else"),
        claims(secret="mis_other"),  # signed with another inbox's secret
        claims(signature="0" * 64),
        claims(signature="not hex"),
        {k: v for k, v in claims().items() if k != "signature"},
        {k: v for k, v in claims().items() if k != "user_id"},
        claims(user_id="u-42\nadmin"),  # a line break would shift the fields
        claims(email="not an address", signature=identity.sign(SECRET, "u-42", "not an address")),
        claims(user_id="x" * 201),
    ]
    for bad in refused:
        with pytest.raises(Invalid):
            identity.verify(SECRET, bad)
    with pytest.raises(Invalid, match="verifies no identities"):
        identity.verify(None, claims())
    with pytest.raises(Invalid):
        identity.verify(SECRET, ["not", "an", "object"])


async def identify(base: str, key: str, frame: dict | None, *, timeout: float = 10.0):
    """Open the visitor socket with identify=1, send `frame`; return (socket, frames to ready)."""
    sock = await connect(ws(base, "/api/v1/chat/visitor", inbox=key, identify="1"))
    if frame is not None:
        await sock.send(json.dumps({"type": "identify", **frame}))
    return sock, await frames_until(sock, is_type("ready"), timeout=timeout)


async def test_a_signed_visitor_is_the_customer_on_every_device_and_a_forged_one_is_nobody(
    settings: Settings,
) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        agent = await make_person(db, role=Role.agent)
        inbox = await new_inbox(base, admin)
        async with httpx.AsyncClient(base_url=base) as c:
            r = await c.post(
                "/api/v1/chat/inboxes/{}/identity-secret".format(inbox["id"]), headers=admin.headers
            )
            assert r.status_code == 201 and r.headers["cache-control"] == "no-store"
            secret = r.json()["secret"]
            listed = (await c.get("/api/v1/chat/inboxes", headers=admin.headers)).json()
            assert listed[0]["identity_verification"] is True and secret not in json.dumps(listed)
            r = await c.post(
                "/api/v1/chat/inboxes/{}/identity-secret".format(inbox["id"]), headers=agent.headers
            )
            assert r.status_code == 403
            known = await c.post(
                "/api/v1/contacts", json={"name": "Sana", "emails": ["sana@example.com"]},
                headers=agent.headers,
            )  # fmt: skip
            assert known.status_code == 201
        # Signed: the visitor is Sana; her chat is her CRM contact's.
        sock, got = await identify(base, inbox["key"], claims(secret))
        async with sock:
            hello = got[0]
            assert hello["type"] == "hello" and hello["identified"] is True
            assert hello["name"] == "Sana Shop"
            start = {"id": "s1", "text": "My order?", "email": "typed@example.com", "name": "T"}
            await sock.send(json.dumps({"type": "start", **start}))
            await frames_until(sock, is_type("state", state="queued"))
            await sock.send(json.dumps({"type": "message", "id": "s2", "text": "Still there?"}))
            await frames_until(sock, is_type("ack", client_id="s2"))
        user_token = hello["token"]
        async with db.session(write=False) as s:
            chat = (await s.scalars(select(ChatSession))).one()
            ticket = await s.get(Ticket, chat.ticket_id)
            assert chat.contact_id == known.json()["id"] == ticket.contact_id  # type: ignore[union-attr]
            assert (chat.user_id, chat.email, chat.name) == (
                "u-42",
                "sana@example.com",
                "Sana Shop",
            )
            assert "chat_email" not in ticket.custom_fields  # type: ignore[union-attr]

        # Another device, same signed user: the same chat and its history.
        sock, got = await identify(base, inbox["key"], claims(secret))
        async with sock:
            texts = [f["text"] for f in got if f["type"] == "message"]
            assert texts == ["My order?", "Still there?"]

        # A forged signature, a signature by the old secret after a rotation, or none: an
        # error frame for the site's developer, then an anonymous visitor who sees nothing.
        async with httpx.AsyncClient(base_url=base) as c:
            r = await c.post(
                "/api/v1/chat/inboxes/{}/identity-secret".format(inbox["id"]), headers=admin.headers
            )
            new_secret = r.json()["secret"]
        assert new_secret != secret
        for frame in (claims(secret), claims(signature="f" * 64), {"user_id": "u-42"}):
            sock, got = await identify(base, inbox["key"], frame)
            async with sock:
                assert got[0]["type"] == "error" and got[0]["code"] == "identity"
                assert got[1]["identified"] is False
                assert [f for f in got if f["type"] == "message"] == []
                assert got[-2] == {"type": "state", "state": "none"}
        # The signed user's token, kept by the browser after signing out, is worth nothing.
        async with connect(
            ws(base, "/api/v1/chat/visitor", inbox=inbox["key"], token=user_token)
        ) as v:
            got = await frames_until(v, is_type("ready"))
            assert got[0]["token"] != user_token and got[0]["identified"] is False
            assert got[1] == {"type": "state", "state": "none"}
        # The new secret works; removing it makes everyone anonymous.
        sock, got = await identify(base, inbox["key"], claims(new_secret))
        async with sock:
            assert got[0]["identified"] is True
        async with httpx.AsyncClient(base_url=base) as c:
            r = await c.delete(
                "/api/v1/chat/inboxes/{}/identity-secret".format(inbox["id"]), headers=admin.headers
            )
            assert r.status_code == 204
        sock, got = await identify(base, inbox["key"], claims(new_secret))
        async with sock:
            assert got[0]["code"] == "identity" and "verifies no identities" in got[0]["detail"]
        async with db.session(write=False) as s:
            actions = list(await s.scalars(select(AuditEntry.action)))
        assert actions.count("chat_inbox.identity_secret_rotated") == 2
        assert "chat_inbox.identity_secret_removed" in actions


async def test_a_socket_that_promises_an_identity_and_sends_none_is_anonymous(
    settings: Settings,
) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        sock, got = await identify(base, inbox["key"], None, timeout=20)
        async with sock:
            assert got[0]["code"] == "identity" and got[1]["identified"] is False
