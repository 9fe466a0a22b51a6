"""JSON routes of the auth domain: users, teams, API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from madad.auth import service
from madad.auth.permissions import Actor, Scope, parse_scopes
from madad.auth.schemas import (
    TeamCreate,
    TeamOut,
    TeamPatch,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
    UserPatch,
)
from madad.errors import Invalid, NotFound
from madad.web.deps import DB, CurrentActor, PathId, require

router = APIRouter(prefix="/api/v1", tags=["users"])

Reader = Annotated[Actor, Depends(require(Scope.users_read))]
Admin = Annotated[Actor, Depends(require(Scope.users_write))]


@router.get("/users/me", response_model=UserOut)
async def me(session: DB, actor: CurrentActor) -> UserOut:
    if actor.user_id is None:
        raise NotFound("the system has no user record")
    return UserOut.of(await service.get_user(session, actor.user_id))


@router.get("/users", response_model=list[UserOut])
async def list_users(session: DB, actor: Reader, include_inactive: bool = False) -> list[UserOut]:
    return [
        UserOut.of(u) for u in await service.list_users(session, include_inactive=include_inactive)
    ]


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(body: UserCreate, session: DB, actor: Admin) -> UserOut:
    user = await service.create_user(
        session,
        actor,
        email=body.email,
        name=body.name,
        role=body.role,
        password=body.password,
        language=body.language,
        time_zone=body.time_zone,
    )
    return UserOut.of(user)


@router.get("/users/{user_id}", response_model=UserOut)
async def get_user(user_id: PathId, session: DB, actor: Reader) -> UserOut:
    return UserOut.of(await service.get_user(session, user_id))


@router.patch("/users/{user_id}", response_model=UserOut)
async def update_user(
    user_id: PathId, body: UserPatch, session: DB, actor: CurrentActor
) -> UserOut:
    patch = service.UserPatch(**body.model_dump(exclude_unset=True))
    return UserOut.of(await service.update_user(session, actor, user_id, patch))


@router.get("/teams", response_model=list[TeamOut])
async def list_teams(session: DB, actor: Reader) -> list[TeamOut]:
    return [TeamOut.of(t, m) for t, m in await service.list_teams(session)]


@router.post("/teams", response_model=TeamOut, status_code=201)
async def create_team(body: TeamCreate, session: DB, actor: Admin) -> TeamOut:
    team = await service.create_team(session, actor, name=body.name, description=body.description)
    if body.member_ids:
        await service.update_team(session, actor, team.id, member_ids=body.member_ids)
    return TeamOut.of(team, await service.team_members(session, team.id))


@router.patch("/teams/{team_id}", response_model=TeamOut)
async def update_team(team_id: PathId, body: TeamPatch, session: DB, actor: Admin) -> TeamOut:
    team = await service.update_team(session, actor, team_id, **body.model_dump(exclude_unset=True))
    return TeamOut.of(team, await service.team_members(session, team.id))


@router.delete("/teams/{team_id}", status_code=204)
async def delete_team(team_id: PathId, session: DB, actor: Admin) -> Response:
    await service.delete_team(session, actor, team_id)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut])
async def list_tokens(
    session: DB, actor: CurrentActor, user_id: int | None = None
) -> list[TokenOut]:
    if (user_id is None or user_id != actor.user_id) and not actor.can(Scope.users_write):
        user_id = actor.user_id
    return [TokenOut.of(t) for t in await service.list_tokens(session, user_id=user_id)]


@router.post("/tokens", response_model=TokenCreated, status_code=201)
async def create_token(body: TokenCreate, session: DB, actor: CurrentActor) -> TokenCreated:
    try:
        scopes = parse_scopes(body.scopes)
    except ValueError as exc:
        raise Invalid("scopes", str(exc)) from exc
    user_id = body.user_id if body.user_id is not None else actor.user_id
    if user_id is None:
        raise Invalid("user_id", "say whose token this is")
    token, plain = await service.create_token(
        session,
        actor,
        user_id=user_id,
        name=body.name,
        scopes=scopes,
        expires_in_days=body.expires_in_days,
    )
    return TokenCreated(**TokenOut.of(token).model_dump(), token=plain)


@router.delete("/tokens/{token_id}", status_code=204)
async def revoke_token(token_id: PathId, session: DB, actor: CurrentActor) -> Response:
    await service.revoke_token(session, actor, token_id)
    return Response(status_code=204)
