"""Survey links: `{id}.{nonce}.{signature}` — unguessable, tied to one survey, checkable
without a lookup, and worthless once the survey's nonce changes."""

from __future__ import annotations

import base64
import hashlib
import hmac


def _sig(secret: str, survey_id: int, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"survey:{survey_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:18]).decode().rstrip("=")


def make(secret: str, survey_id: int, nonce: str) -> str:
    return f"{survey_id}.{nonce}.{_sig(secret, survey_id, nonce)}"


def read(secret: str, token: str) -> tuple[int, str] | None:
    """(survey id, nonce) of a well-formed, correctly signed token; None otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or len(parts[0]) > 10:
        return None
    survey_id, nonce, sig = int(parts[0]), parts[1], parts[2]
    if not nonce or len(nonce) > 32:
        return None
    if not hmac.compare_digest(sig, _sig(secret, survey_id, nonce)):
        return None
    return survey_id, nonce
