"""The portal's request plumbing: its routes in both languages (`/portal/...` in English,
`/portal/ur/...` right to left), who is signed in (the customer's own cookie, never the
agents'), CSRF on every unsafe form, and the portal's own error pages.

Errors a customer can meet end on a portal page in their language: "not found" for anything
they may not see (ids reveal nothing), a redirect to sign in when there is no session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote, unquote

from fastapi import Depends, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute, APIRouter

from madad.config import Settings
from madad.db import Database, utcnow
from madad.errors import Forbidden, MadadError
from madad.portal import access
from madad.portal.access import Customer
from madad.portal.mail import home_of
from madad.portal.service import Moved
from madad.web import i18n
from madad.web.console import check_csrf
from madad.web.deps import DB, SAFE_METHODS
from madad.web.templating import render

log = logging.getLogger("madad.portal")

COOKIE = "madad_portal"
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class SignInNeeded(Exception):
    """No live customer session: pages send the browser to the sign-in page."""


class Refused(Exception):
    """Refused before any work was done (a foreign language prefix, a form from elsewhere)."""

    def __init__(self, status: int, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


def problem_page(request: Request, status: int, title: str, detail: str) -> HTMLResponse:
    lang = i18n.current()
    who = getattr(request.state, "customer", None)
    context = portal_context(request, lang, who, title=title, detail=detail)
    return render(request, "portal_problem.html", context, status)


def not_found_page(request: Request) -> HTMLResponse:
    _ = i18n.gettext
    return problem_page(
        request,
        404,
        _("Not found"),
        _("There is no such page, or it is not yours to see. Check the link, or sign in with "
          "the address you wrote to us from."),
    )  # fmt: skip


class PortalRoute(APIRoute):
    """Turns what a customer can run into (no session, a refusal, something they may not see
    on a page they only read) into portal pages. Writes handle their own errors (and roll back)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def portal_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except SignInNeeded:
                return to_sign_in(request)
            except Refused as exc:
                return problem_page(request, exc.status, exc.title, exc.detail)
            except Moved as exc:
                if request.method not in SAFE_METHODS:
                    raise
                return RedirectResponse(f"{home_of(i18n.current())}/tickets/{exc.ticket_id}", 303)
            except MadadError as exc:
                if request.method not in SAFE_METHODS:
                    raise
                if exc.status == 404:
                    return not_found_page(request)
                return problem_page(request, exc.status, exc.title, exc.detail)

        return portal_handler


router = APIRouter(include_in_schema=False, route_class=PortalRoute)
_later: list[tuple[str, Callable[..., Any], str]] = []


def page(method: str, path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare a portal route in English (`/portal{path}`) and in the other languages
    (`/portal/{lang}{path}`, added after every English route so that `/portal/new` is never
    read as a language)."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(f"/portal{path}", fn, methods=[method], response_class=HTMLResponse)
        _later.append((f"/portal/{{lang}}{path}", fn, method))
        return fn

    return register


def add_language_routes() -> None:
    for path, fn, method in _later:
        router.add_api_route(path, fn, methods=[method], response_class=HTMLResponse)
    _later.clear()


async def language(request: Request) -> str:
    # async: a plain function would run in a worker thread, and the language it activates
    # (a context variable) would not reach the page.
    lang = request.path_params.get("lang", "en")
    if lang == "en" and "lang" in request.path_params:
        lang = "none"  # English has no prefix: /portal/en/... is no page
    if lang not in i18n.LANGUAGES:
        i18n.activate(None)
        _ = i18n.gettext
        raise Refused(404, _("Not found"), _("There is no such page."))
    i18n.activate(lang)
    return lang


Lang = Annotated[str, Depends(language)]


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


async def maybe_customer(request: Request, session: DB, lang: Lang) -> Customer | None:
    token = request.cookies.get(COOKIE, "")
    who = await access.customer_of(session, token) if token else None
    if who is None:
        return None
    request.state.customer = who
    if request.method not in SAFE_METHODS:
        try:
            await check_csrf(request, who.csrf_token)
        except Forbidden as exc:
            _ = i18n.gettext
            raise Refused(
                403,
                _("This form has expired"),
                _("The form expired or did not come from this site. Go back, reload the page "
                  "and send it again."),
            ) from exc  # fmt: skip
    if (utcnow() - who.last_seen_at) > access.TOUCH_EVERY:
        if request.method not in SAFE_METHODS:
            await access.touch(session, who.session_id)
        else:
            db: Database = request.app.state.db
            async with db.session() as write:
                await access.touch(write, who.session_id)
    return who


async def signed_in_customer(
    who: Annotated[Customer | None, Depends(maybe_customer)],
) -> Customer:
    if who is None:
        raise SignInNeeded()
    return who


Signed = Annotated[Customer, Depends(signed_in_customer)]
MaybeSigned = Annotated[Customer | None, Depends(maybe_customer)]


def to_sign_in(request: Request) -> Response:
    home = home_of(i18n.current())
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method not in SAFE_METHODS:
        target = home
    return RedirectResponse(f"{home}/sign-in?next={quote(target, safe='')}", status_code=303)


def safe_next(target: str | None, home: str) -> str:
    """Only the portal's own pages: never an open redirect, never the console."""
    if not target or not target.startswith("/portal") or target.startswith(("//", "/\\")):
        return home
    plain = unquote(target)
    if "\\" in plain or "/.." in plain or any(ord(c) < 32 for c in plain):
        return home
    return target[:300]


def origin_of(request: Request) -> str | None:
    """The site a sign-in link points at: the configured base URL. Without one, the request's
    own address only on a loopback host (a development desk): a Host header chosen by whoever
    asks must never decide where a customer's link leads."""
    settings = settings_of(request)
    if settings.base_url:
        return settings.base_url.rstrip("/")
    if request.url.hostname in LOOPBACK:
        return str(request.base_url).rstrip("/")
    log.warning("portal.no_base_url: set MADAD_BASE_URL so that sign-in links can be sent")
    return None


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def status_word(status: str) -> str:
    """A request's status in the customer's words."""
    _ = i18n.gettext
    words = {
        "new": _("Received"),
        "open": _("In progress"),
        "pending": _("Waiting for your reply"),
        "on_hold": _("On hold"),
        "solved": _("Solved"),
        "closed": _("Closed"),
    }
    return words.get(status, status)


def channel_word(channel: str) -> str:
    _ = i18n.gettext
    words = {
        "email": _("Email"),
        "chat": _("Chat"),
        "phone": _("Phone"),
        "portal": _("Web form"),
        "api": _("Message"),
    }
    return words.get(channel, channel)


def portal_context(
    request: Request, lang: str, customer: Customer | None, **values: Any
) -> dict[str, Any]:
    home = home_of(lang)
    suffix = request.url.path.removeprefix(home) if request.url.path.startswith(home) else ""
    query = f"?{request.url.query}" if request.url.query else ""
    return {
        "home": home,
        "help_home": "/help" if lang == "en" else f"/help/{lang}",
        "alternates": {code: home_of(code) + suffix + query for code in i18n.LANGUAGES},
        "customer": customer,
        "csrf_token": customer.csrf_token if customer else "",
        "status_word": status_word,
        "channel_word": channel_word,
        "tab": None,
        **values,
    }


def set_cookie(response: Response, token: str, *, secure: bool) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(access.SESSION_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/portal",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/portal")
