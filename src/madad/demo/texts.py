"""What the demo's people are called and what their customers write about (English and Urdu)."""

from __future__ import annotations

from dataclasses import dataclass

AGENTS = [
    ("Ayesha Siddiqui", "Billing", "en"),
    ("Bilal Ahmed", "Billing", "ur"),
    ("Fatima Noor", "Billing", "en"),
    ("Daniel Okafor", "Billing", "en"),
    ("Hina Qureshi", "Billing", "ur"),
    ("Usman Tariq", "Technical", "en"),
    ("Sara Lindqvist", "Technical", "en"),
    ("Imran Malik", "Technical", "ur"),
    ("Mehwish Raza", "Technical", "en"),
    ("Tom Becker", "Technical", "en"),
]
LEADS = [
    ("Nadia Hussain", "owner"),
    ("Kamran Sheikh", "admin"),
    ("Zainab Farooq", "supervisor"),
]

FIRST_NAMES = [
    "Ali",
    "Sana",
    "Omar",
    "Zara",
    "Hamza",
    "Maryam",
    "Ahmed",
    "Iqra",
    "Hassan",
    "Amna",
    "Faisal",
    "Rabia",
    "Saad",
    "Mahnoor",
    "Yasir",
    "Khadija",
    "Asad",
    "Noor",
    "Danish",
    "Aliya",
    "James",
    "Emma",
    "Lucas",
    "Sofia",
    "Noah",
    "Olivia",
    "Liam",
    "Mia",
    "Ethan",
    "Chloe",
    "Priya",
    "Arjun",
    "Mei",
    "Kenji",
    "Fatou",
    "Kwame",
    "Elena",
    "Marco",
    "Leila",
    "Yusuf",
]
LAST_NAMES = [
    "Khan",
    "Ahmed",
    "Hussain",
    "Malik",
    "Qureshi",
    "Siddiqui",
    "Butt",
    "Chaudhry",
    "Raza",
    "Shah",
    "Iqbal",
    "Aslam",
    "Javed",
    "Mirza",
    "Baig",
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Müller",
    "Rossi",
    "Dubois",
    "Kowalski",
    "Nakamura",
    "Chen",
    "Patel",
    "Mensah",
    "Haddad",
]
URDU_NAMES = [
    "علی رضا",
    "ثنا خان",
    "عمر فاروق",
    "زارا احمد",
    "حمزہ ملک",
    "مریم قریشی",
    "احمد حسین",
    "اقرا بٹ",
    "حسن شاہ",
    "آمنہ اقبال",
    "فیصل جاوید",
    "رابعہ مرزا",
    "سعد چوہدری",
    "ماہ نور",
]
ORG_FIRST = [
    "Indus",
    "Margalla",
    "Ravi",
    "Karakoram",
    "Chenab",
    "Lahore",
    "Clifton",
    "Shalimar",
    "Northwind",
    "Bluefin",
    "Cedar",
    "Summit",
    "Harbor",
    "Aurora",
    "Pioneer",
    "Falcon",
    "Crescent",
    "Evergreen",
    "Sapphire",
    "Orbit",
]
ORG_SECOND = [
    "Textiles",
    "Software",
    "Logistics",
    "Foods",
    "Health",
    "Traders",
    "Pharma",
    "Motors",
    "Media",
    "Energy",
    "Retail",
    "Labs",
    "Studios",
    "Travel",
    "Finance",
]
PLANS = [("Starter", 5, 20), ("Growth", 20, 100), ("Enterprise", 100, 2000)]


@dataclass(frozen=True)
class Topic:
    """One kind of request: what the customer writes, how the agent answers, where it goes."""

    team: str
    tags: tuple[str, ...]
    subject: str
    opening: str
    reply: str
    follow_up: str
    closing: str
    article: str  # the help-centre article that answers it (articles.PIECES)
    urdu: bool = False


