"""Knowledge base: categories, sections, articles with per-language versions and history,
related articles, and the search documents (FTS5 on SQLite, tsvector + GIN on PostgreSQL).

Revision ID: 0001_kb
Revises: 0001_core
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

import madad.db

revision: str = "0001_kb"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("kb",)
depends_on: str | Sequence[str] | None = None


def when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, madad.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "kb_categories",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("titles", madad.db.JSONType, nullable=False),
        sa.Column("descriptions", madad.db.JSONType, nullable=False),
        when("created_at", False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_kb_categories_slug")),
    )
    op.create_table(
        "kb_sections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("titles", madad.db.JSONType, nullable=False),
        when("created_at", False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["kb_categories.id"],
            name=op.f("fk_kb_sections_category_id_kb_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_sections")),
        sa.UniqueConstraint("category_id", "slug", name="uq_kb_sections_category_slug"),
    )
    op.create_table(
        "kb_articles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=160), nullable=False),
        sa.Column("section_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        when("created_at", False),
        when("updated_at", False),
        sa.ForeignKeyConstraint(
            ["section_id"],
            ["kb_sections.id"],
            name=op.f("fk_kb_articles_section_id_kb_sections"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("slug", name=op.f("uq_kb_articles_slug")),
    )
    op.create_index("ix_kb_articles_section", "kb_articles", ["section_id", "position"])
    op.create_table(
        "kb_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        when("created_at", False),
        when("published_at"),
        when("superseded_at"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_versions_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_versions")),
        sa.UniqueConstraint("article_id", "language", "number", name="uq_kb_versions_number"),
    )
    op.create_index(
        "ix_kb_versions_article_status", "kb_versions", ["article_id", "language", "status"]
    )
    op.create_table(
        "kb_related",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("related_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_related_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["related_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_related_related_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", "related_id", name=op.f("pk_kb_related")),
    )
    op.create_table(
        "kb_search",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("document", TSVECTOR().with_variant(sa.Text(), "sqlite"), nullable=True),
        when("updated_at", False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_search_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_search")),
        sa.UniqueConstraint("article_id", "language", name="uq_kb_search_article_language"),
    )
    op.create_index("ix_kb_search_document", "kb_search", ["document"], postgresql_using="gin")
    if sqlite:
        # An external-content FTS5 index over kb_search (rowid = kb_search.id); the service
        # writes both in one transaction. Porter stems English; Urdu passes through unicode61.
        # Prefix indexes make search-as-you-type ("pass*") an index lookup.
        op.execute(
            "CREATE VIRTUAL TABLE kb_fts USING fts5("
            "title, text, content='kb_search', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3 4')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS kb_fts")
    op.drop_table("kb_search")
    op.drop_table("kb_related")
    op.drop_table("kb_versions")
    op.drop_table("kb_articles")
    op.drop_table("kb_sections")
    op.drop_table("kb_categories")
