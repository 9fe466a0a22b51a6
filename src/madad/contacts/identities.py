"""Normalising identities so that one person is found by any address they use.

Pure functions: email addresses lower-cased and validated, phone numbers reduced to digits with
their `+` country prefix, social handles written `platform:handle`.
"""

from __future__ import annotations

import re
from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from madad.errors import Invalid

KINDS = ("email", "phone", "handle")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_HANDLE = re.compile(r"^[^\s:]{1,255}$")


def normalise_email(value: str, field: str = "email") -> str:
    try:
        return _valid_email(value.strip())
    except EmailNotValidError as exc:
        raise Invalid(field, str(exc)) from exc


@lru_cache(maxsize=50_000)
def _valid_email(value: str) -> str:
    # Customers write again and again: validating an address once per process is enough.
    return validate_email(value, check_deliverability=False).normalized.lower()


def normalise_phone(value: str, field: str = "phone") -> str:
    raw = value.strip()
    plus = raw.startswith("+") or raw.startswith("00")
    digits = re.sub(r"[\s\-().\u00a0]", "", raw).removeprefix("+")
    if raw.startswith("00"):
        digits = digits[2:]
    if not digits.isdigit() or not digits.isascii():
        raise Invalid(field, "a phone number holds digits, spaces, dashes, dots and brackets only")
    if not 5 <= len(digits) <= 15:
        raise Invalid(field, "a phone number has 5 to 15 digits")
    return ("+" if plus else "") + digits


def normalise_handle(value: str, platform: str | None = None, field: str = "handle") -> str:
    raw = value.strip()
    if platform is None and ":" in raw:
        platform, raw = raw.split(":", 1)
    platform = (platform or "api").strip().lower()
    if not _PLATFORM.match(platform):
        raise Invalid(field, "the platform is 1-32 letters, digits, '.', '_' or '-'")
    handle = raw.strip().removeprefix("@").lower()
    if not _HANDLE.match(handle):
        raise Invalid(field, "a handle is 1-255 characters without spaces or ':'")
    return f"{platform}:{handle}"


def normalise(kind: str, value: str, field: str | None = None) -> str:
    if kind == "email":
        return normalise_email(value, field or "email")
    if kind == "phone":
        return normalise_phone(value, field or "phone")
    if kind == "handle":
        return normalise_handle(value, field=field or "handle")
    raise Invalid("kind", f"unknown identity kind {kind!r}")


def email_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1]
