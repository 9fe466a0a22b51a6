"""What of an email's body is shown as its message: the new reply (quotes and signature cut
from the text and, where the markers allow, from the HTML), with remote images disabled and
inline (cid:) images pointing at their stored files.

Pure functions over a parsed email. The full original is never changed: it stays stored raw.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

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


# Where the console loads an inline image from: the stored file, by its content's SHA-256
# (known before the message is stored, unlike the attachment's id). See api.inline_image.
INLINE_IMAGE_URL = "/api/v1/attachments/inline/"


def inline_url(sha256: str) -> str:
    return INLINE_IMAGE_URL + sha256


class Part(Protocol):
    """A part of an email: parsed, or about to be attached to a ticket message."""

    @property
    def content_id(self) -> str | None: ...

    @property
    def data(self) -> bytes: ...


def inline_images(parts: Iterable[Part]) -> dict[str, str]:
    """Content-ID → URL of the stored file, for the parts an HTML body may show (cid:)."""
    return {
        p.content_id: inline_url(hashlib.sha256(p.data).hexdigest()) for p in parts if p.content_id
    }


def cid_of(src: str) -> str | None:
    """The Content-ID a cid: URL (RFC 2392) names, as parse.normalise_id stores it."""
    value = src.strip()
    if value[:4].lower() != "cid:":
        return None
    return unquote(value[4:]).strip().strip("<>").strip() or None


def _images_from(inline: Mapping[str, str]) -> Callable[[str, str, str], str | None]:
    """Remote images are never loaded (no tracking pixels): an image keeps a source only when
    it names (cid:) a part of the email that is stored: then it points at that file."""
    by_cid = {k.lower(): v for k, v in inline.items()}

    def only_inline(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute in ("src", "srcset"):
            cid = cid_of(value) if attribute == "src" else None
            return by_cid.get(cid.lower()) if cid else None
        return value

    return only_inline


def safe_html(html: str, inline: Mapping[str, str] | None = None) -> str:
    """Sanitised like every stored HTML (tickets.content), without remote image sources, and
    with `cid:` images pointing at the stored parts they name (`inline`: Content-ID → URL)."""
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_images_from(inline or {}),
    )
    return sanitise_html(cleaned)


def _text_of_html(html: str) -> str:
    return html_to_text(sanitise_html(html))


def message_body(
    parsed: ParsedEmail, warnings: list[str], inline: Mapping[str, str] | None = None
) -> Body:
    """The body to store as the ticket message (size limits applied, with warnings); `inline`
    maps the Content-IDs of the parts that are stored to their URLs."""
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
            body_html = safe_html(cut, inline)
        elif not reply.quoted:
            body_html = safe_html(html, inline)
        # else: the text shows a quote the HTML gives no marker for: show the stripped text.
        if body_html is not None and not html_to_text(body_html).strip() and body_text:
            body_html = None
    if len(body_text) > MAX_TEXT:
        warnings.append(f"the text is longer than {MAX_TEXT} characters; it was shortened")
        body_text = body_text[:MAX_TEXT]
    return Body(body_text, body_html, bool(reply.quoted), reply.signature)
