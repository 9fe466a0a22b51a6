"""Console pages of the auth domain: sign in, sign out, the agent's own settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madad.auth import service as auth
from madad.auth import sessions
from madad.auth.schemas import UserPatch
from madad.errors import Forbidden, MadadError, TooManyRequests, Unauthorized
from madad.web import i18n
from madad.web.console import COOKIE, Agent, same_origin, set_session_cookie
from madad.web.deps import DB
from madad.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only paths on this site: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/inbox"
    return target


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/inbox") -> Response:
    i18n.activate(None)
    return render(request, "login.html", {"next": _safe_next(next), "email": "", "error": None})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    session: DB,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/inbox",
) -> Response:
    i18n.activate(None)
    if not same_origin(request):
        raise Forbidden("cross-origin sign-in refused")
    context = {"next": _safe_next(next), "email": email}
    try:
        token, _who = await sessions.sign_in(
            session, email, password, user_agent=request.headers.get("user-agent")
        )
    except Unauthorized:
        # Committed with this request (it answers, it does not raise): the throttle counts it.
        sessions.record_failed_sign_in(session, email)
        error = i18n.gettext("Wrong email or password.")
        return render(request, "login.html", {**context, "error": error}, status=401)
    except TooManyRequests as refused:
        error = i18n.gettext("Too many failed attempts. Wait 15 minutes and try again.")
        page = render(request, "login.html", {**context, "error": error}, status=429)
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, token, secure=request.url.scheme == "https")
    return response


@router.post("/logout")
async def logout(request: Request, session: DB, who: Agent) -> Response:
    await sessions.sign_out(session, request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/me", response_class=HTMLResponse)
async def my_settings(request: Request, who: Agent) -> Response:
    return render(
        request, "me.html", {"saved": False, "error": None, "ui_languages": auth.UI_LANGUAGES}
    )


@router.post("/me", response_class=HTMLResponse)
async def save_my_settings(
    request: Request,
    session: DB,
    who: Agent,
    language: Annotated[str, Form(max_length=16)] = "en",
    time_zone: Annotated[str, Form(max_length=64)] = "UTC",
    signature: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        patch = UserPatch(language=language, time_zone=time_zone, signature=signature or None)
        user = await auth.update_user(session, who.actor, who.user.id, patch)
    except (MadadError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, MadadError) else str(exc)
        context = {"saved": False, "error": detail, "ui_languages": auth.UI_LANGUAGES}
        return render(request, "me.html", context, status=422)
    i18n.activate(user.language, user.time_zone)
    context = {"saved": True, "error": None, "ui_languages": auth.UI_LANGUAGES, "me": user}
    return render(request, "me.html", context)
