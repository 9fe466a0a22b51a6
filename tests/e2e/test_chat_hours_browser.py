"""The widget and the queue's posted hours in a real browser (Debian's Chromium via Playwright)
against `madad serve`, on a shop page of another origin, the visitor in another time zone than
the queue: outside hours the widget says when it is back (in the visitor's own time), lists the
week's hours, turns into a "leave a message" form whose submission is an email ticket, and
takes a callback request for a window inside the hours; inside hours it offers the chat."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy import select

from madad.activity.models import Activity
from madad.auth.models import Role
from madad.channels.hours import calendar as cal
from madad.config import Settings
from madad.db import Database
from madad.kb import service as kb
from madad.kb.service import Text
from tests.conftest import Person, make_person
from tests.e2e.test_chat_browser import XSS, new_inbox, shop
from tests.e2e.test_console_browser import ARTIFACTS, Watch
from tests.e2e.test_console_browser import browser as browser  # the fixture
from tests.kb.conftest import AUTHOR
from tests.servers import serve_app, settings_env, spawn_server

KARACHI = ZoneInfo("Asia/Karachi")
LONDON = ZoneInfo("Europe/London")


def closed_today() -> dict[str, list[str]]:
    """Hours only on the day after tomorrow (Karachi): closed now, back then at 09:00."""
    day = cal.WEEKDAYS[(datetime.now(KARACHI).weekday() + 2) % 7]
    return {day: ["09:00-17:00"]}


async def test_outside_hours_the_widget_takes_a_message_and_a_callback(
    settings: Settings, db: Database, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    admin: Person = await make_person(db, role=Role.admin)
    with spawn_server(settings_env(settings)) as base:
        api = httpx.Client(base_url=base, headers=admin.headers, timeout=10)
        r = api.post(
            "/api/v1/live/queues",
            json={"name": "chat", "key": "shop", "time_zone": "Asia/Karachi",
                  "weekly_hours": closed_today()},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        inbox = new_inbox(base, admin)  # its queue is "chat": the live queue above
        status = api.get("/api/v1/live/queues/shop/status").json()
        opens = datetime.fromisoformat(status["opens_at"]).astimezone(LONDON)
        closes = opens + timedelta(hours=8)
        async with serve_app(shop(base, inbox["key"])) as shop_url:
            context = await browser.new_context(
                locale="en-GB", timezone_id="Europe/London", viewport={"width": 1000, "height": 900}
            )
            page = await context.new_page()
            watch = Watch(page)
            await page.goto(shop_url + "/")
            await expect(page.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            await page.get_by_role("button", name="Chat with us").click()
            panel = page.get_by_role("region", name="Chat with us")
            await expect(panel).to_contain_text(f"Back at {opens:%a %H:%M}")
            await page.get_by_text("Opening hours").click()
            await expect(page.get_by_role("list", name="Opening hours")).to_have_text(
                f"{opens:%a %H:%M}–{closes:%H:%M}"
            )
            # No chat while closed: the message form instead, focused first.
            await expect(page.get_by_label("Your question")).to_be_hidden()
            await expect(panel).to_contain_text("Leave a message and we will answer you by email.")
            await page.get_by_role("button", name="Send message").click()
            await expect(page.get_by_role("alert")).to_have_text(
                "Please fill in the required fields."
            )
            off = page.locator("form.off")
            name = off.get_by_label("Your name")
            await expect(name).to_have_attribute("aria-invalid", "true")
            await expect(name).to_be_focused()
            await name.fill(XSS)
            await off.get_by_label("Your email").fill("zara@example.com")
            await off.get_by_label("Your message").fill("Please call me about " + XSS)
            await page.get_by_role("button", name="Send message").click()
            await expect(panel.get_by_role("status").last).to_have_text(
                "Thank you. We will answer you by email at zara@example.com."
            )
            await page.screenshot(path=str(ARTIFACTS / "chat-widget-offline.png"))
            tickets = api.get("/api/v1/tickets", params={"channel": "email"}).json()["items"]
            assert len(tickets) == 1, tickets
            ticket = api.get(f"/api/v1/tickets/{tickets[0]['id']}").json()
            assert ticket["custom_fields"]["email_unverified"] is True
            messages = api.get(f"/api/v1/tickets/{ticket['id']}/messages").json()["items"]
            assert messages[0]["text"] == "Please call me about " + XSS

            # A callback, for a window inside the posted hours, from the keyboard.
            await page.get_by_role("button", name="Back").click()
            await page.get_by_role("button", name="Request a callback").click()
            callback = page.locator("form.cb")
            await expect(callback.get_by_label("Your name")).to_be_focused()
            await callback.get_by_label("Your name").fill("Zara")
            await callback.get_by_label("Your phone number").fill("+92 300 1234567")
            when = callback.get_by_label("When should we call?")
            window = f"{opens:%a %H:%M}–{opens + timedelta(hours=1):%H:%M}"
            await expect(when.locator("option").first).to_have_text(window)
            await callback.get_by_role("button", name="Request callback").press("Enter")
            await expect(panel.get_by_role("status").last).to_have_text(
                f"Thank you. We will call +92 300 1234567 on {window}."
            )
            items = api.get("/api/v1/live/callbacks").json()["items"]
            assert len(items) == 1 and items[0]["queue"] == "chat"
            assert datetime.fromisoformat(items[0]["window_start"]) == opens
            await context.close()

            # Inside the hours the widget offers the chat and says so.
            r = api.patch(
                "/api/v1/live/queues/shop",
                json={"weekly_hours": {d: ["00:00-24:00"] for d in cal.WEEKDAYS}},
            )
            assert r.status_code == 200, r.text
            context = await browser.new_context(locale="en-GB", timezone_id="Europe/London")
            page = await context.new_page()
            watch2 = Watch(page)
            await page.goto(shop_url + "/")
            await expect(page.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            await page.get_by_role("button", name="Chat with us").click()
            await expect(page.get_by_text("Online now")).to_be_visible()
            await expect(page.get_by_label("Your question")).to_be_visible()
            await expect(page.get_by_role("button", name="Send message")).to_be_hidden()
            await context.close()
    assert watch.dialogs == [] and watch.errors == [], watch.errors
    assert watch2.dialogs == [] and watch2.errors == [], watch2.errors


async def test_the_help_centre_offers_chat_and_a_callback_and_the_chat_names_the_article(
    settings: Settings, db: Database, browser: Browser
) -> None:
    admin: Person = await make_person(db, role=Role.admin)
    async with db.session() as session:
        view = await kb.create_article(
            session, AUTHOR, slug="reset-password", publish=["en"],
            translations={"en": Text("Reset your password", "Press **Forgot password**.")},
        )  # fmt: skip
    with spawn_server(settings_env(settings)) as base:
        api = httpx.Client(base_url=base, headers=admin.headers, timeout=10)
        r = api.post(
            "/api/v1/live/queues",
            json={"name": "chat", "key": "help", "time_zone": "Asia/Karachi",
                  "weekly_hours": {d: ["00:00-24:00"] for d in cal.WEEKDAYS}},
        )  # fmt: skip
        assert r.status_code == 201, r.text
        inbox = new_inbox(base, admin)
        r = api.patch(f"/api/v1/chat/inboxes/{inbox['id']}", json={"help_centre": True})
        assert r.status_code == 200, r.text
        context = await browser.new_context(viewport={"width": 1000, "height": 900})
        page = await context.new_page()
        watch = Watch(page)
        await page.goto(base + "/help/articles/reset-password")
        await expect(page.locator("#madad-chat")).to_have_attribute("data-ready", "1")
        entry = page.locator("p.help-live")
        await entry.get_by_role("button", name="Request a callback").click()
        callback = page.locator("form.cb")
        await expect(callback.get_by_label("Your name")).to_be_focused()
        await callback.get_by_label("Your name").fill("Bilal")
        await callback.get_by_label("Your phone number").fill("+92 321 7654321")
        await callback.get_by_role("button", name="Request callback").click()
        await expect(page.locator(".done [role=status]")).to_contain_text("We will call")
        assert len(api.get("/api/v1/live/callbacks").json()["items"]) == 1

        await entry.get_by_role("button", name="Chat with us").click()
        await page.locator("form.pre").get_by_label("Your question").fill("It did not work")
        await page.get_by_role("button", name="Start chat").click()
        await expect(page.locator(".status")).to_contain_text("You are number 1 in the queue.")
        await page.screenshot(path=str(ARTIFACTS / "chat-help-centre.png"))
        items = api.get("/api/v1/tickets", params={"channel": "chat"}).json()["items"]
        assert len(items) == 1
        ticket = api.get(f"/api/v1/tickets/{items[0]['id']}").json()
        assert ticket["custom_fields"]["kb_article_id"] == view.article.id
        async with db.session(write=False) as session:
            started = list(
                await session.scalars(select(Activity).where(Activity.kind == "kb.contact_started"))
            )
        assert [(f.ticket_id, f.data["article_id"], f.channel) for f in started] == [
            (ticket["id"], view.article.id, "chat")
        ]
        assert started[0].data["visitor"]  # the help centre's own visitor id, for deflection
        await context.close()
    # Under the help centre's strict CSP (no inline styles or scripts) nothing was refused.
    assert watch.dialogs == [] and watch.errors == [], watch.errors
