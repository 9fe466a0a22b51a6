"""The chat inboxes' admin page: add an inbox, change its queue, help-centre and bot settings,
copy its widget tag, create, replace and remove its identity secret (shown once, on no later
page); bad fields are shown back with a 422 and change nothing; agents get 403."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
from markupsafe import escape
from sqlalchemy import select

from madad.auth.models import Role
from madad.channels.chat import inboxes
from madad.channels.chat.models import ChatInbox
from madad.db import Database
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, Browser, sign_in
from tests.console.conftest import admin_browser as admin_browser  # the fixture

NAUGHTY = json.loads(
    (Path(__file__).parents[2] / "corpus" / "naughty-strings" / "blns.json").read_text()
)


async def stored(db: Database) -> list[ChatInbox]:
    async with db.session(write=False) as session:
        return list(await session.scalars(select(ChatInbox).order_by(ChatInbox.id)))


async def test_an_admin_sets_up_a_chat_inbox_from_the_console(
    client: httpx.AsyncClient, db: Database, admin_browser: Browser
) -> None:
    page = await admin_browser.get("/admin/chat-inboxes")
    assert page.status_code == 200 and "No chat inbox yet." in page.text
    assert 'href="/admin/chat-inboxes" aria-current="page"' in page.text
    r = await admin_browser.post("/admin/chat-inboxes", {"name": "Shop <b>site</b>", "queue": ""})
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/admin/chat-inboxes?done=created"
    [inbox] = await stored(db)
    assert (inbox.name, inbox.queue, inbox.help_centre, inbox.bot) == (
        "Shop <b>site</b>",
        "chat",
        False,
        False,
    )
    page = await admin_browser.get("/admin/chat-inboxes?done=created")
    assert "Chat inbox added." in page.text
    assert "Shop &lt;b&gt;site&lt;/b&gt;" in page.text and "<b>site</b>" not in page.text
    tag = f'<script src="{client.base_url}/widget.js?inbox={inbox.key}" async></script>'
    assert str(escape(tag)) in page.text  # the tag to copy, shown as text
    assert "it posts no hours, so the widget is always open" in page.text

    r = await admin_browser.post(f"/admin/chat-inboxes/{inbox.id}", {
        "name": "Shop", "queue": "billing", "help_centre": "yes", "bot": "yes"})  # fmt: skip
    assert r.status_code == 204
    [inbox] = await stored(db)
    assert (inbox.name, inbox.queue, inbox.help_centre, inbox.bot) == (
        "Shop",
        "billing",
        True,
        True,
    )
    r = await admin_browser.post(
        f"/admin/chat-inboxes/{inbox.id}", {"name": "Shop", "queue": "billing"}
    )
    [inbox] = await stored(db)
    assert (inbox.help_centre, inbox.bot) == (False, False)  # unticked boxes turn them off

    # The identity secret: shown once, on the answer to the POST only, never stored in clear.
    r = await admin_browser.post(f"/admin/chat-inboxes/{inbox.id}/identity-secret")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    shown = re.search(r'value="([^"]+)" aria-label="Identity secret"', r.text)
    assert shown and "copy it now" in r.text
    async with db.session(write=False) as session:
        [inbox] = await stored(db)
        assert inboxes.identity_secret(session, inbox) == shown.group(1)
    again = await admin_browser.get("/admin/chat-inboxes")
    assert shown.group(1) not in again.text and "Replace the secret" in again.text
    r = await admin_browser.post(f"/admin/chat-inboxes/{inbox.id}/identity-secret")
    replaced = re.search(r'value="([^"]+)" aria-label="Identity secret"', r.text)
    assert replaced and replaced.group(1) != shown.group(1)
    r = await admin_browser.post(f"/admin/chat-inboxes/{inbox.id}/identity-secret/remove")
    assert r.status_code == 204
    [inbox] = await stored(db)
    assert inbox.identity_nonce is None
    assert "every visitor is anonymous" in (await admin_browser.get(r.headers["hx-redirect"])).text


async def test_bad_fields_are_shown_back_and_change_nothing(
    client: httpx.AsyncClient, db: Database, admin_browser: Browser
) -> None:
    await admin_browser.post("/admin/chat-inboxes", {"name": "Shop", "queue": "chat"})
    [inbox] = await stored(db)
    bads = [{"name": "", "queue": "chat"}, {"name": "x" * 201, "queue": "chat"},
            {"name": "Shop", "queue": "q" * 101}, {"name": "a\x00b", "queue": "chat"}]  # fmt: skip
    for bad in bads:
        r = await admin_browser.post(f"/admin/chat-inboxes/{inbox.id}", bad)
        assert r.status_code == 422 and 'role="alert"' in r.text, bad
        r = await admin_browser.post("/admin/chat-inboxes", bad)
        assert r.status_code == 422, bad
    assert [(i.name, i.queue) for i in await stored(db)] == [("Shop", "chat")]
    r = await admin_browser.post("/admin/chat-inboxes/999999", {"name": "A", "queue": "chat"})
    assert r.status_code == 404
    r = await admin_browser.post("/admin/chat-inboxes/999999/identity-secret")
    assert r.status_code == 404
    forged = {"x-csrf-token": "forged", "hx-request": "true"}
    r = await client.post("/admin/chat-inboxes", data={"name": "Shop"}, headers=forged)
    assert r.status_code == 403
    assert len(await stored(db)) == 1


async def test_every_naughty_name_is_kept_and_shown_escaped(
    client: httpx.AsyncClient, db: Database, admin_browser: Browser
) -> None:
    for text in NAUGHTY:
        r = await admin_browser.post("/admin/chat-inboxes", {"name": text, "queue": text})
        assert r.status_code in (204, 422), (text, r.status_code)
    page = await admin_browser.get("/admin/chat-inboxes")
    assert page.status_code == 200
    names = [i.name for i in await stored(db)]
    assert len(names) > len(NAUGHTY) * 0.9
    for name in names:
        assert str(escape(name)) in page.text


async def test_agents_cannot_reach_it(client: httpx.AsyncClient, db: Database) -> None:
    agent = await make_person(db, role=Role.agent, password=PASSWORD)
    browser = await sign_in(client, agent)
    assert (await browser.get("/admin/chat-inboxes")).status_code == 403
    r = await browser.post("/admin/chat-inboxes", {"name": "Mine", "queue": "chat"})
    assert r.status_code == 403
    assert await stored(db) == []
