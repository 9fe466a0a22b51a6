"""The demo's help centre: categories, sections and articles that answer what the demo's
customers write about (texts.TOPICS), many also in Urdu, a few for agents only — and what
customers type into the search box to find them, and what they search for in vain."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shelf:
    """A category (key, English and Urdu titles, description) and its sections."""

    key: str
    title: str
    title_ur: str
    description: str
    description_ur: str
    sections: tuple[tuple[str, str, str], ...]  # key, English title, Urdu title


@dataclass(frozen=True)
class Piece:
    """One article: where it sits, its text (and Urdu text), who may read it, what it is
    related to, what customers search to find it, how often it is read and how well it helps."""

    key: str  # the slug
    section: str
    title: str
    body: str
    title_ur: str | None = None
    body_ur: str | None = None
    internal: bool = False
    related: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    searches_ur: tuple[str, ...] = ()
    popularity: float = 1.0
    helpful: float = 0.8  # the share of votes that say "yes"


SHELVES = [
    Shelf(
        "billing",
        "Billing and payments",
        "بلنگ اور ادائیگی",
        "Invoices, receipts, refunds, plans and seats.",
        "انوائس، رسیدیں، رقم کی واپسی، پلان اور سیٹیں۔",
        (
            ("invoices", "Invoices and receipts", "انوائس اور رسیدیں"),
            ("payments", "Payments and refunds", "ادائیگی اور رقم کی واپسی"),
            ("plans", "Plans and seats", "پلان اور سیٹیں"),
        ),
    ),
    Shelf(
        "account",
        "Account and sign-in",
        "اکاؤنٹ اور لاگ اِن",
        "Passwords, locked accounts, single sign-on and your team.",
        "پاس ورڈ، بند اکاؤنٹ، سنگل سائن آن اور آپ کی ٹیم۔",
        (
            ("sign-in", "Signing in", "لاگ اِن"),
            ("team", "Your team", "آپ کی ٹیم"),
        ),
    ),
    Shelf(
        "orders",
        "Orders and delivery",
        "آرڈر اور ترسیل",
        "Tracking, delivery times, returns and replacements.",
        "ٹریکنگ، ترسیل کا وقت، واپسی اور متبادل۔",
        (
            ("tracking", "Tracking an order", "آرڈر کی ٹریکنگ"),
            ("returns", "Returns and replacements", "واپسی اور متبادل"),
        ),
    ),
    Shelf(
        "apps",
        "Apps and integrations",
        "ایپ اور انٹیگریشن",
        "The mobile app, reports and exports, the API and webhooks.",
        "موبائل ایپ، رپورٹس اور ایکسپورٹ، اے پی آئی اور ویب ہکس۔",
        (
            ("mobile", "Mobile app", "موبائل ایپ"),
            ("reports", "Reports and exports", "رپورٹس اور ایکسپورٹ"),
            ("api", "API and webhooks", "اے پی آئی اور ویب ہکس"),
        ),
    ),
]

PIECES = [
    # --- billing: invoices ---------------------------------------------------------------------
    Piece(
        "find-your-invoices",
        "invoices",
        "Invoice missing? Where to find your invoices",
        "Every invoice we have issued is under **Billing → Invoices**, newest first.\n\n"
        "1. Sign in as an owner or a billing admin.\n"
        "2. Open **Billing** in the menu and choose **Invoices**.\n"
        "3. Select an invoice to see it, or **Download PDF** to keep a copy.\n\n"
        "Invoices are issued on the first working day of the month and emailed to your billing "
        "contact. If a month is missing from the list, it may not have been issued yet — or it "
        "went to an old billing contact. Ask us and we will re-issue it the same day.",
        "اپنی انوائس کہاں تلاش کریں",
        "ہماری جاری کردہ ہر انوائس **بلنگ ← انوائس** میں موجود ہے، تازہ ترین سب سے اوپر۔\n\n"
        "1. مالک یا بلنگ ایڈمن کے طور پر لاگ اِن کریں۔\n"
        "2. مینو میں **بلنگ** کھولیں اور **انوائس** منتخب کریں۔\n"
        "3. انوائس دیکھنے کے لیے اسے منتخب کریں، یا **پی ڈی ایف ڈاؤن لوڈ** کریں۔\n\n"
        "انوائس ہر مہینے کے پہلے کاروباری دن جاری ہوتی ہے اور آپ کے بلنگ رابطے کو ای میل کی جاتی "
        "ہے۔ اگر کسی مہینے کی انوائس نظر نہ آئے تو ہم سے رابطہ کریں، ہم اسی دن دوبارہ جاری کر "
        "دیں گے۔",
        related=("change-billing-contact", "add-vat-number", "download-receipts"),
        searches=("invoice", "missing invoice", "where is my invoice", "invoice pdf", "invoce"),
        searches_ur=("انوائس", "بل کی کاپی"),
        popularity=3.0,
        helpful=0.86,
    ),
    Piece(
        "add-vat-number",
        "invoices",
        "Add your VAT or NTN number to invoices",
        "Your tax number appears on every invoice issued after you add it.\n\n"
        "1. Open **Billing → Company details**.\n"
        "2. Enter your **VAT number** (UAE, UK, EU) or **NTN** (Pakistan) and save.\n\n"
        "Invoices issued before the change keep the old details. If you need one of them "
        "re-issued with the tax number, send us the invoice number.",
        "انوائس پر اپنا ٹیکس (این ٹی این) نمبر شامل کریں",
        "ٹیکس نمبر شامل کرنے کے بعد جاری ہونے والی ہر انوائس پر یہ نظر آئے گا۔\n\n"
        "1. **بلنگ ← کمپنی کی تفصیلات** کھولیں۔\n"
        "2. اپنا **این ٹی این** یا **وی اے ٹی نمبر** درج کریں اور محفوظ کریں۔\n\n"
        "پہلے سے جاری شدہ انوائس پر پرانی تفصیلات رہیں گی۔ کسی پرانی انوائس کو ٹیکس نمبر کے ساتھ "
        "دوبارہ جاری کروانے کے لیے ہمیں انوائس نمبر بھیجیں۔",
        related=("find-your-invoices",),
        searches=("vat number", "ntn invoice", "tax number on invoice"),
        searches_ur=("ٹیکس نمبر",),
        popularity=1.2,
        helpful=0.9,
    ),
    Piece(
        "change-billing-contact",
        "invoices",
        "Change who receives invoices",
        "Invoices and payment receipts go to the **billing contact** of your account.\n\n"
        "Open **Billing → Company details**, change **Billing email**, and save. You can add "
        "up to three addresses separated by commas, for example your finance team's shared "
        "mailbox. The next invoice goes to the new addresses.",
        related=("find-your-invoices",),
        searches=("billing email", "change invoice email", "finance contact"),
        popularity=0.8,
    ),
    Piece(
        "download-receipts",
        "invoices",
        "Download a receipt for a card payment",
        "A receipt is issued for every successful card payment. Find it under **Billing → "
        "Payments**: choose the payment and select **Receipt**. Receipts show the last four "
        "digits of the card and the invoice the payment settled.",
        related=("find-your-invoices", "payment-methods"),
        searches=("receipt", "payment receipt"),
        popularity=0.7,
    ),
    # --- billing: payments and refunds --------------------------------------------------------
    Piece(
        "duplicate-charge",
        "payments",
        "Charged twice? How duplicate charges are refunded",
        "Now and then a bank retries a payment that had already gone through, and the card is "
        "charged twice for one invoice.\n\n"
        "- We refund the duplicate as soon as you tell us — you don't need to call your bank.\n"
        "- The refund goes back to the same card; banks usually show it within **3–5 working "
        "days**.\n"
        "- You get an email receipt for the refund the same day.\n\n"
        "To report it, send us the date and amount of both charges (a screenshot of the "
        "statement helps).",
        "دو بار رقم کٹ گئی؟ اضافی رقم کیسے واپس ہوتی ہے",
        "کبھی کبھار بینک ایسی ادائیگی دوبارہ کر دیتا ہے جو پہلے ہو چکی تھی، اور ایک ہی انوائس کے "
        "لیے کارڈ سے دو بار رقم کٹ جاتی ہے۔\n\n"
        "- آپ کے بتاتے ہی ہم اضافی رقم واپس کر دیتے ہیں — بینک کو فون کرنے کی ضرورت نہیں۔\n"
        "- رقم اسی کارڈ میں واپس آتی ہے؛ عام طور پر **تین سے پانچ کاروباری دن** لگتے ہیں۔\n"
        "- رقم کی واپسی کی رسید اسی دن ای میل کر دی جاتی ہے۔\n\n"
        "اطلاع دینے کے لیے دونوں ادائیگیوں کی تاریخ اور رقم بھیجیں۔",
        related=("refund-timing", "bill-higher-than-expected"),
        searches=("charged twice", "double charge", "duplicate payment", "refund"),
        searches_ur=("دو بار چارج", "رقم واپس"),
        popularity=2.4,
        helpful=0.82,
    ),
    Piece(
        "refund-timing",
        "payments",
        "How long does a refund take?",
        "Once we have issued a refund you get an email receipt. How long it then takes to "
        "reach you depends on how you paid:\n\n"
        "- **Card**: 3–5 working days (some banks take up to 10).\n"
        "- **Bank transfer**: 2 working days.\n"
        "- **JazzCash or Easypaisa**: usually the same day.\n\n"
        "If the refund has not arrived after 10 working days, send us the receipt and we will "
        "trace it with the payment provider.",
        "رقم واپس آنے میں کتنا وقت لگتا ہے؟",
        "رقم واپس کرنے پر آپ کو ای میل رسید ملتی ہے۔ رقم پہنچنے کا وقت ادائیگی کے طریقے پر ہے:\n\n"
        "- **کارڈ**: تین سے پانچ کاروباری دن (کچھ بینک دس دن تک لیتے ہیں)۔\n"
        "- **بینک ٹرانسفر**: دو کاروباری دن۔\n"
        "- **جاز کیش یا ایزی پیسہ**: عموماً اسی دن۔\n\n"
        "دس کاروباری دن بعد بھی رقم نہ پہنچے تو رسید بھیجیں، ہم معلوم کریں گے۔",
        related=("duplicate-charge", "payment-methods"),
        searches=("refund time", "when will i get my refund", "refund not received"),
        searches_ur=("رقم کب واپس", "ریفنڈ"),
        popularity=1.8,
        helpful=0.74,
    ),
    Piece(
        "payment-methods",
        "payments",
        "Payment methods we accept",
        "You can pay by:\n\n"
        "- Visa, Mastercard and UnionPay cards;\n"
        "- bank transfer (the account details are on every invoice);\n"
        "- JazzCash and Easypaisa, for customers in Pakistan.\n\n"
        "Change the card on file under **Billing → Payment method**. Annual plans can also be "
        "paid by cheque; ask us for the details.",
        "ادائیگی کے طریقے",
        "آپ ان طریقوں سے ادائیگی کر سکتے ہیں:\n\n"
        "- ویزا، ماسٹر کارڈ اور یونین پے کارڈ؛\n"
        "- بینک ٹرانسفر (اکاؤنٹ کی تفصیل ہر انوائس پر موجود ہے)؛\n"
        "- پاکستان میں جاز کیش اور ایزی پیسہ۔\n\n"
        "کارڈ تبدیل کرنے کے لیے **بلنگ ← ادائیگی کا طریقہ** کھولیں۔",
        related=("failed-payment", "download-receipts"),
        searches=("payment methods", "pay by bank transfer", "jazzcash", "easypaisa"),
        searches_ur=("جاز کیش", "ادائیگی کا طریقہ"),
        popularity=1.3,
        helpful=0.88,
    ),
    Piece(
        "failed-payment",
        "payments",
        "What happens when a payment fails",
        "If a card payment fails we try again after 3 and after 7 days and email your billing "
        "contact each time. Your account keeps working meanwhile. After the third failure the "
        "account is paused until the invoice is paid; nothing is deleted. Update the card under "
        "**Billing → Payment method** and select **Pay now** to settle at once.",
        related=("payment-methods",),
        searches=("payment failed", "card declined"),
        popularity=0.9,
        helpful=0.77,
    ),
    Piece(
        "bill-higher-than-expected",
        "payments",
        "Why is my bill higher than last month?",
        "The usual reasons, in the order we see them:\n\n"
        "1. **Seats added** during the month are charged pro rata on the next invoice.\n"
        "2. A **duplicate charge** — see [Charged twice?](/help/articles/duplicate-charge).\n"
        "3. An **annual renewal** fell in this month.\n"
        "4. **Taxes** changed after you added a VAT or NTN number.\n\n"
        "Each invoice lists its lines; compare them with last month's. If none explains it, "
        "write to us with both invoice numbers.",
        "بل کی رقم غلط ہے؟ بل پچھلے مہینے سے زیادہ کیوں ہے",
        "عام وجوہات یہ ہیں:\n\n"
        "1. مہینے کے دوران **نئی سیٹیں** شامل ہوئیں تو اگلی انوائس میں ان کا حساب شامل ہوتا ہے۔\n"
        "2. **دو بار رقم کٹ گئی** — [دو بار رقم کٹ گئی؟](/help/ur/articles/duplicate-charge) "
        "دیکھیں۔\n"
        "3. **سالانہ تجدید** اسی مہینے میں ہوئی۔\n"
        "4. ٹیکس نمبر شامل کرنے کے بعد **ٹیکس** بدل گیا۔\n\n"
        "اگر کوئی وجہ سمجھ نہ آئے تو دونوں انوائس نمبر کے ساتھ ہمیں لکھیں۔",
        related=("duplicate-charge", "add-seats", "proration"),
        searches=("bill too high", "invoice higher than usual", "why is my bill higher"),
        searches_ur=("بل زیادہ", "بل کی رقم غلط"),
        popularity=1.6,
        helpful=0.7,
    ),
    # --- billing: plans -------------------------------------------------------------------------
    Piece(
        "add-seats",
        "plans",
        "Upgrade to more seats in the middle of a billing cycle",
        "Owners and billing admins can add seats at any time under **Billing → Plan → Seats**. "
        "New seats are available at once. You pay only for the rest of the current cycle "
        "(prorated), and the next invoice shows the full new seat count.\n\n"
        "Removing seats takes effect at the start of the next cycle.",
        "بلنگ کے دوران نئی سیٹیں شامل کریں",
        "مالک اور بلنگ ایڈمن کسی بھی وقت **بلنگ ← پلان ← سیٹیں** میں سیٹیں بڑھا سکتے ہیں۔ "
        "نئی سیٹیں فوراً دستیاب ہوتی ہیں۔ آپ صرف موجودہ مدت کے باقی دنوں کی ادائیگی کرتے ہیں، "
        "اور اگلی انوائس میں سیٹوں کی پوری نئی تعداد شامل ہوتی ہے۔",
        related=("proration", "change-plan"),
        searches=("add seats", "more users", "upgrade seats", "seat"),
        searches_ur=("سیٹیں",),
        popularity=1.5,
        helpful=0.9,
    ),
    Piece(
        "proration",
        "plans",
        "How prorated charges work",
        "When you add seats or move to a bigger plan mid-cycle, you pay for the days left in "
        "the cycle only. Example: 10 extra seats at PKR 2,000 a month, added with 15 of 30 days "
        "left, cost PKR 10,000 on the next invoice. Moving to a smaller plan applies from the "
        "next cycle, so there is nothing to refund.",
        related=("add-seats", "bill-higher-than-expected"),
        searches=("prorated", "proration", "mid cycle charge"),
        popularity=0.6,
        helpful=0.72,
    ),
    Piece(
        "change-plan",
        "plans",
        "Upgrade or downgrade your plan",
        "Compare plans and switch under **Billing → Plan**. An upgrade applies at once and is "
        "prorated; a downgrade applies from the next cycle. Features of the bigger plan stay "
        "available until then.",
        related=("add-seats", "proration", "cancel-subscription"),
        searches=("upgrade plan", "downgrade", "change plan", "enterprise plan"),
        popularity=0.9,
    ),
    Piece(
        "cancel-subscription",
        "plans",
        "Cancel your subscription",
        "Owners can cancel under **Billing → Plan → Cancel subscription**. The account works "
        "until the end of the paid period, and your data is kept for 90 days after it in case "
        "you come back. Export what you need before then.",
        "اپنی سبسکرپشن ختم کریں",
        "اکاؤنٹ کا مالک **بلنگ ← پلان ← سبسکرپشن ختم کریں** سے سبسکرپشن ختم کر سکتا ہے۔ اکاؤنٹ "
        "ادا شدہ مدت کے آخر تک کام کرتا ہے، اور آپ کا ڈیٹا اس کے بعد نوے دن تک محفوظ رہتا ہے۔",
        related=("change-plan",),
        searches=("cancel subscription", "cancel account", "stop billing"),
        searches_ur=("سبسکرپشن ختم",),
        popularity=0.8,
        helpful=0.66,
    ),
    # --- account: sign-in -----------------------------------------------------------------------
    Piece(
        "reset-password",
        "sign-in",
        "Reset your password",
        "1. On the sign-in page, select **Forgot password?**\n"
        "2. Enter the email address you sign in with.\n"
        "3. Open the link we email you (it works for one hour) and choose a new password.\n\n"
        "No email after 10 minutes? Check the spam folder, and make sure it is the address you "
        "sign in with. If your company signs in with SSO, reset the password with your company "
        "instead — see [Sign in with single sign-on](/help/articles/sso-sign-in).",
        "اپنا پاس ورڈ دوبارہ ترتیب دیں",
        "1. لاگ اِن کے صفحے پر **پاس ورڈ بھول گئے؟** منتخب کریں۔\n"
        "2. وہ ای میل درج کریں جس سے آپ لاگ اِن کرتے ہیں۔\n"
        "3. ای میل میں آنے والا لنک کھولیں (ایک گھنٹے تک کارآمد) اور نیا پاس ورڈ منتخب کریں۔\n\n"
        "دس منٹ میں ای میل نہ آئے تو اسپام فولڈر دیکھیں۔",
        related=("invalid-credentials", "account-locked", "two-step-verification"),
        searches=("reset password", "forgot password", "password", "pasword reset"),
        searches_ur=("پاس ورڈ", "پاس ورڈ بھول گیا"),
        popularity=3.2,
        helpful=0.84,
    ),
    Piece(
        "invalid-credentials",
        "sign-in",
        "Can't log in after a password reset ('invalid credentials')",
        "If the sign-in page still says **invalid credentials** after you reset your password:\n\n"
        "- Your account may be **locked** after several failed attempts — wait 15 minutes or "
        "ask us to unlock it (see [Your account is locked](/help/articles/account-locked)).\n"
        "- Your company may require **single sign-on**: use **Sign in with SSO** instead of "
        "the password form.\n"
        "- A password manager may be filling in the old password.\n\n"
        "Still stuck? Write to us from the address you sign in with.",
        "لاگ اِن نہیں ہو رہا: پاس ورڈ تبدیل کرنے کے بعد بھی 'غلط پاس ورڈ'",
        "پاس ورڈ تبدیل کرنے کے بعد بھی لاگ اِن کا صفحہ **غلط پاس ورڈ** کہے تو:\n\n"
        "- کئی ناکام کوششوں کے بعد آپ کا اکاؤنٹ **بند** ہو سکتا ہے — پندرہ منٹ انتظار کریں یا "
        "ہم سے کھلوائیں۔\n"
        "- ہو سکتا ہے آپ کی کمپنی **سنگل سائن آن** استعمال کرتی ہو۔\n"
        "- پاس ورڈ مینیجر پرانا پاس ورڈ بھر رہا ہو۔\n\n"
        "پھر بھی مسئلہ ہو تو اسی ای میل سے ہمیں لکھیں جس سے آپ لاگ اِن کرتے ہیں۔",
        related=("reset-password", "account-locked", "sso-sign-in"),
        searches=("invalid credentials", "cannot log in", "login not working", "cant login"),
        searches_ur=("لاگ اِن نہیں ہو رہا", "لاگ ان"),
        popularity=2.8,
        helpful=0.62,
    ),
    Piece(
        "account-locked",
        "sign-in",
        "Your account is locked after failed sign-ins",
        "After five failed sign-ins in a row we lock the account for 15 minutes to keep it "
        "safe. Wait, then sign in with the right password or reset it. If it locks again, an "
        "admin of your team can unlock it under **Team → People**, or we can.",
        "کئی ناکام کوششوں کے بعد اکاؤنٹ بند",
        "لگاتار پانچ ناکام کوششوں کے بعد حفاظت کے لیے اکاؤنٹ پندرہ منٹ کے لیے بند ہو جاتا ہے۔ "
        "انتظار کریں، پھر درست پاس ورڈ سے لاگ اِن کریں یا پاس ورڈ دوبارہ ترتیب دیں۔ آپ کی ٹیم کا "
        "ایڈمن **ٹیم ← لوگ** میں اکاؤنٹ کھول سکتا ہے۔",
        related=("invalid-credentials", "reset-password"),
        searches=("account locked", "locked out", "too many attempts"),
        searches_ur=("اکاؤنٹ بند",),
        popularity=1.4,
        helpful=0.8,
    ),
    Piece(
        "sso-sign-in",
        "sign-in",
        "Sign in with single sign-on (SSO)",
        "On plans with SSO, your admin connects your company's identity provider (Google "
        "Workspace, Microsoft Entra ID or any SAML provider) under **Team → Security**. People "
        "then select **Sign in with SSO** and use their company password. When SSO is required, "
        "password sign-in is turned off for everyone but the owner.",
        related=("invalid-credentials", "two-step-verification"),
        searches=("sso", "single sign on", "saml", "google login"),
        popularity=0.9,
        helpful=0.75,
    ),
    Piece(
        "two-step-verification",
        "sign-in",
        "Turn on two-step verification",
        "Two-step verification asks for a code from an authenticator app after your password. "
        "Turn it on under **Profile → Security → Two-step verification**, scan the QR code with "
        "the app, and keep the backup codes somewhere safe: each works once if you lose your "
        "phone.",
        "دو مرحلوں والی تصدیق آن کریں",
        "دو مرحلوں والی تصدیق پاس ورڈ کے بعد تصدیقی ایپ کا کوڈ مانگتی ہے۔ اسے **پروفائل ← "
        "حفاظت** میں آن کریں، ایپ سے کیو آر کوڈ اسکین کریں اور بیک اپ کوڈ محفوظ جگہ رکھیں۔",
        related=("reset-password", "sso-sign-in"),
        searches=("two factor", "2fa", "authenticator"),
        popularity=0.7,
        helpful=0.85,
    ),
    # --- account: team --------------------------------------------------------------------------
    Piece(
        "invite-team-members",
        "team",
        "Invite people to your team",
        "Admins invite people under **Team → People → Invite**: enter their email addresses "
        "and choose a role. Each person gets an email with a link that works for 7 days. A "
        "pending invitation uses a seat only once it is accepted.",
        related=("roles-permissions", "add-seats"),
        searches=("invite user", "add team member", "invitation"),
        popularity=1.0,
        helpful=0.87,
    ),
    Piece(
        "roles-permissions",
        "team",
        "Roles and what each can do",
        "- **Owner**: everything, including billing and closing the account.\n"
        "- **Admin**: people, settings and integrations.\n"
        "- **Billing admin**: invoices, payment methods and plans.\n"
        "- **Member**: the daily work, no settings.\n\n"
        "Change a person's role under **Team → People**.",
        related=("invite-team-members",),
        searches=("roles", "permissions", "admin rights"),
        popularity=0.6,
    ),
    Piece(
        "change-email-address",
        "team",
        "Change the email address you sign in with",
        "Open **Profile → Email**, enter the new address and confirm it from the email we send "
        "there. Until you confirm, the old address keeps working. Invoices are not affected: "
        "they go to the billing contact.",
        "لاگ اِن والی ای میل تبدیل کریں",
        "**پروفائل ← ای میل** کھولیں، نیا پتہ درج کریں اور وہاں بھیجی گئی ای میل سے تصدیق کریں۔ "
        "تصدیق تک پرانا پتہ کام کرتا رہے گا۔",
        related=("change-billing-contact",),
        searches=("change email", "new email address"),
        searches_ur=("ای میل تبدیل",),
        popularity=0.7,
    ),
    # --- orders: tracking -----------------------------------------------------------------------
    Piece(
        "track-order",
        "tracking",
        "Track your order",
        "Open **Orders**, choose the order and select **Track**. You will see the courier, the "
        "tracking number and each scan of the parcel. We also send an SMS when the parcel "
        "leaves our warehouse and again on the day of delivery.",
        "اپنے آرڈر کو ٹریک کریں",
        "**آرڈر** کھولیں، آرڈر منتخب کریں اور **ٹریک** دبائیں۔ آپ کو کوریئر، ٹریکنگ نمبر اور "
        "پارسل کا ہر مرحلہ نظر آئے گا۔ پارسل گودام سے نکلنے اور ترسیل کے دن ہم ایس ایم ایس بھی "
        "بھیجتے ہیں۔",
        related=("tracking-not-updating", "delivery-times"),
        searches=("track order", "where is my order", "order status", "tracking number"),
        searches_ur=("آرڈر کہاں ہے", "ٹریکنگ"),
        popularity=3.0,
        helpful=0.8,
    ),
    Piece(
        "tracking-not-updating",
        "tracking",
        "Order not arrived? Tracking hasn't changed for days",
        "A parcel often waits at a courier's hub (Karachi, Lahore or Islamabad) for a day or "
        "two without a new scan, especially after a weekend or a public holiday.\n\n"
        "- **Up to 3 working days** without a scan: the parcel is usually on its way.\n"
        "- **More than 3 working days**: tell us the order number. We ask the courier and, if "
        "the parcel is lost, ship a replacement by express at no cost.",
        "آرڈر ابھی تک نہیں پہنچا؟ ٹریکنگ کئی دن سے تبدیل نہیں ہوئی",
        "پارسل اکثر کوریئر کے مرکز (کراچی، لاہور یا اسلام آباد) میں ایک دو دن بغیر نئی اسکین "
        "کے رکا رہتا ہے، خاص طور پر ہفتہ وار یا سرکاری چھٹی کے بعد۔\n\n"
        "- **تین کاروباری دن تک**: پارسل عموماً راستے میں ہوتا ہے۔\n"
        "- **تین کاروباری دن سے زیادہ**: ہمیں آرڈر نمبر بتائیں۔ ہم کوریئر سے معلوم کریں گے اور "
        "پارسل گم ہونے پر مفت متبادل ایکسپریس سے بھیجیں گے۔",
        related=("track-order", "replacement-shipping", "delivery-times"),
        searches=("tracking not updating", "order delayed", "parcel stuck", "late delivery"),
        searches_ur=("آرڈر نہیں پہنچا", "پارسل"),
        popularity=2.6,
        helpful=0.48,
    ),
    Piece(
        "delivery-times",
        "tracking",
        "Delivery times by city",
        "| City | Standard | Express |\n|---|---|---|\n"
        "| Karachi, Lahore, Islamabad | 2–3 working days | next working day |\n"
        "| Other cities in Pakistan | 3–5 working days | 2 working days |\n"
        "| UAE | 5–7 working days | 3 working days |\n\n"
        "Orders placed after 3 pm leave the warehouse the next working day.",
        "شہروں کے لحاظ سے ترسیل کا وقت",
        "- **کراچی، لاہور، اسلام آباد**: عام ترسیل دو سے تین کاروباری دن، ایکسپریس اگلے دن۔\n"
        "- **پاکستان کے دوسرے شہر**: تین سے پانچ کاروباری دن، ایکسپریس دو دن۔\n"
        "- **متحدہ عرب امارات**: پانچ سے سات کاروباری دن۔\n\n"
        "سہ پہر تین بجے کے بعد کے آرڈر اگلے کاروباری دن روانہ ہوتے ہیں۔",
        related=("track-order",),
        searches=("delivery time", "how long delivery", "shipping time"),
        searches_ur=("ترسیل کا وقت",),
        popularity=1.7,
        helpful=0.83,
    ),
    Piece(
        "change-delivery-address",
        "tracking",
        "Change the delivery address of an order",
        "Until an order leaves the warehouse you can change its address under **Orders → "
        "Edit address**. Once it has shipped, ask us: the courier can usually redirect it "
        "within the same city.",
        related=("track-order",),
        searches=("change address", "wrong address"),
        popularity=0.8,
    ),
    # --- orders: returns ------------------------------------------------------------------------
    Piece(
        "damaged-or-missing",
        "returns",
        "A parcel arrived damaged or incomplete",
        "Sorry about that. Within 7 days of delivery, send us the order number and a photo of "
        "the parcel and of what is broken, damaged or missing. We ship the missing or damaged "
        "items again, or refund them, whichever you prefer.",
        related=("return-an-order", "replacement-shipping"),
        searches=("damaged parcel", "item missing", "broken"),
        popularity=0.9,
        helpful=0.76,
    ),
    Piece(
        "return-an-order",
        "returns",
        "Return an order",
        "You can return unused items within 14 days of delivery. Select **Orders → Return "
        "items**, choose what you are sending back, and print the label. The courier collects "
        "it from your address. We refund within 5 working days of receiving the parcel.",
        "آرڈر واپس کریں",
        "آپ ترسیل کے چودہ دن کے اندر غیر استعمال شدہ اشیاء واپس کر سکتے ہیں۔ **آرڈر ← اشیاء "
        "واپس کریں** منتخب کریں، لیبل پرنٹ کریں، اور کوریئر آپ کے پتے سے پارسل لے جائے گا۔ "
        "پارسل ملنے کے پانچ کاروباری دن میں رقم واپس کر دی جاتی ہے۔",
        related=("damaged-or-missing", "refund-timing"),
        searches=("return", "return policy", "send back"),
        searches_ur=("واپسی",),
        popularity=1.2,
        helpful=0.81,
    ),
    Piece(
        "replacement-shipping",
        "returns",
        "How replacements are shipped",
        "Replacements for lost or damaged parcels always go by express, at no cost, and you "
        "get a new tracking number by SMS and email. You don't need to return a damaged item "
        "unless we ask for it.",
        related=("tracking-not-updating", "damaged-or-missing"),
        searches=("replacement", "lost parcel"),
        popularity=0.6,
        helpful=0.86,
    ),
    # --- apps: mobile ---------------------------------------------------------------------------
    Piece(
        "app-crashes-photo-upload",
        "mobile",
        "The Android app crashes when uploading or attaching photos",
        "Version 4.2.0 of the Android app could close when a photo was attached to a job, "
        "mostly on Samsung phones. **Version 4.2.1 fixes it.** Update the app from Google "
        "Play (see [Update the mobile app](/help/articles/update-the-app)) and try again. If it "
        "still closes, tell us your phone model and Android version.",
        "تصویر اپ لوڈ کرتے وقت اینڈرائیڈ ایپ بند ہو جاتی ہے",
        "اینڈرائیڈ ایپ کا ورژن 4.2.0 کام کے ساتھ تصویر لگاتے وقت بند ہو سکتا تھا، زیادہ تر "
        "سام سنگ فون پر۔ **ورژن 4.2.1 میں یہ مسئلہ حل ہو گیا ہے۔** گوگل پلے سے ایپ اپ ڈیٹ کریں "
        "اور دوبارہ کوشش کریں۔",
        related=("update-the-app", "offline-mode"),
        searches=("app crash", "app closes photo", "android crash", "upload photo"),
        searches_ur=("ایپ بند",),
        popularity=1.6,
        helpful=0.85,
    ),
    Piece(
        "update-the-app",
        "mobile",
        "Update the mobile app",
        "- **Android**: open Google Play, search for the app and select **Update**.\n"
        "- **iPhone**: open the App Store, tap your profile picture and update it in the list.\n\n"
        "**Profile → About** in the app shows the version you have.",
        "موبائل ایپ اپ ڈیٹ کریں",
        "- **اینڈرائیڈ**: گوگل پلے کھولیں، ایپ تلاش کریں اور **اپ ڈیٹ** دبائیں۔\n"
        "- **آئی فون**: ایپ اسٹور کھولیں اور فہرست میں ایپ اپ ڈیٹ کریں۔",
        related=("app-crashes-photo-upload",),
        searches=("update app", "app version"),
        searches_ur=("ایپ اپ ڈیٹ",),
        popularity=0.9,
        helpful=0.9,
    ),
    Piece(
        "notifications",
        "mobile",
        "Turn notifications on or off",
        "Choose what the app notifies you about under **Profile → Notifications**. If nothing "
        "arrives at all, check that your phone allows notifications for the app in its "
        "system settings.",
        related=("update-the-app",),
        searches=("notifications", "no notifications"),
        popularity=0.6,
    ),
    Piece(
        "offline-mode",
        "mobile",
        "Work offline in the mobile app",
        "The app keeps your jobs of the next 7 days on the phone. Without a connection you can "
        "read them, take photos and fill in forms; everything is sent when the phone is online "
        "again. A cloud icon shows what is still waiting to be sent.",
        related=("app-crashes-photo-upload",),
        searches=("offline", "no internet app"),
        popularity=0.5,
        helpful=0.83,
    ),
    # --- apps: reports --------------------------------------------------------------------------
    Piece(
        "csv-export-error",
        "reports",
        "CSV export says 'Something went wrong'",
        "Exports of more than 50,000 rows could fail with **Something went wrong** while a fix "
        "was rolling out. It is fixed now. If you still see the message, export one month at a "
        "time (see [Export large reports](/help/articles/export-large-reports)) and tell us the "
        "report's name so we can look at it.",
        related=("export-large-reports", "schedule-reports"),
        searches=("csv export", "export error", "something went wrong export", "export failed"),
        popularity=1.4,
        helpful=0.69,
    ),
    Piece(
        "export-large-reports",
        "reports",
        "Export large reports one month at a time",
        "Set the report's **Date** filter to one month, export, and repeat for the other "
        "months. Each file has the same columns, so they can be joined in a spreadsheet. "
        "Exports of up to 1 million rows are emailed to you as a link when they are ready.",
        related=("csv-export-error",),
        searches=("large export", "export all orders"),
        popularity=0.7,
    ),
    Piece(
        "schedule-reports",
        "reports",
        "Schedule a report by email",
        "Open a report, select **Schedule**, and choose who gets it and how often (daily, "
        "weekly or monthly). The email carries a CSV file of the report's current filters.",
        related=("export-large-reports",),
        searches=("schedule report", "email report"),
        popularity=0.5,
        helpful=0.88,
    ),
    # --- apps: api ------------------------------------------------------------------------------
    Piece(
        "webhooks-stopped",
        "api",
        "Webhook deliveries stopped",
        "Open **Settings → Webhooks → Delivery log**. Each attempt shows the answer your "
        "endpoint gave:\n\n"
        "- **404 or 410**: the URL changed (often after a deploy). Update it.\n"
        "- **401 or 403**: your endpoint refuses our signature — check the signing secret.\n"
        "- **Timeout or 5xx**: your server is down or slow; we keep retrying.\n\n"
        "Deliveries resume as soon as your endpoint answers 2xx, and the queued ones follow.",
        related=("webhook-retries", "api-tokens"),
        searches=("webhook", "webhooks not working", "webhook 410", "webhok"),
        popularity=1.1,
        helpful=0.84,
    ),
    Piece(
        "webhook-retries",
        "api",
        "How webhook retries work",
        "A delivery that fails is retried after 1, 5, 30 minutes, then hourly for 24 hours. "
        "After that it is marked failed in the delivery log, where you can send it again. "
        "Every delivery carries an `X-Signature` header (HMAC-SHA256 of the body with your "
        "signing secret) and an id, so a repeated delivery can be recognised.",
        related=("webhooks-stopped",),
        searches=("webhook retry", "retries"),
        popularity=0.5,
    ),
    Piece(
        "api-tokens",
        "api",
        "Create and revoke API tokens",
        "Admins create tokens under **Settings → API tokens**. Give each integration its own "
        "token with only the scopes it needs; the token is shown once. Revoking it stops every "
        "request made with it at once.",
        related=("api-rate-limits", "webhooks-stopped"),
        searches=("api token", "api key"),
        popularity=0.7,
        helpful=0.86,
    ),
    Piece(
        "api-rate-limits",
        "api",
        "API rate limits",
        "Each token may make 600 requests a minute. Past that the API answers **429 Too Many "
        "Requests** with a `Retry-After` header saying how many seconds to wait.",
        related=("api-tokens",),
        searches=("rate limit", "429"),
        popularity=0.4,
    ),
    # --- for agents only --------------------------------------------------------------------------
    Piece(
        "refund-approvals",
        "payments",
        "Refund approvals: who can approve what",
        "- Duplicate charges: refund at once, any agent.\n"
        "- Goodwill credit up to PKR 5,000: any agent, with a note on the ticket.\n"
        "- More, or any refund on an annual plan: ask the Billing lead (Ayesha) first.\n\n"
        "Always check the renewal date before offering credit on an annual plan.",
        internal=True,
        related=("duplicate-charge", "refund-timing"),
    ),
    Piece(
        "courier-escalation",
        "tracking",
        "Escalating a delayed parcel with the courier",
        "After 3 working days without a scan: open a case in the courier's portal with the "
        "tracking number, note the case number on the ticket, and tell the customer when you "
        "will update them. After 5 days: ship a replacement by express and tag the ticket "
        "`shipping`.",
        internal=True,
        related=("tracking-not-updating", "replacement-shipping"),
    ),
    Piece(
        "unlock-and-sso-rules",
        "sign-in",
        "Unlocking accounts and clearing old SSO rules",
        "Unlock under **Admin → Accounts → Unlock**. If the customer still gets 'invalid "
        "credentials', look for an SSO rule left from a trial: remove it only with the "
        "account owner's written consent on the ticket.",
        internal=True,
        related=("invalid-credentials", "account-locked"),
    ),
    Piece(
        "outage-replies",
        "api",
        "What to tell customers during an outage",
        "Link the ticket to the incident, answer with the incident macro, and promise no time "
        "the status page does not give. Customers on Enterprise plans get a call from their "
        "account manager.",
        internal=True,
    ),
]

# What customers search for and the help centre has no article about: the content gaps.
GAPS = [
    "gift voucher",
    "student discount",
    "loyalty points",
    "whatsapp",
    "warranty claim",
    "bulk discount",
    "referral",
    "franchise",
]
GAPS_UR = ["رعایت", "گارنٹی", "ریفنڈ"]

VOTE_COMMENTS = {
    (True, "en"): ["Clear, thanks!", "Exactly what I needed.", "Solved it in two minutes."],
    (False, "en"): [
        "Didn't answer my question.",
        "My tracking still shows nothing after 5 days.",
        "The menu looks different in my account.",
    ],
    (True, "ur"): ["بہت واضح، شکریہ!", "مسئلہ حل ہو گیا۔"],
    (False, "ur"): ["میرے سوال کا جواب نہیں ملا۔", "پارسل ابھی تک نہیں آیا۔"],
}
