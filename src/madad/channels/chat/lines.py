"""What a chat shows: its public messages as the visitor (and the console) see them — with the
agents' pictures and the files attached — and the read receipts both ways."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.models import User
from madad.auth.permissions import SYSTEM
from madad.channels.chat import files as chat_files
from madad.channels.chat import queue
from madad.channels.chat.models import ChatAgent, ChatSession
from madad.errors import Invalid
from madad.tickets import service as tickets
from madad.tickets.models import Attachment, Message


@dataclass(frozen=True)
class ChatLine:
    """A message as the visitor sees it: public messages only, never an internal note."""

    id: int
    client_id: str | None
    author: str  # visitor | agent
    name: str | None
    text: str
    at: datetime
    avatar: str | None = None  # the agent's picture (an http(s) address), if they set one
    files: tuple[Attachment, ...] = ()

    def as_event(self, link: Callable[[int], str] | None = None) -> dict[str, Any]:
        """The widget's `message` frame; `link` makes a file's download address."""
        event: dict[str, Any] = {
            "type": "message",
            "id": self.id,
            "client_id": self.client_id,
            "from": self.author,
            "name": self.name,
            "text": self.text,
            "at": self.at.isoformat(),
        }
        if self.files:
            event["files"] = [
                {
                    "id": a.id,
                    "name": a.filename,
                    "size": a.size,
                    "type": a.content_type,
                    "url": link(a.id) if link else None,
                }
                for a in self.files
            ]
        if self.author == "agent":
            event["avatar"] = self.avatar
            event["initials"] = queue.initials(self.name)
        return event


async def visitor_lines(
    session: AsyncSession,
    chat: ChatSession,
    *,
    after_id: int = 0,
    message_ids: Sequence[int] | None = None,
    limit: int = 500,
    newest: bool = False,
) -> list[ChatLine]:
    """The chat's public messages after `after_id` (or exactly `message_ids`), oldest first:
    the first `limit` of them, or with `newest` the last `limit`."""
    stmt = (
        select(Message, User.name, ChatAgent.avatar_url)
        .outerjoin(User, User.id == Message.author_user_id)
        .outerjoin(ChatAgent, ChatAgent.user_id == Message.author_user_id)
        .where(Message.ticket_id == chat.ticket_id, Message.visibility == "public")
        .where(Message.id > after_id)
        .order_by(Message.id.desc() if newest else Message.id)
        .limit(limit)
    )
    if message_ids is not None:
        stmt = stmt.where(Message.id.in_(list(message_ids)))
    prefix = f"chat:{chat.visitor_id}:"
    out = []
    rows = (await session.execute(stmt)).all()
    attached = await chat_files.files_of(session, [m.id for m, *_ in rows])
    for message, agent_name, avatar in reversed(rows) if newest else rows:
        inbound = message.direction == "inbound"
        external = message.external_id or ""
        out.append(
            ChatLine(
                id=message.id,
                client_id=external[len(prefix) :] if external.startswith(prefix) else None,
                author="visitor" if inbound else "agent",
                name=chat.name if inbound else agent_name,
                text=message.text,
                at=message.created_at,
                avatar=None if inbound else avatar,
                files=tuple(attached.get(message.id, ())),
            )
        )
    return out


# --- read receipts -------------------------------------------------------------------------------


async def _seen(
    session: AsyncSession, chat: ChatSession, upto: Any, *, direction: str, column: Any
) -> int | None:
    if not isinstance(upto, int) or isinstance(upto, bool) or not 0 < upto < 2**63:
        raise Invalid("id", "the id of the last message seen")
    newest = await session.scalar(
        select(func.max(Message.id)).where(
            Message.ticket_id == chat.ticket_id,
            Message.direction == direction,
            Message.visibility == "public",
            Message.id <= upto,
        )
    )
    if newest is None:
        return None
    moved = await session.execute(
        update(ChatSession)
        .where(ChatSession.id == chat.id, or_(column.is_(None), column < newest))
        .values({column.key: newest})
        .execution_options(synchronize_session=False)
    )
    return newest if moved.rowcount == 1 else None  # type: ignore[attr-defined]


async def visitor_saw(session: AsyncSession, chat: ChatSession, upto: Any) -> int | None:
    """The visitor saw the agents' messages up to `upto`: the receipt moves on, those messages
    are marked read (`message.delivery`), and agents hear it. None: nothing new was seen."""
    newest = await _seen(
        session, chat, upto, direction="outbound", column=ChatSession.visitor_read_id
    )
    if newest is None:
        return None
    unread = await session.scalars(
        select(Message.id).where(
            Message.ticket_id == chat.ticket_id,
            Message.direction == "outbound",
            Message.visibility == "public",
            Message.id <= newest,
            Message.delivery_status.in_(("queued", "sent", "delivered")),
        )
    )
    for message_id in list(unread):
        await tickets.set_delivery_status(session, SYSTEM, message_id, status="read")
    queue.announce(
        session,
        f"chat:{chat.public_id}",
        {"type": "seen", "from": "visitor", "session": chat.public_id, "id": newest},
    )
    return newest


async def agent_saw(session: AsyncSession, chat: ChatSession, upto: Any) -> int | None:
    """An agent saw the visitor's messages up to `upto`: the visitor hears it ("Seen")."""
    newest = await _seen(session, chat, upto, direction="inbound", column=ChatSession.agent_read_id)
    if newest is not None:
        queue.announce(
            session,
            f"chat:{chat.public_id}",
            {"type": "seen", "from": "agent", "session": chat.public_id, "id": newest},
        )
    return newest
