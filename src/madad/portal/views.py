"""The portal's pages for a signed-in customer: their requests (and their organisation's,
where it shares them), a request's public conversation with its files, the reply box, the new
request form (started from a help-centre article, it carries the article along).

Mobile first, in English and Urdu, with the help centre's look. Pages are plain HTML forms
(no script needed); `portal.js` only adds comforts.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from madad.db import settings_of
from madad.errors import Conflict, Forbidden, Invalid, MadadError, TooLarge, TooManyRequests
from madad.files import FileStore, content_disposition
from madad.portal import service
from madad.portal import sign_in_views as sign_in_views  # its pages come first
from madad.portal.access import Customer
from madad.portal.mail import home_of
from madad.portal.web import (
    DB,
    Lang,
    Signed,
    add_language_routes,
    not_found_page,
    page,
    portal_context,
    router,
)
from madad.tickets.inbound import InboundAttachment
from madad.web import i18n
from madad.web.templating import render

__all__ = ["router"]

ASSETS = Path(__file__).parent / "static"
ASSET_TYPES = {"portal.js": "text/javascript", "portal.css": "text/css"}
Cursor = Annotated[str | None, Query(max_length=200)]
Text = Annotated[str | None, Form(max_length=100_000)]
FormId = Annotated[str, Form(max_length=64)]


def _store(request: Request) -> FileStore:
    return request.app.state.files


def _form_id() -> str:
    return secrets.token_urlsafe(18)


def size_text(size: int) -> str:
    """A size as a customer reads it: "20 MB", "1.5 MB", "700 KB"."""
    _ = i18n.gettext
    if size >= 1024 * 1024:
        return _("%(n)s MB", n=i18n.fmt_number(round(size / (1024 * 1024), 1)))
    return _("%(n)s KB", n=i18n.fmt_number(max(1, round(size / 1024))))


def _limits(session: AsyncSession) -> dict[str, Any]:
    settings = settings_of(session)
    return {
        "files": settings.max_attachments_per_message,
        "size": size_text(settings.max_attachment_bytes),
    }


def error_text(exc: MadadError, session: AsyncSession) -> str:
    """What went wrong, in the customer's language."""
    _ = i18n.gettext
    limits = _limits(session)
    if isinstance(exc, TooManyRequests):
        return _("You sent many messages in a short time. Please wait a while and try again.")
    if isinstance(exc, TooLarge):
        return _("A file is too large: each can be at most %(size)s.", **limits)
    if isinstance(exc, Conflict):
        return _("This form was already sent. Reload the page to write another message.")
    if isinstance(exc, Forbidden):
        return _("Only the person who opened this request can reply to it.")
    words = {
        "text": _("Write your reply first."),
        "subject": _("Give your request a subject, or choose a topic."),
        "description": _("Describe what you need."),
        "topic": _("Choose one of the topics offered."),
        "form_id": _("The form is incomplete. Reload the page and try again."),
        "attachments": _("You can attach at most %(files)s files.", **limits),
    }
    field = exc.errors[0].field if exc.errors else ""
    if field in words:
        return words[field]
    if field.startswith(("subject", "text", "description")):
        return _("The text is too long.")
    return exc.detail


async def uploads(request: Request, session: AsyncSession) -> list[InboundAttachment]:
    """The files of a multipart form (an empty file input sends nothing), within the limits
    every channel has (`max_attachments_per_message`, `max_attachment_bytes`)."""
    settings = settings_of(session)
    form = await request.form()
    files = [f for f in form.getlist("attachments") if isinstance(f, UploadFile) and f.filename]
    if len(files) > settings.max_attachments_per_message:
        raise Invalid("attachments", f"at most {settings.max_attachments_per_message} files")
    out = []
    for f in files:
        data = await f.read(settings.max_attachment_bytes + 1)
        if len(data) > settings.max_attachment_bytes:
            raise TooLarge(f"{f.filename} is larger than {settings.max_attachment_bytes} bytes")
        out.append(
            InboundAttachment(
                filename=f.filename or "attachment",
                content_type=(f.content_type or "application/octet-stream")[:200],
                data=data,
            )
        )
    return out


# --- the lists -----------------------------------------------------------------------------------


async def _list(
    request: Request,
    session: AsyncSession,
    lang: str,
    who: Customer,
    *,
    organisation: bool,
    cursor: str | None,
) -> Response:
    found = await service.list_tickets(session, who, organisation=organisation, cursor=cursor)
    here = home_of(lang) + ("/organisation" if organisation else "")
    context = portal_context(
        request,
        lang,
        who,
        tab="organisation" if organisation else "mine",
        page=found,
        next_url=f"{here}?cursor={found.next_cursor}" if found.next_cursor else None,
        first_url=here if cursor else None,
    )
    return render(request, "portal_tickets.html", context)


@page("GET", "")
async def my_requests(
    request: Request, session: DB, lang: Lang, who: Signed, cursor: Cursor = None
) -> Response:
    return await _list(request, session, lang, who, organisation=False, cursor=cursor)


