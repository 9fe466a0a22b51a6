"""The knowledge-base report in a real browser (Debian's Chromium) against `madad serve`: a
supervisor opens it from the reports' navigation, reads the headline figures, the articles by
reads, a failed search shown as text and the bot's outcomes, then reads it mirrored in Urdu.
Screenshots land in tests/e2e/artifacts/."""

from __future__ import annotations

from playwright.async_api import Browser, Locator, expect

from madad.auth.models import Role, User
from madad.config import Settings
from madad.db import Database
from tests.conftest import make_person
from tests.console.conftest import PASSWORD
from tests.e2e.test_console_browser import ARTIFACTS, Watch, browser  # noqa: F401 - fixture
from tests.kb.test_report_page import XSS_QUERY, seed_kb_facts
from tests.servers import settings_env, spawn_server


async def test_a_supervisor_reads_the_knowledge_base_report(
    settings: Settings,
    db: Database,
    browser: Browser,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await seed_kb_facts(db)
    boss = await make_person(db, role=Role.supervisor, name="Zainab Supervisor", password=PASSWORD)
    with spawn_server(settings_env(settings)) as base:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        watch = Watch(page)
        await page.goto(f"{base}/reports")
        await page.get_by_label("Email").fill(boss.email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("link", name="Knowledge base").click()
        await expect(page.get_by_role("heading", name="Knowledge base")).to_be_visible()
        await page.get_by_role("link", name="Last 7 days").click()

        def card(name: str) -> Locator:
            return page.locator("article.kpi", has=page.get_by_role("heading", name=name))

        await expect(card("Article views").locator(".kpi-value")).to_contain_text("5")
        await expect(card("Median read time").locator(".kpi-value")).to_contain_text("40 s")
        await expect(card("Helpful").locator(".kpi-value")).to_contain_text("66.7 %")
        await expect(card("Deflection").locator(".kpi-detail")).to_have_text("2 of 3")
        articles = page.locator(
            "section", has=page.get_by_role("heading", name="Articles by reads")
        )
        first = articles.locator("tbody tr").first
        await expect(first.locator("th")).to_have_text("Request a refund")
        await expect(first.locator("td").nth(1)).to_have_text("3")  # reads
        gaps = page.locator(
            "section", has=page.get_by_role("heading", name="Searches with no result")
        )
        await expect(gaps.locator("tbody th").first).to_have_text(XSS_QUERY.casefold())
        assert await gaps.locator("img").count() == 0  # the query is text, not markup
        bot = page.locator("section", has=page.get_by_role("heading", name="Answer bot"))
        await expect(bot.locator("tbody tr").first.locator("td")).to_have_text(
            ["3", "33.3 %", "33.3 %", "0", "100 %"]  # no question went unanswered
        )
        await page.screenshot(path=str(ARTIFACTS / "reports-knowledge-base.png"), full_page=True)

        async with db.session() as session:
            user = await session.get(User, boss.id)
            assert user is not None
            user.language = "ur"
        await page.reload()
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await expect(page.get_by_role("heading", name="معلوماتی ذخیرہ")).to_be_visible()
        await expect(card("مضامین کے مشاہدات").locator(".kpi-value")).to_contain_text("5")
        await page.screenshot(path=str(ARTIFACTS / "reports-knowledge-base-ur.png"), full_page=True)
        assert watch.dialogs == [] and watch.errors == [], watch.errors
        await context.close()
