"""Untrusted input: every naughty string round-trips exactly through every free-text field of
the API, and no sanitised HTML keeps a script, an event handler or a javascript: URL."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from madad.tickets.content import sanitise_html
from tests.conftest import Person

CORPUS = Path(__file__).parent / "corpus"
NAUGHTY: list[str] = json.loads((CORPUS / "naughty-strings" / "blns.json").read_text())
XSS_INPUTS = sorted(p for p in (CORPUS / "xss").rglob("*.test") if p.is_file())


def chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def test_naughty_strings_round_trip_through_the_api(
    client: httpx.AsyncClient, agent: Person, integration: Person
) -> None:
    assert len(NAUGHTY) > 500
    for i, s in enumerate(NAUGHTY):
        text = s or "(empty)"
        r = await client.post(
            "/api/v1/inbound",
            headers=integration.headers,
            json={
                "external_id": f"naughty-{i}",
                "contact": {"email": f"n{i}@example.com", "name": s[:200] or None},
                "subject": s[:500] or None,
                "text": text,
                "custom_fields": {"note": s},
            },
        )
        assert r.status_code == 201, (i, s, r.text)
        got = r.json()
        ticket = (
            await client.get(f"/api/v1/tickets/{got['ticket_id']}", headers=agent.headers)
        ).json()
        if s[:500]:
            assert ticket["subject"] == s[:500], i
        assert ticket["custom_fields"] == {"note": s}
        assert ticket["contact"]["name"] == (s[:200] or None)
        msgs = (
            await client.get(f"/api/v1/tickets/{got['ticket_id']}/messages", headers=agent.headers)
        ).json()["items"]
        assert msgs[0]["text"] == text, i
        note = await client.post(
            f"/api/v1/tickets/{got['ticket_id']}/notes", json={"text": text}, headers=agent.headers
        )
        assert note.status_code == 201 and note.json()["text"] == text
        cn = await client.post(
            f"/api/v1/contacts/{got['contact_id']}/notes",
            json={"body": text},
            headers=agent.headers,
        )
        assert cn.status_code == 201 and cn.json()["body"] == text


@pytest.mark.parametrize("batch", chunks(NAUGHTY, 100), ids=lambda b: f"{len(b)}-strings")
async def test_naughty_strings_as_search_and_filters_never_fail(
    client: httpx.AsyncClient, agent: Person, batch: list[str]
) -> None:
    for s in batch:
        for url in ("/api/v1/tickets", "/api/v1/contacts", "/api/v1/organisations"):
            r = await client.get(url, params={"q": s[:200]}, headers=agent.headers)
            assert r.status_code == 200, (url, s, r.text)
        r = await client.get("/api/v1/tickets", params={"tag": s[:60]}, headers=agent.headers)
        assert r.status_code in (200, 422), (s, r.text)


class _Dangers(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in (
            "script",
            "style",
            "iframe",
            "object",
            "embed",
            "form",
            "svg",
            "math",
            "base",
            "meta",
            "link",
        ):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on") or name in ("style", "srcdoc", "formaction"):
                self.found.append(f"{tag}[{name}]")
            if value and name in ("href", "src", "action", "xlink:href", "background"):
                plain = re.sub(r"[\x00-\x20]", "", html.unescape(value)).lower()
                if plain.startswith(("javascript:", "vbscript:", "data:")):
                    self.found.append(f"{tag}[{name}={value!r}]")


@pytest.mark.parametrize("path", XSS_INPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_sanitised_html_keeps_no_way_to_run_code(path: Path) -> None:
    cleaned = sanitise_html(path.read_text(errors="replace"))
    parser = _Dangers()
    parser.feed(cleaned)
    parser.close()
    assert parser.found == [], cleaned
    # Sanitising is stable: cleaning clean HTML changes nothing that matters.
    again = _Dangers()
    again.feed(sanitise_html(cleaned))
    assert again.found == []


async def test_xss_vectors_in_messages_are_stored_sanitised(
    client: httpx.AsyncClient, agent: Person, integration: Person
) -> None:
    for i, path in enumerate(XSS_INPUTS[:60]):
        r = await client.post(
            "/api/v1/inbound",
            headers=integration.headers,
            json={
                "external_id": f"xss-{i}",
                "contact": {"email": f"x{i}@example.com"},
                "text": "see html",
                "html": path.read_text(errors="replace"),
            },
        )
        assert r.status_code == 201, r.text
        msgs = (
            await client.get(
                f"/api/v1/tickets/{r.json()['ticket_id']}/messages", headers=agent.headers
            )
        ).json()["items"]
        for m in msgs:
            parser = _Dangers()
            parser.feed(m["html"] or "")
            assert parser.found == [], (path, m["html"])
