"""How the CRM's console forms read what people type: identities one a line, custom attributes
as `key=value` lines, dates, counts, and organisations by name or number.

Pure parsing plus the look-ups it needs; mistakes are `Invalid` with a message in the agent's
language, which the pages show beside the form.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import Actor
from madad.contacts import organisations, service
from madad.contacts.service import ContactView
from madad.errors import Invalid
from madad.web import i18n


def lines(text: str) -> list[str]:
    """The non-empty lines of a textarea, trimmed (browsers send CRLF)."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def _value_text(value: Any) -> str:
    """A custom attribute's value as written in the form: plain text when it survives a round
    trip through one trimmed line, JSON otherwise (numbers, lists, multi-line text)."""
    if (
        isinstance(value, str)
        and "\n" not in value
        and "\r" not in value
        and value == value.strip()
    ):
        return value
    return orjson.dumps(value).decode()


def custom_text(custom: Mapping[str, Any] | None) -> str:
    return "\n".join(f"{k}={_value_text(v)}" for k, v in (custom or {}).items())


def parse_custom(text: str, current: Mapping[str, Any] | None) -> dict[str, Any]:
    """`key=value` lines into attributes. A value left as shown keeps its stored type; anything
    typed is text."""
    current = current or {}
    out: dict[str, Any] = {}
    for n, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise Invalid(
                "custom", i18n.gettext("line %(n)s: write each attribute as key=value", n=n)
            )
        if key in current and value == _value_text(current[key]):
            out[key] = current[key]
        else:
            out[key] = value
    return out


def parse_date(text: str, field: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise Invalid(field, i18n.gettext("a date such as 1990-04-25")) from exc


def parse_count(text: str, field: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isdigit() and text.isascii()) or len(text) > 9:
        raise Invalid(field, i18n.gettext("a whole number"))
    return int(text)


def record_number(text: str) -> int | None:
    """A record's number as people write it: "42" or "#42"."""
    number = text.strip().removeprefix("#")
    return int(number) if number.isdigit() and number.isascii() and len(number) < 10 else None


async def organisation_by_reference(session: AsyncSession, actor: Actor, text: str) -> int | None:
    """An organisation by its number or exact name (case-insensitive); empty means none."""
    text = text.strip()
    if not text:
        return None
    number = record_number(text)
    if number is not None:
        await service.get_organisation_row(session, number)
        return number
    page = await organisations.list_organisations(session, actor, q=text, limit=200)
    exact = [v for v in page.items if v.organisation.name.lower() == text.lower()]
    if not exact:
        raise Invalid("organisation", i18n.gettext("no organisation is named %(name)s", name=text))
    if len(exact) > 1:
        raise Invalid(
            "organisation",
            i18n.gettext("several organisations are named %(name)s; give its number", name=text),
        )
    return exact[0].organisation.id


# --- the contact form ------------------------------------------------------------------------


def identity_lines(view: ContactView, kind: str) -> str:
    """A contact's identities of one kind, one a line, the primary one first."""
    mine = sorted((i for i in view.identities if i.kind == kind), key=lambda i: not i.is_primary)
    return "\n".join(i.value for i in mine)


def contact_form(view: ContactView) -> dict[str, str]:
    """The edit form's values for a contact as stored."""
    c = view.contact
    return {
        "name": c.name or "",
        "emails": identity_lines(view, "email"),
        "phones": identity_lines(view, "phone"),
        "handles": identity_lines(view, "handle"),
        "language": c.language or "",
        "time_zone": c.time_zone or "",
        "birthday": c.birthday.isoformat() if c.birthday else "",
        "organisation": view.organisation.name if view.organisation else "",
        "custom": custom_text(c.custom),
    }


async def contact_changes(
    session: AsyncSession, actor: Actor, view: ContactView, form: dict[str, str]
) -> dict[str, Any]:
    """What the submitted form changes, as `update_contact` fields (unchanged fields left out,
    so the fact names only what changed)."""
    current = contact_form(view)
    changes: dict[str, Any] = {}
    if form["name"] != current["name"]:
        changes["name"] = form["name"]
    for key in ("emails", "phones", "handles"):
        if lines(form[key]) != lines(current[key]):
            changes[key] = lines(form[key])
    for key in ("language", "time_zone"):
        if form[key].strip() != current[key]:
            changes[key] = form[key].strip() or None
    if form["birthday"].strip() != current["birthday"]:
        changes["birthday"] = parse_date(form["birthday"], "birthday")
    if form["organisation"].strip() != current["organisation"]:
        changes["organisation_id"] = await organisation_by_reference(
            session, actor, form["organisation"]
        )
    if form["custom"].strip() != current["custom"]:
        custom = parse_custom(form["custom"], view.contact.custom)
        if custom != (view.contact.custom or {}):  # the same attributes in another order
            changes["custom"] = custom
    return changes
