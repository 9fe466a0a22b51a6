"""A signed-in shop user in a real browser (Debian's Chromium via Playwright): the shop's server
signed who they are, so the widget greets them by name, asks no name or email, and the chat is
their CRM contact's, shown so in the console; a page with a forged signature gets an anonymous
widget that asks who they are."""

from __future__ import annotations

import json

import httpx
from playwright.async_api import Browser, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from madad.auth.models import Role
from madad.channels.chat import identity
from madad.config import Settings
from madad.db import Database
from tests.conftest import make_person
from tests.console.conftest import PASSWORD
from tests.e2e.test_chat_browser import new_inbox, sign_in
from tests.e2e.test_console_browser import Watch
from tests.e2e.test_console_browser import browser as browser  # the fixture
from tests.servers import serve_app, settings_env, spawn_server


def signed_shop(madad: str, inbox_key: str, secret: str) -> Starlette:
    """A shop whose server signs its signed-in user; /forged signs with the wrong secret."""

    async def page(request: Request) -> HTMLResponse:
        key = "wrong-secret" if request.url.path == "/forged" else secret
        who = {"user_id": "42", "email": "sana@example.com", "name": "Sana Shop"}
        signature = identity.sign(key, who["user_id"], who["email"], who["name"])
        settings = json.dumps({"identity": who, "signature": signature}).replace("<", "\\u003c")
        return HTMLResponse(
            f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<link rel="icon" href="data:,"><script>window.MadadChatSettings = {settings};</script>
<script src="{madad}/widget.js?inbox={inbox_key}" async></script></head>
<body><h1>Shop</h1><p>Signed in as Sana.</p></body></html>"""
        )

    return Starlette(routes=[Route("/", page), Route("/forged", page)])


async def test_a_signed_in_shop_user_chats_as_themselves(
    settings: Settings, db: Database, browser: Browser
) -> None:
    admin = await make_person(db, role=Role.admin)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    with spawn_server(settings_env(settings)) as base:
        api = httpx.Client(base_url=base, headers=admin.headers, timeout=10)
        inbox = new_inbox(base, admin)
        secret = api.post(f"/api/v1/chat/inboxes/{inbox['id']}/identity-secret").json()["secret"]
        sana = api.post("/api/v1/contacts", json={"name": "Sana", "emails": ["sana@example.com"]})
        assert sana.status_code == 201, sana.text
        async with serve_app(signed_shop(base, inbox["key"], secret)) as shop_url:
            context = await browser.new_context()
            page = await context.new_page()
            watch = Watch(page)
            await page.goto(shop_url + "/")
            await expect(page.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            await page.get_by_role("button", name="Chat with us").click()
            form = page.locator("form.pre")
            await expect(form).to_contain_text("Hello Sana Shop, ask your question.")
            await expect(form.get_by_label("Your name")).to_be_hidden()
            await expect(form.get_by_label("Your email")).to_be_hidden()
            await form.get_by_label("Your question").fill("Where is order 42?")
            await page.get_by_role("button", name="Start chat").click()
            await expect(page.locator(".status")).to_contain_text("in the queue")
            items = api.get("/api/v1/tickets", params={"channel": "chat"}).json()["items"]
            assert len(items) == 1
            ticket = api.get(f"/api/v1/tickets/{items[0]['id']}").json()
            assert ticket["contact_id"] == sana.json()["id"]

            agent_context = await browser.new_context()
            agent, agent_watch = await sign_in(agent_context, base, ayesha)
            await agent.locator("#waiting-list a").first.click()
            await expect(agent.locator("#chat-page")).to_contain_text(
                "Signed in on the website as sana@example.com"
            )
            await agent_context.close()

            # A forged signature (in the same browser, which keeps Sana's token): the widget is
            # anonymous, asks who they are, and shows nothing of Sana's chat.
            forged = await context.new_page()
            forged_watch = Watch(forged)
            await forged.goto(shop_url + "/forged")
            await expect(forged.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            launcher = forged.get_by_role("button", name="Chat with us")
            await expect(launcher).to_have_attribute("aria-expanded", "true")  # left open
            form = forged.locator("form.pre")
            await expect(form).to_contain_text("Tell us who you are (optional)")
            await expect(form.get_by_label("Your name")).to_be_visible()
            await expect(forged.get_by_role("log")).not_to_contain_text("Where is order 42?")
            await context.close()
    assert watch.errors == [] and agent_watch.errors == [], (watch.errors, agent_watch.errors)
    assert forged_watch.errors == [] and forged_watch.dialogs == []
