"""Live chat in real browsers (Debian's Chromium via Playwright) against `madad serve`.

A shop's page on another origin carries the one-line widget; a visitor and an agent (the
console's /chats page, in a second browser context) hold a conversation: the chat arrives live
with a title notification, typing shows both ways, the agent's name is shown, a dropped socket
loses nothing, a reload keeps the history, a script-shaped message stays text; in Urdu the
widget is right-to-left. Screenshots land in tests/e2e/artifacts/ (git-ignored).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from madad.auth.models import Role
from madad.config import Settings
from madad.db import Database
from tests.conftest import Person, make_person
from tests.console.conftest import PASSWORD
from tests.e2e.test_console_browser import ARTIFACTS, Watch
from tests.e2e.test_console_browser import browser as browser  # the fixture
from tests.servers import serve_app, settings_env, spawn_server

XSS = "<img src=x onerror=alert('chat')><script>alert('chat')</script>"


def shop(madad: str, inbox_key: str) -> Starlette:
    """A customer's website on another origin: its own page, our one script tag."""

    async def page(request: Request) -> HTMLResponse:
        lang = request.query_params.get("lang", "en")
        return HTMLResponse(
            f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<title>Shop</title><link rel="icon" href="data:,">
<script src="{madad}/widget.js?inbox={inbox_key}" async></script></head>
<body><h1>Shop</h1><p>Our products.</p><a href="#top">Top</a></body></html>"""
        )

    return Starlette(routes=[Route("/", page)])


@pytest.fixture
async def people(db: Database) -> AsyncIterator[tuple[Person, Person]]:
    admin = await make_person(db, role=Role.admin)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    yield admin, ayesha


async def sign_in(context: BrowserContext, base: str, person: Person) -> tuple[Page, Watch]:
    page = await context.new_page()
    watch = Watch(page)
    await page.goto(base + "/chats")
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(base + "/chats")
    return page, watch


def new_inbox(base: str, admin: Person) -> dict:
    r = httpx.post(
        base + "/api/v1/chat/inboxes", headers=admin.headers, json={"name": "Shop"}, timeout=10
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_visitor_and_an_agent_chat_in_two_browsers(
    settings: Settings, people: tuple[Person, Person], browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    admin, ayesha = people
    with spawn_server(settings_env(settings)) as base:
        inbox = new_inbox(base, admin)
        async with serve_app(shop(base, inbox["key"])) as shop_url:
            agent_context = await browser.new_context(viewport={"width": 1280, "height": 860})
            agent, agent_watch = await sign_in(agent_context, base, ayesha)
            await agent.get_by_label("Availability").select_option("online")
            await agent.get_by_role("button", name="Save").click()
            await expect(agent.locator("#chat-page")).to_have_attribute("data-stream-ready", "1")
            await expect(agent).to_have_title(re.compile(r"^Chats"))

            # The visitor opens the widget from the keyboard and fills the pre-chat form.
            visitor_context = await browser.new_context(viewport={"width": 1000, "height": 800})
            visitor = await visitor_context.new_page()
            visitor_watch = Watch(visitor)
            await visitor.goto(shop_url + "/")
            await expect(visitor.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            launcher = visitor.get_by_role("button", name="Chat with us")
            await launcher.focus()
            await visitor.keyboard.press("Enter")
            await expect(visitor.get_by_role("region", name="Chat with us")).to_be_visible()
            await expect(visitor.get_by_label("Your question")).to_be_focused()
            await visitor.get_by_label("Your name").fill("Zara")
            await visitor.get_by_label("Your question").fill("Where is my parcel?")
            await visitor.get_by_role("button", name="Start chat").click()
            status = visitor.get_by_role("status")
            await expect(status).to_contain_text("You are number 1 in the queue.")
            log = visitor.get_by_role("log")
            await expect(log).to_contain_text("Where is my parcel?")

            # It arrives in the console live, with the count in the title.
            waiting = agent.locator("#waiting-list")
            await expect(waiting).to_contain_text("Zara")
            await expect(waiting).to_contain_text("offered to you")
            await expect(agent).to_have_title(re.compile(r"^\(1\) Chats"))
            await agent.get_by_role("button", name="Accept chat with Zara").click()
            await expect(agent.locator("#chat-log")).to_contain_text("Where is my parcel?")
            await expect(agent.locator("#chat-page")).to_have_attribute("data-stream-ready", "1")
            await expect(status).to_contain_text("You are chatting with Ayesha Agent.")

            # Typing, both ways.
            compose = visitor.get_by_role("textbox", name="Message", exact=True)
            reply_box = agent.get_by_label("Reply to the visitor")
            await reply_box.press_sequentially("Let me look")
            await expect(visitor.locator(".typing")).to_have_text("Ayesha Agent is typing…")
            await compose.press_sequentially("It was order 7")
            await expect(agent.locator("#chat-typing")).to_have_text("The visitor is typing…")

            await reply_box.fill("Found it: it ships today.")
            await agent.get_by_role("button", name="Send", exact=True).click()
            await expect(log.locator("li.agent")).to_contain_text("Found it: it ships today.")
            await expect(log.locator("li.agent .who")).to_have_text("Ayesha Agent")
            await compose.press("Enter")
            await expect(agent.locator("#chat-log")).to_contain_text("It was order 7")
            await expect(visitor.locator(".typing")).to_have_text("")

            # A script-shaped message stays text on both screens.
            await compose.fill(XSS)
            await visitor.get_by_role("button", name="Send", exact=True).click()
            await expect(agent.locator("#chat-log")).to_contain_text(XSS)
            await expect(log).to_contain_text(XSS)
            await visitor.screenshot(path=str(ARTIFACTS / "chat-widget.png"))
            await agent.screenshot(path=str(ARTIFACTS / "chat-console.png"), full_page=True)

            # The visitor's socket drops; what the agent writes meanwhile is not lost.
            before = await log.locator("li").count()
            await visitor_context.set_offline(True)
            await visitor.evaluate("() => window.MadadChat.reconnect()")
            await expect(visitor.locator("#madad-chat")).not_to_have_attribute("data-ready", "1")
            for text in ("Are you still there?", "I'll wait."):
                await reply_box.fill(text)
                await agent.get_by_role("button", name="Send", exact=True).click()
                await expect(agent.locator("#chat-log")).to_contain_text(text)
            await visitor.wait_for_timeout(1500)
            assert await log.locator("li").count() == before  # really cut off meanwhile
            await expect(status).to_contain_text("Connection lost; reconnecting…")
            await visitor_context.set_offline(False)
            await expect(visitor.locator("#madad-chat")).to_have_attribute(
                "data-ready", "1", timeout=20_000
            )
            await expect(log.locator("li")).to_have_count(before + 2)
            await expect(log.locator("li").nth(before)).to_contain_text("Are you still there?")
            await expect(log.locator("li").nth(before + 1)).to_contain_text("I'll wait.")

            # A reload keeps the whole history, once each, in order.
            await visitor.reload()
            await expect(visitor.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            await expect(visitor.get_by_role("region", name="Chat with us")).to_be_visible()
            await expect(log.locator("li")).to_have_count(before + 2)
            texts = await log.locator("li").all_inner_texts()
            assert "Where is my parcel?" in texts[0] and "I'll wait." in texts[-1]

            # The agent ends the chat; the visitor is told and may start another.
            await agent.get_by_role("button", name="End chat").click()
            await expect(status).to_contain_text("The chat has ended.")
            await expect(visitor.get_by_role("button", name="Start a new chat")).to_be_visible()
            await visitor.get_by_role("button", name="Start a new chat").focus()
            await visitor.keyboard.press("Escape")
            await expect(launcher).to_be_focused()
            await expect(launcher).to_have_attribute("aria-expanded", "false")

            await agent_context.close()
            await visitor_context.close()
    assert visitor_watch.dialogs == [] and agent_watch.dialogs == []
    assert agent_watch.errors == [], agent_watch.errors
    # The browser logs the refused connections while offline; nothing else may go wrong.
    assert [e for e in visitor_watch.errors if "WebSocket" not in e] == []


async def test_the_widget_is_right_to_left_for_an_urdu_visitor(
    settings: Settings, people: tuple[Person, Person], browser: Browser
) -> None:
    admin, _ = people
    with spawn_server(settings_env(settings)) as base:
        inbox = new_inbox(base, admin)
        async with serve_app(shop(base, inbox["key"])) as shop_url:
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, is_mobile=True
            )
            page = await context.new_page()
            watch = Watch(page)
            await page.goto(shop_url + "/?lang=ur")
            await expect(page.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            wrap = page.locator(".madad-chat")
            await expect(wrap).to_have_attribute("dir", "rtl")
            await expect(wrap).to_have_attribute("lang", "ur")
            await page.locator(".launch").click()
            panel = page.locator(".panel")
            await expect(panel).to_be_visible()
            box = await panel.bounding_box()
            assert box is not None and box["x"] < 40  # anchored to the left in RTL
            assert box["width"] <= 390
            await page.screenshot(path=str(ARTIFACTS / "chat-widget-urdu.png"))
            await context.close()
    assert watch.dialogs == [] and watch.errors == [], watch.errors


async def test_visitor_on_one_process_agent_on_another_over_redis(
    settings: Settings, people: tuple[Person, Person], browser: Browser, redis_url: str
) -> None:
    admin, ayesha = people
    env = settings_env(settings.model_copy(update={"redis_url": redis_url}))
    with spawn_server(env) as one, spawn_server(env) as two:
        inbox = new_inbox(one, admin)
        async with serve_app(shop(one, inbox["key"])) as shop_url:
            agent_context = await browser.new_context()
            agent, agent_watch = await sign_in(agent_context, two, ayesha)
            await agent.get_by_label("Availability").select_option("online")
            await agent.get_by_role("button", name="Save").click()
            await expect(agent.locator("#chat-page")).to_have_attribute("data-stream-ready", "1")

            visitor_context = await browser.new_context()
            visitor = await visitor_context.new_page()
            visitor_watch = Watch(visitor)
            await visitor.goto(shop_url + "/")
            await expect(visitor.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            await visitor.get_by_role("button", name="Chat with us").click()
            await visitor.get_by_label("Your name").fill("Bilal")
            await visitor.get_by_label("Your question").fill("Hello from process one")
            await visitor.get_by_role("button", name="Start chat").click()

            await expect(agent.locator("#waiting-list")).to_contain_text("Bilal")
            await agent.get_by_role("button", name="Accept chat with Bilal").click()
            status = visitor.get_by_role("status")
            await expect(status).to_contain_text("You are chatting with Ayesha Agent.")
            # The console's page reloaded with the chat: its socket watches it once ready.
            await expect(agent.locator("#chat-page")).to_have_attribute("data-stream-ready", "1")
            reply_box = agent.get_by_label("Reply to the visitor")
            await reply_box.press_sequentially("Hi")
            await expect(visitor.locator(".typing")).to_have_text("Ayesha Agent is typing…")
            await reply_box.fill("Answered from process two")
            await agent.get_by_role("button", name="Send", exact=True).click()
            log = visitor.get_by_role("log")
            await expect(log.locator("li.agent")).to_contain_text("Answered from process two")
            compose = visitor.get_by_role("textbox", name="Message", exact=True)
            await compose.press_sequentially("Thanks")
            await expect(agent.locator("#chat-typing")).to_have_text("The visitor is typing…")
            await compose.press("Enter")
            await expect(agent.locator("#chat-log")).to_contain_text("Thanks")
            await agent_context.close()
            await visitor_context.close()
    assert visitor_watch.dialogs == [] and visitor_watch.errors == [], visitor_watch.errors
    assert agent_watch.errors == [], agent_watch.errors
