"""Inline (cid:) images of inbound HTML mail: stored as the message's files and shown in the
console from our own origin; remote images and unknown cid: references show nothing."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from email.message import EmailMessage
from email.utils import formatdate

import httpx
import pytest

from madad.auth.models import Role
from madad.channels.email.bodies import cid_of, safe_html
from madad.channels.email.ingest import Arrival, ingest
from madad.db import Database
from madad.web.templating import ENV
from tests.conftest import Person, make_person
from tests.console.conftest import PASSWORD, Browser, sign_in


def png(width: int = 2, height: int = 1) -> bytes:
    """A real (tiny) PNG image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


LOGO = png(2, 1)
CHART = png(3, 2)
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def related_email() -> bytes:
    """An HTML email as Apple Mail or Outlook sends pasted images: multipart/related."""
    msg = EmailMessage()
    msg["From"] = "Sana Khan <sana@example.com>"
    msg["To"] = "support@madad.test"
    msg["Subject"] = "Screenshot of the error"
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = "<inline-1@example.com>"
    msg.set_content("See the screenshot.")
    msg.add_alternative(
        '<p>See the screenshot:</p><img src="cid:logo@example.com" alt="logo">'
        '<img src="CID:%3Cchart.part%40example.com%3E" alt="chart">'
        '<img src="cid:vector@example.com" alt="vector">'
        '<img src="cid:missing@example.com" alt="missing">'
        '<img src="https://tracker.example.com/pixel.gif" alt="pixel">',
        subtype="html",
    )
    html_part = msg.get_payload()[1]
    html_part.add_related(LOGO, "image", "png", cid="<logo@example.com>", filename="logo.png")
    html_part.add_related(CHART, "image", "png", cid="<chart.part@example.com>")
    html_part.add_related(SVG, "image", "svg+xml", cid="<vector@example.com>")
    return msg.as_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
async def agent_browser(client: httpx.AsyncClient, db: Database) -> Browser:
    person = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    return await sign_in(client, person)


def test_cid_urls_are_read_as_rfc_2392_says() -> None:
    assert cid_of("cid:logo@example.com") == "logo@example.com"
    assert cid_of(" CID:%3Cchart%40example.com%3E ") == "chart@example.com"
    assert cid_of("https://example.com/cid:x") is None and cid_of("cid:") is None
    shown = safe_html(
        '<img src="cid:a@x"><img src="cid:b@x"><img src="http://x/y.png"><img srcset="cid:a@x">',
        {"a@x": "/api/v1/attachments/inline/" + "0" * 64},
    )
    assert shown.count("<img") == 4
    assert re.findall(r'src="([^"]*)"', shown) == ["/api/v1/attachments/inline/" + "0" * 64]
    assert "srcset" not in shown


async def test_inline_images_show_in_the_console_from_the_stored_files(
    db: Database,
    app: object,
    agent_browser: Browser,
    client: httpx.AsyncClient,
    agent: Person,
) -> None:
    result = await ingest(db, Arrival(related_email(), "api"))
    assert result.disposition == "message" and result.ticket_id is not None
    page = await agent_browser.get(f"/tickets/{result.ticket_id}")
    assert page.status_code == 200
    body = re.search(r'<div class="msg-body">(.*?)</div>', page.text, re.S)
    assert body is not None
    sources = re.findall(r'<img[^>]*?src="([^"]*)"', body.group(1))
    logo_url = f"/api/v1/attachments/inline/{sha(LOGO)}"
    chart_url = f"/api/v1/attachments/inline/{sha(CHART)}"
    vector_url = f"/api/v1/attachments/inline/{sha(SVG)}"
    # The stored parts are shown; the unknown cid and the remote tracking pixel load nothing.
    assert sources == [logo_url, chart_url, vector_url], body.group(1)
    assert "tracker.example.com" not in page.text and "cid:" not in body.group(1)
    assert len(re.findall(r"<img", body.group(1))) == 5

    # The console's own renderer keeps exactly these (only local images pass it).
    assert ENV.filters["safe_html"](body.group(1)).count('src="/api/v1/attachments/inline/') == 3

    # The browser loads them with its session cookie: raster images as themselves.
    logo = await agent_browser.client.get(logo_url)
    assert logo.status_code == 200 and logo.content == LOGO
    assert logo.headers["content-type"] == "image/png"
    assert logo.headers["content-disposition"].startswith("inline;")
    assert logo.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in logo.headers["content-security-policy"]
    # An SVG could carry script: never served as an image from our origin.
    vector = await agent_browser.client.get(vector_url)
    assert vector.status_code == 200 and vector.content == SVG
    assert vector.headers["content-type"] == "application/octet-stream"
    assert vector.headers["content-disposition"].startswith("attachment;")
    # An API token works too; nobody else gets in, and a made-up digest is not found.
    by_token = await client.get(chart_url, headers=agent.headers)
    assert by_token.status_code == 200 and by_token.content == CHART
    for cookies in ({}, {"madad_session": "forged"}):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
            base_url="http://madad.test",
            cookies=cookies,
        ) as stranger:
            assert (await stranger.get(logo_url)).status_code == 401
    assert (
        await agent_browser.client.get("/api/v1/attachments/inline/" + "a" * 64)
    ).status_code == 404
    assert (
        await agent_browser.client.get("/api/v1/attachments/inline/not-a-digest")
    ).status_code == 422

    # The full original shows the same images.
    original = await client.get(
        f"/api/v1/channels/email/messages/{result.message_id}/original", headers=agent.headers
    )
    assert original.status_code == 200
    html = original.json()["html"]
    assert logo_url in html and chart_url in html and "tracker.example.com" not in html
