"""The reply box's article links in a real browser (Debian's Chromium) against `madad serve`:
an agent searches the knowledge base as they type, sees an internal article marked (it
inserts nothing), inserts a public article's help-centre address at the cursor and sends the
reply, which carries the link; nothing a title holds runs. Screenshot in tests/e2e/artifacts/."""

from __future__ import annotations

from playwright.async_api import Browser, expect
from sqlalchemy import select

from madad.auth.models import Role
from madad.auth.permissions import Scope
from madad.config import Settings
from madad.db import Database
from madad.tickets.models import Message
from tests.conftest import make_person
from tests.console.conftest import PASSWORD
from tests.e2e.test_console_browser import (  # noqa: F401 - fixture
    ARTIFACTS,
    browser,
    post,
    signed_in_page,
)
from tests.kb.conftest import write
from tests.servers import settings_env, spawn_server

XSS_TITLE = "Refund <img src=x onerror=alert(1)> rules"


async def test_an_agent_inserts_an_article_link_into_a_reply(
    settings: Settings,
    db: Database,
    browser: Browser,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await write(db, "Request a refund", "Refunds are possible within **14 days**.")
    await write(db, "Refund override procedure", "Supervisors may refund later.", internal=True)
    await write(db, XSS_TITLE, "How refunds are decided.")
    agent = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    bridge = await make_person(db, role=Role.agent, name="Bridge", scopes=[Scope.inbound])
    with spawn_server(settings_env(settings)) as base:
        ticket = post(
            base,
            bridge,
            "refund-1",
            contact={"email": "zara@example.com", "name": "Zara"},
            subject="Money back?",
            text="Can I get my money back?",
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page, watch = await signed_in_page(context, base, agent)
        await page.goto(f"{base}/tickets/{ticket['ticket_id']}")
        reply = page.get_by_label("Reply to the customer")
        await reply.fill("Hello Zara, see ")
        toggle = page.get_by_role("button", name="Insert article link")
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await page.get_by_label("Search the knowledge base").press_sequentially("refu", delay=50)
        results = page.locator(".article-links-results")
        internal = results.get_by_role("button", name="Refund override procedure")
        await expect(internal).to_be_disabled()
        await expect(internal).to_contain_text("Internal: no public link")
        shown = results.get_by_role("button", name=XSS_TITLE)
        await expect(shown).to_be_visible()  # the title is text: nothing of it runs
        assert await results.locator("img").count() == 0
        # caret="initial": hiding the caret injects a style element, which the CSP refuses.
        await page.screenshot(path=str(ARTIFACTS / "reply-article-links.png"), caret="initial")
        await results.get_by_role("button", name="Request a refund").click()
        url = f"{base}/help/articles/request-a-refund"
        await expect(reply).to_have_value(f"Hello Zara, see Request a refund: {url}")
        await expect(page.locator("#article-links-panel")).to_be_hidden()
        # Nothing found says so.
        await toggle.click()
        await page.get_by_label("Search the knowledge base").fill("xyzzy plugh")
        await expect(page.locator(".article-links-status")).to_have_text("No article found.")
        await page.keyboard.press("Escape")
        await page.get_by_role("button", name="Send reply").click()
        await expect(page.locator(".conversation")).to_contain_text(url)
        async with db.session(write=False) as session:
            texts = (
                await session.scalars(
                    select(Message.text).where(
                        Message.ticket_id == ticket["ticket_id"], Message.direction == "outbound"
                    )
                )
            ).all()
        assert texts == [f"Hello Zara, see Request a refund: {url}"]
        assert watch.dialogs == [] and watch.errors == [], watch.errors
        await context.close()
