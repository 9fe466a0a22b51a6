"""Chat's visitor WebSocket (the widget's) and its protocol.

Visitor socket `/api/v1/chat/visitor?inbox=KEY&token=T&after=N[&identify=1]` (JSON text frames;
a WebSocket is not bound by CORS, so the widget works from any site without credentials). With
`identify=1` the widget's first frame is `{"type": "identify", "user_id", "email", "name"?,
"signature"}` (identity.py): a valid one makes the visitor that user, anything else is answered
with an `error` frame (code `identity`) and the visitor is anonymous.
  server → visitor  {"type": "hello", "token", "identified", "name"}   the visitor's signed token
                    (a new one when T was missing or forged: an unsigned claim is never trusted)
                    {"type": "message", "id", "client_id", "from": visitor|agent, "name",
                     "text", "at", "files"?: [{"id", "name", "size", "type", "url"}],
                     "avatar"?, "initials"?}   a public message of the chat (`url`: a signed
                     download path, a day long); `after=N` replays those after N
                    {"type": "state", "state": none|queued|active|ended|abandoned, "position",
                     "wait_seconds", "agent", "avatar", "initials", "team", "seen", "upload",
                     "rating": null | {"score", "comment", "can_answer"},
                     "bot": null | {"articles": [{"id", "title", "url"}], "outcome"}}
                     (state `bot`: the answer bot has the chat before the queue)
                     (`upload`: the token for POST /api/v1/chat/visitor/files; `team`: a
                     transfer sent the chat to that team; `seen`: an agent saw the visitor's
                     messages up to this id)
                    {"type": "seen", "id"}   an agent saw the visitor's messages up to `id`
                    {"type": "ready"}   the replay is complete
                    {"type": "ack", "client_id", "id"}   a visitor's message is stored
                    {"type": "typing", "on", "name"}   the agent is typing
                    {"type": "error", "code", "detail", "client_id"?, "retry_after"?}
                    (`code` toomanyrequests: too many new chats; `retry_after` seconds)
  visitor → server  {"type": "start", "id", "text", "name"?, "email"?, "language"?,
                     "article"?, "help_visitor"?}   (the help-centre article it started from)
                    {"type": "message", "id", "text"}   the id is the client's: stored once
                    {"type": "seen", "id"}   the visitor saw the agents' messages up to `id`
                    {"type": "human"}   talk to a person (out of the bot's hands, into the queue)
                    {"type": "solved", "article"?}   an article the bot offered solved it
                    {"type": "rating_shown"}   {"type": "rate", "score": 1-5, "comment"?}
                    (the ended chat's rating: its CSAT survey, see rating.py)
                    {"type": "typing", "on": bool}   {"type": "leave"}   {"type": "ping"}

The agents' socket is in `agent_sockets.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from sqlalchemy.exc import IntegrityError

from madad.auth.models import Team, User
from madad.bus import Subscription
from madad.channels.chat import answerbot, identity, inboxes, queue, rating, service
from madad.channels.chat import files as chat_files
from madad.channels.chat.models import ChatAgent, ChatInbox, ChatSession
from madad.channels.chat.waiting import shared
from madad.channels.intake import IntakeBatcher
from madad.db import Database, utcnow
from madad.errors import Invalid, MadadError, NotFound, TooLarge, TooManyRequests
from madad.tickets import service as tickets

log = logging.getLogger("madad.chat")
router = APIRouter(tags=["chat"])
MAX_FRAME = 32 * 1024  # characters in one frame from a visitor
IDENTIFY_SECONDS = 10.0  # how long a socket opened with identify=1 waits for the identity
REPLAY_PAGE = 500


# --- the visitor's socket ----------------------------------------------------------------------


async def send(ws: WebSocket, payload: dict[str, Any]) -> None:
    await ws.send_text(orjson.dumps(payload).decode())


def error_frame(exc: MadadError) -> dict[str, Any]:
    code = "too_large" if isinstance(exc, TooLarge) else type(exc).__name__.lower()
    error: dict[str, Any] = {"type": "error", "code": code, "detail": exc.detail}
    if isinstance(exc, TooManyRequests) and exc.retry_after is not None:
        error["retry_after"] = exc.retry_after
    return error


class _Visitor:
    """One visitor connection: what it follows and what it has been sent."""

    def __init__(self, ws: WebSocket, inbox: ChatInbox, visitor_id: str, sub: Subscription) -> None:
        self.ws = ws
        self.inbox = inbox
        self.visitor_id = visitor_id
        self.sub = sub
        self.db: Database = ws.app.state.db
        self.bus = ws.app.state.bus
        self.chat: ChatSession | None = None
        self.last_id = 0
        self.sent: set[int] = set()
        self.lock = asyncio.Lock()  # one replay or send of lines at a time, in id order
        self.board, self.presence, self.waiting = shared(ws)
        self.agent_name: str | None = None
        self.identity: identity.Identity | None = None  # signed by the website
        self.agent_avatar: str | None = None
        self.team_name: str | None = None
        self.rating: rating.Rating | None = None
        self.bot_task: asyncio.Task[None] | None = None
        self.secret: str = ""  # the app's signing key (download links, upload tokens)
        # While this socket's own message is being stored, the bus may announce it before the
        # store returns: such announcements wait here and are settled once it has (its echo
        # needs no read back; anything else, another tab's message say, is read then).
        self.storing = 0
        self.deferred: set[int] = set()

    def link(self, attachment_id: int) -> str:
        """A download address of one of the chat's files (relative to Madad's base)."""
        assert self.chat is not None
        return chat_files.download_path(self.secret, self.chat, attachment_id)
        self.place: tuple[int, int | None] | None = None  # (position, wait) last sent

    async def follow(self, chat: ChatSession) -> None:
        """Subscribe to the chat, then read what is already stored: nothing falls between."""
        if self.chat is None or self.chat.id != chat.id:
            if self.chat is not None:
                self.presence.remove(self.chat.id)
            self.presence.add(chat.id)
            self.chat = chat
            self.sent.clear()
            await self.sub.add(f"ticket:{chat.ticket_id}", f"chat:{chat.public_id}")
        await self.lines()
        await self.state()

    async def lines(self, message_ids: list[int] | None = None) -> None:
        if self.chat is None:
            return
        async with self.lock:
            while True:  # page through a long absence
                async with self.db.session(write=False) as session:
                    found = await service.visitor_lines(
                        session,
                        self.chat,
                        after_id=0 if message_ids else self.last_id,
                        message_ids=message_ids,
                        limit=REPLAY_PAGE,
                    )
                for line in found:
                    if line.id in self.sent or (not message_ids and line.id <= self.last_id):
                        continue
                    self.sent.add(line.id)
                    self.last_id = max(self.last_id, line.id)
                    await send(self.ws, line.as_event(self.link))
                if message_ids or len(found) < REPLAY_PAGE:
                    return

    async def state(self, *, reload: bool = True) -> None:
        """Send the chat's state; `reload` reads the chat itself again (its own state changed),
        otherwise only the queue moved and the shared snapshot says where it stands."""
        if self.chat is None:
            await send(self.ws, {"type": "state", "state": "none"})
            return
        if reload:
            async with self.db.session(write=False) as session:
                chat = await session.get(ChatSession, self.chat.id)
                assert chat is not None
                self.chat = chat
                if chat.agent_id is not None:
                    self.agent_name, self.agent_avatar = await _agent_face(session, chat.agent_id)
                self.rating = await rating.rating_of(session, chat)
                self.team_name = None
                if chat.team_id is not None and chat.state == "queued":
                    team = await session.get(Team, chat.team_id)
                    self.team_name = team.name if team else None
        chat = self.chat
        if chat.state == "queued":
            self.waiting.add(self)
        else:
            self.waiting.remove(self)
        place = None
        if chat.state == "queued":
            place = (await self.board.get()).place(chat)
            if place is None:  # queued since the snapshot was read (a transfer, say)
                place = (await self.board.get(fresh=True)).place(chat)
        await self._send_state(place)

    async def _send_state(self, place: queue.QueuePlace | None) -> None:
        assert self.chat is not None
        chat = self.chat
        wait = round(place.wait_seconds) if place and place.wait_seconds else None
        self.place = (place.position, wait) if place else None
        agent = self.agent_name if chat.agent_id is not None else None
        await send(
            self.ws,
            {
                "type": "state",
                "session": chat.public_id,
                "state": chat.state,
                "position": place.position if place else None,
                "wait_seconds": wait,
                "agent": agent,
                "avatar": self.agent_avatar if agent else None,
                "initials": queue.initials(agent) if agent else None,
                "team": self.team_name,
                "seen": chat.agent_read_id,  # the visitor's messages an agent saw, up to
                # What lets this visitor send a file into the open chat (for an hour).
                "upload": chat_files.upload_token(self.secret, chat)
                if chat.state in service.OPEN_STATES
                else None,
                # The ended chat's rating (the ticket's CSAT survey), if one was asked.
                "rating": self.rating.as_frame() if self.rating else None,
                # What the answer bot offered (its articles, and what came of it).
                "bot": _bot_frame(chat),
            },
        )

    async def moved(self, board: queue.QueueBoard) -> None:
        """The queue changed: tell the visitor only if their own place did."""
        if self.chat is None or self.chat.state != "queued":
            return
        place = board.place(self.chat)
        if place is None:
            return  # no longer waiting: their own state event says what became of it
        wait = round(place.wait_seconds) if place.wait_seconds else None
        if (place.position, wait) != self.place:
            await self._send_state(place)

    def close(self) -> None:
        if self.chat is not None:
            self.presence.remove(self.chat.id)
        self.waiting.remove(self)

    async def on_bus(self, topic: str, event: dict[str, Any]) -> None:
        chat = self.chat
        if chat is None:
            return
        if topic == f"ticket:{chat.ticket_id}":
            if event.get("kind") in ("message.received", "message.sent"):
                message_id = (event.get("data") or {}).get("message_id")
                if not isinstance(message_id, int) or message_id in self.sent:
                    return
                if event.get("kind") == "message.received" and self.storing:
                    self.deferred.add(message_id)
                else:
                    await self.lines([message_id])
        elif topic == f"chat:{chat.public_id}":
            if event.get("type") == "state":
                await self.state()
            elif event.get("type") == "typing" and event.get("from") == "agent":
                await send(
                    self.ws,
                    {"type": "typing", "on": bool(event.get("on")), "name": event.get("name")},
                )
            elif event.get("type") == "seen" and event.get("from") == "agent":
                await send(self.ws, {"type": "seen", "id": event.get("id")})

    async def on_frame(self, text: str) -> None:
        if len(text) > MAX_FRAME:
            await send(
                self.ws,
                {
                    "type": "error",
                    "code": "too_large",
                    "detail": f"a frame is at most {MAX_FRAME} characters",
                },
            )
            return
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            await send(self.ws, {"type": "error", "code": "invalid", "detail": "frames are JSON"})
            return
        kind = frame.get("type") if isinstance(frame, dict) else None
        client_id = frame.get("id") if isinstance(frame, dict) else None
        try:
            if kind == "ping":
                await send(self.ws, {"type": "pong"})
            elif kind == "start":
                await self.start(frame)
            elif kind == "message":
                await self.message(frame)
            elif kind == "typing":
                if self.chat is not None and self.chat.state in service.OPEN_STATES:
                    await self.bus.publish(
                        f"chat:{self.chat.public_id}",
                        {
                            "type": "typing",
                            "from": "visitor",
                            "session": self.chat.public_id,
                            "on": bool(frame.get("on")),
                        },
                    )
            elif kind in ("human", "solved"):
                if self.chat is None:
                    raise NotFound("start a chat first")
                async with self.db.session() as session:
                    if kind == "human":
                        await answerbot.to_queue(session, self.chat)
                    else:
                        await answerbot.solved(session, self.chat, article=frame.get("article"))
                if kind == "human":
                    async with self.db.session() as session:
                        await queue.offer_waiting(session)
            elif kind in ("rate", "rating_shown"):
                if self.chat is None:
                    raise NotFound("start a chat first")
                async with self.db.session() as session:
                    chat = await session.get(ChatSession, self.chat.id)
                    assert chat is not None
                    if kind == "rate":
                        await rating.rate(
                            session, chat, score=frame.get("score"), comment=frame.get("comment")
                        )
                    else:
                        await rating.shown(session, chat)
                if kind == "rate":
                    await self.state()
            elif kind == "seen":
                if self.chat is not None:
                    async with self.db.session() as session:
                        await service.visitor_saw(session, self.chat, frame.get("id"))
            elif kind == "leave":
                if self.chat is not None:
                    async with self.db.session() as session:
                        chat = await session.get(ChatSession, self.chat.id)
                        assert chat is not None
                        await service.leave(session, chat)
                    await self.state()
            else:
                await send(self.ws, {"type": "error", "code": "invalid", "detail": "unknown frame"})
        except MadadError as exc:
            error = error_frame(exc)
            if isinstance(client_id, str):
                error["client_id"] = client_id[:64]
            await send(self.ws, error)

    async def start(self, frame: dict[str, Any]) -> None:
        async with self.db.session() as session:
            chat, received = await service.start_chat(
                session,
                self.inbox,
                self.visitor_id,
                text=frame.get("text"),
                client_id=frame.get("id"),
                name=frame.get("name"),
                email=frame.get("email"),
                language=frame.get("language"),
                client_address=self.ws.client.host if self.ws.client else None,
                article=frame.get("article"),
                help_visitor=frame.get("help_visitor"),
                identity=self.identity,
            )
        async with self.db.session() as session:
            await queue.offer_waiting(session)
        await send(
            self.ws, {"type": "ack", "client_id": frame.get("id"), "id": received.message_id}
        )
        await self.follow(chat)
        if chat.state == "bot" and chat.bot_offer is None and received.created:
            # In the background, so that "Talk to a person" works while the bot looks.
            self.bot_task = asyncio.get_running_loop().create_task(
                self._bot_answers(chat, str(frame.get("text") or ""))
            )

    async def _bot_answers(self, chat: ChatSession, question: str) -> None:
        try:
            async with self.db.session(write=False) as session:
                found = await answerbot.suggestions(session, chat, question)
            async with self.db.session() as session:
                await answerbot.first_answer(session, chat, found)
            async with self.db.session() as session:
                await queue.offer_waiting(session)  # with nothing to offer, it went to the queue
        except Exception:
            log.exception("chat answer bot failed")
            async with self.db.session() as session:  # the visitor is not left with a bot
                await answerbot.to_queue(session, chat)

    async def message(self, frame: dict[str, Any]) -> None:
        if self.chat is None:
            raise NotFound("start a chat first")
        self.storing += 1
        try:
            await self._message(frame)
        finally:
            self.storing -= 1
            if not self.storing and self.deferred:
                missed = sorted(i for i in self.deferred if i not in self.sent)
                self.deferred.clear()
                if missed:
                    await self.lines(missed)

    async def _message(self, frame: dict[str, Any]) -> None:
        assert self.chat is not None
        inbound = service.message_inbound(
            self.chat, text=frame.get("text"), client_id=frame.get("id")
        )
        # Through the intake batcher: concurrent visitors' messages share transactions.
        prepared = tickets.prepare(inbound, self.db.settings)
        intake: IntakeBatcher = self.ws.app.state.intake
        for attempt in range(3):
            try:
                received = await intake.submit(prepared)
                break
            except IntegrityError:  # the same message, stored concurrently: look again
                if attempt == 2:
                    raise
        await send(
            self.ws, {"type": "ack", "client_id": frame.get("id"), "id": received.message_id}
        )
        if not received.created:  # stored before: echo what was stored, from the database
            await self.lines([received.message_id])
            return
        # Just stored: echo it without reading it back (its bus event is then a no-op).
        async with self.lock:
            if received.message_id not in self.sent:
                self.sent.add(received.message_id)
                self.last_id = max(self.last_id, received.message_id)
                line = service.ChatLine(
                    id=received.message_id,
                    client_id=str(frame.get("id")),
                    author="visitor",
                    name=self.chat.name,
                    text=prepared.text,
                    at=inbound.received_at or utcnow(),
                )
                await send(self.ws, line.as_event(self.link))


def _bot_frame(chat: ChatSession) -> dict[str, Any] | None:
    offer = chat.bot_offer
    if not offer:
        return None
    return {
        "articles": [
            {"id": a["id"], "title": a["title"], "url": a["path"]} for a in offer["articles"]
        ],
        "outcome": offer.get("outcome"),
    }


async def _agent_face(session: Any, user_id: int) -> tuple[str | None, str | None]:
    """The agent's name and picture, as visitors see them."""
    user = await session.get(User, user_id)
    row = await session.get(ChatAgent, user_id)
    return (user.name if user else None), (row.avatar_url if row else None)


