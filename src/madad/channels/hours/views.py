"""Console admin pages of the live queues: `/admin/live-queues` (list with open now / back at),
create, and edit a queue's name, key, time zone, weekly hours and holidays.

Only admins and owners reach them (`channels:manage`); everyone else gets 403. Every bad input is
shown back on the form with the field it is about, never a 500.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from madad.auth.permissions import Scope
from madad.auth.sessions import SignedIn
from madad.channels.hours import calendar as cal
from madad.channels.hours import service
from madad.channels.hours.models import LiveQueue
from madad.errors import Invalid, MadadError
from madad.web import i18n
from madad.web.console import require_page, see_other
from madad.web.deps import DB
from madad.web.templating import render

router = APIRouter(include_in_schema=False)

Admin = Annotated[SignedIn, Depends(require_page(Scope.channels_manage))]
Done = Annotated[str | None, Query(max_length=40)]
Key = Annotated[str, Path(min_length=1, max_length=64)]
MAX_FIELD = 20_000
TEXT_FIELDS = ("name", "key", "time_zone", *(f"hours_{d}" for d in cal.WEEKDAYS), "holidays")


def field_label(key: str) -> str:
    labels = {
        "name": i18n.gettext("Queue name"),
        "key": i18n.gettext("Public key"),
        "time_zone": i18n.gettext("Time zone"),
        "holidays": i18n.gettext("Holidays"),
        "callbacks_enabled": i18n.gettext("Customers may ask for a callback"),
        "weekly_hours": i18n.gettext("Weekly hours"),
    }
    if key.startswith(("hours_", "weekly_hours.")):
        day = key.split("_", 1)[1] if key.startswith("hours_") else key.split(".", 1)[1]
        if day in cal.WEEKDAYS:
            return i18n.weekday_name(cal.WEEKDAYS.index(day), "wide")
    if key.startswith("holidays"):
        return labels["holidays"] + key[len("holidays") :]
    return labels.get(key, key)


def done_message(code: str | None) -> str | None:
    messages = {
        "created": i18n.gettext("Live queue created."),
        "saved": i18n.gettext("Hours saved."),
    }
    return messages.get(code or "")


def _defaults() -> dict[str, Any]:
    shown: dict[str, Any] = dict.fromkeys(TEXT_FIELDS, "")
    shown["time_zone"] = "UTC"
    for d in cal.WEEKDAYS[:5]:
        shown[f"hours_{d}"] = "09:00-17:00"
    shown["callbacks_enabled"] = True
    return shown


def form_of(queue: LiveQueue) -> dict[str, Any]:
    calendar = service.calendar_of(queue)
    shown: dict[str, Any] = {"name": queue.name, "key": queue.key, "time_zone": queue.time_zone}
    for d, ivs in zip(cal.WEEKDAYS, calendar.weekly, strict=True):
        shown[f"hours_{d}"] = ", ".join(str(iv) for iv in ivs)
    shown["holidays"] = cal.holidays_to_text(calendar.holidays)
    shown["callbacks_enabled"] = queue.callbacks_enabled
    return shown


def read_form(form: FormData) -> dict[str, Any]:
    """What the admin typed, to turn into the service's arguments and to show back."""
    shown: dict[str, Any] = {}
    for key in TEXT_FIELDS:
        raw = form.get(key, "")
        shown[key] = raw if isinstance(raw, str) else ""
    shown["callbacks_enabled"] = form.get("callbacks_enabled") == "true"
    return shown


def arguments(shown: dict[str, Any]) -> dict[str, Any]:
    """The service's arguments from the form (raises Invalid naming the form's field)."""
    for key in TEXT_FIELDS:
        if len(shown[key]) > MAX_FIELD:
            raise Invalid(key, i18n.gettext("this is far too long"))
    weekly = {
        d: [part for part in shown[f"hours_{d}"].replace(";", ",").split(",") if part.strip()]
        for d in cal.WEEKDAYS
    }
    try:
        cal.weekly_from_text(weekly)
    except Invalid as exc:
        day = exc.field.split(".", 1)[1] if "." in exc.field else exc.field
        raise Invalid(f"hours_{day}", exc.errors[0].message) from None
    holidays = [
        {"date": h.day.isoformat(), "hours": [str(iv) for iv in h.intervals], "name": h.name}
        for h in cal.holidays_from_text(shown["holidays"])
    ]
    return {
        "name": shown["name"],
        "key": shown["key"].strip() or None,
        "time_zone": shown["time_zone"],
        "weekly_hours": weekly,
        "holidays": holidays,
        "callbacks_enabled": shown["callbacks_enabled"],
    }


