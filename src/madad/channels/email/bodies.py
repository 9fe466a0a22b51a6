"""What of an email's body is shown as its message: the new reply (quotes and signature cut
from the text and, where the markers allow, from the HTML), with remote images disabled.

Pure functions over a parsed email. The full original is never changed: it stays stored raw.
"""

from __future__ import annotations

from dataclasses import dataclass

import nh3

from madad.channels.email.parse import ParsedEmail
from madad.channels.email.quotes import split_reply, strip_html_quote
from madad.tickets.content import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    MAX_TEXT,
    URL_SCHEMES,
    html_to_text,
    sanitise_html,
)

MAX_HTML = 2 * MAX_TEXT


@dataclass(frozen=True)
class Body:
    text: str
    html: str | None
    quoted: bool
    signature: str


def _local_images_only(tag: str, attribute: str, value: str) -> str | None:
    """Remote images are never loaded (no tracking pixels): only cid: images keep a source."""
    if tag == "img" and attribute == "src" and not value.strip().lower().startswith("cid:"):
        return None
    return value


def safe_html(html: str) -> str:
    """Sanitised like every stored HTML (tickets.content), and without remote image sources."""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_local_images_only,
    )
    return sanitise_html(cleaned)


def _text_of_html(html: str) -> str:
    return html_to_text(sanitise_html(html))


def message_body(parsed: ParsedEmail, warnings: list[str]) -> Body:
    """The body to store as the ticket message (size limits applied, with warnings)."""
    html = parsed.html
    if html is not None and len(html) > MAX_HTML:
        warnings.append("the HTML body is too large to show; the text is shown instead")
        html = None
    text = parsed.text or (_text_of_html(html) if html else "")
    reply = split_reply(text)
    body_text = reply.body
    body_html: str | None = None
    if html:
        cut = strip_html_quote(html, _text_of_html) if reply.quoted or not parsed.text else None
        if cut is not None:
            body_html = safe_html(cut)
        elif not reply.quoted:
            body_html = safe_html(html)
        # else: the text shows a quote the HTML gives no marker for: show the stripped text.
        if body_html is not None and not html_to_text(body_html).strip() and body_text:
            body_html = None
    if len(body_text) > MAX_TEXT:
        warnings.append(f"the text is longer than {MAX_TEXT} characters; it was shortened")
        body_text = body_text[:MAX_TEXT]
    return Body(body_text, body_html, bool(reply.quoted), reply.signature)
