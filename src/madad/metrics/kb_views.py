"""The knowledge-base report page for supervisors (`/reports/knowledge-base`): articles by
reads with read time, helpfulness and the contacts started from them, the failed searches (the
content gaps), the bot's resolution and handoff, deflection — and its CSV and JSON exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from madad.auth import sessions
from madad.auth.permissions import Scope
from madad.errors import Invalid, NotFound
from madad.kb.service import help_path
from madad.metrics import kb_report, reports
from madad.metrics.views import PRESETS, fmt_duration, fmt_ratio, parse_period
from madad.web import i18n
from madad.web.console import require_page
from madad.web.deps import DB
from madad.web.i18n import gettext as _
from madad.web.labels import channel_label
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
Manager = Annotated[sessions.SignedIn, Depends(require_page(Scope.reports_read))]
Day = Annotated[str | None, Query(max_length=10)]
PATH = "/reports/knowledge-base"


def _value(fig: dict[str, Any], name: str) -> float | None:
    got = fig[name]
    if name == "read_time":
        return got["median"]
    if isinstance(got, dict):
        return got["value"]
    return float(got)


def _card(name: str, now: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    labels = {
        "views": (_("Article views"), _("Article pages opened."), "count", "none"),
        "reads": (_("Reads"), _("Views with the article visible for 10 s or more."), "count",
                  "none"),
        "read_time": (_("Median read time"), _("Visible time of each read, capped at 30 min."),
                      "seconds", "none"),
        "helpful": (_("Helpful"), _("“Yes” votes on “was this article helpful?”, of all votes."),
                    "ratio", "higher"),
        "no_result": (_("Searches with no result"), _("Searches customers settled on that "
                      "found no article, of all searches."), "ratio", "lower"),
        "deflection": (_("Deflection"), _("Help-centre visits that read an article after which "
                       "the visitor opened no ticket or chat within 24 h, of visits that read "
                       "one."), "ratio", "higher"),
    }  # fmt: skip
    label, help_text, unit, better = labels[name]
    value, prev = _value(now, name), _value(before, name)
    if unit == "seconds":
        shown, prev_shown = fmt_duration(value), fmt_duration(prev)
        t = now["read_time"]
        detail = _(
            "90th percentile %(p90)s · %(n)s reads",
            p90=fmt_duration(t["p90"]),
            n=i18n.fmt_number(t["n"]),
        )
    elif unit == "ratio":
        shown, prev_shown = fmt_ratio(value), fmt_ratio(prev)
        detail = _(
            "%(num)s of %(den)s",
            num=i18n.fmt_number(now[name]["numerator"]),
            den=i18n.fmt_number(now[name]["denominator"]),
        )
    else:
        shown, prev_shown = i18n.fmt_number(value or 0), i18n.fmt_number(prev or 0)
        detail = ""
    trend, good = "", None
    if value is not None and prev is not None and value != prev:
        trend = "up" if value > prev else "down"
        if better != "none":
            good = (value < prev) == (better == "lower")
    return {
        "name": f"kb-{name}",
        "label": label,
        "help": help_text,
        "value": shown,
        "previous": prev_shown,
        "detail": detail,
        "trend": trend,
        "good": good,
        "empty": value is None,
    }


def _bot_row(label: str, fig: dict[str, Any]) -> dict[str, Any]:
    return {
        "label": label,
        "offers": fig["offers"],
        "resolution": fmt_ratio(fig["resolution"]["value"]),
        "handoff": fmt_ratio(fig["handoff"]["value"]),
        "unanswered": fig["unanswered"],
        "answered": fmt_ratio(fig["answered"]["value"]),
    }


@router.get(PATH, response_class=HTMLResponse)
async def kb_page(
    request: Request,
    session: DB,
    who: Manager,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    days: Annotated[int | None, Query(ge=1, le=3660)] = None,
) -> Response:
    try:
        first, last = parse_period(start, end, days)
    except Invalid as exc:
        first, last = parse_period(None, None, 30)
        error: str | None = exc.detail if not exc.errors else exc.errors[0].message
    else:
        error = None
    got = await kb_report.report(session, reports.day_period(first, last))
    now, before = got["total"], got["previous"]
    articles = [
        {
            "title": a["title"] or _("Article %(id)s", id=a["article_id"]),
            "href": help_path(a["slug"], "en") if a["published"] and a["slug"] else None,
            "views": a["views"],
            "reads": a["reads"],
            "read_time": fmt_duration(a["read_time"]["median"]),
            "helpful": fmt_ratio(a["helpful"]["value"]),
            "votes": a["helpful"]["denominator"],
            "contacts": a["contacts_total"],
        }
        for a in got["articles"]
    ]
    bot_rows = [_bot_row(_("All channels"), now["bot"])] + [
        _bot_row(channel_label(ch), fig) for ch, fig in now["bot"]["by_channel"].items()
    ]
    contacts = [(channel_label(ch), n) for ch, n in now["contacts"].items()]
    return render(
        request,
        "reports_kb.html",
        {
            "first": first,
            "last": last,
            "shown_last": last - timedelta(days=1),
            "presets": PRESETS,
            "error": error,
            "cards": [
                _card(n, now, before)
                for n in ("views", "reads", "read_time", "helpful", "no_result", "deflection")
            ],
            "searches": now["searches"],
            "articles": articles,
            "failed": got["failed_searches"],
            "bot_rows": bot_rows if now["bot"]["offers"] or now["bot"]["unanswered"] else [],
            "questions": [
                {**q, "channel": channel_label(q["channel"] or "")}
                for q in got["unanswered_questions"]
            ],
            "contacts": contacts,
            "query": f"from={first}&to={last}",
        },
    )


@router.get(PATH + ".{fmt}")
async def kb_export(
    session: DB,
    who: Manager,
    fmt: str,
    start: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    table: Annotated[str, Query(max_length=16)] = "articles",
) -> Response:
    """The whole report as JSON; as CSV one table: `articles` (default), `searches` or
    `questions` (the latest the answer bot had no confident answer for)."""
    if fmt not in ("csv", "json"):
        raise NotFound("reports come as .csv or .json")
    if table not in ("articles", "searches", "questions"):
        raise Invalid("table", "articles, searches or questions")
    first, last = parse_period(start, end, 30)
    got = await kb_report.report(session, reports.day_period(first, last))
    name = f"knowledge-base-{first}-{last}"
    if fmt == "json":
        return Response(
            json.dumps(got, default=str),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{name}.json"'},
        )
    if table == "searches":
        rows = got["failed_searches"]
        fields = ["query", "times"]
        name += "-failed-searches"
    elif table == "questions":
        rows = got["unanswered_questions"]
        fields = ["at", "channel", "ticket_id", "language", "question"]
        name += "-unanswered-questions"
    else:
        rows = kb_report.flat_articles(got)
        fields = list(kb_report.ARTICLE_COLUMNS)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows(rows)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
