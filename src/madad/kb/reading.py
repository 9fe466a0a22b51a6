"""What the help centre shows and learns: the public tree of categories and articles, an
article as a customer reads it (never a draft, never an internal article), the sitemap, and
the reading facts — `kb.view`, `kb.read` (visible ≥ 10 s, with the visible time),
`kb.vote` (was it helpful, with an optional comment) and `kb.search` (what a customer searched
for and how many articles answered: the searches with none are the articles to write next) —
and `kb.contact_started`, written by the channels when a customer opens a ticket or a chat
from the help centre.

Every reading fact's data carries `visitor` (the browser's lasting id, `localStorage`) and
`help_session` (a visit: help.js starts a new one after 30 minutes without activity); both are
null when the browser keeps no storage. `kb.contact_started` has channel `portal` | `chat` |
`email`, the ticket and contact, and data `{"article_id": the article page it was started
from or null, "language", "channel", "visitor", "help_session"}`. Deflection (metrics.kb)
counts the visits that read an article after which the same visitor started no contact within
24 hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.errors import Invalid, NotFound
from madad.kb.content import check_language, check_text
from madad.kb.models import Article, Category, Related, Section, Version

READ_AFTER_SECONDS = 10
MAX_READ_SECONDS = 30 * 60  # a tab left open all afternoon is not half a day of reading
MAX_COMMENT = 2000
MAX_QUERY_KEPT = 200


@dataclass
class Page:
    """A published article as a customer sees it in one language."""

    article: Article
    version: Version
    language: str  # of the version shown: English when the asked language has none yet
    related: list[tuple[str, str]] = field(default_factory=list)  # (slug, title)


@dataclass
class Entry:
    slug: str
    title: str


@dataclass
class Shelf:
    category: Category
    sections: list[tuple[Section, list[Entry]]]


def _public_versions(language: str) -> Any:
    return (
        select(Version, Article)
        .join(Article, Article.id == Version.article_id)
        .where(
            Version.status == "published",
            Version.language.in_({language, "en"}),
            Article.internal.is_(False),
        )
    )


def _prefer(rows: Any, language: str) -> dict[int, tuple[Version, Article]]:
    """One version per article: the asked language's, else English."""
    chosen: dict[int, tuple[Version, Article]] = {}
    for version, article in rows:
        if article.id not in chosen or version.language == language:
            chosen[article.id] = (version, article)
    return chosen


async def shelves(session: AsyncSession, language: str) -> tuple[list[Shelf], list[Entry]]:
    """The categories with their sections and published articles, and the articles that are
    in no section yet."""
    check_language("lang", language)
    categories = (
        await session.scalars(select(Category).order_by(Category.position, Category.id))
    ).all()
    sections = (await session.scalars(select(Section).order_by(Section.position, Section.id))).all()
    chosen = _prefer(await session.execute(_public_versions(language)), language)
    by_section: dict[int | None, list[tuple[tuple[int, int], Entry]]] = {}
    for version, article in chosen.values():
        by_section.setdefault(article.section_id, []).append(
            ((article.position, article.id), Entry(article.slug, version.title))
        )
    listed = {k: [e for _, e in sorted(v, key=lambda x: x[0])] for k, v in by_section.items()}
    out = []
    for c in categories:
        mine = [(s, listed.get(s.id, [])) for s in sections if s.category_id == c.id]
        if any(entries for _, entries in mine):
            out.append(Shelf(c, [(s, e) for s, e in mine if e]))
    return out, listed.get(None, [])


async def page(session: AsyncSession, slug: str, language: str) -> Page:
    check_language("lang", language)
    chosen = _prefer(
        await session.execute(_public_versions(language).where(Article.slug == slug[:160])),
        language,
    )
    if not chosen:
        raise NotFound("no such article")
    version, article = next(iter(chosen.values()))
    related_ids = (
        await session.scalars(
            select(Related.related_id)
            .where(Related.article_id == article.id)
            .order_by(Related.position)
        )
    ).all()
    related: list[tuple[str, str]] = []
    if related_ids:
        others = _prefer(
            await session.execute(_public_versions(language).where(Article.id.in_(related_ids))),
            language,
        )
        related = [(others[i][1].slug, others[i][0].title) for i in related_ids if i in others]
    return Page(article, version, version.language, related)


async def sitemap(session: AsyncSession) -> list[tuple[str, str, datetime]]:
    """(slug, language, last published) of every public published version."""
    rows = await session.execute(
        select(Article.slug, Version.language, Version.published_at)
        .join(Article, Article.id == Version.article_id)
        .where(Version.status == "published", Article.internal.is_(False))
        .order_by(Article.id, Version.language)
    )
    return [(slug, lang, at) for slug, lang, at in rows]


