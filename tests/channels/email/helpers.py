"""Building raw emails for tests."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import formatdate

_n = itertools.count(1)


def raw_email(
    *,
    sender: str = "Sana Khan <sana@example.com>",
    to: str = "support@madad.test",
    subject: str = "My order has not arrived",
    text: str = "Hello, my order 1234 has not arrived.",
    html: str | None = None,
    message_id: str | None = "auto",
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    if message_id == "auto":
        message_id = f"test-{next(_n)}@example.com"
    if message_id:
        msg["Message-ID"] = f"<{message_id}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    if references:
        msg["References"] = " ".join(f"<{r}>" for r in references)
    for k, v in (headers or {}).items():
        msg[k] = v
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    return msg.as_bytes()
