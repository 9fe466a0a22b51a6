"""The customer's survey page: `/survey/{token}` shows the question (with the score chosen in
the email pre-selected), and only the page's POST records an answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from madad.db import settings_of, utcnow
from madad.errors import Invalid
from madad.surveys import service
from madad.surveys.models import Survey
from madad.web import i18n
from madad.web.console import same_origin
from madad.web.deps import DB
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Query(max_length=100)]


def _words(survey: Survey) -> dict[str, Any]:
    _ = i18n.gettext
    if survey.kind == "csat":
        labels = [_("Very dissatisfied"), _("Dissatisfied"), _("Neutral"), _("Satisfied"),
                  _("Very satisfied")]  # fmt: skip
        return {
            "title": _("How did we do?"),
            "question": _("How satisfied are you with the help you got?"),
            "scale": list(zip(range(1, 6), labels, strict=True)),
        }
    return {
        "title": _("Would you recommend us?"),
        "question": _(
            "How likely are you to recommend us to a friend or colleague? (0 = not at "
            "all, 10 = extremely likely)"
        ),
        "scale": [(n, str(n)) for n in range(0, 11)],
    }


def problem(request: Request, reason: str, status: int) -> HTMLResponse:
    _ = i18n.gettext
    messages = {
        "invalid": (_("This link does not work"),
                    _("The survey link is incomplete or was changed. Please use the link from "
                      "the email exactly as it is.")),
        "expired": (_("This survey has closed"),
                    _("The survey link has expired. Thank you all the same.")),
        "closed": (_("Your answer is final"),
                   _("The time to change your answer has passed. Thank you for it.")),
    }  # fmt: skip
    title, message = messages[reason]
    return render(request, "survey_problem.html", {"title": title, "message": message}, status)


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _page(
    request: Request,
    survey: Survey,
    token: str,
    *,
    chosen: int | None = None,
    saved: bool = False,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = service.standing(survey, request.app.state.settings, utcnow())
    context = {
        **_words(survey),
        "survey": survey,
        "token": token,
        "chosen": chosen if chosen is not None else _int(survey.score),
        "ces_chosen": _int(survey.ces_score),
        "comment": survey.comment,
        "saved": saved,
        "until": state.until if survey.answered_at else None,
        "error": error,
    }
    return render(request, "survey.html", context, status)


@router.post("/survey/{token}/opened", status_code=204)
async def opened(request: Request, session: DB, token: str) -> Response:
    if not same_origin(request):
        return Response(status_code=403)
    try:
        survey = await service.by_token(session, token[:100], lock=True)
    except service.LinkProblem:
        return Response(status_code=404)
    await service.mark_opened(session, survey)
    return Response(status_code=204)


@router.get("/survey/{token:path}", response_class=HTMLResponse)
async def show(request: Request, session: DB, token: str, score: str | None = None) -> Response:
    """Shows the question; records nothing (a scanner fetching the link changes nothing)."""
    try:
        survey = await service.by_token(session, token[:100])
    except service.LinkProblem as exc:
        return problem(request, exc.reason, 404)
    i18n.activate(survey.language)
    state = service.standing(survey, settings_of(session), utcnow())
    if not state.can_answer:
        return problem(request, state.reason or "closed", 410)
    chosen = None
    try:
        chosen = int(service.parse_score(survey.kind, score) or 0) if score else None
    except Invalid:
        chosen = None
    return _page(request, survey, token, chosen=chosen, saved=survey.answered_at is not None)


@router.post("/survey/{token:path}", response_class=HTMLResponse)
async def submit(
    request: Request,
    session: DB,
    token: str,
    score: Annotated[str | None, Form(max_length=4)] = None,
    ces_score: Annotated[str | None, Form(max_length=4)] = None,
    comment: Annotated[str | None, Form(max_length=20000)] = None,
) -> Response:
    if not same_origin(request):
        return problem(request, "invalid", 403)
    try:
        survey = await service.by_token(session, token[:100], lock=True)
    except service.LinkProblem as exc:
        return problem(request, exc.reason, 404)
    i18n.activate(survey.language)
    try:
        await service.mark_opened(session, survey)
        await service.answer(session, survey, score=score, ces_score=ces_score, comment=comment)
    except service.LinkProblem as exc:
        return problem(request, exc.reason, 410)
    except Invalid as exc:
        message = exc.errors[0].message if exc.errors else exc.detail
        return _page(request, survey, token, error=message, status=422)
    return _page(request, survey, token, saved=True)
