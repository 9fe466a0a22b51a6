"""The help centre in a real browser (Debian's Chromium) against `madad serve`, on a phone-sized
screen: a customer types into the search box and gets answers as they type, opens the
article, reads it for more than ten seconds (the page's beacon records the read with a
plausible visible time), votes; searches they settle on are counted with their results; the
Urdu help centre is mirrored (right to left) and answers Urdu; an article made of every XSS
vector shows as inert text. Screenshots land in tests/e2e/artifacts/."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser, expect
from sqlalchemy import select

from madad.activity.models import Activity
from madad.config import Settings
from madad.db import Database
from madad.kb import service
from madad.kb.service import Text
from tests.e2e.test_console_browser import ARTIFACTS, Watch, browser  # noqa: F401 - fixture
from tests.kb.conftest import AUTHOR
from tests.servers import settings_env, spawn_server

XSS = Path("/work/shared/data/xss/bleach-sanitizer-vectors")


async def seed(db: Database) -> None:
    vectors = [
        p.read_text(errors="replace").split("\n--\n", 1)[0] for p in sorted(XSS.rglob("*.test"))
    ]
    async with db.session() as session:
        category = await service.create_category(
            session, AUTHOR, slug="account", titles={"en": "Your account", "ur": "آپ کا اکاؤنٹ"}
        )
        section = await service.create_section(
            session, AUTHOR, category_id=category.id, slug="sign-in",
            titles={"en": "Signing in", "ur": "سائن ان"},
        )  # fmt: skip
        await service.create_article(
            session,
            AUTHOR,
            section_id=section.id,
            translations={
                "en": Text(
                    "Reset your password",
                    "Forgot your password? Press **Forgot password** on the sign-in page.\n\n"
                    + "\n\n".join(f"Step {i}: wait for the email." for i in range(40)),
                ),
                "ur": Text(
                    "پاس ورڈ دوبارہ ترتیب دیں", "سائن ان صفحے پر **پاس ورڈ بھول گئے** دبائیں۔"
                ),
            },
            publish=["en", "ur"],
        )
        await service.create_article(
            session,
            AUTHOR,
            section_id=section.id,
            translations={"en": Text("Every XSS vector", "\n\n".join(vectors))},
            publish=["en"],
        )


async def kinds(db: Database) -> dict[str, list[dict]]:
    async with db.session(write=False) as session:
        rows = await session.scalars(select(Activity).where(Activity.kind.like("kb.%")))
        out: dict[str, list[dict]] = {}
        for r in rows:
            out.setdefault(r.kind, []).append(r.data)
        return out


async def test_a_customer_searches_reads_and_votes(
    settings: Settings,
    db: Database,
    browser: Browser,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await seed(db)
    with spawn_server(settings_env(settings)) as base:
        context = await browser.new_context(viewport={"width": 390, "height": 800})
        page = await context.new_page()
        watch = Watch(page)
        await page.goto(f"{base}/help")
        await expect(page.get_by_role("heading", name="Your account")).to_be_visible()
        await page.get_by_label("Search the help centre").press_sequentially("passw", delay=60)
        suggestion = page.locator(".help-suggestion").first
        await expect(suggestion).to_contain_text("Reset your password")
        await expect(suggestion.locator("mark").first).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / "help-search-as-you-type.png"))
        await suggestion.click()
        await expect(page.get_by_role("heading", name="Reset your password")).to_be_visible()
        await page.mouse.wheel(0, 600)
        await asyncio.sleep(11)  # reading, with the page visible
        await page.get_by_label("Anything we should add? (optional)").fill("Clear <b>steps</b>")
        await page.get_by_role("button", name="Yes").click()  # leaving the page sends the read
        await expect(page.get_by_role("status")).to_contain_text("Thank you for your feedback")
        for _ in range(50):
            seen = await kinds(db)
            if seen.get("kb.read"):
                break
            await asyncio.sleep(0.1)
        assert len(seen.get("kb.view", [])) >= 1
        [read] = seen["kb.read"]
        assert 10.5 <= read["read_seconds"] <= 30, read
        assert 0 < read["scroll_depth"] <= 1
        [vote] = seen["kb.vote"]
        assert vote["helpful"] is True and vote["comment"] == "Clear <b>steps</b>"
        assert vote["visitor"] == read["visitor"]  # one browser, one visitor
        # … and one visit: the view, the read and the vote name the same help session.
        assert read["help_session"] and len(read["help_session"]) >= 8
        assert vote["help_session"] == read["help_session"]
        assert {v["help_session"] for v in seen["kb.view"]} == {read["help_session"]}

        await page.goto(f"{base}/help/ur")
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        box = page.get_by_label("مرکزِ معاونت میں تلاش کریں")  # "Search the help centre"
        await box.press_sequentially("پاس ور", delay=60)
        await expect(page.locator(".help-suggestion").first).to_contain_text(
            "پاس ورڈ دوبارہ ترتیب دیں"
        )
        await page.locator(".help-suggestion").first.click()
        await expect(page.locator("article strong")).to_have_text("پاس ورڈ بھول گئے")
        await page.screenshot(path=str(ARTIFACTS / "help-article-urdu.png"), full_page=True)

        # Searches a customer settles on are counted, with how many articles answered.
        await page.goto(f"{base}/help")
        box = page.get_by_label("Search the help centre")
        await box.press_sequentially("xyzzy plugh", delay=40)
        await asyncio.sleep(2)  # a pause: the search is settled
        await box.fill("forgot password")
        await box.press("Enter")
        await expect(page.get_by_role("heading", name="Search results")).to_be_visible()
        await expect(page.locator(".help-results a").first).to_have_text("Reset your password")
        for _ in range(50):
            searches = {s["query"]: s["results"] for s in (await kinds(db)).get("kb.search", [])}
            if "xyzzy plugh" in searches and "forgot password" in searches:
                break
            await asyncio.sleep(0.1)
        assert searches["xyzzy plugh"] == 0 and searches["forgot password"] >= 1, searches

        await page.goto(f"{base}/help/articles/every-xss-vector")
        await expect(page.get_by_role("heading", name="Every XSS vector")).to_be_visible()
        assert await page.locator("article script, article iframe, article [onerror]").count() == 0
        await context.close()
    assert watch.dialogs == [] and watch.errors == [], (watch.dialogs, watch.errors)
