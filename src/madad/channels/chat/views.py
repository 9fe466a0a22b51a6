"""The console's chat page: waiting and active chats arriving live, accept, reply, transfer,
end, and the agent's availability.

Server-rendered; `agent.js` listens on the agents' chat socket and asks htmx to refresh the
lists and the open conversation when something changed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from madad.auth.sessions import SignedIn
from madad.channels.chat import console, queue, service, transfers
from madad.channels.chat import files as chat_files
from madad.channels.chat.downloads import download_response
from madad.channels.chat.models import ChatAgent
from madad.errors import Invalid, NotFound
from madad.tickets import queries as tickets_queries
from madad.tickets import service as tickets
from madad.web import i18n
from madad.web.console import Agent, see_other
from madad.web.deps import DB, PathId, get_store
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
CONSOLE_LINES = 300  # the latest messages of a chat the console shows (the ticket has all)


async def _context(session: DB, who: SignedIn, selected: str | None) -> dict[str, Any]:
    waiting, active = await console.console_lists(session, who.actor)
    me = await session.get(ChatAgent, who.user.id)  # None: never set (offline)
    chat = None
    lines: list[service.ChatLine] = []
    if selected:
        try:
            chat = await queue.get_chat(session, who.actor, selected)
        except NotFound:
            chat = None
        if chat is not None:
            lines = await service.visitor_lines(session, chat, limit=CONSOLE_LINES, newest=True)
    # The visitor's read receipt: under the last of our messages they saw.
    read = chat.visitor_read_id if chat is not None else None
    seen_line = max(
        (x.id for x in lines if x.author == "agent" and read is not None and x.id <= read),
        default=None,
    )
    others = [(u, a) for u, a in await console.agents_available(session) if u.id != who.user.id]
    return {
        "waiting": waiting,
        "active": active,
        "me_chat": me,
        "chat": chat,
        "lines": lines,
        "seen_line": seen_line,
        "others": others,
        "teams": await console.teams(session),
        "accept": chat_files.ACCEPT,
        "states": {
            "queued": i18n.gettext("Waiting"),
            "active": i18n.gettext("Active"),
            "ended": i18n.gettext("Ended"),
            "abandoned": i18n.gettext("Left before an answer"),
            "bot": i18n.gettext("With the answer bot"),
        },
        "statuses": {
            "online": i18n.gettext("Online"),
            "away": i18n.gettext("Away"),
            "offline": i18n.gettext("Offline"),
        },
    }


@router.get("/chats", response_class=HTMLResponse)
async def chats_page(request: Request, session: DB, who: Agent, s: str | None = None) -> Response:
    return render(request, "chats.html", await _context(session, who, s))


@router.get("/chats/lists", response_class=HTMLResponse)
async def chats_lists(request: Request, session: DB, who: Agent, s: str | None = None) -> Response:
    return render(request, "chats_lists.html", await _context(session, who, s))


@router.get("/chats/{public_id}/conversation", response_class=HTMLResponse)
async def chat_conversation(request: Request, session: DB, who: Agent, public_id: str) -> Response:
    return render(request, "chats_conversation.html", await _context(session, who, public_id))


@router.post("/chats/availability")
async def availability(
    request: Request,
    session: DB,
    who: Agent,
    status: Annotated[str, Form(max_length=16)],
    max_chats: Annotated[int | None, Form(ge=1, le=20)] = None,
    avatar_url: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    await queue.set_availability(
        session, who.actor, status=status, max_chats=max_chats, avatar_url=avatar_url
    )
    await session.flush()
    if status == "online":
        await queue.offer_waiting(session)
    return see_other(request, "/chats")


@router.post("/chats/{public_id}/accept")
async def accept(request: Request, session: DB, who: Agent, public_id: str) -> Response:
    await queue.accept(session, who.actor, public_id)
    return see_other(request, f"/chats?s={public_id}")


@router.post("/chats/{public_id}/reply", response_class=HTMLResponse)
async def reply(
    request: Request,
    session: DB,
    who: Agent,
    public_id: str,
    text: Annotated[str, Form(max_length=service.MAX_TEXT)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    sent = []
    limit = request.app.state.settings.max_attachment_bytes
    for upload in files or []:
        if upload.filename or upload.size:  # an empty file field sends a nameless part
            data = await upload.read(limit + 1)
            sent.append(chat_files.check_file(session, upload.filename, data))
    if not text.strip() and not sent:
        raise Invalid("text", i18n.gettext("write a reply first"))
    chat = await queue.get_chat(session, who.actor, public_id)
    await tickets.reply(
        session,
        who.actor,
        chat.ticket_id,
        text=text,
        attachments=sent,
        store=get_store(request),
    )
    await session.flush()
    return render(request, "chats_conversation.html", await _context(session, who, public_id))


@router.get("/chats/files/{attachment_id}")
async def chat_file(request: Request, session: DB, who: Agent, attachment_id: PathId) -> Response:
    """A chat's file for an agent: always a download."""
    found = await tickets_queries.get_attachment(session, who.actor, attachment_id)
    return download_response(found, get_store(request))


@router.post("/chats/{public_id}/transfer")
async def transfer(
    request: Request,
    session: DB,
    who: Agent,
    public_id: str,
    to: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    await transfers.transfer(session, who.actor, public_id, to_user_id=to)
    return see_other(request, "/chats")


@router.post("/chats/{public_id}/transfer-team")
async def transfer_team(
    request: Request,
    session: DB,
    who: Agent,
    public_id: str,
    team: Annotated[int, Form(ge=1, le=2_147_483_647)],
) -> Response:
    await transfers.transfer_to_team(session, who.actor, public_id, team_id=team)
    await session.flush()
    await queue.offer_waiting(session)
    return see_other(request, "/chats")


@router.post("/chats/{public_id}/end")
async def end(request: Request, session: DB, who: Agent, public_id: str) -> Response:
    await queue.end(session, who.actor, public_id)
    await session.flush()
    await queue.offer_waiting(session)
    return see_other(request, f"/chats?s={public_id}")
