"""API shapes of the auth domain."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from madad.api_types import SafeStr, Strict
from madad.auth.models import ApiToken, Role, Team, User


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: Role
    language: str
    time_zone: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(
            id=u.id,
            email=u.email,
            name=u.name,
            role=Role(u.role),
            language=u.language,
            time_zone=u.time_zone,
            is_active=u.is_active,
            created_at=u.created_at,
            last_login_at=u.last_login_at,
        )


class UserCreate(Strict):
    email: str = Field(max_length=320)
    name: SafeStr = Field(min_length=1, max_length=200)
    role: Role = Role.agent
    password: str | None = Field(default=None, min_length=8, max_length=200)
    language: str = Field(default="en", max_length=16)
    time_zone: str = Field(default="UTC", max_length=64)


class UserPatch(Strict):
    name: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    language: str | None = Field(default=None, max_length=16)
    time_zone: str | None = Field(default=None, max_length=64)
    signature: SafeStr | None = Field(default=None, max_length=5000)
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=200)


class TeamOut(BaseModel):
    id: int
    name: str
    description: str | None
    member_ids: list[int]

    @classmethod
    def of(cls, t: Team, members: list[int]) -> TeamOut:
        return cls(id=t.id, name=t.name, description=t.description, member_ids=members)


class TeamCreate(Strict):
    name: SafeStr = Field(min_length=1, max_length=100)
    description: SafeStr | None = Field(default=None, max_length=2000)
    member_ids: list[int] = Field(default_factory=list)


class TeamPatch(Strict):
    name: SafeStr | None = Field(default=None, min_length=1, max_length=100)
    description: SafeStr | None = Field(default=None, max_length=2000)
    member_ids: list[int] | None = None


class TokenOut(BaseModel):
    id: int
    user_id: int
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenOut:
        return cls(
            id=t.id,
            user_id=t.user_id,
            name=t.name,
            scopes=t.scopes,
            created_at=t.created_at,
            last_used_at=t.last_used_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
        )


class TokenCreated(TokenOut):
    token: str = Field(description="shown once; store it now")


class TokenCreate(Strict):
    name: SafeStr = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1)
    user_id: int | None = Field(default=None, description="defaults to the caller")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
