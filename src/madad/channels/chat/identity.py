"""Who a chat visitor is: anonymous visitor tokens, and identities a website vouches for.

- A visitor token is a random visitor id with an HMAC-SHA256 signature by the app's secret over
  the inbox and the id; a missing, forged or other inbox's token is a new anonymous visitor.
- A website that knows its user may pass `identity = {user_id, email, name}` with
  `signature = hex(HMAC-SHA256(inbox secret, user_id + "\\n" + email + "\\n" + name))`. The inbox
  secret is per inbox, shown once to an admin and rotatable; it is never stored — it is derived
  from the app's secret key and a random nonce kept on the inbox, so rotating (a new nonce)
  invalidates the old one at once. A valid signature makes the visitor that user: their chats
  follow them from device to device and join the CRM contact of that email. A missing or wrong
  signature is never trusted: the visitor is anonymous, whatever the claim says.
- An identified visitor's token is signed in another domain than an anonymous one, so a token
  kept by a browser after its user signed out is worth nothing without the identity: nobody
  who later uses that browser sees the user's chats.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from madad.contacts.identities import normalise_email
from madad.errors import Invalid

MAX_USER_ID = 200


def _b64(digest: bytes) -> str:
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _mac(secret: str, domain: str, inbox_key: str, visitor_id: str) -> str:
    message = f"{domain}\x00{inbox_key}\x00{visitor_id}".encode()
    return _b64(hmac.new(secret.encode(), message, hashlib.sha256).digest())


# --- anonymous visitors ----------------------------------------------------------------------


def issue_visitor_token(secret: str, inbox_key: str) -> tuple[str, str]:
    """A new anonymous visitor: (visitor id, signed token)."""
    visitor_id = secrets.token_hex(16)
    return visitor_id, f"{visitor_id}.{_mac(secret, 'chat-visitor', inbox_key, visitor_id)}"


def visitor_of(secret: str, inbox_key: str, token: str | None) -> str | None:
    """The anonymous visitor a token proves, or None: an unsigned or tampered claim, or an
    identified user's token, is no anonymous identity."""
    if not token or len(token) > 200 or "." not in token:
        return None
    visitor_id, _, mac = token.partition(".")
    if not (len(visitor_id) == 32 and all(c in "0123456789abcdef" for c in visitor_id)):
        return None
    expected = _mac(secret, "chat-visitor", inbox_key, visitor_id)
    return visitor_id if hmac.compare_digest(mac, expected) else None


# --- identities a site vouches for -----------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """A website's user, as its server signed them."""

    user_id: str
    email: str
    name: str | None


def inbox_secret(app_secret: str, inbox_id: int, nonce: str) -> str:
    """The inbox's identity secret (what an admin gives the website's server)."""
    message = f"chat-identity\x00{inbox_id}\x00{nonce}".encode()
    return "mis_" + _b64(hmac.new(app_secret.encode(), message, hashlib.sha256).digest())


def signed_message(user_id: str, email: str, name: str | None) -> bytes:
    """What the website signs: user_id, email and name (empty when none), one per line."""
    return f"{user_id}\n{email}\n{name or ''}".encode()


def sign(secret: str, user_id: str, email: str, name: str | None = None) -> str:
    """The signature a website's server computes (here for tests and the README's example)."""
    return hmac.new(
        secret.encode(), signed_message(user_id, email, name), hashlib.sha256
    ).hexdigest()


def _field(value: Any, field: str, max_len: int, *, required: bool) -> str | None:
    if value is None or value == "":
        if required:
            raise Invalid(field, "required")
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise Invalid(field, f"text of at most {max_len} characters")
    if any(c in value for c in "\n\r\x00"):
        raise Invalid(field, "must not contain line breaks or NUL")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(field, "must be valid Unicode") from None
    return value


def verify(secret: str | None, claims: Any) -> Identity:
    """The identity that `claims` (`{user_id, email, name?, signature}`) proves with the inbox's
    secret; Invalid for anything else — no secret, a missing or wrong signature, bad fields."""
    if not secret:
        raise Invalid("identity", "this inbox verifies no identities")
    if not isinstance(claims, dict):
        raise Invalid("identity", "an identity is an object")
    user_id = _field(claims.get("user_id"), "user_id", MAX_USER_ID, required=True)
    raw_email = _field(claims.get("email"), "email", 320, required=True)
    name = _field(claims.get("name"), "name", 200, required=False)
    signature = claims.get("signature")
    if not isinstance(signature, str) or len(signature) != 64:
        raise Invalid("signature", "the hex HMAC-SHA256 of the identity")
    assert user_id is not None and raw_email is not None
    expected = sign(secret, user_id, raw_email, name)
    if not hmac.compare_digest(signature.lower(), expected):
        raise Invalid("signature", "does not match this inbox's secret")
    return Identity(
        user_id, normalise_email(raw_email.strip(), "email"), (name or "").strip() or None
    )


def user_visitor(app_secret: str, inbox_key: str, identity: Identity) -> tuple[str, str]:
    """The identified user's visitor id (the same on every device) and its token."""
    message = f"chat-user\x00{inbox_key}\x00{identity.user_id}".encode()
    visitor_id = hmac.new(app_secret.encode(), message, hashlib.sha256).hexdigest()[:32]
    return visitor_id, f"{visitor_id}.{_mac(app_secret, 'chat-user', inbox_key, visitor_id)}"
