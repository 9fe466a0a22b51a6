"""API shapes of the knowledge base."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from madad.api_types import SafeStr, Strict
from madad.kb import search, service
from madad.kb.content import MAX_BODY, MAX_TITLE
from madad.kb.models import Category, Section, Version

Language = Literal["en", "ur"]
Titles = dict[Language, SafeStr]


class TextIn(Strict):
    title: SafeStr = Field(min_length=1, max_length=MAX_TITLE)
    body: SafeStr = Field(default="", max_length=MAX_BODY, description="Markdown")


class TextPatch(Strict):
    title: SafeStr | None = Field(default=None, min_length=1, max_length=MAX_TITLE)
    body: SafeStr | None = Field(default=None, max_length=MAX_BODY, description="Markdown")


Slug = Field(default=None, max_length=160, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
Publish = Field(
    default=False,
    description="publish the drafts of these languages (true: of every language given)",
)


class ArticleIn(Strict):
    translations: dict[Language, TextIn] = Field(min_length=1)
    slug: str | None = Slug
    section_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    internal: bool = False
    related_ids: list[int] = Field(default_factory=list, max_length=service.MAX_RELATED)
    publish: bool | list[Language] = Publish


class ArticlePatch(Strict):
    translations: dict[Language, TextPatch] = Field(default_factory=dict)
    slug: str | None = Slug
    section_id: int | None = Field(default=None, ge=1, le=2**31 - 1, description="null: none")
    internal: bool | None = None
    related_ids: list[int] | None = Field(default=None, max_length=service.MAX_RELATED)
    publish: bool | list[Language] = Publish


class VersionOut(BaseModel):
    id: int
    number: int
    language: str
    status: str
    title: str
    body: str
    html: str
    author_id: int | None
    created_at: datetime
    published_at: datetime | None
    superseded_at: datetime | None

    @classmethod
    def of(cls, v: Version) -> VersionOut:
        return cls(**{k: getattr(v, k) for k in cls.model_fields})


class TranslationOut(BaseModel):
    published: VersionOut | None
    draft: VersionOut | None
    url: str | None = Field(description="the help-centre page, once published and public")


class ArticleOut(BaseModel):
    id: int
    slug: str
    section_id: int | None
    internal: bool
    related_ids: list[int]
    translations: dict[str, TranslationOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, view: service.ArticleView) -> ArticleOut:
        a = view.article
        languages = sorted(set(view.drafts) | set(view.published))
        return cls(
            id=a.id,
            slug=a.slug,
            section_id=a.section_id,
            internal=a.internal,
            related_ids=view.related,
            created_at=a.created_at,
            updated_at=a.updated_at,
            translations={
                lang: TranslationOut(
                    published=VersionOut.of(view.published[lang])
                    if lang in view.published
                    else None,
                    draft=VersionOut.of(view.drafts[lang]) if lang in view.drafts else None,
                    url=service.help_path(a.slug, lang)
                    if lang in view.published and not a.internal
                    else None,
                )
                for lang in languages
            },
        )


class UnpublishIn(Strict):
    languages: list[Language] | None = Field(
        default=None,
        max_length=10,
        description="the translations to take down; omitted or null: every published one",
    )


class ArticlePage(BaseModel):
    items: list[ArticleOut]
    next_cursor: str | None = None


class HitOut(BaseModel):
    article_id: int
    slug: str
    language: str
    title: str
    snippet: str = Field(description="HTML: the text escaped, the matches in <mark>")
    score: float
    internal: bool
    url: str
    public_url: str | None = Field(
        default=None, description="absolute help-centre address; null for internal articles"
    )

    @classmethod
    def of(cls, h: search.Hit, *, base_url: str | None = None) -> HitOut:
        path = service.help_path(h.slug, h.language)
        return cls(
            article_id=h.article_id,
            slug=h.slug,
            language=h.language,
            title=h.title,
            snippet=h.snippet,
            score=h.score,
            internal=h.internal,
            url=path,
            public_url=base_url.rstrip("/") + path if base_url and not h.internal else None,
        )


class SearchOut(BaseModel):
    q: str
    lang: str
    corrected: str | None = Field(description="the query as corrected, when words were")
    items: list[HitOut]


class CategoryIn(Strict):
    slug: str = Field(max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    titles: Titles = Field(min_length=1)
    descriptions: Titles = Field(default_factory=dict)
    position: int = Field(default=0, ge=-(2**31), le=2**31 - 1)


class SectionIn(Strict):
    category_id: int = Field(ge=1, le=2**31 - 1)
    slug: str = Field(max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    titles: Titles = Field(min_length=1)
    position: int = Field(default=0, ge=-(2**31), le=2**31 - 1)


class SectionOut(BaseModel):
    id: int
    category_id: int
    slug: str
    position: int
    titles: dict[str, str]

    @classmethod
    def of(cls, s: Section) -> SectionOut:
        return cls(
            id=s.id, category_id=s.category_id, slug=s.slug, position=s.position, titles=s.titles
        )


class CategoryOut(BaseModel):
    id: int
    slug: str
    position: int
    titles: dict[str, str]
    descriptions: dict[str, str]
    sections: list[SectionOut]

    @classmethod
    def of(cls, c: Category, sections: list[Section]) -> CategoryOut:
        return cls(
            id=c.id,
            slug=c.slug,
            position=c.position,
            titles=c.titles,
            descriptions=c.descriptions,
            sections=[SectionOut.of(s) for s in sections],
        )