def form_error(exc: MadadError) -> tuple[str, str | None]:
    """The message to show, and the form field it is about (to mark it)."""
    if isinstance(exc, Invalid):
        message = exc.errors[0].message if exc.errors else exc.detail
        field = exc.field
        if field.startswith("weekly_hours."):
            field = "hours_" + field.split(".", 1)[1]
        elif field.startswith("holidays"):
            field = "holidays"
        shown = field if field in TEXT_FIELDS else None
        return f"{field_label(exc.field)}: {message}", shown
    return exc.detail, None


def _common() -> dict[str, Any]:
    return {
        "label": field_label,
        "weekdays": [(d, i18n.weekday_name(i, "wide")) for i, d in enumerate(cal.WEEKDAYS)],
        "local_time": i18n.fmt_time_in,
    }


@router.get("/admin/live-queues", response_class=HTMLResponse)
async def queues_page(request: Request, session: DB, who: Admin, done: Done = None) -> Response:
    queues = await service.list_queues(session, who.actor)
    context = {
        **_common(),
        "rows": [(q, service.status(q)) for q in queues],
        "done": done_message(done),
    }
    return render(request, "admin_live_queues.html", context)


def _new_page(
    request: Request,
    *,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        **_common(),
        "queue": None,
        "form": form or _defaults(),
        "error": error,
        "error_field": error_field,
    }
    return render(request, "admin_live_queue_new.html", context, status)


@router.get("/admin/live-queues/new", response_class=HTMLResponse)
async def new_queue_page(request: Request, who: Admin) -> Response:
    return _new_page(request)


@router.post("/admin/live-queues", response_class=HTMLResponse)
async def create_queue(request: Request, session: DB, who: Admin) -> Response:
    shown = read_form(await request.form())
    try:
        queue = await service.create_queue(session, who.actor, **arguments(shown))
    except MadadError as exc:
        await session.rollback()
        message, field = form_error(exc)
        return _new_page(request, form=shown, error=message, error_field=field, status=exc.status)
    return see_other(request, f"/admin/live-queues/{queue.key}?done=created")


async def _queue_page(
    request: Request,
    session: AsyncSession,
    who: SignedIn,
    key: str,
    *,
    done: str | None = None,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    error_field: str | None = None,
    status: int = 200,
) -> Response:
    queue = await service.get_queue(session, who.actor, key)
    context = {
        **_common(),
        "queue": queue,
        "state": service.status(queue),
        "form": form or form_of(queue),
        "error": error,
        "error_field": error_field,
        "done": done_message(done),
    }
    return render(request, "admin_live_queue.html", context, status)


@router.get("/admin/live-queues/{key}", response_class=HTMLResponse)
async def queue_page(
    request: Request, session: DB, who: Admin, key: Key, done: Done = None
) -> Response:
    return await _queue_page(request, session, who, key, done=done)


@router.post("/admin/live-queues/{key}", response_class=HTMLResponse)
async def save_queue(request: Request, session: DB, who: Admin, key: Key) -> Response:
    shown = read_form(await request.form())
    try:
        args = arguments(shown)
        if args["key"] is None:
            args.pop("key")
        queue = await service.update_queue(session, who.actor, key, args)
    except MadadError as exc:
        await session.rollback()
        if not isinstance(exc, Invalid) and exc.status in (403, 404):
            raise
        message, field = form_error(exc)
        return await _queue_page(
            request, session, who, key, form=shown, error=message, error_field=field,
            status=exc.status,
        )  # fmt: skip
    return see_other(request, f"/admin/live-queues/{queue.key}?done=saved")
