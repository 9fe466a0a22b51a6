"""`GET /api/v1/surveys`: survey requests with their links and answers, for admins (and for
senders of SMS or other channels, which fetch the links of surveys that went out as links)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from madad.auth.permissions import Actor, Scope
from madad.db import settings_of
from madad.surveys import service
from madad.surveys.models import Survey
from madad.web.deps import DB, require

router = APIRouter(prefix="/api/v1", tags=["surveys"])
Admin = Annotated[Actor, Depends(require(Scope.channels_manage))]
Id = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


class SurveyOut(BaseModel):
    id: int
    kind: str
    ticket_id: int | None
    contact_id: int | None
    agent_id: int | None
    channel: str | None
    via: str
    language: str
    link: str
    sent_at: datetime
    expires_at: datetime
    opened_at: datetime | None
    answered_at: datetime | None
    changed_at: datetime | None
    score: float | None
    ces_score: float | None
    comment: str | None
    delivery_error: str | None


class SurveyPage(BaseModel):
    items: list[SurveyOut]
    next_cursor: str | None


def out(s: Survey, link: str) -> SurveyOut:
    values: dict[str, Any] = {k: getattr(s, k) for k in SurveyOut.model_fields if k != "link"}
    return SurveyOut(**values, link=link)


@router.get("/surveys", response_model=SurveyPage)
async def list_surveys(
    session: DB,
    actor: Admin,
    kind: Literal["csat", "nps"] | None = None,
    ticket_id: Id = None,
    contact_id: Id = None,
    answered: bool | None = None,
    before_id: Id = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> SurveyPage:
    """Newest first; `next_cursor` is the `before_id` of the next page."""
    rows = await service.list_surveys(
        session,
        service.SurveyFilter(
            kind=kind, ticket_id=ticket_id, contact_id=contact_id, answered=answered
        ),
        before_id=before_id,
        limit=limit + 1,
    )
    more = len(rows) > limit
    rows = rows[:limit]
    settings = settings_of(session)
    return SurveyPage(
        items=[out(s, service.link_of(settings, s)) for s in rows],
        next_cursor=str(rows[-1].id) if more and rows else None,
    )
