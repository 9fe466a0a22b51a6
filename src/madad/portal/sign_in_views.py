"""Signing in to the portal: ask for a link by email, open it (the page only asks to confirm:
mail scanners that fetch links sign nobody in), confirm (the POST spends the link and sets the
customer's cookie), sign out. The answer to "send me a link" is the same for every address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from madad.errors import Invalid, TooManyRequests
from madad.portal import access
from madad.portal.mail import home_of
from madad.portal.web import (
    COOKIE,
    DB,
    Lang,
    MaybeSigned,
    Signed,
    clear_cookie,
    client_address,
    origin_of,
    page,
    portal_context,
    problem_page,
    safe_next,
    set_cookie,
)
from madad.web import i18n
from madad.web.console import same_origin
from madad.web.templating import render

Next = Annotated[str | None, Query(max_length=2000)]
FormNext = Annotated[str | None, Form(max_length=2000)]


def _link_problem(request: Request, reason: str) -> HTMLResponse:
    _ = i18n.gettext
    pages = {
        "invalid": (404, _("This link does not work"),
                    _("The sign-in link is incomplete or was changed. Use the link from the "
                      "email exactly as it is, or ask for a new one.")),
        "expired": (410, _("This link has expired"),
                    _("Sign-in links work for 30 minutes. Ask for a new one: it takes a moment.")),
        "used": (410, _("This link was already used"),
                 _("Each sign-in link works once. If that was not you, nobody else can use it "
                   "now; ask for a new one to sign in.")),
    }  # fmt: skip
    status, title, detail = pages[reason]
    return problem_page(request, status, title, detail)


def _sign_in_page(
    request: Request,
    lang: str,
    *,
    next_path: str,
    email: str = "",
    error: str | None = None,
    sent: bool = False,
    signed_out: bool = False,
    status: int = 200,
) -> HTMLResponse:
    context = portal_context(
        request,
        lang,
        None,
        next=next_path,
        email=email,
        error=error,
        sent=sent,
        signed_out=signed_out,
    )
    return render(request, "portal_sign_in.html", context, status)


@page("GET", "/sign-in")
async def sign_in_form(
    request: Request,
    lang: Lang,
    who: MaybeSigned,
    next: Next = None,
    out: Annotated[str | None, Query(max_length=1)] = None,
) -> Response:
    home = home_of(lang)
    if who is not None:
        return RedirectResponse(safe_next(next, home), status_code=303)
    return _sign_in_page(request, lang, next_path=safe_next(next, home), signed_out=out == "1")


@page("POST", "/sign-in")
async def ask_for_link(
    request: Request,
    session: DB,
    lang: Lang,
    email: Annotated[str, Form(max_length=320)] = "",
    next: FormNext = None,
) -> Response:
    _ = i18n.gettext
    next_path = safe_next(next, home_of(lang))
    if not same_origin(request):
        return problem_page(
            request, 403, _("This form has expired"), _("The form did not come from this site.")
        )
    try:
        await access.request_link(
            session,
            email=email,
            client_address=client_address(request),
            language=lang,
            origin=origin_of(request),
            next_path=next_path,
        )
    except Invalid:
        await session.rollback()
        error = _("That does not look like an email address. Check it and try again.")
        return _sign_in_page(
            request, lang, next_path=next_path, email=email, error=error, status=422
        )
    except TooManyRequests as refused:
        await session.rollback()
        error = _("Too many sign-in links were asked for. Wait an hour and try again.")
        page = _sign_in_page(
            request, lang, next_path=next_path, email=email, error=error, status=429
        )
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    return _sign_in_page(request, lang, next_path=next_path, email=email, sent=True)


@page("GET", "/sign-in/{token}")
async def confirm_page(request: Request, session: DB, lang: Lang, token: str) -> Response:
    """Shows a button; signs nobody in (a scanner fetching the link changes nothing)."""
    try:
        await access.link_of(session, token)
    except access.LinkProblem as exc:
        return _link_problem(request, exc.reason)
    # The page's policy (same-origin) keeps the link out of other sites' referrers; no stricter:
    # with no-referrer, browsers send `Origin: null` with the form, which same_origin refuses.
    context = portal_context(request, lang, None, token=token)
    return render(request, "portal_confirm.html", context)


@page("POST", "/sign-in/{token}")
async def confirm(request: Request, session: DB, lang: Lang, token: str) -> Response:
    if not same_origin(request):
        _ = i18n.gettext
        return problem_page(
            request, 403, _("This form has expired"), _("The form did not come from this site.")
        )
    try:
        cookie, link = await access.use_link(
            session, token, user_agent=request.headers.get("user-agent")
        )
    except access.LinkProblem as exc:
        return _link_problem(request, exc.reason)
    home = home_of(link.language if link.language in i18n.LANGUAGES else lang)
    response = RedirectResponse(safe_next(link.next_path, home), status_code=303)
    set_cookie(response, cookie, secure=request.url.scheme == "https")
    return response


@page("POST", "/sign-out")
async def sign_out(request: Request, session: DB, lang: Lang, who: Signed) -> Response:
    await access.sign_out(session, request.cookies.get(COOKIE, ""))
    response = RedirectResponse(f"{home_of(lang)}/sign-in?out=1", status_code=303)
    clear_cookie(response)
    return response
