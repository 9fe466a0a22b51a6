"""Rules for ticket data: validating tags, statuses, priorities, subjects and message bodies.

Pure functions; every write path of the tickets domain validates through them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from madad.errors import Invalid, TooLarge
from madad.tickets.content import MAX_TEXT, html_to_text, sanitise_html
from madad.tickets.models import Priority, Status

_TAG = re.compile(r"^[\w.:/+-]{1,64}$", re.UNICODE)
MAX_ESCALATION = 3


def clean_tag(raw: str, field_name: str = "tags") -> str:
    tag = raw.strip().lower().replace(" ", "_")
    if not _TAG.match(tag):
        raise Invalid(field_name, f"{raw!r} is not a tag (1-64 letters, digits, . _ : / + -)")
    return tag


def clean_tags(raw: Sequence[str], field_name: str = "tags") -> list[str]:
    out: list[str] = []
    for item in raw:
        tag = clean_tag(item, field_name)
        if tag not in out:
            out.append(tag)
    if len(out) > 50:
        raise Invalid(field_name, "at most 50 tags")
    return out


def clean_priority(value: str, field_name: str = "priority") -> str:
    try:
        return Priority(value).value
    except ValueError as exc:
        raise Invalid(field_name, f"one of {', '.join(p.value for p in Priority)}") from exc


def clean_status(value: str, field_name: str = "status") -> str:
    try:
        return Status(value).value
    except ValueError as exc:
        raise Invalid(field_name, f"one of {', '.join(s.value for s in Status)}") from exc


def clean_subject(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if len(value) > 500:
        raise Invalid("subject", "at most 500 characters")
    return value


def message_content(text: str | None, html: str | None) -> tuple[str, str | None]:
    """Validated (text, sanitised html) of a message; text derived from the HTML if absent."""
    if html is not None and len(html) > MAX_TEXT * 2:
        raise TooLarge("the HTML body is too large")
    clean_html = sanitise_html(html) if html else None
    body = text if text else (html_to_text(clean_html) if clean_html else "")
    if len(body) > MAX_TEXT:
        raise TooLarge(f"the text is longer than {MAX_TEXT} characters")
    return body, clean_html
