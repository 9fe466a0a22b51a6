"""Files in chat both ways: only pictures, PDFs and text files (known by their bytes) within the
configured size; the visitor uploads with the token their socket gave the open chat and
downloads through signed, expiring links that are always downloads; the agent attaches files
to the ordinary reply from the console. Over a real server, both databases."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import connect

from madad.auth.models import Role
from madad.auth.permissions import actor_for
from madad.channels.chat import files as chat_files
from madad.channels.chat import queue
from madad.channels.chat.models import ChatSession
from madad.config import Settings
from madad.db import Database
from madad.tickets.models import Attachment, Message
from tests.channels.chat.test_sockets import frames_until, is_type, new_inbox, visitor_hello, ws
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in
from tests.servers import serve_here

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (PNG, "shot.png", "image/png"),
        (PNG, "shot.exe", "image/png"),  # the bytes say what it is, not the name
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "a.jpg", "image/jpeg"),
        (b"GIF89a" + b"\x00" * 20, "a.gif", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "a.webp", "image/webp"),
        (PDF, "invoice.pdf", "application/pdf"),
        ("Order 7, قیمت".encode(), "note.txt", "text/plain"),
        (b"<svg onload=alert(1)>", "x.png", None),
        (b"<!doctype html><script>alert(1)</script>", "x.txt", None),
        (b"MZ\x90\x00", "setup.exe", None),
        (b"PK\x03\x04", "a.docx", None),
        (b"\xff\xfe\x00\x00", "a.txt", None),
        (b"plain words", "a.html", None),
    ],
)
def test_only_pictures_pdfs_and_text_are_taken(data: bytes, name: str, kind: str | None) -> None:
    assert chat_files.content_type_of(data, name) == kind


async def started(base: str, key: str, sock) -> dict:
    await visitor_hello(sock)
    await sock.send(json.dumps({"type": "start", "id": "s", "text": "Here is my receipt"}))
    return (await frames_until(sock, is_type("state", state="queued")))[-1]


def upload(c: httpx.AsyncClient, token: str, data: bytes, name: str, cid: str = "f1"):
    return c.post(
        "/api/v1/chat/visitor/files",
        data={"upload": token, "id": cid},
        files={"file": (name, data, "application/octet-stream")},
        headers={"Origin": "https://shop.example.com"},
    )


async def test_a_visitor_sends_a_file_and_downloads_it_through_a_signed_link(
    settings: Settings,
) -> None:
    small = settings.model_copy(update={"max_attachment_bytes": 4096})
    async with serve_here(small) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        inbox = await new_inbox(base, admin)
        async with (
            connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as v,
            httpx.AsyncClient(base_url=base) as c,
        ):
            state = await started(base, inbox["key"], v)
            token = state["upload"]
            assert token and token.startswith(state["session"] + ".")
            r = await upload(c, token, PNG, "../../etc/receipt <1>.png")
            assert r.status_code == 201, r.text
            assert r.headers["access-control-allow-origin"] == "*"
            message_id = r.json()["id"]
            line = (await frames_until(v, is_type("message", id=message_id)))[-1]
            [f] = line["files"]
            assert (f["name"], f["size"], f["type"]) == ("receipt _1_.png", len(PNG), "image/png")
            again = await upload(c, token, PNG, "../../etc/receipt <1>.png")  # sent again: once
            assert again.status_code == 200 and again.json()["id"] == message_id
            other = await upload(c, token, PDF, "other.pdf")  # the same id for another file
            assert other.status_code == 409

            got = await c.get(f["url"])
            assert got.status_code == 200 and got.content == PNG
            assert got.headers["content-type"] == "application/octet-stream"
            assert got.headers["content-disposition"].startswith("attachment;")
            assert got.headers["x-content-type-options"] == "nosniff"
            assert "sandbox" in got.headers["content-security-policy"]
            # A tampered, stale or other chat's link is nothing.
            tampered = f["url"][:-2] + ("AA" if not f["url"].endswith("AA") else "BB")
            assert (await c.get(tampered)).status_code == 404
            other_file = f["url"].replace(f"/files/{f['id']}?", f"/files/{f['id'] + 1}?")
            assert (await c.get(other_file)).status_code == 404
            secret = small.resolved_secret_key()
            async with db.session(write=False) as s:
                chat = (await s.scalars(select(ChatSession))).one()
            stale = chat_files.download_path(secret, chat, f["id"], now=time.time() - 2 * 86400)
            assert (await c.get(stale)).status_code == 404

            # What is refused, with nothing stored.
            refusals = [
                (await upload(c, token, b"<svg onload=alert(1)>", "x.png", "f2"), 422),
                (await upload(c, token, PNG + b"\x00" * 5000, "big.png", "f3"), 413),
                (await upload(c, token, b"", "empty.txt", "f4"), 422),
                (await upload(c, "forged." + token, PNG, "a.png", "f5"), 403),
                (await upload(c, token.rsplit(".", 1)[0] + ".AAAA", PNG, "a.png", "f6"), 403),
            ]
            for r, status in refusals:
                assert r.status_code == status, r.text
                assert r.headers["access-control-allow-origin"] == "*"
            expired = chat_files.upload_token(secret, chat, now=time.time() - 7200)
            assert (await upload(c, expired, PNG, "a.png", "f7")).status_code == 403
            async with db.session(write=False) as s:
                assert len(list(await s.scalars(select(Attachment)))) == 1
            await v.send(json.dumps({"type": "leave"}))
            await frames_until(v, is_type("state", state="abandoned"))
            ended = await upload(c, token, PNG, "late.png", "f8")
            assert ended.status_code == 403 and "ended" in ended.json()["detail"]


async def test_an_agent_attaches_files_to_a_reply_from_the_console(settings: Settings) -> None:
    async with serve_here(settings) as (base, app):
        db: Database = app.state.db  # type: ignore[attr-defined]
        admin = await make_person(db, role=Role.admin)
        ayesha = await make_person(db, role=Role.agent, name="Ayesha", password=PASSWORD)
        inbox = await new_inbox(base, admin)
        async with connect(ws(base, "/api/v1/chat/visitor", inbox=inbox["key"])) as v:
            state = await started(base, inbox["key"], v)
            async with db.session() as s:
                chat = await queue.accept(
                    s, actor_for(ayesha.id, "agent", "Ayesha"), state["session"]
                )
            async with httpx.AsyncClient(base_url=base) as c:
                me = await sign_in(c, ayesha)
                r = await me.post(
                    f"/chats/{chat.public_id}/reply",
                    {"text": "Your invoice"},
                    files=[("files", ("invoice.pdf", PDF, "application/pdf"))],
                )
                assert r.status_code == 200, r.text
                assert "invoice.pdf" in r.text and "/chats/files/" in r.text
                bad = await me.post(
                    f"/chats/{chat.public_id}/reply",
                    {"text": "a program"},
                    files=[("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream"))],
                )
                assert bad.status_code == 422
                line = (await frames_until(v, lambda f: f.get("text") == "Your invoice"))[-1]
                [f] = line["files"]
                assert (f["name"], f["type"]) == ("invoice.pdf", "application/pdf")
                assert (await c.get(f["url"])).content == PDF  # the visitor's link
                agent_copy = await me.get(f"/chats/files/{f['id']}")
                assert agent_copy.status_code == 200 and agent_copy.content == PDF
                assert agent_copy.headers["content-type"] == "application/octet-stream"
            async with httpx.AsyncClient(base_url=base) as nobody:
                r = await nobody.get(f"/chats/files/{f['id']}", follow_redirects=False)
                assert r.status_code in (303, 401)
        async with db.session(write=False) as s:
            texts = list(
                await s.scalars(select(Message.text).where(Message.ticket_id == chat.ticket_id))
            )
        assert "a program" not in texts
