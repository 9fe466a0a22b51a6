"""The chat inboxes in the console: `/admin/chat-inboxes` — add one, rename it, choose the
live queue its chats enter (and so the posted hours its widget keeps), make it the help centre's
inbox, turn the answer bot on or off, copy the widget's `<script>` tag, and give the inbox an
identity secret (shown once) or take it away.

Only admins and owners reach it (`channels:manage`); a bad field is shown back on the page with
a 422, never a 500, and changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import Scope
from madad.auth.sessions import SignedIn
from madad.channels.chat import inboxes
from madad.channels.chat.models import ChatInbox
from madad.channels.hours import service as hours
from madad.db import commit
from madad.errors import MadadError
from madad.web import i18n
from madad.web.console import require_page, see_other
from madad.web.deps import DB, PathId
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
Admin = Annotated[SignedIn, Depends(require_page(Scope.channels_manage))]
Text = Annotated[str, Form(max_length=1000)]
Box = Annotated[str, Form(max_length=3)]


def snippet(request: Request, inbox: ChatInbox) -> str:
    base = request.app.state.settings.base_url or str(request.base_url)
    return f'<script src="{base.rstrip("/")}/widget.js?inbox={inbox.key}" async></script>'


async def _page(
    request: Request,
    session: AsyncSession,
    who: SignedIn,
    *,
    done: str | None = None,
    error: str | None = None,
    error_for: int | None = None,
    secret: tuple[int, str] | None = None,
    status: int = 200,
) -> Response:
    queues = {q.name: q for q in await hours.list_queues(session, who.actor)}
    rows = [
        {
            "inbox": inbox,
            "snippet": snippet(request, inbox),
            "hours": queues.get(inbox.queue),
            "secret": secret[1] if secret and secret[0] == inbox.id else None,
        }
        for inbox in await inboxes.list_inboxes(session)
    ]
    messages = {
        "created": i18n.gettext("Chat inbox added."),
        "saved": i18n.gettext("Saved."),
        "removed": i18n.gettext(
            "Identity secret removed: every visitor of that inbox is anonymous."
        ),
    }
    context: dict[str, Any] = {
        "rows": rows,
        "queue_names": sorted(queues),
        "done": messages.get(done or ""),
        "error": error,
        "error_for": error_for,
    }
    page = render(request, "admin_chat_inboxes.html", context, status)
    if secret:
        page.headers["Cache-Control"] = "no-store"  # the secret is shown this once
    return page


@router.get("/admin/chat-inboxes", response_class=HTMLResponse)
async def chat_inboxes(
    request: Request,
    session: DB,
    who: Admin,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return await _page(request, session, who, done=done)


@router.post("/admin/chat-inboxes", response_class=HTMLResponse)
async def add_inbox(
    request: Request, session: DB, who: Admin, name: Text = "", queue: Text = ""
) -> Response:
    try:
        await inboxes.create_inbox(session, who.actor, name=name, queue=queue.strip() or None)
    except MadadError as exc:
        await session.rollback()
        return await _page(request, session, who, error=exc.detail, error_for=0, status=422)
    return see_other(request, "/admin/chat-inboxes?done=created")


@router.post("/admin/chat-inboxes/{inbox_id}", response_class=HTMLResponse)
async def save_inbox(
    request: Request,
    session: DB,
    who: Admin,
    inbox_id: PathId,
    name: Text = "",
    queue: Text = "",
    help_centre: Box = "",
    bot: Box = "",
) -> Response:
    try:
        await inboxes.update_inbox(
            session, who.actor, inbox_id, name=name, queue=queue,
            help_centre=help_centre == "yes", bot=bot == "yes",
        )  # fmt: skip
    except MadadError as exc:
        await session.rollback()
        if exc.status == 404:
            raise
        return await _page(request, session, who, error=exc.detail, error_for=inbox_id, status=422)
    return see_other(request, f"/admin/chat-inboxes?done=saved#inbox-{inbox_id}")


@router.post("/admin/chat-inboxes/{inbox_id}/identity-secret", response_class=HTMLResponse)
async def new_identity_secret(
    request: Request, session: DB, who: Admin, inbox_id: PathId
) -> Response:
    """A new secret, on the page this once (answered directly, not by a redirect, so that the
    secret is in no URL and no later page)."""
    _inbox, secret = await inboxes.rotate_identity_secret(session, who.actor, inbox_id)
    await commit(session)  # before the page shows it: a secret that did not save is no use
    return await _page(request, session, who, secret=(inbox_id, secret))


@router.post("/admin/chat-inboxes/{inbox_id}/identity-secret/remove", response_class=HTMLResponse)
async def remove_identity_secret(
    request: Request, session: DB, who: Admin, inbox_id: PathId
) -> Response:
    await inboxes.remove_identity_secret(session, who.actor, inbox_id)
    return see_other(request, f"/admin/chat-inboxes?done=removed#inbox-{inbox_id}")
