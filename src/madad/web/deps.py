"""Request dependencies: the unit of work of a request, and who is calling.

A request's unit of work commits before the response is sent (a failed commit is a failed
request), and rolls back on any error so that a rejected request leaves nothing behind.
Safe methods (GET, HEAD) get a read-only session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Path, Request, WebSocket
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth import service as auth
from madad.auth import sessions
from madad.auth.permissions import Actor, Scope
from madad.config import Settings
from madad.db import Database, commit
from madad.errors import Conflict, Forbidden, Unauthorized
from madad.files import FileStore

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# An id in a URL path: out-of-range numbers are a 422, never a database error.
PathId = Annotated[int, Path(ge=1, le=2_147_483_647)]
SESSION_COOKIE = "madad_session"


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> FileStore:
    return request.app.state.files


async def _unit_of_work(request: Request) -> AsyncIterator[AsyncSession]:
    db: Database = request.app.state.db
    write = request.method not in SAFE_METHODS
    session = db.new_session(write=write)
    try:
        yield session
        if write:
            try:
                await commit(session)
            except IntegrityError as exc:
                raise Conflict("the change conflicts with data stored meanwhile; retry") from exc
    except BaseException:
        await session.rollback()
        raise
    finally:
        await session.close()


DB = Annotated[AsyncSession, Depends(_unit_of_work, scope="function")]


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("use 'Authorization: Bearer <token>'")
    return value.strip()


async def authenticate_token(db: Database, settings: Settings, token: str) -> Actor:
    cached = auth.cached_actor(token)
    if cached is not None:
        return cached
    async with db.session(write=False) as session:
        actor, cached = await auth.actor_from_token(
            session, token, cache_seconds=settings.token_cache_seconds
        )
    if not cached and actor.token_id is not None:
        async with db.session() as session:
            await auth.touch_token(session, actor.token_id)
    return actor


async def current_actor(request: Request) -> Actor:
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise Unauthorized("this needs an API token: 'Authorization: Bearer <token>'")
    return await authenticate_token(request.app.state.db, request.app.state.settings, token)


async def websocket_actor(websocket: WebSocket) -> Actor:
    """An API token (header or `access_token`), or the console's session cookie — the latter
    only from a page of our own origin (no cross-site WebSocket hijacking)."""
    token = bearer_token(websocket.headers.get("authorization"))
    token = token or websocket.query_params.get("access_token")
    if token:
        return await authenticate_token(websocket.app.state.db, websocket.app.state.settings, token)
    cookie = websocket.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("this needs an API token or a signed-in session")
    origin = websocket.headers.get("origin")
    if origin and urlsplit(origin).netloc != websocket.headers.get("host", ""):
        raise Forbidden("cross-origin WebSocket refused")
    db: Database = websocket.app.state.db
    async with db.session(write=False) as session:
        who = await sessions.signed_in(session, cookie)
    if who is None:
        raise Unauthorized("the session ended; sign in again")
    return who.actor


async def session_actor(request: Request) -> Actor | None:
    """The agent signed in to the console, for a read (GET/HEAD) that a page makes without a
    token: a link to a file, an <img>, a fetch from a console script. The cookie is SameSite
    and these routes send no CORS headers, so another site can neither send nor read them."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or request.method not in ("GET", "HEAD"):
        return None
    db: Database = request.app.state.db
    async with db.session(write=False) as session:
        who = await sessions.signed_in(session, cookie)
    return who.actor if who is not None else None


async def reading_actor(request: Request) -> Actor:
    """An API token, or (for a read) the console's session cookie."""
    if bearer_token(request.headers.get("authorization")) is not None:
        return await current_actor(request)
    actor = await session_actor(request)
    if actor is None:
        raise Unauthorized("this needs an API token or a signed-in session")
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
ReadingActor = Annotated[Actor, Depends(reading_actor)]


def require(scope: Scope) -> Callable[..., Actor]:
    """A dependency giving the caller, who must hold `scope`."""

    async def dependency(actor: CurrentActor) -> Actor:
        actor.require(scope)
        return actor

    return dependency


def require_reading(scope: Scope) -> Callable[..., Actor]:
    """`require`, where the console's signed-in agents may also read with their cookie."""

    async def dependency(actor: ReadingActor) -> Actor:
        actor.require(scope)
        return actor

    return dependency
