"""What the demo shop's page says, in English and Urdu (demo content, like the articles)."""

from __future__ import annotations

SHOP = {
    "en": {
        "language": "English",
        "name": "Indus Tea & Spice Co.",
        "tagline": "Loose-leaf tea and spices from Karachi, delivered across Pakistan and the UAE.",
        "products": "This week's favourites",
        "goods": [
            ("Kashmiri chai, 250 g", "PKR 1,450"),
            ("Peshawari qehwa, 200 g", "PKR 1,200"),
            ("Karachi masala box", "PKR 2,300"),
            ("Cardamom, green, 100 g", "PKR 950"),
        ],
        "add": "Add to basket",
        "help_title": "Need help with an order?",
        "help_text": "Most answers are in our help centre. Or talk to a person: the chat is "
        "open right now, and our team answers from the desk's console.",
        "chat": "Chat with us",
        "help_link": "Visit the help centre",
        "portal_link": "My requests",
        "demo_title": "About this page",
        "demo_text": "This is the Madad demo's pretend shop. The chat in the corner is Madad's "
        "widget, put on the page with one script tag, as any website would:",
        "demo_agent": "To answer: sign in at /login as an agent in another browser or a "
        "private window, open Live chats and make yourself available.",
    },
    "ur": {
        "language": "اردو",
        "name": "انڈس چائے اور مسالے",
        "tagline": "کراچی سے کھلی پتی کی چائے اور مسالے، پورے پاکستان اور امارات میں ترسیل۔",
        "products": "اس ہفتے کی پسندیدہ اشیاء",
        "goods": [
            ("کشمیری چائے، 250 گرام", "1,450 روپے"),
            ("پشاوری قہوہ، 200 گرام", "1,200 روپے"),
            ("کراچی مسالہ باکس", "2,300 روپے"),
            ("سبز الائچی، 100 گرام", "950 روپے"),
        ],
        "add": "ٹوکری میں ڈالیں",
        "help_title": "آرڈر کے بارے میں مدد چاہیے؟",
        "help_text": "زیادہ تر جواب ہمارے ہیلپ سینٹر میں موجود ہیں۔ یا کسی سے بات کریں: چیٹ ابھی "
        "کھلی ہے اور ہماری ٹیم جواب دیتی ہے۔",
        "chat": "ہم سے چیٹ کریں",
        "help_link": "ہیلپ سینٹر دیکھیں",
        "portal_link": "میری درخواستیں",
        "demo_title": "اس صفحے کے بارے میں",
        "demo_text": "یہ مدد کے ڈیمو کی فرضی دکان ہے۔ کونے میں چیٹ مدد کا ویجٹ ہے، جو کسی بھی "
        "ویب سائٹ کی طرح ایک اسکرپٹ ٹیگ سے صفحے پر لگایا گیا ہے:",
        "demo_agent": "جواب دینے کے لیے دوسرے براؤزر میں /login پر ایجنٹ کے طور پر لاگ اِن کریں، "
        "لائیو چیٹس کھولیں اور خود کو دستیاب کریں۔",
    },
}
