"""`/api/v1/kb`: articles with their translations (kb:read to read drafts and internal ones,
kb:write to write and publish), categories and sections, and search — public for published,
non-internal articles; a token with kb:read also finds internal ones."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from madad.auth.permissions import Actor, Scope
from madad.kb import service
from madad.kb.schemas import (
    ArticleIn,
    ArticleOut,
    ArticlePage,
    ArticlePatch,
    CategoryIn,
    CategoryOut,
    HitOut,
    Language,
    SearchOut,
    SectionIn,
    SectionOut,
    UnpublishIn,
    VersionOut,
)
from madad.kb.service import Text
from madad.kb.unpublish import unpublish
from madad.web.deps import (
    DB,
    PathId,
    authenticate_token,
    bearer_token,
    require,
    session_actor,
)

router = APIRouter(prefix="/api/v1/kb", tags=["knowledge base"])
Reader = Annotated[Actor, Depends(require(Scope.kb_read))]
Writer = Annotated[Actor, Depends(require(Scope.kb_write))]
Id = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


async def maybe_actor(request: Request) -> Actor | None:
    """The caller of a public route when they sent a token (a bad token is still a 401) or,
    for a read, hold the console's session cookie (the agent's reply box searches this way)."""
    token = bearer_token(request.headers.get("authorization"))
    if token is not None:
        return await authenticate_token(request.app.state.db, request.app.state.settings, token)
    return await session_actor(request)


Anyone = Annotated[Actor | None, Depends(maybe_actor)]


def _languages(publish: bool | list[Language], given: list[str]) -> list[str]:
    if publish is True:
        return given
    return list(publish) if isinstance(publish, list) else []


@router.post("/articles", response_model=ArticleOut, status_code=201)
async def create_article(body: ArticleIn, session: DB, actor: Writer) -> ArticleOut:
    """A new article, with a draft per translation; `publish` publishes them at once."""
    view = await service.create_article(
        session,
        actor,
        translations={k: Text(t.title, t.body) for k, t in body.translations.items()},
        slug=body.slug,
        section_id=body.section_id,
        internal=body.internal,
        related_ids=body.related_ids,
        publish=_languages(body.publish, list(body.translations)),
    )
    return ArticleOut.of(view)


@router.get("/articles", response_model=ArticlePage)
async def list_articles(
    session: DB,
    actor: Reader,
    section_id: Id = None,
    lang: Language | None = None,
    before_id: Id = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ArticlePage:
    """Newest first, drafts and internal articles included; `next_cursor` is the `before_id`
    of the next page."""
    views = await service.list_articles(
        session,
        include_internal=True,
        section_id=section_id,
        language=lang,
        before_id=before_id,
        limit=limit + 1,
    )
    more = len(views) > limit
    views = views[:limit]
    return ArticlePage(
        items=[ArticleOut.of(v) for v in views],
        next_cursor=str(views[-1].article.id) if more and views else None,
    )


@router.get("/articles/{article_id}", response_model=ArticleOut)
async def get_article(article_id: PathId, session: DB, actor: Reader) -> ArticleOut:
    return ArticleOut.of(await service.get_article(session, article_id, include_internal=True))


@router.patch("/articles/{article_id}", response_model=ArticleOut)
async def update_article(
    article_id: PathId, body: ArticlePatch, session: DB, actor: Writer
) -> ArticleOut:
    """Texts go to each language's draft; `publish` publishes drafts (the published version
    they replace is kept in the history)."""
    given = body.model_dump(exclude_unset=True)
    languages = list(body.translations)
    if body.publish is True and not languages:  # publish every pending draft
        current = await service.get_article(session, article_id, include_internal=True)
        languages = sorted(current.drafts)
    view = await service.update_article(
        session,
        actor,
        article_id,
        translations={k: Text(t.title, t.body) for k, t in body.translations.items()},
        slug=body.slug,
        section_id=body.section_id,
        clear_section="section_id" in given and body.section_id is None,
        internal=body.internal,
        related_ids=body.related_ids,
        publish=_languages(body.publish, languages),
    )
    return ArticleOut.of(view)


@router.post("/articles/{article_id}/unpublish", response_model=ArticleOut)
async def unpublish_article(
    article_id: PathId, session: DB, actor: Writer, body: UnpublishIn | None = None
) -> ArticleOut:
    """Take the article (or some of its translations) down from the help centre, search, the
    sitemap and the answer bot; the version stays in the history as `unpublished` and a
    `kb.unpublished` fact records it. Publishing the language again brings it back."""
    languages = body.languages if body is not None else None
    return ArticleOut.of(await unpublish(session, actor, article_id, languages=languages))


@router.get("/articles/{article_id}/versions", response_model=list[VersionOut])
async def article_history(
    article_id: PathId, session: DB, actor: Reader, lang: Language = "en"
) -> list[VersionOut]:
    """Every version in a language, newest first."""
    return [VersionOut.of(v) for v in await service.history(session, article_id, lang)]


@router.get("/search", response_model=SearchOut)
async def search(
    request: Request,
    session: DB,
    actor: Anyone,
    q: str = "",
    lang: Language = "en",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> SearchOut:
    """Published articles, best first, with snippets. Any text is a valid query (operators
    and quotes are only words); long queries are read up to their first 1000 characters.
    `public_url` is the article's absolute help-centre address (null for internal articles,
    which customers cannot open)."""
    internal = actor is not None and actor.can(Scope.kb_read)
    found = await service.search_articles(
        session, q, language=lang, include_internal=internal, limit=limit
    )
    base = request.app.state.settings.base_url or str(request.base_url)
    return SearchOut(
        q=q,
        lang=lang,
        corrected=found.corrected,
        items=[HitOut.of(h, base_url=base) for h in found.hits],
    )


@router.get("/categories", response_model=list[CategoryOut])
async def list_categories(session: DB) -> list[CategoryOut]:
    return [CategoryOut.of(c, s) for c, s in await service.list_categories(session)]


@router.post("/categories", response_model=CategoryOut, status_code=201)
async def create_category(body: CategoryIn, session: DB, actor: Writer) -> CategoryOut:
    category = await service.create_category(
        session,
        actor,
        slug=body.slug,
        titles=body.titles,
        descriptions=body.descriptions,
        position=body.position,
    )
    return CategoryOut.of(category, [])


@router.post("/sections", response_model=SectionOut, status_code=201)
async def create_section(body: SectionIn, session: DB, actor: Writer) -> SectionOut:
    section = await service.create_section(
        session,
        actor,
        category_id=body.category_id,
        slug=body.slug,
        titles=body.titles,
        position=body.position,
    )
    return SectionOut.of(section)
