"""Knowledge-base tables: categories and sections (titles per language), articles, their
versions per language (draft → published → superseded, never deleted), related articles, and
the search documents (one per published article and language)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, utcnow

# PostgreSQL keeps the weighted tsvector beside the text; SQLite indexes the same rows in the
# FTS5 table `kb_fts` (created by the migration) and leaves this column empty.
Document = TSVECTOR().with_variant(Text(), "sqlite")


class Category(Base):
    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    titles: Mapped[dict[str, Any]]  # {"en": "Billing", "ur": "بلنگ"}
    descriptions: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Section(Base):
    __tablename__ = "kb_sections"
    __table_args__ = (UniqueConstraint("category_id", "slug", name="uq_kb_sections_category_slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("kb_categories.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(120))
    position: Mapped[int] = mapped_column(Integer, default=0)
    titles: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Article(Base):
    """An article; what it says lives in its versions, one line of history per language."""

    __tablename__ = "kb_articles"
    __table_args__ = (Index("ix_kb_articles_section", "section_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(160), unique=True)
    section_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_sections.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # agents only
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Version(Base):
    """One version of an article in one language. At most one draft and one published version
    per (article, language); publishing supersedes the published one, which stays as history."""

    __tablename__ = "kb_versions"
    __table_args__ = (
        UniqueConstraint("article_id", "language", "number", name="uq_kb_versions_number"),
        Index("ix_kb_versions_article_status", "article_id", "language", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    language: Mapped[str] = mapped_column(String(8))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12))  # draft | published | superseded
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)  # Markdown as authored
    html: Mapped[str] = mapped_column(Text)  # rendered and sanitised
    author_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    superseded_at: Mapped[datetime | None]


class Related(Base):
    __tablename__ = "kb_related"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    related_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class SearchDocument(Base):
    """What search sees of a published version: normalised plain text, and on PostgreSQL its
    tsvector. Its id is the rowid of the SQLite FTS5 row."""

    __tablename__ = "kb_search"
    __table_args__ = (
        UniqueConstraint("article_id", "language", name="uq_kb_search_article_language"),
        Index("ix_kb_search_document", "document", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    version_id: Mapped[int] = mapped_column(Integer)
    language: Mapped[str] = mapped_column(String(8))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    document: Mapped[Any] = mapped_column(Document, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
