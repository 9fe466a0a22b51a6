"""Console pages: the feedback inbox (comments with their ticket, agent and score; a low score
can be taken up by a supervisor) and the agents' weekly pulse."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from madad.auth import sessions
from madad.auth.models import User
from madad.auth.permissions import Scope
from madad.db import settings_of, utcnow
from madad.errors import Conflict, Invalid
from madad.surveys import service
from madad.web.console import Agent, require_page, see_other
from madad.web.deps import DB, PathId
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
Manager = Annotated[sessions.SignedIn, Depends(require_page(Scope.reports_read))]


@router.get("/reports/feedback", response_class=HTMLResponse)
async def feedback(
    request: Request,
    session: DB,
    who: Manager,
    kind: Annotated[str | None, Query(max_length=8)] = None,
    low: bool = False,
    comments: bool = False,
    before: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    settings = settings_of(session)
    f = service.SurveyFilter(
        kind=kind if kind in ("csat", "nps") else None,
        answered=True,
        max_score=float(settings.survey_low_score) if low else None,
        with_comment=comments,
    )
    rows = await service.list_surveys(session, f, before_id=before, limit=51)
    more, rows = len(rows) > 50, rows[:50]
    agent_ids = {s.agent_id for s in rows if s.agent_id}
    found = await session.execute(select(User.id, User.name).where(User.id.in_(agent_ids)))
    names = {user_id: name for user_id, name in found}
    return render(
        request,
        "feedback.html",
        {
            "rows": rows,
            "names": names,
            "kind": kind or "",
            "low": low,
            "comments": comments,
            "low_score": settings.survey_low_score,
            "next": rows[-1].id if more and rows else None,
        },
    )


@router.post("/reports/feedback/{survey_id}/follow-up")
async def take_up(request: Request, session: DB, who: Manager, survey_id: PathId) -> Response:
    survey = await service.follow_up(session, who.actor, survey_id)
    return see_other(request, f"/tickets/{survey.ticket_id}")


@router.get("/pulse", response_class=HTMLResponse)
async def pulse(request: Request, session: DB, who: Agent) -> Response:
    period = service.pulse_period(utcnow())
    done = await service.pulse_taken(session, who.user.id, period)
    return render(request, "pulse.html", {"done": done, "period": period, "error": None})


@router.post("/pulse", response_class=HTMLResponse)
async def answer_pulse(
    request: Request,
    session: DB,
    who: Agent,
    satisfaction: Annotated[str | None, Form(max_length=4)] = None,
    workload: Annotated[str | None, Form(max_length=4)] = None,
    tools: Annotated[str | None, Form(max_length=4)] = None,
    comment: Annotated[str | None, Form(max_length=20000)] = None,
) -> Response:
    period = service.pulse_period(utcnow())
    try:
        await service.submit_pulse(session, who.actor, satisfaction=satisfaction,
                                   workload=workload, tools=tools, comment=comment)  # fmt: skip
    except (Invalid, Conflict) as exc:
        message = exc.errors[0].message if exc.errors else exc.detail
        done = isinstance(exc, Conflict)
        return render(request, "pulse.html", {"done": done, "period": period, "error": message},
                      409 if done else 422)  # fmt: skip
    return render(request, "pulse.html", {"done": True, "period": period, "error": None})
