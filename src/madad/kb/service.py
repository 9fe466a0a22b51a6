"""Writing and reading the knowledge base: categories, sections, articles and their versions.

Each (article, language) has at most one draft and one published version. Saving edits the
draft; publishing makes it the published version and supersedes the previous one, which is
kept: an article's history is every version ever published. Internal articles are for agents
only; every read that a customer can reach passes `include_internal=False` into its SQL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import Actor, Scope
from madad.db import utcnow
from madad.errors import Conflict, Invalid, NotFound
from madad.kb import search
from madad.kb.content import (
    MAX_BODY,
    MAX_TITLE,
    check_language,
    check_text,
    normalise,
    plain_text,
    render,
    slugify,
)
from madad.kb.models import Article, Category, Related, SearchDocument, Section, Version

MAX_RELATED = 20
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


@dataclass(frozen=True)
class Text:
    """What an author writes for one language: a title and a Markdown body. In an update,
    either may be None: it is kept from the current draft (or else the published version)."""

    title: str | None
    body: str | None


@dataclass
class ArticleView:
    article: Article
    drafts: dict[str, Version] = field(default_factory=dict)
    published: dict[str, Version] = field(default_factory=dict)
    related: list[int] = field(default_factory=list)


# --- categories and sections -----------------------------------------------------------------


def _titles(field_name: str, titles: Mapping[str, str], *, required: bool = True) -> dict:
    if required and not titles:
        raise Invalid(field_name, "give a title in at least one language")
    return {
        check_language(f"{field_name}.{lang}", lang): check_text(
            f"{field_name}.{lang}", value, maximum=MAX_TITLE
        )
        for lang, value in titles.items()
    }


def _slug(field_name: str, slug: str) -> str:
    if not re.fullmatch(SLUG, slug) or len(slug) > 120:
        raise Invalid(field_name, "lower-case letters, digits and single hyphens, at most 120")
    return slug


async def create_category(
    session: AsyncSession,
    actor: Actor,
    *,
    slug: str,
    titles: Mapping[str, str],
    descriptions: Mapping[str, str] | None = None,
    position: int = 0,
) -> Category:
    actor.require(Scope.kb_write)
    slug = _slug("slug", slug)
    if await session.scalar(select(Category.id).where(Category.slug == slug)):
        raise Conflict(f"a category {slug!r} exists already")
    category = Category(
        slug=slug,
        titles=_titles("titles", titles),
        descriptions={
            check_language(f"descriptions.{k}", k): check_text(
                f"descriptions.{k}", v, maximum=2000, required=False
            )
            for k, v in (descriptions or {}).items()
        },
        position=position,
    )
    session.add(category)
    await session.flush()
    return category


async def create_section(
    session: AsyncSession,
    actor: Actor,
    *,
    category_id: int,
    slug: str,
    titles: Mapping[str, str],
    position: int = 0,
) -> Section:
    actor.require(Scope.kb_write)
    if await session.get(Category, category_id) is None:
        raise Invalid("category_id", f"no category {category_id}")
    slug = _slug("slug", slug)
    taken = await session.scalar(
        select(Section.id).where(Section.category_id == category_id, Section.slug == slug)
    )
    if taken:
        raise Conflict(f"the category has a section {slug!r} already")
    section = Section(
        category_id=category_id, slug=slug, titles=_titles("titles", titles), position=position
    )
    session.add(section)
    await session.flush()
    return section


async def list_categories(session: AsyncSession) -> list[tuple[Category, list[Section]]]:
    categories = (
        await session.scalars(select(Category).order_by(Category.position, Category.id))
    ).all()
    sections = (await session.scalars(select(Section).order_by(Section.position, Section.id))).all()
    by_category: dict[int, list[Section]] = {}
    for s in sections:
        by_category.setdefault(s.category_id, []).append(s)
    return [(c, by_category.get(c.id, [])) for c in categories]


# --- articles --------------------------------------------------------------------------------


def _checked(translations: Mapping[str, Text]) -> dict[str, Text]:
    out = {}
    for lang, t in translations.items():
        check_language(f"translations.{lang}", lang)
        title, body = t.title, t.body
        if title is not None:
            title = check_text(f"translations.{lang}.title", title, maximum=MAX_TITLE)
        if body is not None:
            body = check_text(f"translations.{lang}.body", body, maximum=MAX_BODY, required=False)
        out[lang] = Text(title, body)
    return out


async def _free_slug(session: AsyncSession, wanted: str, article_id: int | None = None) -> str:
    slug, n = wanted, 1
    while True:
        taken = await session.scalar(select(Article.id).where(Article.slug == slug))
        if taken is None or taken == article_id:
            return slug
        n += 1
        slug = f"{wanted[:150]}-{n}"


async def _section_exists(session: AsyncSession, section_id: int | None) -> None:
    if section_id is not None and await session.get(Section, section_id) is None:
        raise Invalid("section_id", f"no section {section_id}")


async def create_article(
    session: AsyncSession,
    actor: Actor,
    *,
    translations: Mapping[str, Text],
    slug: str | None = None,
    section_id: int | None = None,
    internal: bool = False,
    related_ids: Sequence[int] = (),
    publish: Sequence[str] = (),
) -> ArticleView:
    """A new article with a draft per language given; `publish` names the languages whose
    draft is published at once."""
    actor.require(Scope.kb_write)
    texts = _checked(translations)
    if not texts:
        raise Invalid("translations", "give the article in at least one language")
    for lang, t in texts.items():
        if t.title is None:
            raise Invalid(f"translations.{lang}.title", "must not be empty")
    await _section_exists(session, section_id)
    if slug is not None:
        slug = _slug("slug", slug)
        if await session.scalar(select(Article.id).where(Article.slug == slug)):
            raise Conflict(f"an article {slug!r} exists already")
    else:
        first = texts.get("en") or next(iter(texts.values()))
        slug = await _free_slug(session, slugify(first.title or "") or "article")
    now = utcnow()
    article = Article(
        slug=slug,
        section_id=section_id,
        internal=internal,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    await session.flush()
    for lang, t in texts.items():
        await _save_draft(session, actor, article, lang, t)
    await _set_related(session, article.id, related_ids)
    for lang in publish:
        await _publish(session, article, check_language("publish", lang))
    return await get_article(session, article.id, include_internal=True)


async def update_article(
    session: AsyncSession,
    actor: Actor,
    article_id: int,
    *,
    translations: Mapping[str, Text] | None = None,
    slug: str | None = None,
    section_id: int | None = None,
    clear_section: bool = False,
    internal: bool | None = None,
    related_ids: Sequence[int] | None = None,
    publish: Sequence[str] = (),
) -> ArticleView:
    """Edit an article: new texts go to each language's draft; `publish` publishes drafts."""
    actor.require(Scope.kb_write)
    article = await session.get(Article, article_id)
    if article is None:
        raise NotFound(f"no article {article_id}")
    texts = _checked(translations or {})
    if slug is not None and slug != article.slug:
        slug = _slug("slug", slug)
        if await session.scalar(select(Article.id).where(Article.slug == slug)):
            raise Conflict(f"an article {slug!r} exists already")
        article.slug = slug
    if clear_section:
        article.section_id = None
    elif section_id is not None:
        await _section_exists(session, section_id)
        article.section_id = section_id
    if internal is not None and internal != article.internal:
        article.internal = internal
        await session.execute(
            update(SearchDocument)
            .where(SearchDocument.article_id == article.id)
            .values(internal=internal)
        )
    for lang, t in texts.items():
        await _save_draft(session, actor, article, lang, t)
    if related_ids is not None:
        await _set_related(session, article.id, related_ids)
    for lang in publish:
        await _publish(session, article, check_language("publish", lang))
    article.updated_at = utcnow()
    await session.flush()
    return await get_article(session, article.id, include_internal=True)


