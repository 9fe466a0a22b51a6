"""The demo in a real browser (Debian's Chromium): a visitor opens the demo shop's chat widget
and talks to a demo agent on the console's /chats page in another browser context; the help
centre shows the demo's categories, answers a search as the customer types and reads in Urdu
right to left. Screenshots land in tests/e2e/artifacts/ (git-ignored)."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from madad.config import Settings
from madad.db import Database
from madad.demo.desk import DOMAIN, PASSWORD, build_demo
from madad.files import FileStore
from tests.e2e.test_console_browser import ARTIFACTS, Watch
from tests.e2e.test_console_browser import browser as browser  # the fixture
from tests.servers import settings_env, spawn_server


async def test_a_visitor_chats_from_the_demo_shop_and_reads_the_help_centre(
    settings: Settings, db: Database, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await build_demo(
        db,
        FileStore(settings.files_dir),
        tickets_wanted=80,
        contacts_wanted=40,
        organisations_wanted=5,
        days=10,
        seed=5,
    )
    with spawn_server(settings_env(settings)) as base:
        # A demo agent makes herself available on /chats.
        agent_context = await browser.new_context(viewport={"width": 1280, "height": 860})
        agent = await agent_context.new_page()
        agent_watch = Watch(agent)
        await agent.goto(base + "/chats")
        await agent.get_by_label("Email").fill(f"ayesha@{DOMAIN}")
        await agent.get_by_label("Password").fill(PASSWORD)
        await agent.get_by_role("button", name="Sign in").click()
        await expect(agent).to_have_url(base + "/chats")
        await agent.get_by_label("Availability").select_option("online")
        await agent.get_by_role("button", name="Save").click()
        await expect(agent.locator("#chat-page")).to_have_attribute("data-stream-ready", "1")

        # A visitor on the demo shop opens the chat from the page's own button.
        visitor_context = await browser.new_context(viewport={"width": 1000, "height": 800})
        visitor = await visitor_context.new_page()
        visitor_watch = Watch(visitor)
        await visitor.goto(base + "/demo/shop")
        await expect(visitor.get_by_role("heading", name="Indus Tea & Spice Co.")).to_be_visible()
        await expect(visitor.locator("#madad-chat")).to_have_attribute("data-ready", "1")
        await visitor.locator("main").get_by_role("button", name="Chat with us").click()
        await expect(visitor.get_by_role("region", name="Chat with us")).to_be_visible()
        await visitor.get_by_label("Your name").fill("Zara")
        await visitor.get_by_label("Your question").fill("Is the Kashmiri chai in stock?")
        await visitor.get_by_role("button", name="Start chat").click()
        log = visitor.get_by_role("log")
        await expect(log).to_contain_text("Is the Kashmiri chai in stock?")

        waiting = agent.locator("#waiting-list")
        await expect(waiting).to_contain_text("Zara")
        await agent.get_by_role("button", name="Accept chat with Zara").click()
        await expect(agent.locator("#chat-log")).to_contain_text("Kashmiri chai")
        await agent.get_by_label("Reply to the visitor").fill("Yes, 250 g packs ship today.")
        await agent.get_by_role("button", name="Send", exact=True).click()
        await expect(log.locator("li.agent")).to_contain_text("Yes, 250 g packs ship today.")
        await expect(log.locator("li.agent .who")).to_have_text("Ayesha Siddiqui")
        await visitor.screenshot(path=str(ARTIFACTS / "demo-shop-chat.png"))
        await agent.screenshot(path=str(ARTIFACTS / "demo-console-chat.png"))

        # The help centre has the demo's knowledge base and answers as the customer types.
        await visitor.goto(base + "/help")
        await expect(visitor.get_by_role("heading", name="Billing and payments")).to_be_visible()
        await visitor.get_by_role("searchbox").press_sequentially("refund")
        suggestions = visitor.locator("#help-suggestions")
        await expect(suggestions).to_contain_text("How long does a refund take?")
        await suggestions.get_by_role("link", name=re.compile("How long does a refund")).click()
        await expect(
            visitor.get_by_role("heading", name="How long does a refund take?")
        ).to_be_visible()
        await visitor.goto(base + "/help/ur")
        await expect(visitor.locator("html")).to_have_attribute("dir", "rtl")
        await expect(visitor.get_by_role("heading", name="بلنگ اور ادائیگی")).to_be_visible()
        await visitor.screenshot(path=str(ARTIFACTS / "demo-help-ur.png"), full_page=True)

        await agent_context.close()
        await visitor_context.close()
    assert visitor_watch.dialogs == [] and agent_watch.dialogs == []
    assert visitor_watch.errors == [] and agent_watch.errors == [], (
        visitor_watch.errors + agent_watch.errors
    )
