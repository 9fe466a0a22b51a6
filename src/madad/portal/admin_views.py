"""The portal in the console: `/admin/portal` (the topics of the new request form, the portal's
address), and on each organisation's page whether its members see each other's requests
(admins change it; everyone else sees it)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import Actor, Scope
from madad.auth.sessions import SignedIn
from madad.contacts.organisation_views import organisation_panels
from madad.errors import MadadError
from madad.portal import admin, service
from madad.portal.mail import sending_mailbox
from madad.web import i18n
from madad.web.console import require_page, see_other
from madad.web.deps import DB, PathId
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
Admin = Annotated[SignedIn, Depends(require_page(Scope.channels_manage))]


async def _sharing_panel(
    session: AsyncSession, actor: Actor, organisation_id: int
) -> tuple[str, dict[str, Any]]:
    on = await admin.sharing(session, organisation_id)
    return "_portal_sharing.html", {
        "on": on,
        "can_change": actor.can(Scope.channels_manage),
        "organisation_id": organisation_id,
    }


organisation_panels.append(_sharing_panel)


@router.post("/organisations/{organisation_id}/portal")
async def set_sharing(
    request: Request,
    session: DB,
    who: Admin,
    organisation_id: PathId,
    members_see_tickets: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    await admin.set_sharing(
        session, who.actor, organisation_id, members_see_tickets=members_see_tickets == "yes"
    )
    return see_other(request, f"/organisations/{organisation_id}?done=saved#portal")


async def _page(
    request: Request,
    session: AsyncSession,
    *,
    text: str | None = None,
    error: str | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response:
    topics = await service.topics(session)
    settings = request.app.state.settings
    context = {
        "topics_text": admin.topics_text(topics) if text is None else text,
        "topics": topics,
        "error": error,
        "done": i18n.gettext("Topics saved.") if done == "saved" else None,
        "base_url": settings.base_url,
        "can_send": await sending_mailbox(session) is not None,
    }
    return render(request, "admin_portal.html", context, status)


@router.get("/admin/portal", response_class=HTMLResponse)
async def portal_settings(
    request: Request,
    session: DB,
    who: Admin,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return await _page(request, session, done=done)


@router.post("/admin/portal", response_class=HTMLResponse)
async def save_topics(
    request: Request,
    session: DB,
    who: Admin,
    topics: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    try:
        await admin.set_topics(session, who.actor, admin.parse_topics(topics))
    except MadadError as exc:
        await session.rollback()
        return await _page(request, session, text=topics, error=exc.detail, status=422)
    return see_other(request, "/admin/portal?done=saved")