@page("GET", "/organisation")
async def organisation_requests(
    request: Request, session: DB, lang: Lang, who: Signed, cursor: Cursor = None
) -> Response:
    return await _list(request, session, lang, who, organisation=True, cursor=cursor)


# --- one request ---------------------------------------------------------------------------------


async def _ticket_page(
    request: Request,
    session: AsyncSession,
    lang: str,
    who: Customer,
    ticket_id: int,
    *,
    text: str = "",
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
    follow: bool = False,
) -> Response:
    conv = await service.conversation(session, who, ticket_id, follow=follow)
    context = portal_context(
        request,
        lang,
        who,
        tab="mine" if conv.own else "organisation",
        conv=conv,
        t=conv.ticket,
        text=text,
        error=error,
        notice=notice,
        form_id=_form_id(),
        limits=_limits(session),
        size_text=size_text,
    )
    return render(request, "portal_ticket.html", context, status)


def _notice(code: str | None) -> str | None:
    _ = i18n.gettext
    notices = {
        "sent": _("Thank you: we have your request and will answer here and by email."),
        "replied": _("Your reply is sent."),
    }
    return notices.get(code or "")


@page("GET", "/tickets/{ticket_id:int}")
async def ticket_page(
    request: Request,
    session: DB,
    lang: Lang,
    who: Signed,
    ticket_id: int,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    return await _ticket_page(request, session, lang, who, ticket_id, notice=_notice(done))


@page("POST", "/tickets/{ticket_id:int}/reply")
async def reply(
    request: Request,
    session: DB,
    lang: Lang,
    who: Signed,
    ticket_id: int,
    form_id: FormId = "",
    text: Text = None,
) -> Response:
    try:
        received = await service.reply(
            session,
            who,
            ticket_id,
            text=text,
            attachments=await uploads(request, session),
            form_id=form_id,
            language=lang,
            store=_store(request),
        )
    except MadadError as exc:
        await session.rollback()
        if exc.status == 404:
            return not_found_page(request)
        return await _ticket_page(
            request,
            session,
            lang,
            who,
            ticket_id,
            text=text or "",
            error=error_text(exc, session),
            status=exc.status,
            follow=True,
        )
    target = received.ticket_id
    return RedirectResponse(
        f"{home_of(lang)}/tickets/{target}?done=replied#m{received.message_id}", status_code=303
    )


@page("GET", "/attachments/{attachment_id:int}")
async def download(
    request: Request, session: DB, lang: Lang, who: Signed, attachment_id: int
) -> Response:
    found = await service.attachment(session, who, attachment_id)
    data = _store(request).get(found.sha256)
    # Always a download, never rendered by the browser in our origin.
    return Response(
        content=data,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(found.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, no-store",
        },
    )


# --- a new request -------------------------------------------------------------------------------


async def _new_page(
    request: Request,
    session: AsyncSession,
    lang: str,
    who: Customer,
    *,
    article_id: int | None,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    article = await service.public_article(session, article_id, lang)
    context = portal_context(
        request,
        lang,
        who,
        tab="new",
        topics=await service.topics(session),
        article=article,
        form=form or {"topic": "", "subject": "", "description": ""},
        form_id=_form_id(),
        error=error,
        limits=_limits(session),
        size_text=size_text,
    )
    return render(request, "portal_new.html", context, status)


def _article_id(raw: str | None) -> int | None:
    if raw and raw.isdigit() and raw.isascii() and len(raw) <= 10:
        return int(raw)
    return None


@page("GET", "/new")
async def new_form(
    request: Request,
    session: DB,
    lang: Lang,
    who: Signed,
    article: Annotated[str | None, Query(max_length=12)] = None,
) -> Response:
    return await _new_page(request, session, lang, who, article_id=_article_id(article))


@page("POST", "/new")
async def new_request(
    request: Request,
    session: DB,
    lang: Lang,
    who: Signed,
    form_id: FormId = "",
    topic: Annotated[str, Form(max_length=48)] = "",
    subject: Annotated[str, Form(max_length=2000)] = "",
    description: Text = None,
    article: Annotated[str, Form(max_length=12)] = "",
    visitor: Annotated[str, Form(max_length=64)] = "",
    help_session: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    article_id = _article_id(article)
    try:
        received = await service.open_request(
            session,
            who,
            subject=subject,
            description=description,
            topic=topic or None,
            attachments=await uploads(request, session),
            article_id=article_id,
            visitor=visitor or None,
            help_session=help_session or None,
            form_id=form_id,
            language=lang,
            store=_store(request),
        )
    except MadadError as exc:
        await session.rollback()
        form = {"topic": topic, "subject": subject, "description": description or ""}
        return await _new_page(
            request,
            session,
            lang,
            who,
            article_id=article_id,
            form=form,
            error=error_text(exc, session),
            status=exc.status,
        )
    return RedirectResponse(
        f"{home_of(lang)}/tickets/{received.ticket_id}?done=sent", status_code=303
    )


@router.get("/portal/assets/{name}")
async def asset(name: str) -> Response:
    if name not in ASSET_TYPES:
        return Response(status_code=404)
    return FileResponse(
        ASSETS / name,
        media_type=ASSET_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


add_language_routes()
