"""A chat passed between agents in real browsers (Debian's Chromium via Playwright): the widget
on a shop of another origin, two agents' consoles in their own contexts. The visitor sees the
agent's picture (or initials), read receipts go both ways, and the first agent hands the chat
to a team whose member takes it; files go both ways and download; when the chat ends the
visitor rates it in the widget (the ticket's CSAT survey); the answer bot answers a first
question before the queue and a person takes over with one click."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, expect
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from madad.activity.models import Activity
from madad.auth import service as auth
from madad.auth.models import Role
from madad.auth.permissions import SYSTEM
from madad.config import Settings
from madad.db import Database
from madad.surveys.models import Survey
from tests.conftest import make_person
from tests.console.conftest import PASSWORD
from tests.e2e.test_chat_browser import new_inbox, shop, sign_in
from tests.e2e.test_console_browser import ARTIFACTS, Watch
from tests.e2e.test_console_browser import browser as browser  # the fixture
from tests.kb.conftest import write
from tests.servers import serve_app, settings_env, spawn_server

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60
PDF = b"%PDF-1.4\n%%EOF\n"
PICTURE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="40">'
    '<circle cx="20" cy="20" r="20" fill="#c2410c"/></svg>'
)


async def picture(request: Request) -> Response:
    return Response(PICTURE, media_type="image/svg+xml")


async def go_online(page, avatar: str | None = None) -> None:
    await page.get_by_label("Availability").select_option("online")
    if avatar is not None:
        await page.get_by_label("Your picture for visitors (image address, optional)").fill(avatar)
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator("#chat-page")).to_have_attribute("data-stream-ready", "1")


async def test_pictures_receipts_and_a_transfer_to_a_team(
    settings: Settings, db: Database, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    admin = await make_person(db, role=Role.admin)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    bilal = await make_person(db, role=Role.agent, name="Bilal Agent", password=PASSWORD)
    async with db.session() as session:
        team = await auth.create_team(session, SYSTEM, name="Billing")
        await auth.update_team(session, SYSTEM, team.id, member_ids=[bilal.id])
    with spawn_server(settings_env(settings)) as base:
        inbox = new_inbox(base, admin)
        app = shop(base, inbox["key"])
        app.router.routes.append(Route("/ayesha.svg", picture))
        async with serve_app(app) as shop_url:
            a_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
            a_page, a_watch = await sign_in(a_ctx, base, ayesha)
            await go_online(a_page, avatar=shop_url + "/ayesha.svg")

            v_ctx = await browser.new_context()
            visitor = await v_ctx.new_page()
            v_watch = Watch(visitor)
            await visitor.goto(shop_url + "/")
            await expect(visitor.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            await visitor.get_by_role("button", name="Chat with us").click()
            await visitor.get_by_label("Your name").fill("Zara")
            await visitor.get_by_label("Your question").fill("My bill is wrong")
            await visitor.get_by_role("button", name="Start chat").click()
            await a_page.get_by_role("button", name="Accept chat with Zara").click()
            status = visitor.locator(".status")
            await expect(status).to_contain_text("You are chatting with Ayesha Agent.")
            await expect(status.locator("img.face")).to_have_attribute(
                "src", shop_url + "/ayesha.svg"
            )

            # The agent's reply comes with her picture; the visitor has it on screen: "seen".
            reply_box = a_page.get_by_label("Reply to the visitor")
            await reply_box.fill("Let me check your bill.")
            await a_page.get_by_role("button", name="Send", exact=True).click()
            log = visitor.get_by_role("log")
            agent_line = log.locator("li.agent").last
            await expect(agent_line).to_contain_text("Let me check your bill.")
            face = agent_line.locator("img.face")
            await expect(face).to_have_attribute("alt", "")
            assert await face.evaluate("img => img.complete && img.naturalWidth > 0")
            await expect(a_page.locator("#chat-log [data-seen]")).to_have_text(
                "Seen by the visitor"
            )
            # The visitor answers; the agent has the conversation open: "Seen" in the widget.
            compose = visitor.get_by_role("textbox", name="Message", exact=True)
            await compose.fill("Invoice 77")
            await compose.press("Enter")
            await expect(a_page.locator("#chat-log")).to_contain_text("Invoice 77")
            await expect(log.locator("li.visitor").last.locator(".seen")).to_have_text("Seen")

            # Ayesha hands the chat to Billing; Bilal, in Billing, is offered it and takes it.
            b_ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
            b_page, b_watch = await sign_in(b_ctx, base, bilal)
            await go_online(b_page)
            await a_page.get_by_label("Transfer to a team").select_option(label="Billing")
            await a_page.get_by_role("button", name="Transfer to team").click()
            await expect(status).to_contain_text(
                "We are passing your chat to Billing. You are number 1 in the queue."
            )
            waiting = b_page.locator("#waiting-list")
            await expect(waiting).to_contain_text("for team Billing")
            await expect(waiting).to_contain_text("offered to you")
            await b_page.get_by_role("button", name="Accept chat with Zara").click()
            await expect(status).to_contain_text("You are chatting with Bilal Agent.")
            await expect(b_page.locator("#chat-log")).to_contain_text("Invoice 77")
            await b_page.get_by_label("Reply to the visitor").fill("Billing here: fixed.")
            await b_page.get_by_role("button", name="Send", exact=True).click()
            bilal_line = log.locator("li.agent").last
            await expect(bilal_line).to_contain_text("Billing here: fixed.")
            await expect(bilal_line.locator(".face")).to_have_text("BA")  # no picture: initials

            # Files both ways: a picture from the visitor, a PDF from the agent, downloaded.
            await visitor.get_by_label("Send a file (picture, PDF or text)").set_input_files(
                files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
            )
            await expect(log.locator("li.visitor a.file")).to_have_text(
                f"receipt.png ({len(PNG)} B)"
            )
            await expect(b_page.locator("#chat-log")).to_contain_text("receipt.png")
            async with b_page.expect_download() as got:
                await b_page.locator("#chat-log a", has_text="receipt.png").click()
            assert (await got.value).suggested_filename == "receipt.png"
            await b_page.get_by_label("Reply to the visitor").fill("Your corrected invoice")
            await b_page.get_by_label("Attach files (pictures, PDF or text)").set_input_files(
                files=[{"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": PDF}]
            )
            await b_page.get_by_role("button", name="Send", exact=True).click()
            invoice = log.locator("li.agent a.file")
            await expect(invoice).to_have_text(f"invoice.pdf ({len(PDF)} B)")
            async with visitor.expect_download() as got:
                await invoice.click()
            download = await got.value
            assert download.suggested_filename == "invoice.pdf"
            path = await download.path()
            assert path is not None and path.read_bytes() == PDF
            await visitor.screenshot(path=str(ARTIFACTS / "chat-widget-transfer.png"))
            for ctx in (a_ctx, b_ctx, v_ctx):
                await ctx.close()
    assert v_watch.errors == [] and v_watch.dialogs == [], v_watch.errors
    assert a_watch.errors == [] and b_watch.errors == [], (a_watch.errors, b_watch.errors)


async def test_the_visitor_rates_the_chat_when_the_agent_ends_it(
    settings: Settings, db: Database, browser: Browser
) -> None:
    admin = await make_person(db, role=Role.admin)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    with spawn_server(settings_env(settings)) as base:
        inbox = new_inbox(base, admin)
        async with serve_app(shop(base, inbox["key"])) as shop_url:
            a_ctx = await browser.new_context()
            a_page, a_watch = await sign_in(a_ctx, base, ayesha)
            await go_online(a_page)
            v_ctx = await browser.new_context(locale="ur-PK")
            visitor = await v_ctx.new_page()
            v_watch = Watch(visitor)
            await visitor.goto(shop_url + "/")
            await expect(visitor.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            await visitor.get_by_role("button", name="Chat with us").click()
            await visitor.get_by_label("Your question").fill("Is my order on its way?")
            await visitor.get_by_role("button", name="Start chat").click()
            await a_page.get_by_role("button", name="Accept chat with Visitor").click()
            await a_page.get_by_label("Reply to the visitor").fill("Yes, it ships today.")
            await a_page.get_by_role("button", name="Send", exact=True).click()
            await expect(visitor.get_by_role("log")).to_contain_text("Yes, it ships today.")
            await a_page.get_by_role("button", name="End chat").click()

            rate = visitor.get_by_role("group", name="How satisfied are you with this chat?")
            await expect(rate).to_be_visible()
            await visitor.get_by_role("button", name="Send rating").click()
            await expect(visitor.get_by_role("alert")).to_have_text("Choose a rating from 1 to 5.")
            # From the keyboard: the radio group, then the comment.
            await rate.get_by_role("radio", name="3 · Neutral").focus()
            await visitor.keyboard.press("ArrowDown")
            await expect(rate.get_by_role("radio", name="4 · Satisfied")).to_be_checked()
            await visitor.get_by_label("Anything you would like to add? (optional)").fill(
                "Fast <script>alert(1)</script>"
            )
            await visitor.screenshot(path=str(ARTIFACTS / "chat-widget-rating-form.png"))
            await visitor.get_by_role("button", name="Send rating").click()
            await expect(visitor.locator(".rated")).to_have_text("Thank you for your rating.")
            await expect(rate).to_be_hidden()
            await visitor.screenshot(path=str(ARTIFACTS / "chat-widget-rating.png"))
            # A reload shows the thanks, not the form again.
            await visitor.reload()
            await expect(visitor.locator(".rated")).to_have_text("Thank you for your rating.")
            for ctx in (a_ctx, v_ctx):
                await ctx.close()
    async with db.session(write=False) as session:
        survey = (await session.scalars(select(Survey))).one()
        kinds = list(
            await session.scalars(
                select(Activity.kind)
                .where(Activity.kind.startswith("survey."))
                .order_by(Activity.id)
            )
        )
    assert (survey.score, survey.comment, survey.via) == (
        4.0,
        "Fast <script>alert(1)</script>",
        "chat",
    )
    assert kinds == ["survey.sent", "survey.opened", "survey.answered"]
    assert v_watch.errors == [] and v_watch.dialogs == [], v_watch.errors
    assert a_watch.errors == [], a_watch.errors


async def test_the_answer_bot_answers_first_and_a_person_takes_over(
    settings: Settings, db: Database, browser: Browser
) -> None:
    admin = await make_person(db, role=Role.admin)
    ayesha = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    await write(db, "Reset your password", "Use the link on the sign-in page to get an email.")
    await write(db, "Track your order", "Every order ships with a tracking number.")
    with spawn_server(settings_env(settings)) as base:
        inbox = new_inbox(base, admin)
        r = httpx.patch(
            f"{base}/api/v1/chat/inboxes/{inbox['id']}", json={"bot": True},
            headers=admin.headers, timeout=10,
        )  # fmt: skip
        assert r.status_code == 200 and r.json()["bot"] is True
        async with serve_app(shop(base, inbox["key"])) as shop_url:
            a_ctx = await browser.new_context()
            a_page, a_watch = await sign_in(a_ctx, base, ayesha)
            await go_online(a_page)
            v_ctx = await browser.new_context()
            visitor = await v_ctx.new_page()
            v_watch = Watch(visitor)
            await visitor.goto(shop_url + "/")
            await expect(visitor.locator("#madad-chat")).to_have_attribute("data-ready", "1")
            await visitor.get_by_role("button", name="Chat with us").click()
            await visitor.get_by_label("Your question").fill("How do I reset my password?")
            await visitor.get_by_role("button", name="Start chat").click()
            offer = visitor.locator("li.bot")
            await expect(offer).to_contain_text("Answer bot")
            await expect(offer).to_contain_text("These articles may answer your question:")
            link = offer.get_by_role("link", name="Reset your password")
            await expect(link).to_have_attribute(
                "href", base + "/help/articles/reset-your-password"
            )
            human = visitor.get_by_role("button", name="Talk to a person")
            await expect(human).to_be_visible()
            # Nobody was offered anything yet: the bot has the chat.
            await expect(a_page.locator("#waiting-list")).to_have_count(0)
            await offer.get_by_role("button", name="That solved it").click()
            await expect(visitor.locator(".status")).to_have_text(
                "Glad that helped! You can still talk to a person."
            )
            await expect(offer.get_by_role("button", name="That solved it")).to_be_hidden()
            await visitor.screenshot(path=str(ARTIFACTS / "chat-widget-bot.png"))
            # Changed their mind: one click, the same conversation, in the queue.
            await human.click()
            await expect(visitor.locator(".status")).to_contain_text(
                "You are number 1 in the queue."
            )
            await expect(a_page.locator("#waiting-list")).to_contain_text("Visitor")
            await a_page.get_by_role("button", name="Accept chat with Visitor").click()
            conversation = a_page.locator("#chat-log")
            await expect(conversation).to_contain_text("How do I reset my password?")
            await expect(conversation.locator("[data-bot-offer]")).to_contain_text(
                "Reset your password"
            )
            await expect(conversation.locator("[data-bot-offer]")).to_contain_text(
                "the visitor asked for a person"
            )
            await expect(visitor.locator(".status")).to_contain_text(
                "You are chatting with Ayesha Agent."
            )
            await expect(visitor.get_by_role("log").locator("li.bot")).to_have_count(1)
            for ctx in (a_ctx, v_ctx):
                await ctx.close()
    assert v_watch.errors == [] and v_watch.dialogs == [], v_watch.errors
    assert a_watch.errors == [], a_watch.errors
