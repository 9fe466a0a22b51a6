"""Console admin pages of the email channel: the mailboxes (list with the last poll status,
create, edit, enable or disable, test the connection, poll now).

Only admins and owners reach them (the `channels:manage` scope); everyone else gets 403.
Passwords are write-only: the form never shows them back, a blank field keeps the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from madad.auth.permissions import Scope
from madad.auth.sessions import SignedIn
from madad.channels.email import service
from madad.channels.email.models import Mailbox
from madad.errors import Invalid, MadadError
from madad.web import i18n
from madad.web.console import require_page, see_other
from madad.web.deps import DB
from madad.web.templating import render

router = APIRouter(include_in_schema=False)

Admin = Annotated[SignedIn, Depends(require_page(Scope.channels_manage))]
Done = Annotated[str | None, Query(max_length=40)]
# Mailbox ids are 32-bit integers on PostgreSQL: anything larger cannot name a row.
BoxId = Annotated[int, Path(ge=1, le=2**31 - 1)]

TEXT_FIELDS = (
    "name",
    "address",
    "display_name",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_folder",
    "after_import",
    "move_to_folder",
    "poll_interval_seconds",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "ack_subject",
    "ack_text",
)
FLAGS = ("enabled", "is_default", "verify_tls", "plus_addressing", "ack_enabled")
PASSWORDS = ("imap_password", "smtp_password")
NUMBERS = ("imap_port", "smtp_port", "poll_interval_seconds")
# Fields that may be left empty (stored as "not set").
OPTIONAL = {
    "display_name",
    "imap_host",
    "imap_port",
    "imap_username",
    "move_to_folder",
    "smtp_host",
    "smtp_port",
    "smtp_username",
    "ack_subject",
    "ack_text",
}
MAX_FIELD = 20_000  # the longest a mailbox setting can be (the acknowledgement's text)


def field_label(key: str) -> str:
    labels = {
        "name": i18n.gettext("Name"),
        "address": i18n.gettext("Address"),
        "display_name": i18n.gettext("Display name (From)"),
        "enabled": i18n.gettext("Enabled"),
        "is_default": i18n.gettext("Default mailbox"),
        "verify_tls": i18n.gettext("Verify TLS certificates"),
        "imap_host": i18n.gettext("IMAP server"),
        "imap_port": i18n.gettext("IMAP port"),
        "imap_security": i18n.gettext("IMAP security"),
        "imap_username": i18n.gettext("IMAP user name"),
        "imap_password": i18n.gettext("IMAP password"),
        "imap_folder": i18n.gettext("Folder to read"),
        "after_import": i18n.gettext("After import"),
        "move_to_folder": i18n.gettext("Move imported mail to folder"),
        "poll_interval_seconds": i18n.gettext("Poll every (seconds)"),
        "smtp_host": i18n.gettext("SMTP server"),
        "smtp_port": i18n.gettext("SMTP port"),
        "smtp_security": i18n.gettext("SMTP security"),
        "smtp_username": i18n.gettext("SMTP user name"),
        "smtp_password": i18n.gettext("SMTP password"),
        "plus_addressing": i18n.gettext("Ticket token in the reply address (plus-addressing)"),
        "ack_enabled": i18n.gettext("Send an acknowledgement to new tickets"),
        "ack_subject": i18n.gettext("Acknowledgement subject"),
        "ack_text": i18n.gettext("Acknowledgement text"),
        "password": i18n.gettext("Password"),
    }
    return labels.get(key, key)


def security_label(value: str) -> str:
    labels = {
        "ssl": i18n.gettext("SSL/TLS"),
        "starttls": i18n.gettext("STARTTLS"),
        "none": i18n.gettext("None (unencrypted)"),
    }
    return labels.get(value, value)


def poll_status_label(value: str) -> str:
    labels = {
        "never": i18n.gettext("Not polled yet"),
        "ok": i18n.gettext("OK"),
        "error": i18n.gettext("Error"),
    }
    return labels.get(value, value)


def poll_class(status: str) -> str:
    """The console's colours: green for a good poll, red for a failed one."""
    return {"ok": "status-active", "error": "status-inactive"}.get(status, "")


