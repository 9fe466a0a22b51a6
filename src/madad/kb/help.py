"""The public help centre: `/help` (English) and `/help/ur` (Urdu, right to left) with a search
box that answers as you type, categories, article pages with "was this helpful?", a sitemap,
and the beacon that records views and reads (`help.js` sends it with `navigator.sendBeacon`).

No page here ever shows a draft or an internal article: they read through `kb.reading`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from xml.sax.saxutils import escape

import orjson
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from madad.errors import Invalid, NotFound
from madad.kb import reading, service
from madad.kb.content import LANGUAGES, RTL
from madad.web import i18n
from madad.web.console import same_origin
from madad.web.deps import DB
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
ASSETS = Path(__file__).parent / "static"
ASSET_TYPES = {"help.js": "text/javascript", "help.css": "text/css"}
Slug = Annotated[str, Query(max_length=160)]
MAX_BEACON = 2048


def home_of(language: str) -> str:
    return "/help" if language == "en" else f"/help/{language}"


def _context(request: Request, language: str, **values: Any) -> dict[str, Any]:
    i18n.activate(language)
    suffix = request.url.path.removeprefix(home_of(language))
    query = f"?{request.url.query}" if request.url.query else ""
    return {
        "home": home_of(language),
        "alternates": {code: home_of(code) + suffix + query for code in LANGUAGES},
        "rtl": RTL,
        "q": None,
        **values,
    }


async def _home(request: Request, session: DB, language: str) -> HTMLResponse:
    shelves, loose = await reading.shelves(session, language)
    context = _context(request, language, shelves=shelves, loose=loose)
    return render(request, "help_home.html", context)


async def _search(request: Request, session: DB, language: str, q: str) -> HTMLResponse:
    found = await service.search_articles(session, q, language=language, limit=20)
    hits = [
        {"url": service.help_path(h.slug, language), "title": h.title, "snippet": h.snippet}
        for h in found.hits
    ]
    context = _context(request, language, q=q, hits=hits, corrected=found.corrected)
    return render(request, "help_search.html", context)


async def _article(
    request: Request, session: DB, language: str, slug: str, *, voted: bool = False
) -> HTMLResponse:
    page = await reading.page(session, slug, language)
    base = str(request.base_url).rstrip("/")
    context = _context(
        request,
        language,
        page=page,
        voted=voted,
        canonical=base + service.help_path(page.article.slug, page.language),
        page_alternates={
            code: base + service.help_path(page.article.slug, code) for code in LANGUAGES
        },
    )
    return render(request, "help_article.html", context)


async def _vote(
    request: Request,
    session: DB,
    language: str,
    slug: str,
    helpful: str,
    comment: str | None,
    visitor: str | None,
    help_session: str | None = None,
) -> HTMLResponse:
    if not same_origin(request):
        return HTMLResponse("cross-origin form refused", status_code=403)
    page = await reading.page(session, slug, language)
    if helpful not in ("yes", "no"):
        raise Invalid("helpful", "yes or no")
    await reading.record_vote(
        session,
        page.article.id,
        page.language,
        helpful=helpful == "yes",
        comment=comment,
        visitor=visitor or None,
        help_session=help_session or None,
    )
    return await _article(request, session, language, slug, voted=True)


Comment = Annotated[str | None, Form(max_length=reading.MAX_COMMENT)]
Visitor = Annotated[str | None, Form(max_length=64)]
Helpful = Annotated[str, Form(max_length=3)]
Q = Annotated[str, Query(max_length=5000)]


@router.get("/help", response_class=HTMLResponse)
async def home_en(request: Request, session: DB) -> HTMLResponse:
    return await _home(request, session, "en")


@router.get("/help/search", response_class=HTMLResponse)
async def search_en(request: Request, session: DB, q: Q = "") -> HTMLResponse:
    return await _search(request, session, "en", q)


@router.get("/help/articles/{slug}", response_class=HTMLResponse)
async def article_en(request: Request, session: DB, slug: str) -> HTMLResponse:
    return await _article(request, session, "en", slug)


@router.post("/help/articles/{slug}/vote", response_class=HTMLResponse)
async def vote_en(
    request: Request,
    session: DB,
    slug: str,
    helpful: Helpful,
    comment: Comment = None,
    visitor: Visitor = None,
    help_session: Visitor = None,
) -> HTMLResponse:
    return await _vote(request, session, "en", slug, helpful, comment, visitor, help_session)


@router.get("/help/sitemap.xml")
async def sitemap(request: Request, session: DB) -> Response:
    """Every public article in every language it is published in, with its alternates."""
    base = str(request.base_url).rstrip("/")
    entries = await reading.sitemap(session)
    languages: dict[str, list[str]] = {}
    for slug, lang, _at in entries:
        languages.setdefault(slug, []).append(lang)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:xhtml="http://www.w3.org/1999/xhtml">',
    ]
    for code in LANGUAGES:
        lines.append(f"<url><loc>{escape(base + home_of(code))}</loc></url>")
    for slug, lang, at in entries:
        lines.append("<url>")
        lines.append(f"<loc>{escape(base + service.help_path(slug, lang))}</loc>")
        if at is not None:
            lines.append(f"<lastmod>{at.date().isoformat()}</lastmod>")
        for other in languages[slug]:
            href = escape(base + service.help_path(slug, other), {'"': "&quot;"})
            lines.append(f'<xhtml:link rel="alternate" hreflang="{other}" href="{href}"/>')
        lines.append("</url>")
    lines.append("</urlset>")
    return Response("\n".join(lines) + "\n", media_type="application/xml")


@router.get("/help/assets/{name}")
async def asset(name: str) -> Response:
    if name not in ASSET_TYPES:
        return Response(status_code=404)
    return FileResponse(
        ASSETS / name,
        media_type=ASSET_TYPES[name],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/help/beacon", status_code=204)
async def beacon(request: Request, session: DB) -> Response:
    """What the help centre's script reports (sendBeacon posts it as text): `{"event": "view"
    | "read", "article_id", "lang", "seconds", "scroll", "visitor"}` from article pages, and
    `{"event": "search", "q", "lang", "results", "visitor"}` for a search settled on; each
    with `help_session`, the visit's id."""
    if not same_origin(request):
        return Response(status_code=403)
    raw = await request.body()
    if len(raw) > MAX_BEACON:
        raise Invalid("body", f"at most {MAX_BEACON} bytes")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Invalid("body", "not JSON") from exc
    if not isinstance(data, dict):
        raise Invalid("body", "a JSON object")
    article_id, lang = data.get("article_id"), data.get("lang")
    visitor, help_session = data.get("visitor"), data.get("help_session")
    if lang not in LANGUAGES:
        raise Invalid("lang", "a language of the help centre")
    if visitor is not None and not isinstance(visitor, str):
        raise Invalid("visitor", "text")
    if help_session is not None and not isinstance(help_session, str):
        raise Invalid("help_session", "text")
    ids = {"visitor": visitor, "help_session": help_session}
    if data.get("event") == "search":
        q, results = data.get("q"), data.get("results")
        if not isinstance(q, str) or len(q) > 1000:
            raise Invalid("q", "the text searched for")
        if not isinstance(results, int) or isinstance(results, bool):
            raise Invalid("results", "the number of articles found")
        await reading.record_search(session, q, lang, results=results, **ids)
        return Response(status_code=204)
    if not isinstance(article_id, int) or isinstance(article_id, bool) or article_id < 1:
        raise Invalid("article_id", "an article id")
    if article_id >= 2**31:
        raise Invalid("article_id", "an article id")
    if data.get("event") == "view":
        await reading.record_view(session, article_id, lang, **ids)
    elif data.get("event") == "read":
        seconds, scroll = data.get("seconds"), data.get("scroll")
        if not isinstance(seconds, int | float) or not 0 <= seconds < 10**7:
            raise Invalid("seconds", "the seconds the article was visible")
        if scroll is not None and not isinstance(scroll, int | float):
            raise Invalid("scroll", "a share of the page, 0 to 1")
        await reading.record_read(
            session,
            article_id,
            lang,
            visible_seconds=float(seconds),
            scroll_depth=scroll,
            **ids,
        )
    else:
        raise Invalid("event", "view, read or search")
    return Response(status_code=204)


# Urdu (and any later language) lives below /help/<lang>; declared after the English routes so
# that /help/search and /help/articles are never read as a language.
@router.get("/help/{lang}", response_class=HTMLResponse)
async def home_lang(request: Request, session: DB, lang: str) -> HTMLResponse:
    return await _home(request, session, _language(lang))


@router.get("/help/{lang}/search", response_class=HTMLResponse)
async def search_lang(request: Request, session: DB, lang: str, q: Q = "") -> HTMLResponse:
    return await _search(request, session, _language(lang), q)


@router.get("/help/{lang}/articles/{slug}", response_class=HTMLResponse)
async def article_lang(request: Request, session: DB, lang: str, slug: str) -> HTMLResponse:
    return await _article(request, session, _language(lang), slug)


@router.post("/help/{lang}/articles/{slug}/vote", response_class=HTMLResponse)
async def vote_lang(
    request: Request,
    session: DB,
    lang: str,
    slug: str,
    helpful: Helpful,
    comment: Comment = None,
    visitor: Visitor = None,
    help_session: Visitor = None,
) -> HTMLResponse:
    return await _vote(
        request, session, _language(lang), slug, helpful, comment, visitor, help_session
    )


def _language(lang: str) -> str:
    if lang == "en" or lang not in LANGUAGES:
        raise NotFound("no such page")
    return lang