async def _save_draft(
    session: AsyncSession, actor: Actor, article: Article, language: str, t: Text
) -> Version:
    current = {
        v.status: v
        for v in await session.scalars(
            select(Version).where(
                Version.article_id == article.id,
                Version.language == language,
                Version.status.in_(("draft", "published")),
            )
        )
    }
    draft = current.get("draft")
    base = (
        draft or current.get("published") or await _latest_unpublished(session, article, language)
    )
    title = t.title if t.title is not None else base.title if base else None
    body = t.body if t.body is not None else base.body if base else ""
    if title is None:
        raise Invalid(f"translations.{language}.title", "a new language needs a title")
    rendered = render(body)
    if draft is None:
        number = await session.scalar(
            select(func.coalesce(func.max(Version.number), 0)).where(
                Version.article_id == article.id, Version.language == language
            )
        )
        draft = Version(
            article_id=article.id,
            language=language,
            number=(number or 0) + 1,
            status="draft",
            title=title,
            body=body,
            html=rendered,
            author_id=actor.user_id,
            created_at=utcnow(),
        )
        session.add(draft)
    else:
        draft.title, draft.body, draft.html = title, body, rendered
        draft.author_id = actor.user_id
    await session.flush()
    return draft


async def _latest_unpublished(
    session: AsyncSession, article: Article, language: str
) -> Version | None:
    return await session.scalar(
        select(Version)
        .where(
            Version.article_id == article.id,
            Version.language == language,
            Version.status == "unpublished",
        )
        .order_by(Version.number.desc())
        .limit(1)
    )


async def _publish(session: AsyncSession, article: Article, language: str) -> Version:
    versions = (
        await session.scalars(
            select(Version).where(
                Version.article_id == article.id,
                Version.language == language,
                Version.status.in_(("draft", "published")),
            )
        )
    ).all()
    draft = next((v for v in versions if v.status == "draft"), None)
    if draft is None and not versions:
        draft = await _latest_unpublished(session, article, language)  # published again
    if draft is None:
        raise Invalid("publish", f"the article has no {language} draft to publish")
    now = utcnow()
    for v in versions:
        if v.status == "published":
            v.status, v.superseded_at = "superseded", now
    draft.status, draft.published_at = "published", now
    await session.flush()
    await _index(session, article, draft)
    return draft


