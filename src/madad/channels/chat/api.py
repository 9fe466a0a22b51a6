"""Chat over HTTP: the widget script, the console's chat script, and chat inboxes. The
WebSockets (and their protocol) are in `sockets.py`; this router includes them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from madad.api_types import SafeStr, Strict
from madad.auth.permissions import Actor, Scope
from madad.channels.chat import agent_sockets, inboxes, offline, service, sockets
from madad.channels.chat import files as chat_files
from madad.channels.chat.downloads import download_response
from madad.channels.chat.models import ChatInbox
from madad.channels.hours import service as hours
from madad.channels.hours.public import PublicRoute, preflight
from madad.errors import NotFound
from madad.web import i18n
from madad.web.deps import DB, PathId, require

router = APIRouter(tags=["chat"])
router.include_router(sockets.router)
router.include_router(agent_sockets.router)
# What the widget calls over HTTP from any site: CORS on every answer, never credentials.
public = APIRouter(tags=["chat"], route_class=PublicRoute)
InboxKey = Annotated[str, PathParam(min_length=1, max_length=64)]
STATIC = Path(__file__).parent / "static"
Manager = Annotated[Actor, Depends(require(Scope.channels_manage))]


# --- the widget script -------------------------------------------------------------------------


def widget_strings() -> dict[str, Any]:
    """The widget's words in the current language (the script carries English and Urdu)."""
    _ = i18n.gettext
    return {
        "scale": [
            _("Very dissatisfied"),
            _("Dissatisfied"),
            _("Neutral"),
            _("Satisfied"),
            _("Very satisfied"),
        ],
        "title": _("Chat with us"),
        "close": _("Close chat"),
        "intro": _("Tell us who you are (optional) and ask your question."),
        "intro_known": _("Hello %(name)s, ask your question."),
        "ask": _("Ask your question."),
        "name": _("Your name"),
        "email": _("Your email"),
        "message": _("Message"),
        "question": _("Your question"),
        "start": _("Start chat"),
        "send": _("Send"),
        "leave": _("End chat"),
        "new_chat": _("Start a new chat"),
        "waiting": _("You are number %(position)s in the queue."),
        "in_queue": _("You are in the queue."),
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
        "hours": _("Opening hours"),
        "online": _("Online now"),
        "back_at": _("Back at %(time)s"),
        "away": _("We are away at the moment."),
        "no_hours": _("No opening hours this week."),
        "offline_intro": _(
            "We are away right now. Leave a message and we will answer you by email."
        ),
        "your_message": _("Your message"),
        "send_message": _("Send message"),
        "left": _("Thank you. We will answer you by email at %(email)s."),
        "callback": _("Request a callback"),
        "callback_intro": _("Leave your number and a time that suits you; we will call you."),
        "phone": _("Your phone number"),
        "when": _("When should we call?"),
        "request": _("Request callback"),
        "back": _("Back"),
        "called": _("Thank you. We will call %(phone)s on %(when)s."),
        "required": _("Please fill in the required fields."),
        "check": _("Please check the highlighted fields."),
        "failed": _("That did not work; please try again."),
        "too_many": _("Too many attempts; please try again in %(minutes)s min."),
        "transferred": _("We are passing your chat to %(team)s."),
        "seen": _("Seen"),
        "attach": _("Send a file (picture, PDF or text)"),
        "sending_file": _("Sending %(name)s…"),
        "too_big": _("This file is too big (at most %(max)s)."),
        "bad_file": _("Send a picture (PNG, JPEG, GIF or WebP), a PDF or a text file."),
        "rate_title": _("How satisfied are you with this chat?"),
        "rate_comment": _("Anything you would like to add? (optional)"),
        "rate_send": _("Send rating"),
        "rated": _("Thank you for your rating."),
        "choose": _("Choose a rating from 1 to 5."),
        "bot_name": _("Answer bot"),
        "bot_looking": _("Looking for an article that answers your question…"),
        "bot_intro": _("These articles may answer your question:"),
        "bot_solved": _("That solved it"),
        "human": _("Talk to a person"),
        "bot_glad": _("Glad that helped! You can still talk to a person."),
    }