TOPICS = [
    Topic(
        "Billing",
        ("billing", "invoice"),
        "Invoice for {month} is missing",
        "Hello, I can't find our invoice for {month} in the portal. Our finance team needs it "
        "before the end of the week. Account {account}.",
        "Hi {name}, thanks for reaching out. I've re-issued the {month} invoice and sent it to "
        "your billing contact; you'll also find it under Billing → Invoices now.",
        "Got it, thank you! Could you also add our VAT number to it?",
        "Done — the invoice now shows your VAT number. Anything else I can help with?",
        "find-your-invoices",
    ),
    Topic(
        "Billing",
        ("billing", "refund"),
        "Charged twice this month",
        "Hi, our card was charged twice on the {day}th for the same subscription. Please refund "
        "the duplicate charge.",
        "I'm sorry about that, {name}. I can see the duplicate charge and have refunded it; "
        "banks usually show the refund within 3–5 working days.",
        "Thanks. How will I know the refund went through?",
        "You'll get an email receipt for the refund today, and the statement will show it soon.",
        "duplicate-charge",
    ),
    Topic(
        "Billing",
        ("billing", "plan-change"),
        "Upgrade to more seats",
        "We're growing and need {seats} more seats. Can we upgrade mid-cycle and pay the "
        "difference?",
        "Great news, {name}! Yes — I've added {seats} seats, prorated for the rest of this cycle. "
        "The new seats are available right away.",
        "Perfect. Will the next invoice show the new total?",
        "Yes, from the next cycle the invoice shows the full new seat count.",
        "add-seats",
    ),
    Topic(
        "Technical",
        ("login", "account"),
        "Cannot log in after password reset",
        "I reset my password but now the login page just says 'invalid credentials'. I've tried "
        "three times. This is blocking my whole team.",
        "Hi {name}, sorry for the trouble. Your account was locked after the failed attempts; "
        "I've unlocked it. Please try the new password once more.",
        "Still not working, same message.",
        "Thanks for trying. I found an old SSO rule on your account and removed it — you should "
        "be able to sign in now.",
        "invalid-credentials",
    ),
    Topic(
        "Technical",
        ("bug", "export"),
        "CSV export fails with an error",
        "When I export the orders report to CSV I get 'Something went wrong'. It worked last "
        "week. Browser: Chrome on Windows.",
        "Thanks for the details, {name}. We found a bug with reports over 50,000 rows; a fix is "
        "rolling out today. Meanwhile, exporting one month at a time works.",
        "OK, the monthly export works. Let me know when the fix is live.",
        "The fix is live now — full exports work again. Thanks for your patience!",
        "csv-export-error",
    ),
    Topic(
        "Technical",
        ("integration", "api"),
        "Webhook deliveries stopped",
        "Our endpoint hasn't received any webhooks since yesterday evening. Nothing changed on "
        "our side as far as we know.",
        "Hi {name}, I checked the delivery log: your endpoint started answering 410 Gone at "
        "19:40. Could your team check the URL? Deliveries resume as soon as it answers 2xx.",
        "You're right, our deploy changed the path. Fixed now.",
        "I can see deliveries succeeding again, including the ones that were queued.",
        "webhooks-stopped",
    ),
    Topic(
        "Technical",
        ("shipping", "order"),
        "Where is my order #{order}?",
        "I ordered on the {day}th and the tracking page hasn't changed for 4 days. Order #{order}.",
        "Hi {name}, I checked with the courier: the parcel is at the Karachi hub and goes out "
        "for delivery tomorrow. I'm sorry about the delay.",
        "It still hasn't arrived.",
        "I've escalated it with the courier and arranged a replacement to ship today by express.",
        "tracking-not-updating",
    ),
    Topic(
        "Technical",
        ("mobile", "bug"),
        "App crashes when uploading photos",
        "The Android app closes every time I try to attach a photo to a job. Phone is a "
        "Samsung A54.",
        "Thanks {name}. This is fixed in version 4.2.1 which went out this morning — could you "
        "update the app and try again?",
        "Updated, works now. Thanks!",
        "Glad to hear it! I'll close this ticket then.",
        "app-crashes-photo-upload",
    ),
    Topic(
        "Billing",
        ("billing", "urdu"),
        "بل کی رقم غلط ہے",
        "السلام علیکم، اس مہینے کا بل پچھلے مہینے سے دوگنا آیا ہے حالانکہ ہم نے کوئی نیا صارف "
        "شامل نہیں کیا۔ براہ کرم چیک کریں۔ اکاؤنٹ {account}۔",
        "وعلیکم السلام {name}، رابطہ کرنے کا شکریہ۔ میں نے چیک کیا ہے، "
        "غلطی سے دو بار چارج ہوا تھا۔ اضافی رقم واپس کر دی گئی ہے۔",
        "شکریہ، رقم کب تک واپس آئے گی؟",
        "عام طور پر تین سے پانچ کاروباری دنوں میں رقم آپ کے اکاؤنٹ میں آ جاتی ہے۔",
        "bill-higher-than-expected",
        urdu=True,
    ),
    Topic(
        "Technical",
        ("login", "urdu"),
        "لاگ اِن نہیں ہو رہا",
        "میں صبح سے لاگ اِن کرنے کی کوشش کر رہا ہوں مگر ہر بار غلط پاس ورڈ کا پیغام آتا ہے۔",
        "{name}، زحمت کے لیے معذرت۔ آپ کا اکاؤنٹ کئی ناکام کوششوں کے بعد بند ہو گیا تھا، میں نے "
        "اسے کھول دیا ہے۔ براہ کرم دوبارہ کوشش کریں۔",
        "اب بھی وہی مسئلہ ہے۔",
        "میں نے آپ کے اکاؤنٹ کی پرانی سیٹنگ ٹھیک کر دی ہے، اب لاگ اِن ہو جانا چاہیے۔",
        "invalid-credentials",
        urdu=True,
    ),
    Topic(
        "Technical",
        ("shipping", "urdu"),
        "میرا آرڈر ابھی تک نہیں پہنچا",
        "میں نے ایک ہفتہ پہلے آرڈر #{order} دیا تھا، ٹریکنگ میں کوئی تبدیلی نہیں ہوئی۔",
        "{name}، میں نے کوریئر سے بات کی ہے، آپ کا پارسل کل تک پہنچ جائے گا۔ تاخیر پر معذرت۔",
        "پارسل ابھی تک نہیں آیا۔",
        "میں نے متبادل پارسل آج ہی ایکسپریس سروس سے روانہ کر دیا ہے۔",
        "tracking-not-updating",
        urdu=True,
    ),
]

# The portal's topics for new requests: our key, English and Urdu titles.
PORTAL_TOPICS = [
    ("billing", "Billing and invoices", "بلنگ اور انوائس"),
    ("orders", "Orders and delivery", "آرڈر اور ترسیل"),
    ("sign-in", "Signing in", "لاگ اِن"),
    ("technical", "Something is not working", "کچھ کام نہیں کر رہا"),
]

AGENT_NOTES = [
    "Customer is on the annual plan; check the renewal date before offering credit.",
    "Spoke to finance — refund approved.",
    "Same issue reported by two other customers today; linked to the incident.",
    "Called the customer, they prefer email follow-ups.",
    "Courier confirmed the delay is on their side.",
    "گاہک اردو میں جواب پسند کرتے ہیں۔",
]
CONTACT_NOTES = [
    "Prefers WhatsApp for urgent issues.",
    "Decision maker for renewals at their company.",
    "Was unhappy about the outage in the spring — be extra careful.",
    "Speaks Urdu and English; answer in the language they write in.",
]
