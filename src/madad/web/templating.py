"""HTML rendering: one Jinja2 environment over every domain's `templates/` folder.

Autoescaping is on for everything; the only markup that reaches a page unescaped is HTML that
was sanitised with nh3 before it was stored (filter `safe_html`, which sanitises again).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nh3
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from madad import __version__
from madad.web import i18n

PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATE_DIRS = [PACKAGE / "web" / "templates", *sorted(PACKAGE.glob("*/templates"))]
TEMPLATE_DIRS += sorted(PACKAGE.glob("*/*/templates"))


LOCAL_IMAGES = ("/api/v1/attachments/", "data:image/png", "data:image/jpeg", "data:image/gif")


def _only_local_images(tag: str, attribute: str, value: str) -> str | None:
    """Images load only from our own attachments: no tracking pixels, no remote fetches."""
    if tag == "img" and attribute in ("src", "srcset"):
        return value if value.startswith(LOCAL_IMAGES) else None
    return value


def _safe_html(value: str | None) -> Markup:
    return Markup(
        nh3.clean(
            value or "",
            link_rel="noopener noreferrer nofollow",
            attribute_filter=_only_local_images,
        )
    )


def _initials(name: str | None) -> str:
    parts = (name or "?").split()
    return "".join(p[0] for p in parts[:2]).upper() or "?"


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(d) for d in dict.fromkeys(TEMPLATE_DIRS)]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        datetime=i18n.fmt_datetime,
        date=i18n.fmt_date,
        ago=i18n.fmt_ago,
        number=i18n.fmt_number,
        safe_html=_safe_html,
        initials=_initials,
    )
    env.globals.update(version=__version__, languages=i18n.LANGUAGES)
    return env


ENV = build_environment()


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    """Render a page (or an htmx fragment) for the signed-in agent, in their language."""
    who = getattr(request.state, "signed_in", None)
    values: dict[str, Any] = {
        "request": request,
        "me": who.user if who else None,
        "csrf_token": who.csrf_token if who else "",
        "lang": i18n.current(),
        "dir": i18n.direction(),
        "now": datetime.now(UTC),
        "path": request.url.path,
    }
    values.update(context or {})
    html = ENV.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response