@router.get("/widget.js", include_in_schema=False)
async def widget_js(request: Request, session: DB, inbox: str = "", help: str = "") -> Response:
    """The widget for an inbox's key, or with `help=1` for the help centre's inbox (when an
    admin chose none, an empty script: the help centre then shows no chat)."""
    if help:
        chosen = await inboxes.help_inbox(session)
        if chosen is None:
            return Response(
                "/* Madad: the help centre has no chat inbox */\n",
                media_type="text/javascript",
                headers={"Cache-Control": "public, max-age=300"},
            )
        inbox = chosen.key
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
    live = await hours.queue_named(session, found.queue)
    config = {
        "inbox": found.key,
        "base": base,
        "max": service.MAX_TEXT,
        # The live queue whose posted hours the widget shows (none: always open for chat).
        "queue": live.key if live is not None else None,
        "max_file": settings.max_attachment_bytes,
        "accept": chat_files.ACCEPT,
        "strings": strings,
    }
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


class InboxPatch(Strict):
    name: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    queue: SafeStr | None = Field(default=None, min_length=1, max_length=100)
    help_centre: bool | None = Field(
        default=None, description="show this inbox's widget in the help centre (at most one)"
    )
    bot: bool | None = Field(
        default=None, description="the answer bot offers articles for the first question"
    )


class InboxOut(BaseModel):
    id: int
    key: str
    name: str
    queue: str
    help_centre: bool
    bot: bool
    identity_verification: bool = Field(
        description="the inbox has an identity secret: websites may sign who the visitor is"
    )
    identity_rotated_at: datetime | None
    snippet: str

    @classmethod
    def of(cls, inbox: ChatInbox, base: str) -> InboxOut:
        return cls(
            id=inbox.id,
            key=inbox.key,
            name=inbox.name,
            queue=inbox.queue,
            help_centre=inbox.help_centre,
            bot=inbox.bot,
            identity_verification=inbox.identity_nonce is not None,
            identity_rotated_at=inbox.identity_rotated_at,
            snippet=f'<script src="{base}/widget.js?inbox={inbox.key}" async></script>',
        )


@router.post("/api/v1/chat/inboxes", response_model=InboxOut, status_code=201)
async def create_inbox(request: Request, body: InboxIn, session: DB, actor: Manager) -> InboxOut:
    inbox = await service.create_inbox(session, actor, name=body.name, queue=body.queue)
    return InboxOut.of(inbox, str(request.base_url).rstrip("/"))


@router.patch("/api/v1/chat/inboxes/{inbox_id}", response_model=InboxOut)
async def update_inbox(
    request: Request, inbox_id: PathId, body: InboxPatch, session: DB, actor: Manager
) -> InboxOut:
    inbox = await inboxes.update_inbox(
        session,
        actor,
        inbox_id,
        name=body.name,
        queue=body.queue,
        help_centre=body.help_centre,
        bot=body.bot,
    )
    return InboxOut.of(inbox, str(request.base_url).rstrip("/"))


class IdentitySecretOut(BaseModel):
    secret: str = Field(description="shown this once: Madad does not keep it")
    rotated_at: datetime


@router.post(
    "/api/v1/chat/inboxes/{inbox_id}/identity-secret",
    response_model=IdentitySecretOut,
    status_code=201,
)
async def rotate_identity_secret(
    inbox_id: PathId, session: DB, actor: Manager, response: Response
) -> IdentitySecretOut:
    """A new identity secret for the inbox, shown this once; the previous one stops working at
    once. The website's server signs its users with it (channels/chat/README.md)."""
    inbox, secret = await inboxes.rotate_identity_secret(session, actor, inbox_id)
    response.headers["Cache-Control"] = "no-store"
    assert inbox.identity_rotated_at is not None
    return IdentitySecretOut(secret=secret, rotated_at=inbox.identity_rotated_at)


@router.delete("/api/v1/chat/inboxes/{inbox_id}/identity-secret", status_code=204)
async def remove_identity_secret(inbox_id: PathId, session: DB, actor: Manager) -> Response:
    """The inbox verifies no identities any more (every visitor is anonymous)."""
    await inboxes.remove_identity_secret(session, actor, inbox_id)
    return Response(status_code=204)


