"""Knowledge-base search relevance and latency on SQLite and PostgreSQL.

  python bench/kb_search.py [--seed 7] [--rounds 5] [--sqlite-only] [--postgres-url URL]
  python bench/kb_search.py --bot [--seed 7]     # the answer bot's threshold table

Generates a knowledge base of realistic support articles (deterministic for a seed: billing,
accounts and passwords, security and single sign-on, shipping, returns, integrations, the apps,
teams, privacy, error codes; some in Urdu, some internal), publishes them through the service,
then runs a set of queries with their expected articles — questions as customers type them,
the same with a slip of the keyboard or the last word half typed, paraphrases in words the
articles do not use, Urdu — and prints recall@5, MRR@10 and the p50/p95 latency of a search (a
read session opened and closed per query, as a request does) and of search-as-you-type (every
prefix of a query, one per keystroke). Target: p95 < 20 ms.

PostgreSQL runs when --postgres-url, MADAD_BENCH_POSTGRES_URL or MADAD_TEST_POSTGRES_URL is
set; it works in a schema of its own (`madad_bench_kb`), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from madad import migrate
from madad.auth.models import Role
from madad.auth.permissions import actor_for
from madad.bus import MemoryBus
from madad.config import Settings
from madad.db import Database
from madad.kb import bot, service
from madad.kb.service import Text

COMMAND = "python bench/kb_search.py"
SCHEMA = "madad_bench_kb"
AUTHOR = actor_for(1, Role.admin.value, "Bench Author")
TARGET_P95_MS = 20.0


@dataclass
class Doc:
    key: str  # the English title (or the Urdu one, for Urdu-only articles)
    en: tuple[str, str] | None
    ur: tuple[str, str] | None = None
    internal: bool = False


@dataclass
class Case:
    q: str
    lang: str
    expected: list[str]  # keys of the articles that answer it
    kind: str  # question | typo | prefix | urdu


# --- the knowledge base --------------------------------------------------------------------

APPS = {
    "Slack": "new tickets and mentions are posted to a channel",
    "Shopify": "agents see a customer's orders beside the ticket",
    "Salesforce": "contacts and accounts stay in step with your CRM",
    "HubSpot": "deals and contact properties appear in the sidebar",
    "Zapier": "any of thousands of apps can open tickets",
    "Jira": "agents can raise and link Jira issues from a ticket",
    "GitHub": "bug reports become GitHub issues with the conversation attached",
    "Stripe": "agents see subscriptions, charges and refunds",
    "WhatsApp": "customers can message you on WhatsApp Business",
    "Google Sheets": "daily reports are written to a spreadsheet",
    "Microsoft Teams": "agents get notified in a Teams channel",
    "Mailchimp": "contacts can be added to an audience",
    "QuickBooks": "invoices and payments show on the contact",
    "Xero": "outstanding invoices show on the organisation",
    "Trello": "tickets can be turned into Trello cards",
    "Asana": "follow-up tasks are created in an Asana project",
    "Twilio": "calls and text messages arrive as tickets",
    "Zoom": "agents can start a video call from a ticket",
    "Dropbox": "attachments can be saved to a shared folder",
    "Google Drive": "files are shared from Drive into replies",
    "Outlook": "your Outlook mailbox is connected as an email channel",
    "Gmail": "your Gmail inbox is connected as an email channel",
    "Calendly": "customers can book a call from the help centre",
    "WooCommerce": "order details from your WooCommerce store appear on tickets",
    "Magento": "Magento orders and returns are shown to agents",
    "BigCommerce": "BigCommerce orders are matched to contacts",
    "PayPal": "PayPal transactions are shown on the contact",
    "Intercom": "conversations are imported from Intercom",
    "Zendesk": "tickets, users and articles are imported from Zendesk",
    "Freshdesk": "tickets and contacts are imported from Freshdesk",
}
CARRIERS = [
    "DHL",
    "FedEx",
    "UPS",
    "TCS",
    "Leopards",
    "Aramex",
    "USPS",
    "Royal Mail",
    "DPD",
    "Canada Post",
]
COUNTRIES = [
    "Pakistan",
    "India",
    "United Arab Emirates",
    "Saudi Arabia",
    "United Kingdom",
    "Germany",
    "France",
    "Spain",
    "Italy",
    "Netherlands",
    "Sweden",
    "Norway",
    "Canada",
    "United States",
    "Mexico",
    "Brazil",
    "Australia",
    "New Zealand",
    "Japan",
    "Singapore",
    "Malaysia",
    "Indonesia",
    "Turkey",
    "Egypt",
    "Nigeria",
    "Kenya",
    "South Africa",
    "Bangladesh",
    "Sri Lanka",
    "Qatar",
]
METHODS = [
    "Visa",
    "Mastercard",
    "American Express",
    "PayPal",
    "bank transfer",
    "JazzCash",
    "Easypaisa",
    "Apple Pay",
]
PLANS = ["Free", "Starter", "Growth", "Business", "Enterprise"]
SSO = [
    "Google Workspace",
    "Microsoft Entra ID",
    "Okta",
    "OneLogin",
    "JumpCloud",
    "Auth0",
    "Ping Identity",
    "Keycloak",
]
PRODUCTS = [
    "laptop",
    "phone",
    "headphones",
    "running shoes",
    "winter jacket",
    "watch",
    "camera",
    "printer",
    "monitor",
    "keyboard",
    "sofa",
    "mattress",
    "blender",
    "coffee machine",
    "bicycle",
    "tent",
    "backpack",
    "smartwatch",
    "tablet",
    "router",
]
PLATFORMS = ["iPhone", "Android", "Windows", "macOS", "Linux", "iPad"]
ROLES = ["agent", "supervisor", "admin", "owner", "light agent"]
ERRORS = [
    "card declined",
    "session expired",
    "upload too large",
    "address not recognised",
    "too many sign-in attempts",
    "invalid coupon code",
    "payment authorisation failed",
    "email already in use",
    "verification link expired",
    "unsupported file type",
    "order already shipped",
    "stock unavailable",
    "webhook delivery failed",
    "API rate limit reached",
    "token revoked",
    "mailbox authentication failed",
    "domain not verified",
    "SSO assertion invalid",
    "export still running",
    "import file malformed",
    "attachment virus detected",
    "language not supported",
    "survey link expired",
    "queue is full",
    "phone number invalid",
    "chat widget blocked",
    "too many recipients",
    "report period too long",
    "duplicate ticket merged",
    "organisation domain taken",
]

FILLER = [
    "If anything looks different from these steps, refresh the page and try again.",
    "Changes take effect straight away for everyone on your team.",
    "You need to be an admin or the account owner to change this setting.",
    "Our support team is happy to help: start a chat from any help-centre page.",
    "The mobile apps show the same option under the profile menu.",
    "We email a confirmation to the address on your account.",
    "This works the same way on every plan, including Free.",
    "Screenshots in this article show the web version; the apps look much the same.",
    "Keep a note of the reference number shown at the end: it helps us find your request.",
    "Nothing changes for your customers while you do this.",
]


def body(rng: random.Random, *paragraphs: str, steps: list[str] | None = None) -> str:
    parts = list(paragraphs)
    if steps:
        parts.append("\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1)))
    parts += rng.sample(FILLER, 2)
    return "\n\n".join(parts)


def english(rng: random.Random) -> list[Doc]:
    docs: list[Doc] = []

    def add(title: str, text: str, internal: bool = False) -> None:
        docs.append(Doc(title, (title, text), internal=internal))

    for app, purpose in APPS.items():
        add(
            f"Connect {app} to Madad",
            body(
                rng,
                f"Connecting {app} means {purpose}.",
                steps=[
                    "Open **Settings → Integrations**.",
                    f"Choose **{app}** and press **Connect**.",
                    f"Sign in to {app} and allow Madad the access it asks for.",
                ],
            ),
        )
        add(
            f"Disconnect {app}",
            body(
                rng,
                f"Disconnecting stops the {app} integration at once; nothing already copied "
                f"is deleted. Press **Disconnect** beside {app} under Settings → Integrations.",
            ),
        )
        add(
            f"Fix {app} sync errors",
            body(
                rng,
                f"When data stops flowing between {app} and Madad, the integration page shows "
                "the last error. The usual causes are an expired authorisation, a removed "
                f"permission in {app}, or a field that no longer exists.",
                steps=["Reconnect the integration.", "Check the field mapping.", "Retry sync."],
            ),
        )
        add(
            f"Map {app} fields to ticket fields",
            body(
                rng,
                f"Field mapping decides which {app} fields fill which ticket and contact "
                "fields. Unmapped fields are ignored.",
            ),
        )
        add(
            f"{app} permissions and scopes",
            body(
                rng,
                f"The {app} integration asks only for the permissions it uses. An admin of "
                f"your {app} account must approve them the first time.",
            ),
        )
        add(
            f"What data Madad shares with {app}",
            body(
                rng,
                f"Madad sends {app} only what the integration needs: ticket ids, subjects and "
                "the fields you map. Message bodies stay in Madad unless you turn on sharing.",
            ),
        )
    for carrier in CARRIERS:
        add(
            f"Track a {carrier} shipment",
            body(
                rng,
                f"Every order sent with {carrier} has a tracking number in the shipping "
                "confirmation email. Open **Orders**, choose the order and press **Track** "
                f"to follow the parcel on the {carrier} website.",
            ),
        )
        add(
            f"{carrier} delivery times",
            body(
                rng,
                f"{carrier} delivers most domestic parcels in 1–3 working days and "
                "international parcels in 4–10. Public holidays and customs checks add time.",
            ),
        )
        add(
            f"Change the delivery slot with {carrier}",
            body(
                rng,
                f"{carrier} lets you pick another day or a pick-up point from the link in its "
                "tracking email, until the parcel is out for delivery.",
            ),
        )
        add(
            f"Report a damaged {carrier} parcel",
            body(
                rng,
                f"If a {carrier} parcel arrives damaged, keep the packaging and send us photos "
                "within 7 days: we open a claim and replace or refund the order.",
            ),
        )
    for country in COUNTRIES:
        add(
            f"Shipping to {country}",
            body(
                rng,
                f"We ship to {country} with tracked delivery. Costs are shown at checkout "
                "before you pay, and orders over the free-shipping threshold ship free.",
            ),
        )
        add(
            f"Customs and import duties in {country}",
            body(
                rng,
                f"Parcels to {country} may be charged import duties and taxes by customs. "
                "The carrier collects them on delivery unless you chose duties paid at "
                "checkout.",
            ),
        )
    for method in METHODS:
        add(
            f"Pay with {method}",
            body(
                rng,
                f"Add {method} under **Billing → Payment methods** and make it the default "
                "to use it for every invoice.",
            ),
        )
        add(
            f"Remove {method} as a payment method",
            body(
                rng,
                f"You can remove {method} once another payment method is the default. "
                "Open Billing → Payment methods and press **Remove**.",
            ),
        )
        add(
            f"{method} payment failed",
            body(
                rng,
                f"A {method} payment can fail because of insufficient funds, a limit set by "
                "your bank, or details that changed. We retry three times over a week and "
                "email you each time.",
            ),
        )
    for plan in PLANS:
        add(
            f"Upgrade to the {plan} plan",
            body(
                rng,
                f"Upgrading to {plan} takes effect at once; you pay the prorated "
                "difference for the rest of the billing period.",
            ),
        )
        add(
            f"Downgrade from the {plan} plan",
            body(
                rng,
                f"Downgrading from {plan} takes effect at the end of the billing "
                "period. Features of the higher plan stay until then.",
            ),
        )
        add(
            f"What the {plan} plan includes",
            body(
                rng,
                f"The {plan} plan includes email, chat and the help centre; see the "
                "pricing page for seats, channels and limits.",
            ),
        )
    for provider in SSO:
        add(
            f"Set up single sign-on with {provider}",
            body(
                rng,
                f"Single sign-on (SSO) lets your team sign in with {provider} instead of a "
                "password. You need the SAML metadata URL from your identity provider.",
                steps=[
                    "Open Settings → Security → Single sign-on.",
                    f"Choose {provider} and paste the metadata URL.",
                    "Test the connection, then turn SSO on.",
                ],
            ),
        )
        add(
            f"Troubleshoot {provider} sign-in",
            body(
                rng,
                f"If signing in with {provider} fails, check that the user is assigned to "
                "the Madad app, that clocks are in sync, and that the certificate has not "
                "expired.",
            ),
        )
    for product in PRODUCTS:
        add(
            f"Return a {product}",
            body(
                rng,
                f"You can return a {product} within 30 days if it is unused and in its "
                "original packaging. Start the return from **Orders** and print the label.",
            ),
        )
        add(
            f"Warranty for your {product}",
            body(
                rng,
                f"Every {product} comes with a one-year warranty against manufacturing "
                "faults. Keep your order number; no receipt is needed.",
            ),
        )
        add(
            f"Exchange a {product} for another size or colour",
            body(
                rng,
                f"Exchanges of a {product} are free within 30 days: choose **Exchange** "
                "instead of **Return** and pick the variant you want.",
            ),
        )
        add(
            f"Set up your new {product}",
            body(
                rng,
                f"Unpack the {product}, check that nothing is missing from the box, and follow "
                "the quick-start card. The manual is available as a PDF from the product "
                "page.",
            ),
        )
    for platform in PLATFORMS:
        add(
            f"Install the app on {platform}",
            body(
                rng,
                f"Download the Madad app for {platform} from its app store and sign "
                "in with your work email.",
            ),
        )
        add(
            f"Notifications not arriving on {platform}",
            body(
                rng,
                f"On {platform}, check that notifications are allowed for Madad in the "
                "system settings, that focus modes do not silence them, and that you are "
                "signed in.",
            ),
        )
        add(
            f"Sign out of the app on {platform}",
            body(rng, f"On {platform}, open the profile menu and choose **Sign out**."),
        )
        add(
            f"Update the app on {platform}",
            body(
                rng,
                f"Updates for {platform} arrive through the app store; turn on "
                "automatic updates to always have the latest version.",
            ),
        )
    for role in ROLES:
        a = "an" if role[0] in "aeiou" else "a"
        add(
            f"Invite {a} {role}",
            body(
                rng,
                f"Admins invite a {role} from **Settings → Team**: enter their email "
                "address and choose the role.",
            ),
        )
        add(
            f"What {a} {role} can do",
            body(
                rng,
                f"The {role} role decides which tickets, reports and settings a "
                "person can see and change.",
            ),
        )
    for n, error in enumerate(ERRORS, 1001):
        add(
            f"Error E{n}: {error}",
            body(
                rng,
                f"The message **E{n} {error}** means the request could not be completed. "
                "Try again in a few minutes; if it keeps happening, contact us with the code.",
            ),
        )
    singles = {
        "Reset your password": "Forgot your password? Press **Forgot password** on the sign-in "
        "page and we email you a link that works for one hour.",
        "Change your password": "Signed in, open **Profile → Security** and choose a new "
        "password of at least 12 characters.",
        "Your account is locked": "After ten failed sign-in attempts the account locks for 15 "
        "minutes. Reset your password to unlock it at once.",
        "Change the email address of your account": "Open Profile → Account, enter the new "
        "address and confirm it from the email we send.",
        "Delete your account": "Account deletion is permanent: tickets you created stay with "
        "the company, your personal data is erased within 30 days.",
        "Set up two-factor authentication": "Two-factor authentication (2FA) asks for a code "
        "from your authenticator app after your password.",
        "Lost your two-factor device": "Use one of your recovery codes to sign in, then set up "
        "two-factor authentication again on your new phone.",
        "Why was I charged twice?": "A second charge is usually a pending authorisation that "
        "disappears within 3–5 days. If both charges settle, we refund one.",
        "Download an invoice": "Every invoice is under **Billing → Invoices** as a PDF.",
        "Add a VAT number to invoices": "Enter your VAT or tax number under Billing → Details; "
        "it appears on every invoice from then on.",
        "Change your billing address": "The billing address on invoices is edited under "
        "Billing → Details.",
        "Request a refund": "Refunds are possible within 14 days of a charge. Reply to the "
        "invoice email or start a chat, and say which charge.",
        "Cancel your subscription": "Cancel under **Billing → Plan → Cancel**. You keep access "
        "until the end of the period you paid for.",
        "Where is my order?": "Orders ship within two working days; the shipping email has "
        "the tracking link. Contact us if it has not moved for a week.",
        "Change the delivery address of an order": "The delivery address can be changed until "
        "the order ships, from the order page.",
        "Missing item in my parcel": "If something is missing, check whether the order "
        "shipped in several parcels, then tell us which item.",
        "Export your data": "Admins export tickets, contacts and articles as CSV or JSON from "
        "Settings → Data.",
        "How long we keep your data": "Tickets are kept while your account is active; "
        "deleted data leaves backups after 35 days.",
        "Cookie settings": "The help centre uses only necessary cookies unless you allow "
        "analytics.",
        "Request a copy of your personal data": "Under the GDPR you may ask for a copy of "
        "your personal data; we answer within 30 days.",
        "Redeem a gift card": "Enter the gift card code at checkout; the balance is kept for "
        "the next order.",
        "Apply a discount code": "Discount codes are entered at checkout, one per order.",
        "Business hours and holidays": "Support answers chats Monday to Saturday, 9:00–18:00 "
        "Pakistan time.",
        "Contact support by phone": "Call us during business hours; you can also ask for a "
        "callback and keep your place in the queue.",
    }
    for title, words in singles.items():
        add(title, body(rng, words))
    internal = {
        "Refund override procedure": "Supervisors can refund beyond 14 days with a reason code.",
        "Escalating a security incident": "Page the on-call engineer and open an incident.",
        "Handling chargebacks": "Gather the invoice, the delivery proof and the conversation.",
        "Verifying account ownership": "Ask for the last invoice number and the card's last "
        "four digits, never the full card.",
        "Goodwill credit guidelines": "Agents may give up to one month's credit per year.",
    }
    for title, words in internal.items():
        add(title, body(rng, words), internal=True)
    return docs


URDU = {
    "Reset your password": (
        "پاس ورڈ دوبارہ ترتیب دیں",
        "پاس ورڈ بھول گئے؟ سائن ان صفحے پر **پاس ورڈ بھول گئے** دبائیں، ہم آپ کو ایک لنک "
        "ای میل کریں گے جو ایک گھنٹے تک کام کرتا ہے۔",
    ),
    "Change your password": (
        "اپنا پاس ورڈ تبدیل کریں",
        "**پروفائل ← سیکیورٹی** کھولیں اور کم از کم بارہ حروف کا نیا پاس ورڈ چنیں۔",
    ),
    "Your account is locked": (
        "آپ کا اکاؤنٹ مقفل ہے",
        "دس ناکام کوششوں کے بعد اکاؤنٹ پندرہ منٹ کے لیے مقفل ہو جاتا ہے۔",
    ),
    "Set up two-factor authentication": (
        "دو مرحلہ تصدیق فعال کریں",
        "دو مرحلہ تصدیق پاس ورڈ کے بعد آپ کی تصدیقی ایپ سے ایک کوڈ مانگتی ہے۔",
    ),
    "Delete your account": (
        "اپنا اکاؤنٹ حذف کریں",
        "اکاؤنٹ حذف کرنا مستقل ہے، آپ کا ذاتی ڈیٹا تیس دن میں مٹا دیا جاتا ہے۔",
    ),
    "Request a refund": (
        "رقم کی واپسی کی درخواست",
        "ادائیگی کے چودہ دن کے اندر رقم واپس ہو سکتی ہے۔ انوائس ای میل کا جواب دیں۔",
    ),
    "Cancel your subscription": (
        "اپنی سبسکرپشن منسوخ کریں",
        "**بلنگ ← پلان ← منسوخ** سے سبسکرپشن منسوخ کریں۔",
    ),
    "Download an invoice": (
        "انوائس ڈاؤن لوڈ کریں",
        "ہر انوائس **بلنگ ← انوائسز** میں پی ڈی ایف کے طور پر موجود ہے۔",
    ),
    "Where is my order?": (
        "میرا آرڈر کہاں ہے؟",
        "آرڈر دو کاروباری دنوں میں روانہ ہوتے ہیں، ترسیل کی ای میل میں ٹریکنگ لنک ہوتا ہے۔",
    ),
    "Why was I charged twice?": (
        "مجھ سے دو بار رقم کیوں کٹی؟",
        "دوسری کٹوتی عموماً عارضی ہوتی ہے اور تین سے پانچ دن میں ختم ہو جاتی ہے۔",
    ),
    "Change the email address of your account": (
        "اکاؤنٹ کا ای میل پتہ تبدیل کریں",
        "پروفائل میں نیا پتہ درج کریں اور ای میل سے تصدیق کریں۔",
    ),
    "Business hours and holidays": (
        "کاروباری اوقات اور تعطیلات",
        "سپورٹ پیر سے ہفتہ صبح نو سے شام چھ بجے تک دستیاب ہے۔",
    ),
}
URDU_COUNTRIES = {
    "Pakistan": "پاکستان",
    "United Arab Emirates": "متحدہ عرب امارات",
    "Saudi Arabia": "سعودی عرب",
    "United Kingdom": "برطانیہ",
    "Qatar": "قطر",
    "Bangladesh": "بنگلہ دیش",
}
URDU_METHODS = {"JazzCash": "جاز کیش", "Easypaisa": "ایزی پیسہ", "bank transfer": "بینک ٹرانسفر"}


def urdu(docs: list[Doc]) -> None:
    """Urdu versions of some articles (the rest of the knowledge base stays English-only)."""
    by_key = {d.key: d for d in docs}
    for key, version in URDU.items():
        by_key[key].ur = version
    for country, name in URDU_COUNTRIES.items():
        by_key[f"Shipping to {country}"].ur = (
            f"{name} میں ترسیل",
            f"ہم {name} میں ٹریک شدہ ترسیل کرتے ہیں۔ قیمت ادائیگی سے پہلے دکھائی جاتی ہے۔",
        )
        by_key[f"Customs and import duties in {country}"].ur = (
            f"{name} میں کسٹم اور درآمدی محصولات",
            f"{name} کے لیے پارسل پر کسٹم درآمدی ڈیوٹی اور ٹیکس لگا سکتا ہے۔",
        )
    for method, name in URDU_METHODS.items():
        by_key[f"Pay with {method}"].ur = (
            f"{name} سے ادائیگی کریں",
            f"**بلنگ ← ادائیگی کے طریقے** میں {name} شامل کریں اور اسے بنیادی طریقہ بنائیں۔",
        )
        by_key[f"{method} payment failed"].ur = (
            f"{name} ادائیگی ناکام ہو گئی",
            f"{name} کی ادائیگی ناکافی رقم یا بینک کی حد کی وجہ سے ناکام ہو سکتی ہے۔",
        )
    for app in ("Slack", "WhatsApp", "Shopify", "Gmail", "Zapier", "Stripe"):
        by_key[f"Connect {app} to Madad"].ur = (
            f"{app} کو مدد سے جوڑیں",
            f"**ترتیبات ← انضمام** کھولیں، **{app}** منتخب کریں اور **جوڑیں** دبائیں۔",
        )


def knowledge_base(seed: int) -> list[Doc]:
    rng = random.Random(seed)
    docs = english(rng)
    urdu(docs)
    return docs


# --- the queries ---------------------------------------------------------------------------

QUESTIONS: list[tuple[str, list[str]]] = [
    ("forgot my password", ["Reset your password"]),
    ("how do i reset my password", ["Reset your password"]),
    ("account locked", ["Your account is locked"]),
    ("change password", ["Change your password"]),
    ("charged twice", ["Why was I charged twice?"]),
    ("cancel subscription", ["Cancel your subscription"]),
    ("refund", ["Request a refund"]),
    ("download invoice pdf", ["Download an invoice"]),
    ("vat number on invoice", ["Add a VAT number to invoices"]),
    ("billing address", ["Change your billing address"]),
    ("where is my order", ["Where is my order?"]),
    ("track dhl parcel", ["Track a DHL shipment"]),
    ("fedex delivery time", ["FedEx delivery times"]),
    ("parcel arrived damaged ups", ["Report a damaged UPS parcel"]),
    ("shipping to pakistan", ["Shipping to Pakistan"]),
    ("import duties germany", ["Customs and import duties in Germany"]),
    ("customs canada", ["Customs and import duties in Canada"]),
    ("connect slack", ["Connect Slack to Madad"]),
    ("shopify integration", ["Connect Shopify to Madad"]),
    ("salesforce sync error", ["Fix Salesforce sync errors"]),
    ("disconnect zapier", ["Disconnect Zapier"]),
    ("whatsapp business", ["Connect WhatsApp to Madad"]),
    ("import from zendesk", ["Connect Zendesk to Madad"]),
    ("jira field mapping", ["Map Jira fields to ticket fields"]),
    ("what data do you share with hubspot", ["What data Madad shares with HubSpot"]),
    ("pay with paypal", ["Pay with PayPal"]),
    ("jazzcash payment failed", ["JazzCash payment failed"]),
    ("remove mastercard", ["Remove Mastercard as a payment method"]),
    ("upgrade to business plan", ["Upgrade to the Business plan"]),
    ("what is included in the growth plan", ["What the Growth plan includes"]),
    ("downgrade starter", ["Downgrade from the Starter plan"]),
    ("okta sso", ["Set up single sign-on with Okta"]),
    ("single sign-on google workspace", ["Set up single sign-on with Google Workspace"]),
    ("entra id login not working", ["Troubleshoot Microsoft Entra ID sign-in"]),
    ("two factor authentication", ["Set up two-factor authentication"]),
    ("lost phone 2fa recovery codes", ["Lost your two-factor device"]),
    ("delete my account", ["Delete your account"]),
    ("change email address", ["Change the email address of your account"]),
    ("return laptop", ["Return a laptop"]),
    ("coffee machine warranty", ["Warranty for your coffee machine"]),
    ("set up new router", ["Set up your new router"]),
    ("android notifications not working", ["Notifications not arriving on Android"]),
    ("install app iphone", ["Install the app on iPhone"]),
    ("invite supervisor", ["Invite a supervisor"]),
    ("E1006", ["Error E1006: invalid coupon code"]),
    ("card declined error", ["Error E1001: card declined"]),
    ("export data csv", ["Export your data"]),
    ("gdpr copy of personal data", ["Request a copy of your personal data"]),
    ("gift card", ["Redeem a gift card"]),
    ("discount code", ["Apply a discount code"]),
    ("opening hours", ["Business hours and holidays"]),
    ("phone support callback", ["Contact support by phone"]),
    ("missing item", ["Missing item in my parcel"]),
    ("change delivery address", ["Change the delivery address of an order"]),
]
# Said in other words than the articles use: lexical search has no synonyms to help it.
PARAPHRASES: list[tuple[str, list[str]]] = [
    ("money back", ["Request a refund"]),
    ("i cant log in", ["Your account is locked", "Reset your password"]),
    ("2fa", ["Set up two-factor authentication"]),
    ("parcel never arrived", ["Where is my order?"]),
    ("unsubscribe", ["Cancel your subscription"]),
    ("receipt for my payment", ["Download an invoice"]),
    ("how long does delivery to the uk take", ["Shipping to United Kingdom"]),
    ("sso", [f"Set up single sign-on with {p}" for p in SSO]),
    ("add a colleague", ["Invite an agent"]),
    ("close my account", ["Delete your account"]),
]
URDU_QUESTIONS: list[tuple[str, list[str]]] = [
    ("پاس ورڈ بھول گیا", ["Reset your password"]),
    ("پاس ورڈ تبدیل", ["Change your password"]),
    ("اکاؤنٹ مقفل", ["Your account is locked"]),
    ("دو مرحلہ تصدیق", ["Set up two-factor authentication"]),
    ("رقم واپسی", ["Request a refund"]),
    ("سبسکرپشن منسوخ", ["Cancel your subscription"]),
    ("انوائس", ["Download an invoice"]),
    ("میرا آرڈر کہاں ہے", ["Where is my order?"]),
    ("دو بار رقم کٹی", ["Why was I charged twice?"]),
    ("پاکستان ترسیل", ["Shipping to Pakistan"]),
    ("قطر کسٹم", ["Customs and import duties in Qatar"]),
    ("جاز کیش ادائیگی ناکام", ["JazzCash payment failed"]),
    ("ایزی پیسہ", ["Pay with Easypaisa", "Easypaisa payment failed"]),
    ("سلیک جوڑیں", ["Connect Slack to Madad"]),  # a transliteration: found through English
    ("whatsapp جوڑیں", ["Connect WhatsApp to Madad"]),
]


# Questions the knowledge base does not answer (for the answer bot: it should offer nothing).
UNANSWERABLE: list[str] = [
    "can i bring my dog to your office",
    "what is the weather in lahore today",
    "do you sell second hand cars",
    "my neighbour is too loud at night",
    "recipe for chicken biryani",
    "who won the cricket match yesterday",
    "are you hiring software engineers",
    "how do i apply for a job at your company",
    "can you recommend a good dentist",
    "what is your ceo's favourite colour",
    "is there parking at your head office",
    "the train to karachi is late",
    "i want to book a hotel room in islamabad",
    "how many calories are in a mango",
    "translate this poem into french",
    "my cat will not eat its food",
    "what time does the bank open on friday",
    "help me write a birthday message for my mother",
    "how do i fix a leaking kitchen tap",
    "why is the sky blue",
    "please sponsor our school football team",
    "invest in our startup",
    "what is the capital of australia",
    "i lost my umbrella on the bus",
    "do you have a franchise in dubai",
    "can i pay my electricity bill here",
    "how tall is mount everest",
    "my washing machine makes a loud noise",
    "اسلام آباد میں موسم کیسا ہے",
    "کرکٹ میچ کس نے جیتا",
]


def typo(rng: random.Random, word: str) -> str:
    """One realistic slip in a word: a dropped, doubled or swapped letter."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(["drop", "double", "swap"])
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def cases(seed: int) -> list[Case]:
    rng = random.Random(seed + 1)
    out = [Case(q, "en", e, "question") for q, e in QUESTIONS]
    out += [Case(q, "en", e, "paraphrase") for q, e in PARAPHRASES]
    out += [Case(q, "ur", e, "urdu") for q, e in URDU_QUESTIONS]
    for q, expected in rng.sample(QUESTIONS, 40):
        words = q.split()
        long_words = [i for i, w in enumerate(words) if len(w) >= 5]
        if long_words:
            i = rng.choice(long_words)
            words[i] = typo(rng, words[i])
            out.append(Case(" ".join(words), "en", expected, "typo"))
    for q, expected in rng.sample(QUESTIONS, 40):
        # Search-as-you-type: the query as it stands with its last word half typed.
        words = q.split()
        last = words[-1]
        if len(last) >= 4 and last.isalpha():
            words[-1] = last[: max(3, len(last) * 2 // 3)]
            out.append(Case(" ".join(words), "en", expected, "prefix"))
    return out


# --- running -------------------------------------------------------------------------------


async def load(db: Database, docs: list[Doc]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(docs), 50):
        async with db.session() as session:
            for d in docs[start : start + 50]:
                translations = {}
                if d.en:
                    translations["en"] = Text(*d.en)
                if d.ur:
                    translations["ur"] = Text(*d.ur)
                view = await service.create_article(
                    session,
                    AUTHOR,
                    translations=translations,
                    internal=d.internal,
                    publish=list(translations),
                )
                ids[d.key] = view.article.id
    return ids


@dataclass
class Outcome:
    recall5: float
    mrr: float
    p50: float
    p95: float
    typing_p50: float
    typing_p95: float
    misses: list[tuple[Case, list[str]]]
    by_kind: dict[str, tuple[int, int]]


async def timed_search(db: Database, q: str, lang: str) -> tuple[float, list[int]]:
    t0 = time.perf_counter()
    async with db.session(write=False) as session:
        found = await service.search_articles(session, q, language=lang, limit=10)
    return time.perf_counter() - t0, [h.article_id for h in found.hits]


async def measure(db: Database, ids: dict[str, int], queries: list[Case], rounds: int) -> Outcome:
    titles = {v: k for k, v in ids.items()}
    hits5 = 0
    reciprocal = 0.0
    misses: list[tuple[Case, list[str]]] = []
    by_kind: dict[str, tuple[int, int]] = {}
    latencies: list[float] = []
    for case in queries:  # relevance, and a first (cold) pass
        _, found = await timed_search(db, case.q, case.lang)
        wanted = {ids[e] for e in case.expected}
        rank = next((i for i, a in enumerate(found, 1) if a in wanted), None)
        ok = rank is not None and rank <= 5
        hits5 += ok
        reciprocal += 1 / rank if rank else 0.0
        good, total = by_kind.get(case.kind, (0, 0))
        by_kind[case.kind] = (good + ok, total + 1)
        if not ok:
            misses.append((case, [titles[a] for a in found[:3]]))
    for _ in range(rounds):
        for case in queries:
            took, _ = await timed_search(db, case.q, case.lang)
            latencies.append(took)
    typing: list[float] = []
    for case in queries[:40]:
        for end in range(1, len(case.q) + 1):
            took, _ = await timed_search(db, case.q[:end], case.lang)
            typing.append(took)
    q = statistics.quantiles(latencies, n=100)
    qt = statistics.quantiles(typing, n=100)
    return Outcome(
        hits5 / len(queries),
        reciprocal / len(queries),
        q[49] * 1000,
        q[94] * 1000,
        qt[49] * 1000,
        qt[94] * 1000,
        misses,
        by_kind,
    )


# --- the answer bot ----------------------------------------------------------------------------

THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(14)]  # 0.30 … 0.95
SIGN_OFFS = ["Thanks,\nAli", "Regards,\nSana Khan", "Thank you", "Best,\nOmar"]


def bot_cases(seed: int) -> tuple[list[Case], list[Case]]:
    """(answerable, unanswerable): the bench's queries, the questions again as short emails
    (greeting and sign-off around them), and questions the knowledge base does not answer."""
    rng = random.Random(seed + 2)
    answerable = cases(seed)
    for q, expected in QUESTIONS:
        mail = f"Hi,\n\n{q[0].upper() + q[1:]}?\n\n{rng.choice(SIGN_OFFS)}"
        answerable.append(Case(mail, "en", expected, "email"))
    unanswerable = [Case(q, "ur" if not q.isascii() else "en", [], "none") for q in UNANSWERABLE]
    return answerable, unanswerable


@dataclass
class BotRow:
    threshold: float
    answered: float  # share of answerable questions given an offer
    precision: float  # share of offers holding an expected article
    false_offers: float  # share of unanswerable questions given an offer
    offers: int


async def measure_bot(
    db: Database, ids: dict[str, int], answerable: list[Case], unanswerable: list[Case]
) -> tuple[list[BotRow], dict[str, dict[float, tuple[int, int]]]]:
    """Offer (at every threshold at once: each question's three most confident candidates),
    then count per threshold."""
    offered: list[tuple[Case, list[tuple[int, float]]]] = []
    for case in answerable + unanswerable:
        async with db.session(write=False) as session:
            got = await bot.suggest(session, case.q, lang=case.lang, threshold=0.0)
        offered.append((case, [(s.article_id, s.score) for s in got]))
    rows = []
    kinds: dict[str, dict[float, tuple[int, int]]] = {}
    for t in THRESHOLDS:
        answered = right = wrong_offers = 0
        for case, got in offered:
            shown = [a for a, score in got if score >= t]
            if case.kind == "none":
                wrong_offers += bool(shown)
                continue
            ok = any(a in {ids[e] for e in case.expected} for a in shown)
            answered += bool(shown)
            right += ok
            good, total = kinds.setdefault(case.kind, {}).get(t, (0, 0))
            kinds[case.kind][t] = (good + ok, total + 1)
        rows.append(
            BotRow(
                t,
                answered / len(answerable),
                right / answered if answered else 1.0,
                wrong_offers / len(unanswerable),
                answered + wrong_offers,
            )
        )
    return rows, kinds


def report_bot(
    name: str,
    answerable: list[Case],
    unanswerable: list[Case],
    rows: list[BotRow],
    kinds: dict[str, dict[float, tuple[int, int]]],
) -> None:
    print(
        f"{name}: answer bot over {len(answerable)} answerable questions "
        f"(incl. {sum(c.kind == 'email' for c in answerable)} as emails) and "
        f"{len(unanswerable)} the knowledge base does not answer"
    )
    print(
        "  threshold  answered  precision*  offers to unanswerable"
        "   (* offers with an expected article)"
    )
    for r in rows:
        mark = "  ← bot.THRESHOLD" if abs(r.threshold - bot.THRESHOLD) < 1e-9 else ""
        print(
            f"  {r.threshold:9.2f}  {r.answered:8.1%}  {r.precision:10.1%}  "
            f"{r.false_offers:8.1%}{mark}"
        )
    chosen = min(THRESHOLDS, key=lambda t: abs(t - bot.THRESHOLD))
    per_kind = ", ".join(
        f"{k} {v[chosen][0]}/{v[chosen][1]}" for k, v in sorted(kinds.items()) if chosen in v
    )
    print(f"  answered rightly at {chosen:.2f}: {per_kind}")


def report(name: str, docs: list[Doc], queries: list[Case], o: Outcome, show: int) -> None:
    articles = len(docs)
    urdu_count = sum(1 for d in docs if d.ur)
    print(
        f"{name}: {articles} articles ({urdu_count} also in Urdu, "
        f"{sum(d.internal for d in docs)} internal), {len(queries)} queries"
    )
    kinds = ", ".join(f"{k} {g}/{t}" for k, (g, t) in sorted(o.by_kind.items()))
    print(f"  recall@5 {o.recall5:.3f}  MRR@10 {o.mrr:.3f}  (found in top 5: {kinds})")
    verdict = "met" if o.p95 < TARGET_P95_MS else "NOT met"
    print(
        f"  latency per search: p50 {o.p50:.2f} ms, p95 {o.p95:.2f} ms "
        f"(target p95 < {TARGET_P95_MS:.0f} ms: {verdict}); "
        f"as you type: p50 {o.typing_p50:.2f} ms, p95 {o.typing_p95:.2f} ms"
    )
    for case, top in o.misses[:show]:
        print(f"  miss [{case.kind}] {case.q!r} → wanted {case.expected[0]!r}, got {top}")


async def run_sqlite(docs: list[Doc], queries: list[Case], args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/kb.db"
        settings = Settings(database_url=url, data_dir=Path(folder), _env_file=None)  # type: ignore[call-arg]
        await migrate.upgrade_async(settings)
        db = Database(settings, bus=MemoryBus())
        try:
            ids = await load(db, docs)
            if args.bot:
                answerable, unanswerable = bot_cases(args.seed)
                rows, kinds = await measure_bot(db, ids, answerable, unanswerable)
            else:
                outcome = await measure(db, ids, queries, args.rounds)
        finally:
            await db.dispose()
    if args.bot:
        report_bot("SQLite (FTS5)", answerable, unanswerable, rows, kinds)
    else:
        report("SQLite (FTS5)", docs, queries, outcome, args.show_misses)


async def run_postgres(
    url: str, docs: list[Doc], queries: list[Case], args: argparse.Namespace
) -> None:
    admin = create_async_engine(url)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    try:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(  # type: ignore[call-arg]
                database_url=url, database_schema=SCHEMA, data_dir=Path(folder), _env_file=None
            )
            await migrate.upgrade_async(settings)
            db = Database(settings, bus=MemoryBus())
            try:
                ids = await load(db, docs)
                async with db.engine.begin() as conn:
                    await conn.execute(text("ANALYZE kb_search"))
                if args.bot:
                    answerable, unanswerable = bot_cases(args.seed)
                    rows, kinds = await measure_bot(db, ids, answerable, unanswerable)
                else:
                    outcome = await measure(db, ids, queries, args.rounds)
            finally:
                await db.dispose()
        if args.bot:
            report_bot("PostgreSQL (tsvector + GIN)", answerable, unanswerable, rows, kinds)
        else:
            report("PostgreSQL (tsvector + GIN)", docs, queries, outcome, args.show_misses)
    finally:
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        await admin.dispose()


async def main(args: argparse.Namespace) -> None:
    docs = knowledge_base(args.seed)
    queries = cases(args.seed)
    assert len(docs) >= 500 and len(queries) >= 50, (len(docs), len(queries))
    keys = {d.key for d in docs}
    assert all(e in keys for c in queries for e in c.expected)
    await run_sqlite(docs, queries, args)
    url = (
        args.postgres_url
        or os.environ.get("MADAD_BENCH_POSTGRES_URL")
        or os.environ.get("MADAD_TEST_POSTGRES_URL")
    )
    if url and not args.sqlite_only:
        await run_postgres(url, docs, queries, args)
    else:
        print("PostgreSQL: skipped (set MADAD_BENCH_POSTGRES_URL or pass --postgres-url)")
    mode = " --bot" if args.bot else f" --rounds {args.rounds}"
    print(f"  reproduce: {COMMAND} --seed {args.seed}{mode}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=5, help="timed passes over the queries")
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--show-misses", type=int, default=15)
    parser.add_argument(
        "--bot",
        action="store_true",
        help="the answer bot instead: for candidate thresholds, the share of questions "
        "answered, the precision of the offers and the offers to unanswerable questions",
    )
    asyncio.run(main(parser.parse_args()))
