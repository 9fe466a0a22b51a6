"""The agents' callback console: `/callbacks` lists the active callbacks by due time with the
overdue ones flagged and counted; an agent takes one (exclusively), calls, and logs the outcome;
one not reached can be retried."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth import sessions
from madad.auth.permissions import Scope
from madad.channels.phone import callbacks as service
from madad.db import utcnow
from madad.errors import MadadError
from madad.web import i18n
from madad.web.console import require_page, see_other
from madad.web.deps import DB, PathId
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
Worker = Annotated[sessions.SignedIn, Depends(require_page(Scope.tickets_write))]
Done = Annotated[str | None, Query(max_length=40)]


def outcome_label(value: str | None) -> str:
    labels = {
        "reached": i18n.gettext("Reached"),
        "no_answer": i18n.gettext("No answer"),
        "wrong_number": i18n.gettext("Wrong number"),
        "left_voicemail": i18n.gettext("Left a voicemail"),
    }
    return labels.get(value or "", value or "")


def status_label(value: str) -> str:
    labels = {
        "open": i18n.gettext("Waiting"),
        "taken": i18n.gettext("Taken"),
        "not_reached": i18n.gettext("Not reached"),
        "done": i18n.gettext("Done"),
    }
    return labels.get(value, value)


def done_message(code: str | None) -> str | None:
    messages = {
        "taken": i18n.gettext("The callback is yours: call the customer, then log the outcome."),
        "released": i18n.gettext("The callback is back in the queue."),
        "logged": i18n.gettext("Outcome logged; the note is on the ticket."),
        "retried": i18n.gettext("The callback is back in the queue for another try."),
    }
    return messages.get(code or "")


async def _page(
    request: Request,
    session: AsyncSession,
    who: sessions.SignedIn,
    *,
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    now = utcnow()
    rows = await service.list_callbacks(session, who.actor, now=now)
    context: dict[str, Any] = {
        "rows": rows,
        "overdue": await service.count_overdue(session, who.actor, now),
        "outcomes": [(o, outcome_label(o)) for o in service.OUTCOMES],
        "outcome_label": outcome_label,
        "status_label": status_label,
        "done": done_message(done),
        "error": error,
        "can_admin": who.actor.can(Scope.channels_manage),
    }
    return render(request, "callbacks.html", context, status)


@router.get("/callbacks", response_class=HTMLResponse)
async def callbacks_page(request: Request, session: DB, who: Worker, done: Done = None) -> Response:
    return await _page(request, session, who, done=done)


async def _act(
    request: Request, session: AsyncSession, who: sessions.SignedIn, action: Any, done: str
) -> Response:
    try:
        await action()
    except MadadError as exc:
        await session.rollback()
        if exc.status in (403, 404):
            raise
        return await _page(request, session, who, error=exc.detail, status=exc.status)
    return see_other(request, f"/callbacks?done={done}")


@router.post("/callbacks/{callback_id}/take", response_class=HTMLResponse)
async def take(request: Request, session: DB, who: Worker, callback_id: PathId) -> Response:
    return await _act(
        request, session, who, lambda: service.take(session, who.actor, callback_id), "taken"
    )


@router.post("/callbacks/{callback_id}/release", response_class=HTMLResponse)
async def release(request: Request, session: DB, who: Worker, callback_id: PathId) -> Response:
    return await _act(
        request, session, who, lambda: service.release(session, who.actor, callback_id), "released"
    )


@router.post("/callbacks/{callback_id}/outcome", response_class=HTMLResponse)
async def log_outcome(request: Request, session: DB, who: Worker, callback_id: PathId) -> Response:
    form = await request.form()
    outcome = form.get("outcome")
    note = form.get("note")

    async def action() -> None:
        await service.log_outcome(
            session,
            who.actor,
            callback_id,
            outcome=outcome if isinstance(outcome, str) else "",
            note=note if isinstance(note, str) else None,
        )

    return await _act(request, session, who, action, "logged")


@router.post("/callbacks/{callback_id}/retry", response_class=HTMLResponse)
async def retry(request: Request, session: DB, who: Worker, callback_id: PathId) -> Response:
    return await _act(
        request, session, who, lambda: service.retry(session, who.actor, callback_id), "retried"
    )
