"""Operations on people and access: users, teams, API tokens, password checks, the audit log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.models import ApiToken, AuditEntry, Role, Team, TeamMember, User, WebSession
from madad.auth.permissions import ROLE_SCOPES, Actor, Scope, actor_for
from madad.db import utcnow
from madad.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

_hasher = PasswordHasher()
# The languages the console is translated into (catalogs in madad/web/locales).
UI_LANGUAGES = {"en": "English", "ur": "اردو"}
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"must be at least {MIN_PASSWORD} characters")
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_user_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise Invalid("email", str(exc)) from exc


def audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: int | str | None,
    data: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            data=data or {},
        )
    )


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid("time_zone", f"unknown time zone {name!r}") from exc
    return name


def _check_may_grant(actor: Actor, role: Role) -> None:
    actor.require(Scope.users_write)
    if not actor.outranks_or_equals(role):
        raise Forbidden(f"a {actor.role.value} cannot grant the {role.value} role")


def _clean_name(name: str, field: str = "name", max_len: int = 200) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise Invalid(field, "must not be empty")
    if len(cleaned) > max_len:
        raise Invalid(field, f"must be at most {max_len} characters")
    return cleaned


async def create_user(
    session: AsyncSession,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: Role = Role.agent,
    password: str | None = None,
    language: str = "en",
    time_zone: str = "UTC",
) -> User:
    _check_may_grant(actor, role)
    address = normalise_user_email(email)
    if await session.scalar(select(User.id).where(User.email == address)):
        raise Conflict(f"a user with email {address} already exists")
    user = User(
        email=address,
        name=_clean_name(name),
        role=role.value,
        password_hash=hash_password(password) if password else None,
        language=language,
        time_zone=time_zone,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a user with email {address} already exists") from exc
    audit(session, actor, "user.created", "user", user.id, {"email": address, "role": role.value})
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


async def get_user_by_email(session: AsyncSession, email: str) -> User:
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise NotFound(f"no user with email {email}")
    return user


async def list_users(session: AsyncSession, *, include_inactive: bool = False) -> list[User]:
    stmt = select(User).order_by(User.name, User.id)
    if not include_inactive:
        stmt = stmt.where(User.is_active.is_(True))
    return list((await session.execute(stmt)).scalars())


@dataclass
class UserPatch:
    name: str | None = None
    role: Role | None = None
    language: str | None = None
    time_zone: str | None = None
    signature: str | None = None
    is_active: bool | None = None
    password: str | None = None


async def update_user(session: AsyncSession, actor: Actor, user_id: int, patch: UserPatch) -> User:
    user = await get_user(session, user_id)
    own = actor.user_id == user_id
    privileged = any(v is not None for v in (patch.role, patch.is_active)) or not own
    if privileged:
        actor.require(Scope.users_write)
        if not actor.outranks_or_equals(Role(user.role)):
            raise Forbidden(f"a {actor.role.value} cannot change a {user.role}")
    changes: dict[str, Any] = {}
    if patch.role is not None and patch.role.value != user.role:
        _check_may_grant(actor, patch.role)
        if user.role == Role.owner and await _owner_count(session) <= 1:
            raise Conflict("the last owner cannot be demoted")
        changes["role"] = [user.role, patch.role.value]
        user.role = patch.role.value
    if patch.is_active is not None and patch.is_active != user.is_active:
        if not patch.is_active and user.role == Role.owner and await _owner_count(session) <= 1:
            raise Conflict("the last owner cannot be deactivated")
        changes["is_active"] = patch.is_active
        user.is_active = patch.is_active
    if patch.name is not None:
        user.name = _clean_name(patch.name)
    if patch.language is not None:
        if patch.language not in UI_LANGUAGES:
            raise Invalid("language", f"choose one of {', '.join(UI_LANGUAGES)}")
        user.language = patch.language
    if patch.time_zone is not None:
        check_time_zone(patch.time_zone)
    if patch.time_zone is not None:
        user.time_zone = patch.time_zone
    if patch.signature is not None:
        user.signature = patch.signature
    if patch.password is not None:
        user.password_hash = hash_password(patch.password)
        changes["password"] = "changed"
    if patch.password is not None or patch.is_active is False:
        # A new password or a deactivation signs the user out of every browser.
        await session.execute(
            update(WebSession)
            .where(WebSession.user_id == user.id, WebSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
    user.updated_at = utcnow()
    if changes:
        audit(session, actor, "user.updated", "user", user.id, changes)
    return user


async def _owner_count(session: AsyncSession) -> int:
    return (
        await session.scalar(
            select(func.count()).where(User.role == Role.owner.value, User.is_active.is_(True))
        )
        or 0
    )


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The active user with this email and password, or Unauthorized (same message either way)."""
    user = await session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        raise Unauthorized("wrong email or password")
    if _hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


