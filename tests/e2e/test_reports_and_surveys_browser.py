"""The reports and a customer's survey in a real browser (Debian's Chromium) against
`madad serve`: a supervisor reads the dashboard (in English and mirrored in Urdu); a customer
opens a survey link, the page's beacon records the open, and the answer is stored once.
Screenshots land in tests/e2e/artifacts/."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect
from sqlalchemy import select

from madad.activity.models import Activity
from madad.auth.models import Role, User
from madad.auth.permissions import SYSTEM
from madad.config import Settings
from madad.contacts import service as contacts
from madad.contacts.schemas import ContactCreate
from madad.db import Database
from madad.surveys import service
from madad.surveys.models import Survey
from tests.conftest import make_person
from tests.console.conftest import PASSWORD
from tests.e2e.test_console_browser import ARTIFACTS, Watch, browser  # noqa: F401 - fixture
from tests.metrics.test_reports import WEEK, write_worked_day
from tests.servers import settings_env, spawn_server


async def test_a_supervisor_reads_the_dashboard(
    settings: Settings,
    db: Database,
    browser: Browser,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    boss = await make_person(db, role=Role.supervisor, name="Zainab Supervisor", password=PASSWORD)
    seven = await make_person(db, role=Role.agent, name="Sara Seven", password=PASSWORD)
    eight = await make_person(db, role=Role.agent, name="Imran Eight", password=PASSWORD)
    await write_worked_day(db, agents=(seven.id, eight.id))
    with spawn_server(settings_env(settings)) as base:
        context = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await context.new_page()
        watch = Watch(page)
        await page.goto(f"{base}/reports?{WEEK}")
        await page.get_by_label("Email").fill(boss.email)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
        frt = page.locator(
            "article.kpi", has=page.get_by_role("heading", name="First response time")
        )
        await expect(frt.locator(".kpi-value")).to_contain_text("15.5 min")
        assert await page.locator("figure.chart svg").count() == 8
        await expect(page.get_by_role("link", name="Sara Seven")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / "reports-dashboard.png"), full_page=True)
        await page.get_by_role("link", name="Sara Seven").click()
        await expect(page.get_by_role("heading", name="Report for Sara Seven")).to_be_visible()
        async with db.session() as session:
            user = await session.get(User, boss.id)
            assert user is not None
            user.language = "ur"
        await page.goto(f"{base}/reports?{WEEK}")
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await expect(page.get_by_role("heading", name="رپورٹیں", exact=True)).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / "reports-dashboard-urdu.png"), full_page=True)
        await context.close()
    assert watch.dialogs == [] and watch.errors == [], watch.errors


async def test_a_customer_answers_a_survey_in_the_browser(
    settings: Settings,
    db: Database,
    browser: Browser,  # noqa: F811
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    async with db.session() as session:
        view = await contacts.create_contact(
            session, SYSTEM, ContactCreate(name="Sana <b>Khan</b>", emails=["sana@example.com"])
        )
        survey = await service.open_nps(session, view.contact.id)
        path = service.link_of(settings, survey)
        survey_id = survey.id
    with spawn_server(settings_env(settings)) as base:
        context = await browser.new_context(viewport={"width": 390, "height": 800})
        page = await context.new_page()
        watch = Watch(page)
        await page.goto(f"{base}{path}?score=9")
        await expect(page.get_by_role("heading", name="Would you recommend us?")).to_be_visible()
        await expect(page.get_by_label("9", exact=True)).to_be_checked()
        for _ in range(50):  # the page's beacon reports that a person saw it
            async with db.session(write=False) as session:
                s = await session.get(Survey, survey_id)
                if s is not None and s.opened_at is not None:
                    break
            await asyncio.sleep(0.1)
        assert s is not None and s.opened_at is not None and s.answered_at is None
        await page.get_by_label("10", exact=True).check()
        await page.get_by_label("Anything you would like to tell us? (optional)").fill(
            "Great <script>alert(1)</script> support"
        )
        await page.get_by_role("button", name="Send my answer").click()
        await expect(page.get_by_role("status")).to_contain_text("Your answer is saved")
        await page.screenshot(path=str(ARTIFACTS / "survey-answered.png"), full_page=True)
        await context.close()
    async with db.session(write=False) as session:
        s = await session.get(Survey, survey_id)
        answers = (
            (await session.execute(select(Activity).where(Activity.kind == "survey.answered")))
            .scalars()
            .all()
        )
    assert (
        s is not None and s.score == 10 and s.comment == "Great <script>alert(1)</script> support"
    )
    assert len(answers) == 1
    assert watch.dialogs == [] and watch.errors == [], watch.errors