def done_message(code: str | None) -> str | None:
    messages = {
        "created": i18n.gettext("Mailbox created. Test the connection to check the settings."),
        "saved": i18n.gettext("Mailbox saved."),
        "enabled": i18n.gettext("Mailbox enabled: it is polled and sends mail again."),
        "disabled": i18n.gettext("Mailbox disabled: it is no longer polled."),
        "polling": i18n.gettext("A poll of this mailbox was queued."),
        "deleted": i18n.gettext("Mailbox deleted. The mail received through it stays."),
    }
    return messages.get(code or "")


# --- the form ---------------------------------------------------------------------------------


@dataclass
class MailboxForm:
    """What the admin typed (shown back on an error), the changes it makes, and the first
    field that is not even text or a number (the service checks everything else)."""

    shown: dict[str, Any]
    changes: dict[str, Any]
    problem: Invalid | None = None


def _defaults() -> dict[str, Any]:
    return {
        **dict.fromkeys(TEXT_FIELDS, ""),
        "imap_security": "ssl",
        "smtp_security": "starttls",
        "imap_folder": "INBOX",
        "after_import": "seen",
        "poll_interval_seconds": "60",
        "enabled": True,
        "is_default": False,
        "verify_tls": True,
        "plus_addressing": True,
        "ack_enabled": False,
    }


def form_of(box: Mailbox) -> dict[str, Any]:
    """A mailbox's settings as form values (passwords never leave the server)."""
    shown: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        value = getattr(box, key)
        shown[key] = "" if value is None else str(value)
    for key in FLAGS:
        shown[key] = bool(getattr(box, key))
    return shown


def read_form(form: FormData) -> MailboxForm:
    """The form's values and the service changes they make."""
    shown = _defaults()
    changes: dict[str, Any] = {}
    problem: Invalid | None = None
    for key in TEXT_FIELDS:
        raw = form.get(key, "")
        value = raw if isinstance(raw, str) else ""
        shown[key] = value
        if len(value) > MAX_FIELD:
            problem = problem or Invalid(key, i18n.gettext("this is far too long"))
            continue
        if key in NUMBERS:
            text = value.strip()
            if not text:
                if key not in OPTIONAL:
                    problem = problem or Invalid(key, i18n.gettext("a whole number is needed"))
                changes[key] = None
            elif text.isascii() and text.isdigit() and len(text) <= 9:
                changes[key] = int(text)
            else:
                problem = problem or Invalid(key, i18n.gettext("a whole number is needed"))
            continue
        if key in OPTIONAL and not value.strip():
            changes[key] = None
        else:
            changes[key] = value if key == "ack_text" else value.strip()
    for key in FLAGS:
        shown[key] = form.get(key) == "true"
        changes[key] = shown[key]
    for key in PASSWORDS:
        raw = form.get(key, "")
        value = raw if isinstance(raw, str) else ""
        if form.get(f"{key}_clear") == "true":
            changes[key] = ""  # the service removes the stored password
        elif value:
            if len(value) > MAX_FIELD:
                problem = problem or Invalid(key, i18n.gettext("this is far too long"))
            changes[key] = value
    return MailboxForm(shown, changes, problem)


def form_error(exc: MadadError) -> tuple[str, str | None]:
    """The message to show, and the field it is about (to mark it)."""
    if isinstance(exc, Invalid):
        message = exc.errors[0].message if exc.errors else exc.detail
        field = exc.field if exc.field in (*TEXT_FIELDS, *PASSWORDS) else None
        return f"{field_label(exc.field)}: {message}", field
    return exc.detail, None


# --- pages ------------------------------------------------------------------------------------


def _common() -> dict[str, Any]:
    return {
        "label": field_label,
        "security_label": security_label,
        "status_label": poll_status_label,
        "poll_class": poll_class,
        "securities": service.SECURITY,
    }


@router.get("/admin/mailboxes", response_class=HTMLResponse)
async def mailboxes_page(request: Request, session: DB, who: Admin, done: Done = None) -> Response:
    context = {
        **_common(),
        "boxes": await service.list_mailboxes(session, who.actor),
        "done": done_message(done),
    }
    return render(request, "admin_mailboxes.html", context)


async def _new_page(
    request: Request,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        **_common(),
        "box": None,
        "form": form or _defaults(),
        "error": error,
        "error_field": error_field,
    }
    return render(request, "admin_mailbox_new.html", context, status)