# --- teams ------------------------------------------------------------------------------------


async def create_team(
    session: AsyncSession, actor: Actor, *, name: str, description: str | None = None
) -> Team:
    actor.require(Scope.users_write)
    clean = _clean_name(name, max_len=100)
    if await session.scalar(select(Team.id).where(Team.name == clean)):
        raise Conflict(f"a team named {clean!r} already exists")
    team = Team(name=clean, description=description)
    session.add(team)
    await session.flush()
    audit(session, actor, "team.created", "team", team.id, {"name": clean})
    return team


async def get_team(session: AsyncSession, team_id: int) -> Team:
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    return team


async def list_teams(session: AsyncSession) -> list[tuple[Team, list[int]]]:
    teams = list((await session.execute(select(Team).order_by(Team.name))).scalars())
    members = (await session.execute(select(TeamMember.team_id, TeamMember.user_id))).all()
    by_team: dict[int, list[int]] = {}
    for team_id, user_id in members:
        by_team.setdefault(team_id, []).append(user_id)
    return [(t, sorted(by_team.get(t.id, []))) for t in teams]


async def team_members(session: AsyncSession, team_id: int) -> list[int]:
    rows = await session.execute(
        select(TeamMember.user_id).where(TeamMember.team_id == team_id).order_by(TeamMember.user_id)
    )
    return list(rows.scalars())


async def update_team(
    session: AsyncSession,
    actor: Actor,
    team_id: int,
    *,
    name: str | None = None,
    description: str | None = None,
    member_ids: list[int] | None = None,
) -> Team:
    actor.require(Scope.users_write)
    team = await get_team(session, team_id)
    if name is not None:
        clean = _clean_name(name, max_len=100)
        clash = await session.scalar(select(Team.id).where(Team.name == clean, Team.id != team_id))
        if clash:
            raise Conflict(f"a team named {clean!r} already exists")
        team.name = clean
    if description is not None:
        team.description = description
    if member_ids is not None:
        wanted = sorted(set(member_ids))
        if wanted:
            found = set(
                (await session.execute(select(User.id).where(User.id.in_(wanted)))).scalars()
            )
            missing = [u for u in wanted if u not in found]
            if missing:
                raise Invalid("member_ids", f"no such users: {missing}")
        await session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
        session.add_all([TeamMember(team_id=team_id, user_id=u) for u in wanted])
    await session.flush()
    audit(session, actor, "team.updated", "team", team_id, {"name": name, "member_ids": member_ids})
    return team


async def delete_team(session: AsyncSession, actor: Actor, team_id: int) -> None:
    actor.require(Scope.users_write)
    team = await get_team(session, team_id)
    await session.execute(delete(TeamMember).where(TeamMember.team_id == team_id))
    await session.delete(team)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("the team still has tickets; move them to another team first") from exc
    audit(session, actor, "team.deleted", "team", team_id, {"name": team.name})


# --- API tokens -------------------------------------------------------------------------------

