"""Browser sessions of the agent console: sign in, recognise, sign out, throttle guessing.

The cookie holds a random token; only its SHA-256 is stored, beside the session's CSRF token.
Signing out, deactivating a user or the session's expiry ends it on every process at once,
because every request looks the session up.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth import service as auth
from madad.auth.models import AuditEntry, User, WebSession
from madad.auth.permissions import SYSTEM, Actor
from madad.db import utcnow
from madad.errors import TooManyRequests

SESSION_LIFETIME = timedelta(hours=12)
IDLE_LIMIT = timedelta(hours=2)
TOUCH_EVERY = timedelta(minutes=1)
FAILED_LOGINS_ALLOWED = 10
FAILED_LOGIN_WINDOW = timedelta(minutes=15)


@dataclass(frozen=True)
class SignedIn:
    user: User
    actor: Actor
    csrf_token: str
    session_id: int
    last_seen_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _check_throttle(session: AsyncSession, email: str) -> None:
    now = utcnow()
    # The attempt is refused while the window holds FAILED_LOGINS_ALLOWED failures: it opens
    # again when the oldest of the latest that many leaves the window.
    oldest_counted = await session.scalar(
        select(AuditEntry.at)
        .where(
            AuditEntry.action == "login.failed",
            AuditEntry.target_id == email,
            AuditEntry.at >= now - FAILED_LOGIN_WINDOW,
        )
        .order_by(AuditEntry.at.desc())
        .offset(FAILED_LOGINS_ALLOWED - 1)
        .limit(1)
    )
    if oldest_counted is not None:
        wait = (oldest_counted + FAILED_LOGIN_WINDOW - now).total_seconds()
        raise TooManyRequests(
            "too many failed sign-ins for this email; wait 15 minutes", retry_after=ceil(wait)
        )


async def sign_in(
    session: AsyncSession, email: str, password: str, *, user_agent: str | None = None
) -> tuple[str, SignedIn]:
    """Check the password and open a session; returns the cookie token (shown once) and who.

    A wrong password is recorded (in its own commit by the caller) and raises Unauthorized."""
    address = email.strip().lower()[:320]
    await _check_throttle(session, address)
    user = await auth.authenticate(session, address, password)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(
        token_hash=_digest(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
        expires_at=now + SESSION_LIFETIME,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(row)
    await session.flush()
    actor = auth.actor_for_user(user)
    auth.audit(session, actor, "login", "user", user.id)
    return token, SignedIn(user, actor, row.csrf_token, row.id, now)


def record_failed_sign_in(session: AsyncSession, email: str) -> None:
    auth.audit(session, SYSTEM, "login.failed", "email", email.strip().lower()[:64])


async def signed_in(session: AsyncSession, token: str) -> SignedIn | None:
    """Who holds this cookie token, if the session is live and the user active."""
    if not token or len(token) > 200:
        return None
    row = (
        await session.execute(
            select(WebSession, User)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == _digest(token))
        )
    ).first()
    if row is None:
        return None
    web, user = row
    now = utcnow()
    if (
        web.ended_at is not None
        or web.expires_at <= now
        or web.last_seen_at + IDLE_LIMIT <= now
        or not user.is_active
    ):
        return None
    # Detached, so that it outlives a rolled-back request (error pages still show who you are).
    session.expunge(user)
    return SignedIn(user, auth.actor_for_user(user), web.csrf_token, web.id, web.last_seen_at)


async def touch(session: AsyncSession, session_id: int) -> None:
    """Note activity (at most once a minute per session), which keeps it from idling out."""
    now = utcnow()
    await session.execute(
        update(WebSession)
        .where(WebSession.id == session_id, WebSession.last_seen_at < now - TOUCH_EVERY)
        .values(last_seen_at=now)
    )


async def sign_out(session: AsyncSession, token: str) -> None:
    await session.execute(
        update(WebSession)
        .where(WebSession.token_hash == _digest(token), WebSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
