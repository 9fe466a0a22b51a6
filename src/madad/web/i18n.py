"""Languages of the console: gettext catalogs (Babel), the request's locale, localised formats.

Catalogs live in `madad/web/locales/<lang>/LC_MESSAGES/messages.po` and are compiled in memory
when first used, so a fresh checkout needs no build step. `make messages` extracts new strings
from code and templates and merges them into every catalog. English is the source language.
"""

from __future__ import annotations

import contextvars
import io
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = {"en": "English", "ur": "اردو"}
RTL = {"ur"}
DEFAULT = "en"

_lang: contextvars.ContextVar[str] = contextvars.ContextVar("madad_lang", default=DEFAULT)
_zone: contextvars.ContextVar[str] = contextvars.ContextVar("madad_zone", default="UTC")


@cache
def translations(lang: str) -> NullTranslations:
    po = LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)


def activate(lang: str | None, time_zone: str | None = None) -> None:
    """Use this language and time zone for the rest of the current task (request)."""
    _lang.set(lang if lang in LANGUAGES else DEFAULT)
    _zone.set(time_zone or "UTC")


def current() -> str:
    return _lang.get()


def direction() -> str:
    return "rtl" if _lang.get() in RTL else "ltr"


def gettext(message: str, **variables: object) -> str:
    text = translations(_lang.get()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: object) -> str:
    text = translations(_lang.get()).ngettext(singular, plural, n)
    return text % {"num": n, **variables}


_ = gettext


def _locale() -> Locale:
    return Locale.parse(_lang.get())


def local(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        return dt.astimezone(ZoneInfo(_zone.get()))
    except (KeyError, ValueError):
        return dt


def fmt_datetime(dt: datetime | None, fmt: str = "medium") -> str:
    if dt is None:
        return ""
    return format_datetime(local(dt), format=fmt, locale=_locale())


def fmt_date(dt: datetime | date | None, fmt: str = "medium") -> str:
    """A datetime's day in the agent's time zone; a plain date as it is."""
    if dt is None:
        return ""
    if not isinstance(dt, datetime):
        return format_date(dt, format=fmt, locale=_locale())
    return format_date(local(dt).date(), format=fmt, locale=_locale())


def fmt_time_in(dt: datetime, zone: str) -> str:
    """A time of day in another time zone (a customer's local time)."""
    return format_datetime(dt.astimezone(ZoneInfo(zone)), format="short", locale=_locale())


def fmt_ago(dt: datetime | None, now: datetime | None = None) -> str:
    """ "5 minutes ago", localised."""
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    delta = dt - (now or datetime.now(UTC))
    return format_timedelta(delta, add_direction=True, threshold=1.1, locale=_locale())


def fmt_number(value: float | int | None) -> str:
    if value is None:
        return ""
    return format_decimal(value, locale=_locale())


def weekday_name(weekday: int, width: str = "abbreviated") -> str:
    """The weekday's name (0 = Monday) in the current language."""
    return str(_locale().days["format"][width][weekday])