TOKEN_PREFIX = "mdd"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def create_token(
    session: AsyncSession,
    actor: Actor,
    *,
    user_id: int,
    name: str,
    scopes: list[Scope],
    expires_in_days: int | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; return it and its plain text, which is shown once and never stored."""
    user = await get_user(session, user_id)
    if actor.user_id != user_id:
        actor.require(Scope.users_write)
        if not actor.outranks_or_equals(Role(user.role)):
            raise Forbidden(f"a {actor.role.value} cannot create tokens for a {user.role}")
    if not scopes:
        raise Invalid("scopes", "name at least one scope")
    beyond = [s.value for s in scopes if s not in ROLE_SCOPES[Role(user.role)]]
    if beyond:
        raise Invalid("scopes", f"a {user.role} cannot hold {', '.join(beyond)}")
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user_id,
        name=_clean_name(name, max_len=100),
        prefix=prefix,
        secret_hash=_digest(secret),
        scopes=sorted({s.value for s in scopes}),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    await session.flush()
    audit(
        session,
        actor,
        "token.created",
        "token",
        token.id,
        {"user_id": user_id, "scopes": token.scopes},
    )
    return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"


async def list_tokens(session: AsyncSession, *, user_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list((await session.execute(stmt)).scalars())


async def revoke_token(session: AsyncSession, actor: Actor, token_id: int) -> ApiToken:
    token = await session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id} does not exist")
    if token.user_id != actor.user_id:
        actor.require(Scope.users_write)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit(session, actor, "token.revoked", "token", token.id)
    _token_cache.clear()
    return token


@dataclass
class _Cached:
    actor: Actor
    until: float


_token_cache: dict[str, _Cached] = {}


def cached_actor(presented: str) -> Actor | None:
    """The actor of a recently verified token, without touching the database."""
    cached = _token_cache.get(presented)
    if cached is not None and cached.until > time.monotonic():
        return cached.actor
    return None


async def actor_from_token(
    session: AsyncSession, presented: str, *, cache_seconds: float = 0.0
) -> tuple[Actor, bool]:
    """The actor a bearer token stands for, or Unauthorized. Returns (actor, from_cache).

    Verified tokens may be cached for `cache_seconds`; revocation and role changes then take
    effect within that time on other processes (at once on this one for revocation).
    """
    now = time.monotonic()
    cached = _token_cache.get(presented)
    if cached is not None and cached.until > now:
        return cached.actor, True
    parts = presented.split("_")
    if len(parts) < 3 or parts[0] != TOKEN_PREFIX:
        raise Unauthorized("malformed API token")
    prefix, secret = parts[1], "_".join(parts[2:])
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.prefix == prefix)
        )
    ).first()
    if row is None or not hmac.compare_digest(row[0].secret_hash, _digest(secret)):
        raise Unauthorized("unknown API token")
    token, user = row
    if token.revoked_at is not None:
        raise Unauthorized("this API token was revoked")
    if token.expires_at is not None and token.expires_at <= utcnow():
        raise Unauthorized("this API token has expired")
    if not user.is_active:
        raise Unauthorized("the token's user is deactivated")
    actor = actor_for(user.id, user.role, user.name, token.scopes, token.id)
    if cache_seconds > 0:
        if len(_token_cache) > 10_000:
            _token_cache.clear()
        _token_cache[presented] = _Cached(actor, now + cache_seconds)
    return actor, False


async def touch_token(session: AsyncSession, token_id: int, *, at: datetime | None = None) -> None:
    """Note that a token was used (at most about once a minute per token)."""
    now = at or utcnow()
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            (ApiToken.last_used_at.is_(None))
            | (ApiToken.last_used_at < now - timedelta(minutes=1)),
        )
        .values(last_used_at=now)
    )


def actor_for_user(user: User) -> Actor:
    return actor_for(user.id, user.role, user.name)
