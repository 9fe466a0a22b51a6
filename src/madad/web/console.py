"""The console's request plumbing: who is signed in (session cookie), CSRF, language, redirects.

Every console route depends on `Agent` (signed in, any role) or `require_page(scope)`. Unsafe
methods must carry the session's CSRF token, in the `X-CSRF-Token` header (htmx sends it from
the page's meta tag) or in a `csrf_token` form field, and must come from our own origin.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import RedirectResponse

from madad.auth import sessions
from madad.auth.permissions import Scope
from madad.db import Database
from madad.errors import Forbidden
from madad.web import i18n
from madad.web.deps import DB, SAFE_METHODS, SESSION_COOKIE

COOKIE = SESSION_COOKIE


class SignInNeeded(Exception):
    """No live session: pages redirect to the sign-in page, fragments ask htmx to."""


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(sessions.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )


def same_origin(request: Request) -> bool:
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True  # non-browser clients send neither; the CSRF token still has to match
    return urlsplit(origin).netloc == request.headers.get("host", "")


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse an unsafe request from another origin or without the expected CSRF token (the
    `X-CSRF-Token` header or a `csrf_token` form field): the console's and the portal's."""
    if not same_origin(request):
        raise Forbidden("cross-origin request refused")
    presented = request.headers.get("x-csrf-token")
    if presented is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get("csrf_token")
            presented = value if isinstance(value, str) else None
    if not presented or not hmac.compare_digest(presented, expected):
        raise Forbidden("the form expired or did not come from this site; reload and try again")


async def signed_in_agent(request: Request, session: DB) -> sessions.SignedIn:
    token = request.cookies.get(COOKIE, "")
    who = await sessions.signed_in(session, token) if token else None
    if who is None:
        raise SignInNeeded()
    request.state.signed_in = who
    i18n.activate(who.user.language, who.user.time_zone)
    if request.method not in SAFE_METHODS:
        await check_csrf(request, who.csrf_token)
    if (sessions.utcnow() - who.last_seen_at) > sessions.TOUCH_EVERY:
        if request.method not in SAFE_METHODS:
            await sessions.touch(session, who.session_id)  # commits with the request
        else:
            db: Database = request.app.state.db
            async with db.session() as write:
                await sessions.touch(write, who.session_id)
    return who


Agent = Annotated[sessions.SignedIn, Depends(signed_in_agent)]


def see_other(request: Request, location: str) -> Response:
    """After a successful form post: a 303 for a browser form, an HX-Redirect for htmx."""
    if request.headers.get("hx-request"):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def require_page(scope: Scope) -> Callable[..., sessions.SignedIn]:
    async def dependency(who: Agent) -> sessions.SignedIn:
        who.actor.require(scope)
        return who

    return dependency


def install(app: FastAPI) -> None:
    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, exc: SignInNeeded) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        location = "/login?next=" + quote(target, safe="")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": location})
        if request.method not in SAFE_METHODS:
            return Response(status_code=401)
        return RedirectResponse(location, status_code=303)
