"""The customer portal in a real browser (Debian's Chromium) against `madad serve`, on a
phone-sized screen: from a help-centre article the customer presses "Contact us", asks for a
sign-in link, takes it from the email the server sent (captured by a real SMTP server), signs
in and lands on the new request form with the article carried along; sends a request whose
subject and description are every XSS vector (shown as text, nothing runs) with a file; reads
an agent's answer on an earlier request and replies; switches to Urdu (right to left). A second
customer opening the first one's request gets "not found". Screenshots: tests/e2e/artifacts/."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select

from madad.activity.models import Activity
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM, actor_for
from madad.config import Settings
from madad.contacts import service as contacts
from madad.contacts.schemas import ContactCreate
from madad.db import Database
from madad.kb import service as kb
from madad.kb.service import Text
from madad.tickets import service as tickets
from madad.tickets.inbound import Inbound, Sender
from madad.tickets.models import Message, Ticket
from tests.channels.email.conftest import SmtpCapture, make_mailbox, smtp_values
from tests.channels.email.conftest import smtp_capture as smtp_capture  # the fixture
from tests.conftest import make_person
from tests.e2e.test_console_browser import ARTIFACTS, Watch, browser  # noqa: F401 - fixture
from tests.kb.conftest import AUTHOR
from tests.servers import settings_env, spawn_server

CORPUS = Path(__file__).parents[1] / "corpus" / "xss"
VECTORS = [
    p.read_text(errors="replace").split("\n--\n", 1)[0] for p in sorted(CORPUS.rglob("*.test"))
]
SANA = "sana@example.com"
OMAR = "omar@example.com"


async def seed(db: Database) -> tuple[int, int]:
    agent = await make_person(db, role=Role.agent, name="Ayesha Agent")
    async with db.session() as session:
        for name, email in (("Sana Khan", SANA), ("Omar Farooq", OMAR)):
            await contacts.create_contact(session, SYSTEM, ContactCreate(name=name, emails=[email]))
        got = await tickets.receive(
            session,
            Inbound(channel="email", sender=Sender(email=SANA), subject="Parcel never arrived",
                    text="Order 1042 has not arrived."),
        )  # fmt: skip
        await tickets.reply(
            session, actor_for(agent.id, "agent", "Ayesha Agent"), got.ticket_id,
            text="Sorry! A new parcel left today.",
        )  # fmt: skip
        article = await kb.create_article(
            session, AUTHOR,
            translations={"en": Text("Track your parcel", "Open **Orders** and press Track."),
                          "ur": Text("اپنا پارسل ٹریک کریں", "آرڈرز کھولیں۔")},
            publish=["en", "ur"],
        )  # fmt: skip
    return got.ticket_id, article.article.id


async def link_from_mail(capture: SmtpCapture, address: str, seen: int) -> str:
    for _ in range(200):
        mails = [m for m in capture.received[seen:] if address in m.rcpt_tos]
        if mails:
            text = mails[-1].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
            [link] = re.findall(r"http://127\.0\.0\.1:\d+/portal(?:/ur)?/sign-in/[\w.-]+", text)
            return link
        await asyncio.sleep(0.1)
    raise AssertionError(f"no sign-in email for {address}")


async def sign_in(page: Page, base: str, capture: SmtpCapture, address: str) -> None:
    seen = len(capture.received)
    await page.get_by_label("Your email address").fill(address)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await expect(page.get_by_role("status")).to_contain_text("Check your email")
    link = await link_from_mail(capture, address, seen)
    assert link.startswith(base)
    await page.goto(link)
    await page.get_by_role("button", name="Sign in").click()


async def test_a_customer_signs_in_by_email_asks_replies_and_sees_only_their_own(
    settings: Settings,
    db: Database,
    browser: Browser,  # noqa: F811
    smtp_capture: SmtpCapture,
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await make_mailbox(db, display_name="Madad Support", **smtp_values(smtp_capture))
    earlier, article_id = await seed(db)
    subject = " ".join(v.replace("\n", " ") for v in VECTORS[:8])[:300].strip()
    description = "\n\n".join(VECTORS)
    with spawn_server(settings_env(settings)) as base:
        context: BrowserContext = await browser.new_context(viewport={"width": 390, "height": 800})
        page = await context.new_page()
        watch = Watch(page)

        # From the article, "Contact us": sign in first, then the form with the article.
        await page.goto(f"{base}/help/articles/track-your-parcel")
        await page.get_by_role("link", name="Contact us").click()
        await expect(page).to_have_url(re.compile(r"/portal/sign-in\?next="))
        await page.screenshot(path=str(ARTIFACTS / "portal-sign-in.png"))
        await sign_in(page, base, smtp_capture, SANA)
        await expect(page).to_have_url(f"{base}/portal/new?article={article_id}")
        await expect(page.locator(".help-note")).to_contain_text("Track your parcel")

        await page.get_by_label("Subject").fill(subject)
        await page.get_by_label("Describe what you need").fill(description)
        await page.get_by_label("Attach files (optional)").set_input_files(
            files=[{"name": "photo <b>.png", "mimeType": "image/png", "buffer": b"\x89PNG fake"}]
        )
        await page.screenshot(path=str(ARTIFACTS / "portal-new-request.png"), full_page=True)
        await page.get_by_role("button", name="Send request").click()
        await expect(page.get_by_role("status")).to_contain_text("we have your request")
        await expect(page.get_by_role("heading", level=1)).to_have_text(subject)
        text = await page.locator(".portal-message .portal-text").first.inner_text()
        assert text == description.strip()
        await expect(page.get_by_role("link", name="photo _b_.png")).to_be_visible()
        assert await page.locator("main script, main iframe, main [onerror], main img").count() == 0
        mine = page.url
        async with db.session(write=False) as session:
            ticket = await session.scalar(select(Ticket).where(Ticket.channel == "portal"))
            assert ticket is not None and ticket.subject == subject
            fact = await session.scalar(
                select(Activity).where(Activity.kind == "kb.contact_started")
            )
            assert fact is not None and fact.data["article_id"] == article_id
            assert fact.data["visitor"] and fact.data["help_session"]  # the visit came along

        # The earlier request: the agent's answer, a reply, the list with plain statuses.
        await page.get_by_role("link", name="My requests").click()
        await expect(page.locator(".portal-ticket")).to_have_count(2)
        await expect(page.locator(".portal-ticket").nth(1)).to_contain_text("In progress")
        await page.get_by_role("link", name="Parcel never arrived").click()
        await expect(page.locator(".from-team")).to_contain_text("A new parcel left today")
        await expect(page.locator(".from-team")).to_contain_text("Ayesha Agent")
        await page.get_by_label("Your message").fill("Thank you! <script>alert('reply')</script>")
        await page.get_by_role("button", name="Send reply").click()
        await expect(page.get_by_role("status")).to_contain_text("Your reply is sent")
        await expect(page.locator(".from-customer").last).to_contain_text(
            "Thank you! <script>alert('reply')</script>"
        )
        await page.screenshot(path=str(ARTIFACTS / "portal-request.png"), full_page=True)
        async with db.session(write=False) as session:
            texts = (
                await session.scalars(select(Message.text).where(Message.ticket_id == earlier))
            ).all()
            assert texts[-1] == "Thank you! <script>alert('reply')</script>"

        # In Urdu, right to left, the same request.
        await page.get_by_role("link", name="اردو").click()
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Parcel never arrived")
        await expect(page.get_by_role("button", name="جواب بھیجیں")).to_be_visible()
        await page.screenshot(path=str(ARTIFACTS / "portal-request-urdu.png"), full_page=True)
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390

        # Another customer, in another browser, opening Sana's request: not found.
        other = await browser.new_context(viewport={"width": 390, "height": 800})
        stranger = await other.new_page()
        other_watch = Watch(stranger)
        await stranger.goto(mine)
        await expect(stranger).to_have_url(re.compile(r"/portal/sign-in\?next="))
        await sign_in(stranger, base, smtp_capture, OMAR)
        await expect(stranger.get_by_role("heading", name="Not found")).to_be_visible()
        assert subject[:20] not in await stranger.content()
        await stranger.goto(f"{base}/portal")
        await expect(stranger.get_by_text("You have no requests yet.")).to_be_visible()
        await other.close()
        await context.close()
    assert watch.dialogs == [] and other_watch.dialogs == [], (watch.dialogs, other_watch.dialogs)
    assert [e for e in watch.errors if "404" not in e] == [], watch.errors
