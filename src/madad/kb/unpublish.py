"""Unpublishing: an article (every language) or one translation leaves the help centre, search,
the sitemap and the answer bot at once; its version stays in the history with status
`unpublished`, and the fact `kb.unpublished` says who took it down and when.

Publishing again is the ordinary `publish` of a language: a new draft if one was written, else
the unpublished version itself (it becomes the published one again).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.auth.permissions import Actor, Scope
from madad.db import utcnow
from madad.errors import Invalid, NotFound
from madad.kb import search, service
from madad.kb.content import check_language
from madad.kb.models import Article, SearchDocument, Version

UNPUBLISHED = "unpublished"


async def unpublish(
    session: AsyncSession,
    actor: Actor,
    article_id: int,
    *,
    languages: Sequence[str] | None = None,
) -> service.ArticleView:
    """Take the article's published versions down: in `languages`, or in every language it is
    published in when None. A language that is not published is refused (nothing changes)."""
    actor.require(Scope.kb_write)
    article = await session.get(Article, article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    published = {
        v.language: v
        for v in await session.scalars(
            select(Version).where(Version.article_id == article.id, Version.status == "published")
        )
    }
    if languages is not None and not languages:
        raise Invalid("languages", "name at least one language, or leave it out for all")
    wanted = (
        sorted(published)
        if languages is None
        else list(dict.fromkeys(check_language("languages", lang) for lang in languages))
    )
    if not wanted:
        raise Invalid("languages", "the article is not published in any language")
    missing = [lang for lang in wanted if lang not in published]
    if missing:
        raise Invalid("languages", f"the article is not published in {missing[0]}")
    now = utcnow()
    for lang in wanted:
        version = published[lang]
        version.status, version.superseded_at = UNPUBLISHED, now
        doc = await session.scalar(
            select(SearchDocument).where(
                SearchDocument.article_id == article.id, SearchDocument.language == lang
            )
        )
        if doc is not None:
            await search.unindex(session, doc)
            await session.delete(doc)
        facts.record(
            session,
            "kb.unpublished",
            agent_id=actor.user_id,
            data={
                "article_id": article.id,
                "language": lang,
                "version_id": version.id,
                "number": version.number,
                "internal": article.internal,
            },
        )
    article.updated_at = now
    await session.flush()
    return await service.get_article(session, article.id, include_internal=True)
