"""Mailbox passwords at rest: encrypted with a key derived from the installation's secret key.

A database dump or backup alone does not reveal them; whoever holds both the database and
MADAD_SECRET_KEY (or the data dir's secret_key file) does, as the poller must. Changing the
secret key makes stored passwords unreadable: they must then be entered again.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from madad.errors import Invalid

PREFIX = "fernet1:"


def _fernet(secret_key: str) -> Fernet:
    key = hashlib.sha256(f"madad email passwords\x00{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret_key: str, password: str) -> str:
    return PREFIX + _fernet(secret_key).encrypt(password.encode()).decode()


def decrypt(secret_key: str, stored: str | None) -> str | None:
    if not stored:
        return None
    if not stored.startswith(PREFIX):
        raise Invalid("password", "the stored password is in an unknown format; enter it again")
    try:
        return _fernet(secret_key).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken as exc:
        raise Invalid(
            "password", "the stored password cannot be decrypted (was the secret key changed?)"
        ) from exc