async def _public_article(session: AsyncSession, article_id: int) -> Article:
    article = await session.get(Article, article_id)
    if article is None or article.internal:
        raise NotFound("no such article")
    published = await session.scalar(
        select(Version.id)
        .where(Version.article_id == article_id, Version.status == "published")
        .limit(1)
    )
    if published is None:
        raise NotFound("no such article")
    return article


def _visitor(visitor: str | None, field_name: str = "visitor") -> str | None:
    if visitor is None:
        return None
    if (
        not (8 <= len(visitor) <= 64)
        or not visitor.isascii()
        or not visitor.replace("-", "").isalnum()
    ):
        raise Invalid(field_name, "a help-centre id is 8–64 letters, digits or hyphens")
    return visitor


def _ids(visitor: str | None, help_session: str | None) -> dict[str, str | None]:
    return {"visitor": _visitor(visitor), "help_session": _visitor(help_session, "help_session")}


CONTACT_CHANNELS = ("portal", "chat", "email")


async def record_contact_started(
    session: AsyncSession,
    *,
    channel: str,
    language: str,
    ticket_id: int | None = None,
    contact_id: int | None = None,
    article_id: int | None = None,
    visitor: str | None = None,
    help_session: str | None = None,
    at: datetime | None = None,
) -> None:
    """A customer opened a ticket or a chat from the help centre (from an article's page when
    `article_id` is given: a public, published article)."""
    if channel not in CONTACT_CHANNELS:
        raise Invalid("channel", f"one of {', '.join(CONTACT_CHANNELS)}")
    if article_id is not None:
        await _public_article(session, article_id)
    facts.record(
        session,
        "kb.contact_started",
        ticket_id=ticket_id,
        contact_id=contact_id,
        channel=channel,
        at=at,
        data={
            "article_id": article_id,
            "language": check_language("language", language),
            "channel": channel,
            **_ids(visitor, help_session),
        },
    )


async def record_view(
    session: AsyncSession,
    article_id: int,
    language: str,
    *,
    visitor: str | None = None,
    help_session: str | None = None,
    at: datetime | None = None,
) -> None:
    article = await _public_article(session, article_id)
    facts.record(
        session,
        "kb.view",
        at=at,
        data={
            "article_id": article.id,
            "language": check_language("lang", language),
            **_ids(visitor, help_session),
        },
    )


async def record_read(
    session: AsyncSession,
    article_id: int,
    language: str,
    *,
    visible_seconds: float,
    scroll_depth: float | None = None,
    visitor: str | None = None,
    help_session: str | None = None,
    at: datetime | None = None,
) -> bool:
    """A read, when the article was visible long enough; False (nothing recorded) otherwise.
    The visible time is capped, so one forgotten tab does not drag the median."""
    article = await _public_article(session, article_id)
    if visible_seconds < READ_AFTER_SECONDS:
        return False
    data: dict[str, Any] = {
        "article_id": article.id,
        "language": check_language("lang", language),
        "read_seconds": round(min(visible_seconds, MAX_READ_SECONDS), 1),
        **_ids(visitor, help_session),
    }
    if scroll_depth is not None:
        data["scroll_depth"] = round(max(0.0, min(scroll_depth, 1.0)), 2)
    facts.record(session, "kb.read", data=data, at=at)
    return True


async def record_vote(
    session: AsyncSession,
    article_id: int,
    language: str,
    *,
    helpful: bool,
    comment: str | None = None,
    visitor: str | None = None,
    help_session: str | None = None,
    at: datetime | None = None,
) -> None:
    article = await _public_article(session, article_id)
    data: dict[str, Any] = {
        "article_id": article.id,
        "language": check_language("lang", language),
        "helpful": helpful,
        **_ids(visitor, help_session),
    }
    if comment and comment.strip():
        data["comment"] = check_text("comment", comment, maximum=MAX_COMMENT)
    facts.record(session, "kb.vote", data=data, at=at)


async def record_search(
    session: AsyncSession,
    q: str,
    language: str,
    *,
    results: int,
    visitor: str | None = None,
    help_session: str | None = None,
    at: datetime | None = None,
) -> None:
    """A search a customer settled on (the help centre reports the query the customer stopped
    typing at or submitted, not every keystroke)."""
    query = " ".join(q.split())[:MAX_QUERY_KEPT]
    if not query:
        raise Invalid("q", "an empty search is not a search")
    if not 0 <= results <= 1000:
        raise Invalid("results", "the number of articles found")
    facts.record(
        session,
        "kb.search",
        at=at,
        data={
            "query": check_text("q", query, maximum=MAX_QUERY_KEPT),
            "language": check_language("lang", language),
            "results": results,
            **_ids(visitor, help_session),
        },
    )
