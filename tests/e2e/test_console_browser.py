"""The console in a real browser (Debian's Chromium via Playwright) against `madad serve`.

Walks an agent's day: sign in, open Unassigned, open a ticket with the customer's history beside
it, reply, see a new API message arrive without reloading, see a colleague viewing and typing on
the same ticket — while a customer's <script> / onerror payload never runs.
Screenshots land in tests/e2e/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from madad.auth.models import Role
from madad.auth.permissions import Scope
from madad.config import Settings
from madad.db import Database
from tests.conftest import Person, make_person
from tests.console.conftest import PASSWORD
from tests.servers import settings_env, spawn_server

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM = os.environ.get("MADAD_TEST_CHROMIUM", "/usr/bin/chromium")
XSS_NAME = "Zara <img src=x onerror=alert('name')>"
XSS_HTML = "<p>Hello <img src=x onerror=\"alert('html')\"><script>alert('script')</script></p>"


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (Debian package 'chromium')")
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield b
        finally:
            await b.close()


class Watch:
    """Dialogs and console errors of a page: a payload that runs shows up here."""

    def __init__(self, page: Page) -> None:
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    async def _dialog(self, dialog: object) -> None:
        self.dialogs.append(dialog.message)  # type: ignore[attr-defined]
        await dialog.dismiss()  # type: ignore[attr-defined]


async def signed_in_page(context: BrowserContext, base: str, person: Person) -> tuple[Page, Watch]:
    page = await context.new_page()
    watch = Watch(page)
    await page.goto(base + "/inbox?view=unassigned")
    await expect(page).to_have_url(base + "/login?next=%2Finbox%3Fview%3Dunassigned")
    await page.get_by_label("Email").fill(person.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page).to_have_url(base + "/inbox?view=unassigned")
    return page, watch


def post(base: str, who: Person, external_id: str, **body: object) -> dict:
    payload = {"external_id": external_id, **body}
    r = httpx.post(base + "/api/v1/inbound", headers=who.headers, json=payload, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


async def test_an_agents_day_in_the_console(
    settings: Settings, db: Database, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    bilal = await make_person(db, role=Role.agent, name="Bilal Agent", password=PASSWORD)
    bridge = await make_person(db, role=Role.agent, name="Bridge", scopes=[Scope.inbound])
    with spawn_server(settings_env(settings)) as base:
        customer = {"email": "zara@example.com", "name": XSS_NAME, "time_zone": "Asia/Karachi"}
        earlier = post(
            base,
            bridge,
            "old-1",
            contact=customer,
            subject="Invoice for March",
            text="Please send my invoice",
            conversation_id="c-old",
        )
        current = post(
            base,
            bridge,
            "new-1",
            contact=customer,
            subject="Parcel <script>alert('subject')</script> missing",
            html=XSS_HTML,
            conversation_id="c-new",
        )

        one = await browser.new_context(viewport={"width": 1280, "height": 860})
        page, watch = await signed_in_page(one, base, ayesha)
        rows = page.locator("tr.ticket-row")
        await expect(rows).to_have_count(2)
        await page.screenshot(path=str(ARTIFACTS / "inbox.png"), full_page=True)

        # Open the ticket: conversation, customer 360 with the earlier ticket.
        await page.get_by_role("link", name=f"#{current['ticket_id']}").click()
        await expect(page).to_have_url(f"{base}/tickets/{current['ticket_id']}")
        panel = page.locator("#customer-360")
        history = panel.get_by_role("link", name=f"#{earlier['ticket_id']} Invoice for March")
        await expect(history).to_be_visible()
        await expect(panel).to_contain_text("zara@example.com")
        await expect(panel).to_contain_text("Asia/Karachi")
        await expect(page.locator(".conversation")).to_contain_text("Hello")
        await expect(page.locator("[data-live]")).to_have_attribute("data-stream-ready", "1")

        # A colleague opens the same ticket and starts typing: Ayesha is told.
        two = await browser.new_context()
        colleague, colleague_watch = await signed_in_page(two, base, bilal)
        await colleague.goto(f"{base}/tickets/{current['ticket_id']}")
        await expect(colleague.locator("[data-live]")).to_have_attribute("data-stream-ready", "1")
        await expect(page.locator("#presence")).to_contain_text("Bilal Agent is also viewing")
        await expect(colleague.locator("#presence")).to_contain_text("Ayesha Agent is also viewing")
        await colleague.get_by_label("Reply to the customer").press_sequentially("On it")
        await expect(page.locator("#presence")).to_contain_text("Bilal Agent is typing")

        # Reply: it shows in the conversation, on both screens.
        await page.get_by_label("Reply to the customer").fill("Your parcel ships today.")
        await page.get_by_label("Then set status").select_option("pending")
        await page.get_by_role("button", name="Send reply").click()
        await expect(page.locator(".msg.outbound")).to_contain_text("Your parcel ships today.")
        await expect(page.get_by_label("Reply to the customer")).to_have_value("")
        await expect(colleague.locator(".msg.outbound")).to_contain_text("ships today")
        await page.screenshot(path=str(ARTIFACTS / "ticket.png"), full_page=True)

        # Back in the inbox, a new message from the API appears without a reload.
        await page.goto(base + "/inbox?view=open")
        await expect(page.locator("[data-live]")).to_have_attribute("data-stream-ready", "1")
        marker = await page.evaluate("() => (window.__sameDocument = 'yes')")
        post(
            base,
            bridge,
            "live-1",
            contact={"email": "new.customer@example.com", "name": "Hamza"},
            subject="Live arrival",
            text="Hello?",
        )
        await expect(page.locator("tr.ticket-row", has_text="Live arrival")).to_have_count(1)
        assert await page.evaluate("() => window.__sameDocument") == marker  # no reload

        await one.close()
        await two.close()
    assert watch.dialogs == [] and colleague_watch.dialogs == []
    assert watch.errors == [], watch.errors
    assert colleague_watch.errors == [], colleague_watch.errors


async def test_urdu_mirrors_the_console(settings: Settings, db: Database, browser: Browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    bridge = await make_person(db, role=Role.agent, name="Bridge", scopes=[Scope.inbound])
    with spawn_server(settings_env(settings)) as base:
        got = post(
            base,
            bridge,
            "u1",
            contact={"email": "kamran@example.com", "name": "کامران"},
            subject="میرا آرڈر کہاں ہے؟",
            text="السلام علیکم، میرا آرڈر ابھی تک نہیں پہنچا۔",
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 860})
        page, watch = await signed_in_page(context, base, ayesha)
        await page.goto(base + "/me")
        await page.get_by_label("Language").select_option("ur")
        await page.get_by_label("Time zone").fill("Asia/Karachi")
        await page.get_by_role("button", name="Save").click()
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await page.goto(f"{base}/tickets/{got['ticket_id']}")
        await expect(page.locator("html")).to_have_attribute("lang", "ur")
        await expect(page.get_by_role("button", name="جواب بھیجیں")).to_be_visible()
        conversation = await page.locator(".ticket-col").bounding_box()
        panel = await page.locator(".customer-360").bounding_box()
        assert conversation and panel and panel["x"] < conversation["x"]  # mirrored
        await page.screenshot(path=str(ARTIFACTS / "ticket-urdu.png"), full_page=True)
        await context.close()
    assert watch.dialogs == [] and watch.errors == [], watch.errors


async def test_the_console_fits_a_phone_screen(
    settings: Settings, db: Database, browser: Browser
) -> None:
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    bridge = await make_person(db, role=Role.agent, name="Bridge", scopes=[Scope.inbound])
    with spawn_server(settings_env(settings)) as base:
        got = post(
            base,
            bridge,
            "p1",
            contact={"email": "phone.user@example.com", "name": "Maryam"},
            subject="A rather long subject line about a parcel that never arrived at all",
            text="It has been two weeks.",
        )
        phone = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
        page, watch = await signed_in_page(phone, base, ayesha)
        for path in ("/inbox?view=open", f"/tickets/{got['ticket_id']}", "/contacts"):
            await page.goto(base + path)
            overflow = await page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 1, (path, overflow)
        await page.goto(f"{base}/tickets/{got['ticket_id']}")
        await expect(page.get_by_role("button", name="Send reply")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / "ticket-phone.png"), full_page=True)
        await phone.close()
    assert watch.dialogs == [] and watch.errors == [], watch.errors
