"""The rating a visitor gives in the widget when a chat ends: the chat ticket's one CSAT survey
(1–5 and an optional comment), asked and answered through the surveys service — so the same
one survey per ticket and quiet period per contact hold as for email CSAT, and the facts are
the surveys' own (`survey.sent` with `via: chat`, `survey.opened`, `survey.answered`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from madad.channels.chat.models import ChatSession
from madad.db import settings_of, utcnow
from madad.errors import Conflict, Invalid, NotFound
from madad.surveys import service as surveys

VIA = "chat"


@dataclass(frozen=True)
class Rating:
    """What the widget shows of the chat's survey."""

    score: int | None  # the answer, once given
    comment: str | None
    can_answer: bool  # still open (or within the time an answer may be changed)

    def as_frame(self) -> dict[str, Any]:
        return {"score": self.score, "comment": self.comment, "can_answer": self.can_answer}


async def ask(session: AsyncSession, chat: ChatSession, *, at: datetime | None = None) -> None:
    """The chat was answered and has ended: ask for its rating, unless the ticket has its survey
    already or the visitor's contact was surveyed within the quiet period."""
    if chat.answered_at is None:
        return  # nobody answered: there is nothing to rate
    await surveys.open_inline_csat(session, chat.ticket_id, via=VIA, at=at)


async def rating_of(session: AsyncSession, chat: ChatSession) -> Rating | None:
    """The ended chat's survey as the widget shows it (None: none was asked)."""
    if chat.state != "ended":
        return None
    survey = await surveys.ticket_csat(session, chat.ticket_id)
    if survey is None:
        return None
    standing = surveys.standing(survey, settings_of(session), utcnow())
    score = int(survey.score) if survey.score is not None else None
    return Rating(score, survey.comment, standing.can_answer)


async def shown(session: AsyncSession, chat: ChatSession) -> None:
    """The widget showed the rating: the survey was opened."""
    survey = await surveys.ticket_csat(session, chat.ticket_id)
    if survey is not None and chat.state == "ended":
        await surveys.mark_opened(session, survey)


async def rate(session: AsyncSession, chat: ChatSession, *, score: Any, comment: Any) -> Rating:
    """The visitor's answer (or, within the change window, a changed one)."""
    if chat.state != "ended":
        raise Conflict("a chat is rated once it has ended")
    if comment is not None and not isinstance(comment, str):
        raise Invalid("comment", "a comment is text")
    survey = await surveys.ticket_csat(session, chat.ticket_id)
    if survey is None:
        raise NotFound("this chat has no rating to give")
    await surveys.mark_opened(session, survey)
    try:
        await surveys.answer(session, survey, score=score, comment=comment)
    except surveys.LinkProblem as exc:
        raise Conflict(f"this rating can no longer be given ({exc.reason})") from None
    rating = await rating_of(session, chat)
    assert rating is not None
    return rating