@router.get("/api/v1/chat/inboxes", response_model=list[InboxOut])
async def list_inboxes(request: Request, session: DB, actor: Manager) -> list[InboxOut]:
    base = str(request.base_url).rstrip("/")
    return [InboxOut.of(i, base) for i in await service.list_inboxes(session)]


# --- the widget's forms ------------------------------------------------------------------------


class MessageLeftIn(Strict):
    """The widget's "leave a message" form, shown while the queue is closed."""

    id: SafeStr = Field(min_length=1, max_length=service.MAX_CLIENT_ID)
    name: SafeStr = Field(min_length=1, max_length=200)
    email: SafeStr = Field(min_length=1, max_length=320)
    text: SafeStr = Field(min_length=1, max_length=service.MAX_TEXT)
    language: SafeStr | None = Field(default=None, max_length=16)


class MessageLeftOut(BaseModel):
    received: bool
    email: str


@public.post(
    "/api/v1/chat/inboxes/{key}/messages",
    response_model=MessageLeftOut,
    status_code=201,
    responses={200: {"description": "the same form sent again", "model": MessageLeftOut}},
)
async def leave_message(
    key: InboxKey, body: MessageLeftIn, request: Request, response: Response, session: DB
) -> MessageLeftOut:
    """Public: a message left while the chat is closed, answered by email. 201 stored, 200 the
    same `id` sent again; 422 a missing name, email or message; 429 too many from this client
    or for this email in the last hour (with `Retry-After`)."""
    inbox = await service.get_inbox(session, key)
    left = await offline.leave_message(
        session,
        inbox,
        client_id=body.id,
        name=body.name,
        email=body.email,
        text=body.text,
        language=body.language,
        client_address=request.client.host if request.client else None,
    )
    response.status_code = 201 if left.created else 200
    return MessageLeftOut(received=True, email=left.message.email)


class FileSentOut(BaseModel):
    id: int = Field(description="the message that carries the file")
    client_id: str


@public.post("/api/v1/chat/visitor/files", response_model=FileSentOut, status_code=201)
async def send_file(
    request: Request,
    response: Response,
    session: DB,
    upload: Annotated[str, Form(max_length=200)],
    id: Annotated[str, Form(min_length=1, max_length=service.MAX_CLIENT_ID)],
    file: Annotated[UploadFile, File()],
) -> FileSentOut:
    """Public (multipart): a file from the visitor into their open chat. `upload` is the token
    the chat's socket gives its visitor; `id` the client's message id (stored once). A
    picture, a PDF or a text file within the configured size: 413 bigger, 422 another kind,
    403 a forged or expired token."""
    limit = request.app.state.settings.max_attachment_bytes
    data = await file.read(limit + 1)
    chat = await chat_files.chat_of_upload(session, service.settings_secret(session), upload)
    received = await service.post_file(
        session,
        chat,
        client_id=id,
        filename=file.filename,
        data=data,
        store=request.app.state.files,
    )
    response.status_code = 201 if received.created else 200
    return FileSentOut(id=received.message_id, client_id=id)


@public.options("/api/v1/chat/visitor/files", include_in_schema=False)
async def send_file_preflight() -> Response:
    return preflight()


@router.get("/api/v1/chat/files/{attachment_id}", include_in_schema=False)
async def visitor_file(
    request: Request,
    attachment_id: PathId,
    session: DB,
    c: Annotated[str, Query(max_length=32)] = "",
    e: Annotated[str, Query(max_length=20)] = "",
    s: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """A visitor's signed link to one of their chat's files: always a download."""
    found = await chat_files.visitor_download(
        session, service.settings_secret(session), attachment_id, chat_id=c, until=e, mac=s
    )
    return download_response(found, request.app.state.files)


@public.options("/api/v1/chat/inboxes/{key}/messages", include_in_schema=False)
async def leave_message_preflight(key: InboxKey) -> Response:
    return preflight()


router.include_router(public)
