"""Chat inboxes: what `/widget.js?inbox=KEY` names — a public key, the queue its chats enter —
and their settings: the one inbox the help centre shows. The one writer of `chat_inboxes`."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth import service as auth
from madad.auth.permissions import Actor, Scope
from madad.channels.chat import identity
from madad.channels.chat.models import ChatInbox
from madad.db import settings_of, utcnow
from madad.errors import Invalid, NotFound


def _text(value: Any, field: str, max_len: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid(field, "required")
    text = value.strip()
    if len(text) > max_len:
        raise Invalid(field, f"1-{max_len} characters")
    if "\x00" in text:
        raise Invalid(field, "must not contain the NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(field, "must be valid Unicode") from None
    return text


async def create_inbox(
    session: AsyncSession, actor: Actor, *, name: str, queue: str | None = None
) -> ChatInbox:
    actor.require(Scope.channels_manage)
    inbox = ChatInbox(
        key=secrets.token_urlsafe(18),
        name=_text(name, "name", 200),
        queue=_text(queue or "chat", "queue", 100),
        help_centre=False,
        bot=False,
        created_at=utcnow(),
    )
    session.add(inbox)
    await session.flush()
    auth.audit(session, actor, "chat_inbox.created", "chat_inbox", inbox.id, {"name": inbox.name})
    return inbox


async def get_inbox(session: AsyncSession, key: str | None) -> ChatInbox:
    inbox = None
    if key and len(key) <= 64:
        inbox = await session.scalar(select(ChatInbox).where(ChatInbox.key == key))
    if inbox is None:
        raise NotFound("no chat inbox with this key")
    return inbox


async def inbox_by_id(session: AsyncSession, actor: Actor, inbox_id: int) -> ChatInbox:
    actor.require(Scope.channels_manage)
    inbox = await session.get(ChatInbox, inbox_id)
    if inbox is None:
        raise NotFound(f"no chat inbox {inbox_id}")
    return inbox


async def list_inboxes(session: AsyncSession) -> list[ChatInbox]:
    return list(await session.scalars(select(ChatInbox).order_by(ChatInbox.id)))


async def help_inbox(session: AsyncSession) -> ChatInbox | None:
    """The inbox whose widget the help centre shows, if an admin chose one."""
    return await session.scalar(
        select(ChatInbox).where(ChatInbox.help_centre.is_(True)).order_by(ChatInbox.id).limit(1)
    )


async def update_inbox(
    session: AsyncSession,
    actor: Actor,
    inbox_id: int,
    *,
    name: str | None = None,
    queue: str | None = None,
    help_centre: bool | None = None,
    bot: bool | None = None,
) -> ChatInbox:
    """Rename, move to another queue, make it the help centre's inbox (at most one is:
    choosing one unchooses the other), or turn the answer bot on or off."""
    inbox = await inbox_by_id(session, actor, inbox_id)
    changes: dict[str, Any] = {}
    if name is not None:
        inbox.name = changes["name"] = _text(name, "name", 200)
    if queue is not None:
        inbox.queue = changes["queue"] = _text(queue, "queue", 100)
    if help_centre is not None:
        if help_centre:
            await session.execute(
                update(ChatInbox)
                .where(ChatInbox.id != inbox.id, ChatInbox.help_centre.is_(True))
                .values(help_centre=False)
                .execution_options(synchronize_session=False)
            )
        inbox.help_centre = changes["help_centre"] = help_centre
    if bot is not None:
        inbox.bot = changes["bot"] = bot
    await session.flush()
    auth.audit(session, actor, "chat_inbox.updated", "chat_inbox", inbox.id, changes)
    return inbox


# --- the identity secret -----------------------------------------------------------------------


def identity_secret(session: AsyncSession, inbox: ChatInbox) -> str | None:
    """The inbox's identity secret, or None while it verifies no identities."""
    if inbox.identity_nonce is None:
        return None
    app_secret = settings_of(session).resolved_secret_key()
    return identity.inbox_secret(app_secret, inbox.id, inbox.identity_nonce)


async def rotate_identity_secret(
    session: AsyncSession, actor: Actor, inbox_id: int
) -> tuple[ChatInbox, str]:
    """A new identity secret for the inbox (the old one stops working at once); returned this
    once — Madad keeps only the nonce it is derived from."""
    inbox = await inbox_by_id(session, actor, inbox_id)
    inbox.identity_nonce = secrets.token_hex(16)
    inbox.identity_rotated_at = utcnow()
    await session.flush()
    auth.audit(session, actor, "chat_inbox.identity_secret_rotated", "chat_inbox", inbox.id)
    secret = identity_secret(session, inbox)
    assert secret is not None
    return inbox, secret


async def remove_identity_secret(session: AsyncSession, actor: Actor, inbox_id: int) -> ChatInbox:
    """The inbox verifies no identities any more: every visitor is anonymous."""
    inbox = await inbox_by_id(session, actor, inbox_id)
    inbox.identity_nonce = None
    inbox.identity_rotated_at = utcnow()
    await session.flush()
    auth.audit(session, actor, "chat_inbox.identity_secret_removed", "chat_inbox", inbox.id)
    return inbox
