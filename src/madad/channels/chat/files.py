"""Files in chat, both ways: what may be sent (pictures, PDFs and text files, known by their
bytes, within the configured size), how a visitor uploads one (with a short-lived upload token
the socket gives the open chat's visitor) and how they download one (a signed link that
expires; always a download, never rendered in our origin).

A file sent by the visitor is an attachment of their message through the one ingress; one the
agent sends is an attachment of the ordinary reply. Both are the ticket's attachments.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.channels.chat.models import ChatSession
from madad.channels.chat.queue import OPEN_STATES
from madad.db import settings_of
from madad.errors import Forbidden, Invalid, NotFound, TooLarge
from madad.files import safe_filename
from madad.tickets.inbound import InboundAttachment
from madad.tickets.models import Attachment, Message

UPLOAD_SECONDS = 3600  # an upload token works this long (the socket hands out fresh ones)
LINK_SECONDS = 24 * 3600  # a download link works this long (a reconnect brings new ones)
KINDS = "a picture (PNG, JPEG, GIF or WebP), a PDF or a text file"
ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,.txt"


def content_type_of(data: bytes, filename: str) -> str | None:
    """The type the bytes show, among those chat accepts; None for anything else (a declared
    type or a file name alone proves nothing)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if filename.lower().endswith(".txt") and b"\x00" not in data:
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        head = data[:512].lstrip().lower()
        if head.startswith((b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml")):
            return None  # markup named .txt
        return "text/plain"
    return None


def check_file(session: AsyncSession, filename: str | None, data: bytes) -> InboundAttachment:
    """A file as chat takes it: within the configured size, of an accepted kind, safely named."""
    limit = settings_of(session).max_attachment_bytes
    if len(data) > limit:
        raise TooLarge(f"a file is at most {limit} bytes; this one has {len(data)}")
    if not data:
        raise Invalid("file", "the file is empty")
    name = safe_filename(filename)
    kind = content_type_of(data, name)
    if kind is None:
        raise Invalid("file", f"send {KINDS}")
    return InboundAttachment(filename=name, content_type=kind, data=data)


# --- signed tokens ---------------------------------------------------------------------------


def _mac(secret: str, *parts: object) -> str:
    message = "\x00".join(str(p) for p in parts).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def upload_token(secret: str, chat: ChatSession, *, now: float | None = None) -> str:
    """What lets the open chat's visitor upload a file into it, for UPLOAD_SECONDS."""
    until = int((now or time.time()) + UPLOAD_SECONDS)
    mac = _mac(secret, "chat-upload", chat.public_id, chat.visitor_id, until)
    return f"{chat.public_id}.{until}.{mac}"


async def chat_of_upload(session: AsyncSession, secret: str, token: str) -> ChatSession:
    """The open chat an upload token names; Forbidden for a forged or expired one."""
    public_id, _, rest = (token or "").partition(".")
    until, _, mac = rest.partition(".")
    if not (public_id and until.isdigit() and mac) or int(until) < time.time():
        raise Forbidden("the upload token is not valid (or has expired); reconnect")
    chat = await session.scalar(select(ChatSession).where(ChatSession.public_id == public_id))
    expected = _mac(secret, "chat-upload", public_id, chat.visitor_id if chat else "", until)
    if chat is None or not hmac.compare_digest(mac, expected):
        raise Forbidden("the upload token is not valid (or has expired); reconnect")
    if chat.state not in OPEN_STATES:
        raise Forbidden("this chat has ended; start a new one")
    return chat


def download_path(
    secret: str, chat: ChatSession, attachment_id: int, *, now: float | None = None
) -> str:
    """A visitor's link to one of their chat's files, for LINK_SECONDS."""
    until = int((now or time.time()) + LINK_SECONDS)
    mac = _mac(secret, "chat-file", attachment_id, chat.public_id, until)
    return f"/api/v1/chat/files/{attachment_id}?c={chat.public_id}&e={until}&s={mac}"


async def visitor_download(
    session: AsyncSession, secret: str, attachment_id: int, *, chat_id: str, until: str, mac: str
) -> Attachment:
    """The file a visitor's signed link names: one of that chat's public messages' files."""
    valid = until.isdigit() and int(until) >= time.time() and len(chat_id) <= 32
    expected = _mac(secret, "chat-file", attachment_id, chat_id, until)
    if not valid or not hmac.compare_digest(mac, expected):
        raise NotFound("this link is not valid (or has expired); open the chat again")
    found = await session.scalar(
        select(Attachment)
        .join(Message, Message.id == Attachment.message_id)
        .join(ChatSession, ChatSession.ticket_id == Message.ticket_id)
        .where(
            Attachment.id == attachment_id,
            ChatSession.public_id == chat_id,
            Message.visibility == "public",
        )
    )
    if found is None:
        raise NotFound("no such file in this chat")
    return found


async def files_of(session: AsyncSession, message_ids: list[int]) -> dict[int, list[Attachment]]:
    """The attachments of these messages, by message, in one query."""
    if not message_ids:
        return {}
    out: dict[int, list[Attachment]] = {}
    rows = await session.scalars(
        select(Attachment).where(Attachment.message_id.in_(message_ids)).order_by(Attachment.id)
    )
    for a in rows:
        out.setdefault(a.message_id, []).append(a)
    return out
