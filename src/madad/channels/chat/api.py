"""Chat over HTTP: the widget script, the console's chat script, and chat inboxes. The
WebSockets (and their protocol) are in `sockets.py`; this router includes them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from madad.api_types import SafeStr, Strict
from madad.auth.permissions import Actor, Scope
from madad.channels.chat import service, sockets
from madad.channels.chat.models import ChatInbox
from madad.errors import NotFound
from madad.web import i18n
from madad.web.deps import DB, require

router = APIRouter(tags=["chat"])
router.include_router(sockets.router)
STATIC = Path(__file__).parent / "static"
Manager = Annotated[Actor, Depends(require(Scope.channels_manage))]


# --- the widget script -------------------------------------------------------------------------


def widget_strings() -> dict[str, str]:
    """The widget's words in the current language (the script carries English and Urdu)."""
    _ = i18n.gettext
    return {
        "title": _("Chat with us"),
        "close": _("Close chat"),
        "intro": _("Tell us who you are (optional) and ask your question."),
        "name": _("Your name"),
        "email": _("Your email"),
        "message": _("Message"),
        "question": _("Your question"),
        "start": _("Start chat"),
        "send": _("Send"),
        "leave": _("End chat"),
        "new_chat": _("Start a new chat"),
        "waiting": _("You are number %(position)s in the queue."),
        "wait": _("Expected wait: about %(minutes)s min."),
        "wait_soon": _("Expected wait: less than a minute."),
        "connected": _("You are chatting with %(name)s."),
        "ended": _("The chat has ended."),
        "abandoned": _("You left the queue."),
        "typing": _("%(name)s is typing…"),
        "agent": _("Agent"),
        "you": _("You"),
        "reconnecting": _("Connection lost; reconnecting…"),
        "too_long": _("This message is too long (at most %(max)s characters)."),
        "log": _("Chat messages"),
    }


@router.get("/widget.js", include_in_schema=False)
async def widget_js(request: Request, session: DB, inbox: str = "") -> Response:
    try:
        found = await service.get_inbox(session, inbox)
    except NotFound:
        return Response(
            "/* Madad: no chat inbox with this key */\n",
            status_code=404,
            media_type="text/javascript",
        )
    strings = {}
    for lang in ("en", "ur"):
        i18n.activate(lang)
        strings[lang] = widget_strings()
    settings = request.app.state.settings
    base = (settings.base_url or str(request.base_url)).rstrip("/")
    config = {"inbox": found.key, "base": base, "max": service.MAX_TEXT, "strings": strings}
    source = (STATIC / "widget.js").read_text()
    body = source.replace("__MADAD_CONFIG__", orjson.dumps(config).decode(), 1)
    return Response(
        body,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/chats/agent.js", include_in_schema=False)
async def agent_js() -> Response:
    return Response(
        (STATIC / "agent.js").read_text(),
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
    )


# --- inboxes -----------------------------------------------------------------------------------


class InboxIn(Strict):
    name: SafeStr = Field(min_length=1, max_length=200)
    queue: SafeStr | None = Field(default=None, max_length=100)


class InboxOut(BaseModel):
    id: int
    key: str
    name: str
    queue: str
    snippet: str

    @classmethod
    def of(cls, inbox: ChatInbox, base: str) -> InboxOut:
        return cls(
            id=inbox.id,
            key=inbox.key,
            name=inbox.name,
            queue=inbox.queue,
            snippet=f'<script src="{base}/widget.js?inbox={inbox.key}" async></script>',
        )


@router.post("/api/v1/chat/inboxes", response_model=InboxOut, status_code=201)
async def create_inbox(request: Request, body: InboxIn, session: DB, actor: Manager) -> InboxOut:
    inbox = await service.create_inbox(session, actor, name=body.name, queue=body.queue)
    return InboxOut.of(inbox, str(request.base_url).rstrip("/"))


@router.get("/api/v1/chat/inboxes", response_model=list[InboxOut])
async def list_inboxes(request: Request, session: DB, actor: Manager) -> list[InboxOut]:
    base = str(request.base_url).rstrip("/")
    return [InboxOut.of(i, base) for i in await service.list_inboxes(session)]