async def _index(session: AsyncSession, article: Article, version: Version) -> None:
    doc = await session.scalar(
        select(SearchDocument).where(
            SearchDocument.article_id == article.id, SearchDocument.language == version.language
        )
    )
    title, body = normalise(version.title), normalise(plain_text(version.html))
    if doc is None:
        doc = SearchDocument(article_id=article.id, language=version.language)
        session.add(doc)
    else:
        await search.unindex(session, doc)
    doc.version_id, doc.internal, doc.title, doc.text = version.id, article.internal, title, body
    doc.updated_at = utcnow()
    await session.flush()
    await search.index(session, doc)


async def _set_related(session: AsyncSession, article_id: int, related_ids: Sequence[int]) -> None:
    wanted = list(dict.fromkeys(related_ids))
    if len(wanted) > MAX_RELATED:
        raise Invalid("related_ids", f"at most {MAX_RELATED} related articles")
    if article_id in wanted:
        raise Invalid("related_ids", "an article is not related to itself")
    if wanted:
        found = set((await session.scalars(select(Article.id).where(Article.id.in_(wanted)))).all())
        missing = [i for i in wanted if i not in found]
        if missing:
            raise Invalid("related_ids", f"no article {missing[0]}")
    existing = (
        await session.scalars(select(Related).where(Related.article_id == article_id))
    ).all()
    for r in existing:
        await session.delete(r)
    await session.flush()
    session.add_all(
        Related(article_id=article_id, related_id=r, position=i) for i, r in enumerate(wanted)
    )
    await session.flush()


async def get_article(
    session: AsyncSession, article_id: int, *, include_internal: bool
) -> ArticleView:
    article = await session.get(Article, article_id)
    if article is None or (article.internal and not include_internal):
        raise NotFound(f"no article {article_id}")
    return (await _views(session, [article]))[0]


async def _views(session: AsyncSession, articles: Sequence[Article]) -> list[ArticleView]:
    ids = [a.id for a in articles]
    views = {a.id: ArticleView(a) for a in articles}
    if not ids:
        return []
    current = await session.scalars(
        select(Version).where(
            Version.article_id.in_(ids), Version.status.in_(("draft", "published"))
        )
    )
    for v in current:
        view = views[v.article_id]
        (view.drafts if v.status == "draft" else view.published)[v.language] = v
    related = await session.execute(
        select(Related.article_id, Related.related_id)
        .where(Related.article_id.in_(ids))
        .order_by(Related.article_id, Related.position)
    )
    for article_id, related_id in related:
        views[article_id].related.append(related_id)
    return [views[i] for i in ids]


async def list_articles(
    session: AsyncSession,
    *,
    include_internal: bool,
    section_id: int | None = None,
    language: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[ArticleView]:
    """Newest first."""
    stmt = select(Article).order_by(Article.id.desc()).limit(limit)
    if not include_internal:
        stmt = stmt.where(Article.internal.is_(False))
    if section_id is not None:
        stmt = stmt.where(Article.section_id == section_id)
    if before_id is not None:
        stmt = stmt.where(Article.id < before_id)
    if language is not None:
        stmt = stmt.where(
            select(Version.id)
            .where(Version.article_id == Article.id, Version.language == language)
            .exists()
        )
    return await _views(session, (await session.scalars(stmt)).all())


async def history(session: AsyncSession, article_id: int, language: str) -> list[Version]:
    """Every version of an article in a language, newest first (drafts, the published one and
    all it superseded)."""
    if await session.get(Article, article_id) is None:
        raise NotFound(f"no article {article_id}")
    check_language("lang", language)
    return list(
        (
            await session.scalars(
                select(Version)
                .where(Version.article_id == article_id, Version.language == language)
                .order_by(Version.number.desc())
            )
        ).all()
    )


async def search_articles(
    session: AsyncSession,
    q: str,
    *,
    language: str = "en",
    include_internal: bool = False,
    limit: int = 10,
) -> search.Found:
    """Published articles matching `q` in a language; for a language other than English,
    English articles fill the page when the language has too few."""
    check_language("lang", language)
    found = await search.find(
        session, q, language=language, include_internal=include_internal, limit=limit
    )
    if language != "en" and len(found.hits) < limit:
        more = await search.find(
            session, q, language="en", include_internal=include_internal, limit=limit
        )
        seen = {h.article_id for h in found.hits}
        found.hits += [h for h in more.hits if h.article_id not in seen][: limit - len(found.hits)]
    return found


def help_path(slug: str, language: str) -> str:
    """An article's page in the help centre (English at /help, other languages below it)."""
    return f"/help/articles/{slug}" if language == "en" else f"/help/{language}/articles/{slug}"
