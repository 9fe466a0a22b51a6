# ruff: noqa: E501 — the articles and labels are data, one line each
"""The demo's knowledge base: a help centre of articles in English (some also in Urdu, two for
agents only) written and published through the knowledge-base service, and 90 days of
customers using it as help.js and the channels record it — visits that open articles, read
them (or not), vote, search (some for what no article covers), and sometimes still ask for a
person; and the answer bot's offers in chats, some solving it and some handed to an agent. So
the knowledge-base report (/reports/knowledge-base) has something to show."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from madad.auth.permissions import SYSTEM
from madad.db import Database
from madad.kb import bot, reading, service
from madad.kb.service import Text

# (category, section, English title and body, Urdu title and body or None, internal)
ARTICLES: list[tuple[str, str, tuple[str, str], tuple[str, str] | None, bool]] = [
    (
        "billing",
        "invoices",
        (
            "Download an invoice",
            "Every invoice is a PDF under **Billing → Invoices**; finance contacts get a copy by email.",
        ),
        ("انوائس ڈاؤن لوڈ کریں", "ہر انوائس **بلنگ ← انوائسز** میں پی ڈی ایف کے طور پر موجود ہے۔"),
        False,
    ),
    (
        "billing",
        "invoices",
        (
            "Add a VAT number to invoices",
            "Enter your VAT number under **Billing → Details**; the next invoice shows it, and we can re-issue earlier ones.",
        ),
        None,
        False,
    ),
    (
        "billing",
        "payments",
        (
            "Why was I charged twice?",
            "A second charge is usually a pending authorisation that disappears in 3–5 working days. If both are settled, ask for a refund.",
        ),
        (
            "مجھ سے دو بار رقم کیوں کٹی؟",
            "دوسری کٹوتی عموماً عارضی ہوتی ہے اور تین سے پانچ دن میں ختم ہو جاتی ہے۔",
        ),
        False,
    ),
    (
        "billing",
        "payments",
        (
            "Request a refund",
            "Payments can be refunded within 14 days. Reply to the invoice email or write to us with the invoice number.",
        ),
        ("رقم کی واپسی کی درخواست", "ادائیگی کے چودہ دن کے اندر رقم واپس ہو سکتی ہے۔"),
        False,
    ),
    (
        "billing",
        "plans",
        (
            "Add seats to your plan",
            "Admins add seats under **Billing → Plan**; the new seats are prorated for the rest of the cycle.",
        ),
        None,
        False,
    ),
    (
        "billing",
        "plans",
        (
            "Cancel your subscription",
            "Cancel under **Billing → Plan → Cancel**. You keep access until the end of the paid period.",
        ),
        ("اپنی سبسکرپشن منسوخ کریں", "**بلنگ ← پلان ← منسوخ** سے سبسکرپشن منسوخ کریں۔"),
        False,
    ),
    (
        "account",
        "sign-in",
        (
            "Reset your password",
            "Forgot your password? Press **Forgot password** on the sign-in page; the link we email works for an hour.",
        ),
        (
            "پاس ورڈ دوبارہ ترتیب دیں",
            "سائن ان صفحے پر **پاس ورڈ بھول گئے** دبائیں، لنک ایک گھنٹے تک کام کرتا ہے۔",
        ),
        False,
    ),
    (
        "account",
        "sign-in",
        (
            "Your account is locked",
            "After ten failed sign-ins an account is locked for 15 minutes. Reset your password to unlock it at once.",
        ),
        None,
        False,
    ),
    (
        "account",
        "sign-in",
        (
            "Set up two-factor authentication",
            "Turn on two-factor authentication under **Profile → Security** and scan the code with an authenticator app.",
        ),
        None,
        False,
    ),
    (
        "account",
        "team",
        (
            "Invite a colleague",
            "Admins invite agents under **Admin → Users → Invite**; the invitation is valid for seven days.",
        ),
        None,
        False,
    ),
    (
        "orders",
        "delivery",
        (
            "Where is my order?",
            "Orders ship within two working days; the shipping email has the tracking link.",
        ),
        (
            "میرا آرڈر کہاں ہے؟",
            "آرڈر دو کاروباری دنوں میں روانہ ہوتے ہیں، ترسیل کی ای میل میں ٹریکنگ لنک ہوتا ہے۔",
        ),
        False,
    ),
    (
        "orders",
        "delivery",
        (
            "Change the delivery address",
            "You can change the address until the order ships: open the order and choose **Change address**.",
        ),
        None,
        False,
    ),
    (
        "orders",
        "returns",
        (
            "Return an item",
            "Items can be returned within 30 days in their original packaging; print the label from the order page.",
        ),
        None,
        False,
    ),
    (
        "orders",
        "returns",
        (
            "Report a damaged parcel",
            "Take a photo of the parcel and the item and send it to us within 48 hours of delivery.",
        ),
        None,
        False,
    ),
    (
        "apps",
        "integrations",
        (
            "Connect Slack",
            "Open **Settings → Integrations → Slack** and press **Connect**; new tickets are posted to the channel you choose.",
        ),
        None,
        False,
    ),
    (
        "apps",
        "integrations",
        ("Export your data", "Admins export tickets and contacts as CSV under **Admin → Export**."),
        None,
        False,
    ),
    (
        "apps",
        "integrations",
        (
            "Refund override procedure",
            "Supervisors can refund beyond 14 days with a reason code; note it on the ticket.",
        ),
        None,
        True,
    ),
    (
        "apps",
        "integrations",
        (
            "Verifying account ownership",
            "Ask for the last invoice number and the card's last four digits, never the full card.",
        ),
        None,
        True,
    ),
]
CATEGORIES = {
    "billing": ({"en": "Billing", "ur": "بلنگ"}, {"invoices": {"en": "Invoices", "ur": "انوائسز"}, "payments": {"en": "Payments", "ur": "ادائیگیاں"}, "plans": {"en": "Plans", "ur": "پلان"}}),
    "account": ({"en": "Your account", "ur": "آپ کا اکاؤنٹ"}, {"sign-in": {"en": "Signing in", "ur": "سائن ان"}, "team": {"en": "Your team", "ur": "آپ کی ٹیم"}}),
    "orders": ({"en": "Orders", "ur": "آرڈر"}, {"delivery": {"en": "Delivery", "ur": "ترسیل"}, "returns": {"en": "Returns", "ur": "واپسی"}}),
    "apps": ({"en": "Apps and data", "ur": "ایپس اور ڈیٹا"}, {"integrations": {"en": "Integrations", "ur": "انضمام"}}),
}  # fmt: skip
SEARCHES = [
    "invoice",
    "refund",
    "password",
    "two factor",
    "cancel",
    "tracking",
    "return",
    "slack",
    "vat",
]
GAPS = ["gift wrapping", "student discount", "change my username", "dark mode", "api rate limit", "loyalty points"]  # fmt: skip
BOT_QUESTIONS = ["I forgot my password", "I was charged twice", "where is my order", "how do I cancel my subscription", "I need an invoice for last month"]  # fmt: skip


async def _write_articles(db: Database) -> list[tuple[int, bool, bool]]:
    """The articles, published; returns (id, has Urdu, internal) for each."""
    out = []
    async with db.session() as session:
        sections: dict[tuple[str, str], int] = {}
        for position, (slug, (titles, section_titles)) in enumerate(CATEGORIES.items()):
            category = await service.create_category(
                session, SYSTEM, slug=slug, titles=titles, position=position
            )
            for i, (section_slug, names) in enumerate(section_titles.items()):
                section = await service.create_section(
                    session, SYSTEM, category_id=category.id, slug=section_slug, titles=names,
                    position=i,
                )  # fmt: skip
                sections[(slug, section_slug)] = section.id
        for category, section, en, ur, internal in ARTICLES:
            translations = {"en": Text(*en), **({"ur": Text(*ur)} if ur else {})}
            view = await service.create_article(
                session,
                SYSTEM,
                translations=translations,
                section_id=sections[(category, section)],
                internal=internal,
                publish=list(translations),
            )
            out.append((view.article.id, ur is not None, internal))
    return out


async def add_knowledge_base(
    db: Database,
    rng: random.Random,
    start: datetime,
    now: datetime,
    tell: Callable[[str, int, int], None],
    *,
    visits_per_day: int = 25,
) -> int:
    """Write the help centre and its history; return how many visits were made."""
    articles = await _write_articles(db)
    public = [(a, urdu) for a, urdu, internal in articles if not internal]
    weights = [1 / (i + 1) for i in range(len(public))]  # a few articles are read most
    days = max(1, (now - start).days)
    visits = 0
    answers: dict[str, list[bot.Suggestion]] = {}
    for day in range(days):
        async with db.session() as session:
            for _ in range(rng.randint(visits_per_day // 2, visits_per_day * 3 // 2)):
                at = start + timedelta(days=day, seconds=rng.randrange(86400))
                if at >= now:
                    continue
                visits += 1
                visitor = uuid.UUID(int=rng.getrandbits(128)).hex
                ids = {"visitor": visitor, "help_session": uuid.UUID(int=rng.getrandbits(128)).hex}
                article, urdu = rng.choices(public, weights)[0]
                lang = "ur" if urdu and rng.random() < 0.25 else "en"
                if rng.random() < 0.35:
                    found_nothing = rng.random() < 0.25
                    q = rng.choice(GAPS if found_nothing else SEARCHES)
                    await reading.record_search(
                        session, q, "en", results=0 if found_nothing else rng.randint(1, 4),
                        at=at, **ids,
                    )  # fmt: skip
                    at += timedelta(seconds=rng.randint(5, 40))
                    if found_nothing and rng.random() < 0.5:
                        await reading.record_contact_started(
                            session, channel=rng.choice(["portal", "chat"]), language="en",
                            at=at + timedelta(minutes=2), **ids,
                        )  # fmt: skip
                        continue
                await reading.record_view(session, article, lang, at=at, **ids)
                if rng.random() < 0.62:
                    seconds = min(1800.0, 10 + rng.lognormvariate(3.6, 0.7))
                    read_at = at + timedelta(seconds=seconds)
                    await reading.record_read(
                        session, article, lang, visible_seconds=seconds,
                        scroll_depth=rng.uniform(0.3, 1.0), at=read_at, **ids,
                    )  # fmt: skip
                    if rng.random() < 0.15:
                        await reading.record_vote(
                            session, article, lang, helpful=rng.random() < 0.78, at=read_at,
                            **ids,
                        )  # fmt: skip
                    if rng.random() < 0.12:  # read it, and still asked a person
                        await reading.record_contact_started(
                            session, channel=rng.choice(["portal", "chat"]), language=lang,
                            article_id=article, at=read_at + timedelta(minutes=rng.randint(1, 600)),
                            **ids,
                        )  # fmt: skip
            for _ in range(rng.randint(2, 8)):  # the bot in chats
                at = start + timedelta(days=day, seconds=rng.randrange(86400))
                if at >= now:
                    continue
                question = rng.choice(BOT_QUESTIONS)
                if question not in answers:  # the knowledge base does not change meanwhile
                    answers[question] = await bot.suggest(session, question, lang="en")
                found = answers[question]
                if not found:
                    continue
                offer = bot.record_offered(session, found, channel="chat", language="en", at=at)
                roll = rng.random()
                if roll < 0.45:
                    await bot.record_resolved(
                        session, offer=offer, article_id=found[0].article_id,
                        at=at + timedelta(seconds=rng.randint(20, 300)),
                    )  # fmt: skip
                elif roll < 0.8:
                    await bot.record_handoff(
                        session, offer=offer, reason=rng.choice(["asked", "not_solved"]),
                        at=at + timedelta(seconds=rng.randint(10, 200)),
                    )  # fmt: skip
        tell("help centre", day + 1, days)
    return visits
