"""The email channel's HTTP API: raw inbound mail, the viewable original, quarantined mail,
mailbox administration — including every kind of bad input."""

from __future__ import annotations

import json
from email.header import Header
from pathlib import Path

import httpx

from madad.channels.email.parse import parse_email
from madad.tickets.content import sanitise_html
from tests.channels.email.conftest import corpus
from tests.channels.email.helpers import raw_email
from tests.conftest import Person

PROBLEM = "application/problem+json"
RAW = {"Content-Type": "message/rfc822"}
NAUGHTY: list[str] = json.loads(
    (Path(__file__).parents[2] / "corpus" / "naughty-strings" / "blns.json").read_text()
)


async def post_raw(client: httpx.AsyncClient, who: Person, raw: bytes, **params: object):
    return await client.post(
        "/api/v1/channels/email/inbound",
        content=raw,
        headers={**who.headers, **RAW},
        params=params,
    )


async def test_raw_inbound_answers_201_then_200_and_keeps_the_original_viewable(
    client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    r = await post_raw(client, integration, corpus("inline_image.eml"))
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["disposition"] == "message" and got["new_ticket"] and got["created"]
    again = await post_raw(client, integration, corpus("inline_image.eml"))
    assert again.status_code == 200 and again.json()["message_id"] == got["message_id"]
    original = await client.get(
        f"/api/v1/channels/email/messages/{got['message_id']}/original", headers=agent.headers
    )
    assert original.status_code == 200, original.text
    o = original.json()
    assert ("Subject", "Screenshot of the error") in [tuple(h) for h in o["headers"]]
    assert "<script" not in o["html"] and "tracker.example" not in o["html"]
    assert {a["filename"] for a in o["attachments"]} >= {"shot.png", "رسید.pdf"}
    raw = await client.get(o["raw_url"], headers=agent.headers)
    assert raw.status_code == 200 and raw.content == corpus("inline_image.eml")
    assert raw.headers["content-disposition"].startswith("attachment")
    assert raw.headers["content-type"] == "application/octet-stream"
    denied = await client.get(o["raw_url"], headers=integration.headers)
    assert denied.status_code == 403


async def test_full_original_of_a_stripped_reply_keeps_the_quote(
    client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    got = (await post_raw(client, integration, corpus("outlook_reply.eml"))).json()
    msgs = (
        await client.get(f"/api/v1/tickets/{got['ticket_id']}/messages", headers=agent.headers)
    ).json()["items"]
    assert msgs[0]["text"] == "Yes please, send it again to this address.\n\nBilal"
    assert "Shall we resend" not in (msgs[0]["html"] or "")
    o = (
        await client.get(
            f"/api/v1/channels/email/messages/{got['message_id']}/original", headers=agent.headers
        )
    ).json()
    assert "Shall we resend the invoice?" in o["text"]


async def test_bad_raw_input_is_a_problem_and_bounces_are_202(
    client: httpx.AsyncClient, integration: Person, admin: Person, app: object
) -> None:
    empty = await post_raw(client, integration, b"")
    assert empty.status_code == 422 and empty.headers["content-type"] == PROBLEM
    app.state.settings.email_max_message_bytes = 1000  # type: ignore[attr-defined]
    big = await post_raw(client, integration, raw_email(text="z" * 5000))
    assert big.status_code == 413 and big.headers["content-type"] == PROBLEM
    app.state.settings.email_max_message_bytes = 25 * 1024 * 1024  # type: ignore[attr-defined]
    unauthorised = await client.post("/api/v1/channels/email/inbound", content=b"x", headers=RAW)
    assert unauthorised.status_code == 401
    bounce = await post_raw(client, integration, corpus("dsn_bounce.eml"))
    assert bounce.status_code == 202 and bounce.json()["disposition"] == "bounce"
    nobody = await post_raw(client, integration, corpus("no_from.eml"))
    assert nobody.status_code == 202 and nobody.json()["disposition"] == "quarantined"
    garbage = await post_raw(client, integration, b"\x00\xff\xfe not an email at all \x00")
    assert garbage.status_code in (201, 202), garbage.text
    q = await client.get("/api/v1/channels/email/quarantine", headers=admin.headers)
    assert q.status_code == 200
    assert "no sender address" in {item["reason"] for item in q.json()}
    eml = await client.get(
        f"/api/v1/channels/email/records/{q.json()[0]['id']}.eml", headers=admin.headers
    )
    assert eml.status_code == 200 and eml.content
    assert (
        await client.get("/api/v1/channels/email/quarantine", headers=integration.headers)
    ).status_code == 403


async def test_naughty_strings_in_subject_and_body_never_fail_and_come_back_intact(
    client: httpx.AsyncClient, integration: Person, agent: Person
) -> None:
    for i, s in enumerate(NAUGHTY):
        subject = Header(s or "(empty)", "utf-8").encode()
        raw = (
            f"From: =?utf-8?b?TmF1Z2h0eQ==?= <n{i}@example.com>\r\n"
            f"To: support@madad.test\r\nSubject: {subject}\r\nMessage-ID: <naughty-{i}@x>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n"
        ).encode() + __import__("base64").encodebytes(f"<p>{s}</p>".encode("utf-8", "replace"))
        r = await post_raw(client, integration, raw)
        assert r.status_code in (201, 202), (i, s, r.text)
        if r.json()["disposition"] != "message":
            continue
        parsed = parse_email(raw)
        ticket = (
            await client.get(f"/api/v1/tickets/{r.json()['ticket_id']}", headers=agent.headers)
        ).json()
        assert ticket["subject"] == (parsed.subject or ticket["subject"]), i
        assert "\n" not in ticket["subject"] and "\r" not in ticket["subject"]
        msgs = (
            await client.get(
                f"/api/v1/tickets/{r.json()['ticket_id']}/messages", headers=agent.headers
            )
        ).json()["items"]
        html = msgs[0]["html"] or ""
        assert html == sanitise_html(html), i  # stored sanitised: cleaning again is stable
        assert "<script" not in html.lower(), i


async def test_mailbox_admin_validates_and_never_returns_passwords(
    client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    base = {
        "name": "Sales",
        "address": "Sales@Madad.test",
        "smtp_host": "127.0.0.1",
        "smtp_password": "s3cret",
        "smtp_username": "sales",
    }
    r = await client.post("/api/v1/mailboxes", json=base, headers=admin.headers)
    assert r.status_code == 201, r.text
    box = r.json()
    assert box["address"] == "sales@madad.test" and box["has_smtp_password"]
    assert "s3cret" not in r.text
    listed = await client.get("/api/v1/mailboxes", headers=admin.headers)
    assert [b["name"] for b in listed.json()] == ["Sales"] and "s3cret" not in listed.text
    assert listed.json()[0]["last_poll_status"] == "never"
    assert (await client.get("/api/v1/mailboxes", headers=agent.headers)).status_code == 403
    clash = await client.post("/api/v1/mailboxes", json=base, headers=admin.headers)
    assert clash.status_code == 409
    for bad in (
        {"address": "not an address"},
        {"address": "sales+x@madad.test"},
        {"imap_host": "evil host\r\n"},
        {"imap_port": 70000},
        {"imap_security": "tls9"},
        {"after_import": "move"},  # needs a folder to move to
        {"name": "x" * 101},
        {"unknown": 1},
        {"ack_subject": "a\r\nBcc: x@example.com"},
    ):
        r = await client.patch(f"/api/v1/mailboxes/{box['id']}", json=bad, headers=admin.headers)
        assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, (bad, r.text)
    ok = await client.patch(
        f"/api/v1/mailboxes/{box['id']}",
        json={"ack_enabled": True, "ack_text": "Hello {{ name }}"},
        headers=admin.headers,
    )
    assert ok.status_code == 200 and ok.json()["ack_enabled"]
    poll = await client.post(f"/api/v1/mailboxes/{box['id']}/poll", headers=admin.headers)
    assert poll.status_code == 422  # no IMAP server to poll
    gone = await client.delete(f"/api/v1/mailboxes/{box['id']}", headers=admin.headers)
    assert gone.status_code == 204
    missing = await client.get(f"/api/v1/mailboxes/{box['id']}", headers=admin.headers)
    assert missing.status_code == 404 and missing.headers["content-type"] == PROBLEM
