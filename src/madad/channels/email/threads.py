"""Threading tokens: Message-IDs Madad writes on outbound mail (recognisable without a database
lookup), the ticket token in plus-addressed Reply-To addresses, and the `[#123]` subject token.

Pure functions. Every token carries a short HMAC made with the installation's secret, so a
customer cannot steer their mail into someone else's ticket by guessing a number; and the core
ingress honours a ticket hint only for the ticket's own contact.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

SUBJECT_TOKEN = re.compile(r"\[#(\d{1,10})\]")
_PLUS = re.compile(r"\+t(\d{1,10})\.([0-9a-f]{10})@", re.IGNORECASE)
_OWN_ID = re.compile(r"^madad\.([a-z]+)(\d{1,19})\.([0-9a-f]{12})@", re.IGNORECASE)
_RE_PREFIX = re.compile(
    r"^\s*((re|aw|sv|vs|antw|réf|rif|res|ynt|odp|رد|جواب)\s*(\[\d+\])?\s*:\s*)+", re.I
)


def _sign(secret: str, purpose: str, value: str, length: int) -> str:
    mac = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256)
    return mac.hexdigest()[:length]


@dataclass(frozen=True)
class OwnId:
    kind: str  # r: an agent's reply (id = message id); a: an acknowledgement (id = message id)
    id: int


def own_message_id(kind: str, ident: int, domain: str, secret: str) -> str:
    """The Message-ID (without brackets) of mail Madad sends; the same for every retry."""
    sig = _sign(secret, "mid", f"{kind}{ident}", 12)
    return f"madad.{kind}{ident}.{sig}@{domain}"


def parse_own_message_id(value: str, secret: str) -> OwnId | None:
    """What an id names, if Madad wrote it (the signature is checked)."""
    found = _OWN_ID.match(value or "")
    if not found:
        return None
    kind, ident, sig = found.group(1).lower(), found.group(2), found.group(3).lower()
    if not hmac.compare_digest(sig, _sign(secret, "mid", f"{kind}{ident}", 12)):
        return None
    return OwnId(kind, int(ident))


def plus_address(mailbox_address: str, ticket_id: int, secret: str) -> str:
    """support@example.com → support+t123.<sig>@example.com"""
    local, _, domain = mailbox_address.rpartition("@")
    return f"{local}+t{ticket_id}.{_sign(secret, 'plus', str(ticket_id), 10)}@{domain}"


def ticket_in_addresses(addresses: list[str], secret: str) -> int | None:
    """The ticket named by a correctly signed plus-address among the recipients."""
    for address in addresses:
        found = _PLUS.search(address or "")
        if found and hmac.compare_digest(
            found.group(2).lower(), _sign(secret, "plus", found.group(1), 10)
        ):
            return int(found.group(1))
    return None


def base_address(address: str) -> str:
    """support+anything@example.com → support@example.com (lower-cased)."""
    local, _, domain = address.lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def ticket_in_subject(subject: str | None) -> int | None:
    found = SUBJECT_TOKEN.search(subject or "")
    return int(found.group(1)) if found else None


def reply_subject(subject: str, ticket_id: int) -> str:
    """ "Re: <subject> [#123]": one Re:, one token."""
    base = SUBJECT_TOKEN.sub("", _RE_PREFIX.sub("", subject or "")).strip() or "(no subject)"
    return f"Re: {base} [#{ticket_id}]"


def references_for(parent_id: str | None, parent_refs: list[str], limit: int = 20) -> list[str]:
    """References of a reply: the parent's references then the parent, the root always kept."""
    refs = [r for r in parent_refs if r and r != parent_id]
    if parent_id:
        refs.append(parent_id)
    if len(refs) > limit:
        refs = [refs[0], *refs[-(limit - 1) :]]
    return refs