@router.get("/admin/mailboxes/new", response_class=HTMLResponse)
async def new_mailbox_page(request: Request, who: Admin) -> Response:
    return await _new_page(request)


@router.post("/admin/mailboxes", response_class=HTMLResponse)
async def create_mailbox(request: Request, session: DB, who: Admin) -> Response:
    parsed = read_form(await request.form())
    try:
        if parsed.problem is not None:
            raise parsed.problem
        box = await service.create_mailbox(session, who.actor, parsed.changes)
    except MadadError as exc:
        await session.rollback()
        message, field = form_error(exc)
        return await _new_page(
            request, form=parsed.shown, error=message, error_field=field, status=exc.status
        )
    return see_other(request, f"/admin/mailboxes/{box.id}?done=created")


async def _mailbox_page(
    request: Request,
    session: AsyncSession,
    who: SignedIn,
    mailbox_id: int,
    *,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    report: service.ConnectionReport | None = None,
    status: int = 200,
) -> Response:
    box = await service.get_mailbox(session, who.actor, mailbox_id)
    context = {
        **_common(),
        "box": box,
        "form": form or form_of(box),
        "error": error,
        "error_field": error_field,
        "report": report,
        "done": done_message(done),
    }
    return render(request, "admin_mailbox.html", context, status)


@router.get("/admin/mailboxes/{mailbox_id}", response_class=HTMLResponse)
async def mailbox_page(
    request: Request, session: DB, who: Admin, mailbox_id: BoxId, done: Done = None
) -> Response:
    return await _mailbox_page(request, session, who, mailbox_id, done=done)


@router.post("/admin/mailboxes/{mailbox_id}", response_class=HTMLResponse)
async def save_mailbox(request: Request, session: DB, who: Admin, mailbox_id: BoxId) -> Response:
    parsed = read_form(await request.form())
    try:
        if parsed.problem is not None:
            raise parsed.problem
        await service.update_mailbox(session, who.actor, mailbox_id, parsed.changes)
    except MadadError as exc:
        await session.rollback()
        if not isinstance(exc, Invalid) and exc.status in (403, 404):
            raise
        message, field = form_error(exc)
        return await _mailbox_page(
            request,
            session,
            who,
            mailbox_id,
            form=parsed.shown,
            error=message,
            error_field=field,
            status=exc.status,
        )
    return see_other(request, f"/admin/mailboxes/{mailbox_id}?done=saved")


@router.post("/admin/mailboxes/{mailbox_id}/enabled")
async def set_enabled(
    request: Request,
    session: DB,
    who: Admin,
    mailbox_id: BoxId,
    enabled: Annotated[bool, Form()],
) -> Response:
    await service.update_mailbox(session, who.actor, mailbox_id, {"enabled": enabled})
    done = "enabled" if enabled else "disabled"
    return see_other(request, f"/admin/mailboxes/{mailbox_id}?done={done}")


@router.post("/admin/mailboxes/{mailbox_id}/test", response_class=HTMLResponse)
async def test_connection(request: Request, session: DB, who: Admin, mailbox_id: BoxId) -> Response:
    """Log in to the mailbox's servers with its saved settings and show what they answered."""
    box = await service.get_mailbox(session, who.actor, mailbox_id)
    report = await service.test_connection(box, request.app.state.settings)
    return await _mailbox_page(request, session, who, mailbox_id, report=report)


@router.post("/admin/mailboxes/{mailbox_id}/poll", response_class=HTMLResponse)
async def poll_now(request: Request, session: DB, who: Admin, mailbox_id: BoxId) -> Response:
    try:
        await service.poll_now(session, who.actor, mailbox_id)
    except Invalid as exc:
        await session.rollback()
        message, _field = form_error(exc)
        return await _mailbox_page(request, session, who, mailbox_id, error=message, status=422)
    return see_other(request, f"/admin/mailboxes/{mailbox_id}?done=polling")


@router.post("/admin/mailboxes/{mailbox_id}/delete")
async def delete_mailbox(request: Request, session: DB, who: Admin, mailbox_id: BoxId) -> Response:
    await service.delete_mailbox(session, who.actor, mailbox_id)
    return see_other(request, "/admin/mailboxes?done=deleted")