@router.websocket("/api/v1/chat/visitor")
async def visitor_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    db: Database = websocket.app.state.db
    params = websocket.query_params
    raw_after = params.get("after") or "0"
    if not raw_after.isdigit() or len(raw_after) > 18:
        await websocket.close(code=4400, reason="after is a message id")
        return
    async with db.session(write=False) as session:
        try:
            inbox = await service.get_inbox(session, params.get("inbox"))
        except NotFound:
            await websocket.close(code=4404, reason="no chat inbox with this key")
            return
        secret = service.settings_secret(session)
        inbox_secret = inboxes.identity_secret(session, inbox)
    who, notice = None, None
    if params.get("identify") == "1":
        try:
            who = await _identify(websocket, inbox_secret)
        except MadadError as exc:
            notice = {"type": "error", "code": "identity", "detail": exc.detail}
        except (WebSocketDisconnect, RuntimeError):
            return
    if who is not None:
        visitor_id, token = identity.user_visitor(secret, inbox.key, who)
    else:
        known = identity.visitor_of(secret, inbox.key, params.get("token"))
        visitor_id, token = (
            (known, params["token"]) if known else identity.issue_visitor_token(secret, inbox.key)
        )
    async with db.session(write=False) as session:
        chat = await service.current_chat(session, inbox, visitor_id)
    sub = await websocket.app.state.bus.subscribe(f"visitor:{inbox.id}:{visitor_id}")
    v = _Visitor(websocket, inbox, visitor_id, sub)
    v.identity = who
    v.secret = secret
    v.last_id = int(raw_after)
    tasks: list[asyncio.Task[None]] = []
    try:
        if notice is not None:  # for the website's developer: the claim was not trusted
            await send(websocket, notice)
        await send(
            websocket,
            {"type": "hello", "token": token, "identified": who is not None,
             "name": who.name if who else None},
        )  # fmt: skip
        if chat is not None:
            await v.follow(chat)
        else:
            await v.state()
        await send(websocket, {"type": "ready"})
        tasks = [asyncio.create_task(_visitor_frames(v))]
        async for topic, event in sub:
            await v.on_bus(topic, event)
        if sub.overflowed:
            await websocket.close(code=4408, reason="fell behind; reconnect and resume")
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        v.close()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await sub.close()


async def _identify(websocket: WebSocket, inbox_secret: str | None) -> identity.Identity:
    """The identity the widget's first frame proves (`{"type": "identify", "user_id",
    "email", "name"?, "signature"}`); Invalid when it proves none."""
    try:
        async with asyncio.timeout(IDENTIFY_SECONDS):
            text = await websocket.receive_text()
    except TimeoutError:
        raise Invalid("identity", "no identify frame came") from None
    try:
        frame = orjson.loads(text) if len(text) <= MAX_FRAME else None
    except orjson.JSONDecodeError:
        frame = None
    if not isinstance(frame, dict) or frame.get("type") != "identify":
        raise Invalid("identity", "the first frame must be an identify frame")
    return identity.verify(inbox_secret, frame)


async def _visitor_frames(v: _Visitor) -> None:
    try:
        while True:
            await v.on_frame(await v.ws.receive_text())
    except (WebSocketDisconnect, RuntimeError):
        pass
    except Exception:
        log.exception("chat visitor frame failed")
    finally:
        await v.sub.close()
