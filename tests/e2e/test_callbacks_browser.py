"""Live queues and callbacks in a real browser (Debian's Chromium via Playwright) against
`madad serve`: an admin posts a queue's hours and edits them (a mistake is shown on the form);
a customer asks for a callback; an agent takes it from the Callbacks page and logs the outcome,
which lands on the ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Browser, expect

from madad.auth.models import Role
from madad.auth.permissions import SYSTEM
from madad.channels.hours import calendar as hours_calendar
from madad.channels.hours import service as hours
from madad.channels.phone import callbacks
from madad.config import Settings
from madad.db import Database
from tests.conftest import make_person
from tests.console.conftest import PASSWORD
from tests.e2e.test_console_browser import ARTIFACTS, browser, signed_in_page
from tests.servers import settings_env, spawn_server

__all__ = ["browser"]  # the Chromium fixture

KARACHI = ZoneInfo("Asia/Karachi")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


async def test_admin_posts_hours_and_an_agent_works_a_callback(
    settings: Settings, db: Database, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    adil = await make_person(db, role=Role.admin, name="Adil Admin", password=PASSWORD)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    with spawn_server(settings_env(settings)) as base:
        # The admin adds "billing", open around the clock, then edits its hours.
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page, watch = await signed_in_page(context, base, adil)
        await page.goto(base + "/admin/live-queues")
        await page.get_by_role("link", name="Add a live queue").click()
        await page.get_by_label("Queue name").fill("billing")
        await page.get_by_label("Time zone").fill("Asia/Karachi")
        for day in DAYS:
            await page.get_by_label(day, exact=True).fill("00:00-24:00")
        await page.get_by_role("button", name="Add live queue").click()
        await expect(page).to_have_url(base + "/admin/live-queues/billing?done=created")
        await expect(page.locator("#queue-state")).to_contain_text("Open now")

        # Short hours on a day three days off, so that the queue stays open now.
        day = DAYS[(datetime.now(KARACHI).weekday() + 3) % 7]
        await page.get_by_label(day, exact=True).fill("10:00-14:00, 13:00-15:00")
        await page.get_by_role("button", name="Save").click()
        error = page.get_by_role("alert")
        await expect(error).to_contain_text(f"{day}: 10:00-14:00 and 13:00-15:00 overlap")
        await expect(page.get_by_label(day, exact=True)).to_have_attribute("aria-invalid", "true")
        await page.get_by_label(day, exact=True).fill("10:00-14:00")
        await page.get_by_label("Holidays", exact=True).fill("2027-03-23 closed Pakistan Day")
        await page.get_by_role("button", name="Save").click()
        await expect(page).to_have_url(base + "/admin/live-queues/billing?done=saved")
        await expect(page.get_by_role("status")).to_contain_text("Hours saved.")
        await expect(page.get_by_label(day, exact=True)).to_have_value("10:00-14:00")
        await expect(page.get_by_label("Holidays", exact=True)).to_have_value(
            "2027-03-23 closed Pakistan Day"
        )
        await page.screenshot(path=str(ARTIFACTS / "live-queue-hours.png"), full_page=True)
        status = httpx.get(base + "/api/v1/live/queues/billing/status", timeout=10).json()
        assert status["open"] is True and status["time_zone"] == "Asia/Karachi"
        assert {"start": "10:00", "end": "14:00"} in status["hours"][3]["intervals"]

        # A customer asks to be called back within the hour.
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
        r = httpx.post(
            base + "/api/v1/live/queues/billing/callbacks",
            json={
                "name": "Zara <b>Khan</b>",
                "phone": "+92 300 1234567",
                "note": "About invoice 7",
                "window_start": start.isoformat(),
                "window_end": (start + timedelta(minutes=30)).isoformat(),
            },
            timeout=10,
        )
        assert r.status_code == 201, r.text

        # The agent takes it from the Callbacks page and logs the outcome.
        agent_context = await browser.new_context(viewport={"width": 1280, "height": 900})
        agent_page, agent_watch = await signed_in_page(agent_context, base, ayesha)
        await agent_page.get_by_role("link", name="Callbacks").click()
        await expect(agent_page).to_have_url(base + "/callbacks")
        row = agent_page.locator("tr.callback-row")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("Zara <b>Khan</b>")  # shown as text, not markup
        await expect(row).to_contain_text("About invoice 7")
        await row.get_by_role("button", name="Take").click()
        await expect(agent_page.get_by_role("status")).to_contain_text("The callback is yours")
        await expect(row).to_contain_text("Ayesha Agent")
        await row.get_by_label("Outcome").select_option("reached")
        await row.get_by_label("Note for the ticket").fill("Explained the invoice; all good.")
        await agent_page.screenshot(path=str(ARTIFACTS / "callbacks.png"), full_page=True)
        await row.get_by_role("button", name="Log outcome").click()
        await expect(agent_page.get_by_role("status")).to_contain_text("Outcome logged")
        await expect(agent_page.get_by_text("No callbacks waiting.")).to_be_visible()

        callback_id = r.json()["id"]
        listed = httpx.get(
            base + f"/api/v1/live/callbacks/{callback_id}", headers=ayesha.headers, timeout=10
        ).json()
        assert listed["status"] == "done" and listed["outcome"] == "reached"
        await agent_page.goto(base + f"/tickets/{listed['ticket_id']}")
        await expect(agent_page.locator(".conversation")).to_contain_text(
            "Explained the invoice; all good."
        )
        assert watch.dialogs == [] and agent_watch.dialogs == []
        await context.close()
        await agent_context.close()


XSS = Path("/work/shared/data/xss/bleach-sanitizer-vectors")


async def test_every_xss_vector_as_a_callback_stays_text(
    settings: Settings, db: Database, browser: Browser
) -> None:
    """Customers' names and notes are shown on /callbacks as text: with every sanitizer attack
    vector among them, the page runs nothing and grows no element from them."""
    vectors = [
        p.read_text(errors="replace").split("\n--\n", 1)[0] for p in sorted(XSS.rglob("*.test"))
    ]
    assert len(vectors) > 200
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    async with db.session() as s:
        await hours.create_queue(
            s, SYSTEM, name="billing", time_zone="UTC",
            weekly_hours={d: ["00:00-24:00"] for d in hours_calendar.WEEKDAYS},
        )  # fmt: skip
        pairs = [vectors[i : i + 2] for i in range(0, len(vectors), 2)]
        for n, pair in enumerate(pairs):
            await callbacks.request_callback(
                s,
                "billing",
                callbacks.CallbackRequest(
                    name=pair[0][:200],
                    phone=f"+92 300 {n:07d}",
                    note="\n\n".join(pair),
                    window_start=start + timedelta(minutes=n),
                    window_end=start + timedelta(minutes=n + 30),
                ),
            )
    with spawn_server(settings_env(settings)) as base:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page, watch = await signed_in_page(context, base, ayesha)
        await page.goto(base + "/callbacks")
        await expect(page.locator("tr.callback-row")).to_have_count(len(pairs))
        await expect(page.locator("tr.callback-row").first).to_contain_text(pairs[0][0][:40])
        table = page.locator("table.callbacks")
        dangerous = "script, iframe, object, embed, svg, math, img, style, [onerror], [onload]"
        assert await table.locator(dangerous).count() == 0
        notes = await page.locator(".callback-note").all_text_contents()
        shown = "\n".join(notes)
        for v in vectors:  # each one whole, as text (HTML reads a CR as a line feed)
            assert v.replace("\r\n", "\n").replace("\r", "\n") in shown, v
        await page.wait_for_timeout(500)  # give any payload a chance to run
        await context.close()
    assert watch.dialogs == [], watch.dialogs
