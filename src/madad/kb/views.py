"""The console's knowledge-base page (`/admin/knowledge-base`, for whoever may write articles:
supervisors and admins): every article with each language's state — published (which
version), draft, unpublished — and buttons to unpublish or publish a language. Writing articles
is the API's (`/api/v1/kb/articles`) for now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import Scope
from madad.auth.sessions import SignedIn
from madad.errors import Invalid, MadadError
from madad.kb import service
from madad.kb.content import LANGUAGES
from madad.kb.models import Version
from madad.kb.unpublish import UNPUBLISHED, unpublish
from madad.web import i18n
from madad.web.console import require_page, see_other
from madad.web.deps import DB, PathId
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
Writer = Annotated[SignedIn, Depends(require_page(Scope.kb_write))]
PAGE = 100
PATH = "/admin/knowledge-base"
Lang = Annotated[str, Form(max_length=8)]


def _done(code: str | None) -> str | None:
    return {
        "unpublished": i18n.gettext("Taken down: customers no longer see it."),
        "published": i18n.gettext("Published: customers see it now."),
    }.get(code or "")


async def _rows(session: AsyncSession, before_id: int | None) -> tuple[list[dict], int | None]:
    views = await service.list_articles(
        session, include_internal=True, before_id=before_id, limit=PAGE + 1
    )
    more = len(views) > PAGE
    views = views[:PAGE]
    ids = [v.article.id for v in views]
    unpublished: dict[int, dict[str, str]] = {}  # article → language → title
    if ids:
        rows = await session.execute(
            select(Version.article_id, Version.language, Version.title)
            .where(Version.article_id.in_(ids), Version.status == UNPUBLISHED)
            .order_by(Version.number)
        )
        for article_id, language, title in rows:
            unpublished.setdefault(article_id, {})[language] = title
    out = []
    for v in views:
        titles = {
            **unpublished.get(v.article.id, {}),
            **{k: x.title for k, x in v.drafts.items()},
            **{k: x.title for k, x in v.published.items()},
        }
        title = titles.get("en") or next(iter(titles.values()), f"#{v.article.id}")
        languages = []
        for lang in LANGUAGES:
            published, draft = v.published.get(lang), v.drafts.get(lang)
            down = lang in unpublished.get(v.article.id, set()) and published is None
            if published is None and draft is None and not down:
                continue
            languages.append(
                {
                    "code": lang,
                    "published": published.number if published else None,
                    "draft": draft is not None,
                    "down": down,
                    "href": service.help_path(v.article.slug, lang)
                    if published and not v.article.internal
                    else None,
                }
            )
        out.append(
            {
                "id": v.article.id,
                "slug": v.article.slug,
                "title": title,
                "internal": v.article.internal,
                "languages": languages,
            }
        )
    return out, (views[-1].article.id if more and views else None)


async def _page(
    request: Request,
    session: AsyncSession,
    *,
    before_id: int | None = None,
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    rows, next_id = await _rows(session, before_id)
    context: dict[str, Any] = {
        "rows": rows,
        "next_id": next_id,
        "done": _done(done),
        "error": error,
        "language_name": {"en": i18n.gettext("English"), "ur": i18n.gettext("Urdu")},
    }
    return render(request, "admin_kb.html", context, status)


@router.get(PATH, response_class=HTMLResponse)
async def articles_page(
    request: Request,
    session: DB,
    who: Writer,
    before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    return await _page(request, session, before_id=before_id, done=done)


async def _act(
    request: Request, session: AsyncSession, who: SignedIn, article_id: int, language: str, how: str
) -> Response:
    try:
        if language not in LANGUAGES:
            raise Invalid("language", i18n.gettext("not a language of the help centre"))
        if how == "unpublish":
            await unpublish(session, who.actor, article_id, languages=[language])
        else:
            await service.update_article(session, who.actor, article_id, publish=[language])
    except MadadError as exc:
        await session.rollback()
        message = exc.errors[0].message if exc.errors else exc.detail
        return await _page(request, session, error=message, status=exc.status)
    return see_other(request, f"{PATH}?done={how}ed#article-{article_id}")


@router.post(PATH + "/{article_id}/unpublish", response_class=HTMLResponse)
async def unpublish_language(
    request: Request, session: DB, who: Writer, article_id: PathId, language: Lang
) -> Response:
    return await _act(request, session, who, article_id, language, "unpublish")


@router.post(PATH + "/{article_id}/publish", response_class=HTMLResponse)
async def publish_language(
    request: Request, session: DB, who: Writer, article_id: PathId, language: Lang
) -> Response:
    return await _act(request, session, who, article_id, language, "publish")
