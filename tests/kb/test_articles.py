"""Articles: drafts and published versions per language with their history, internal articles,
related articles, and Markdown that renders inert whatever it carries."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from madad.auth.models import Role
from madad.auth.permissions import actor_for
from madad.db import Database
from madad.errors import Conflict, Forbidden, Invalid, NotFound
from madad.kb import content, service
from madad.kb.service import Text
from tests.kb.conftest import AUTHOR, write

XSS = Path("/work/shared/data/xss/bleach-sanitizer-vectors")


async def test_publishing_keeps_every_earlier_version(db: Database) -> None:
    view = await write(db, "Reset your password", "Use the *Forgot password* link.")
    article_id = view.article.id
    async with db.session() as session:
        await service.update_article(
            session,
            AUTHOR,
            article_id,
            translations={"en": Text("Reset your password", "Click **Forgot password**.")},
        )
    async with db.session(write=False) as session:
        draft_pending = await service.get_article(session, article_id, include_internal=False)
    # A saved draft does not change what readers see.
    assert draft_pending.published["en"].body == "Use the *Forgot password* link."
    assert draft_pending.drafts["en"].body == "Click **Forgot password**."
    async with db.session() as session:
        await service.update_article(session, AUTHOR, article_id, publish=["en"])
    async with db.session() as session:
        await service.update_article(
            session,
            AUTHOR,
            article_id,
            translations={"en": Text("Reset a password", "Third text.")},
            publish=["en"],
        )
    async with db.session(write=False) as session:
        versions = await service.history(session, article_id, "en")
        now = await service.get_article(session, article_id, include_internal=False)
    assert [(v.number, v.status) for v in versions] == [
        (3, "published"),
        (2, "superseded"),
        (1, "superseded"),
    ]
    assert [v.body for v in versions] == [
        "Third text.",
        "Click **Forgot password**.",
        "Use the *Forgot password* link.",
    ]
    assert all(v.superseded_at is not None for v in versions[1:])
    assert now.published["en"].title == "Reset a password" and not now.drafts


async def test_languages_have_their_own_drafts_and_publications(db: Database) -> None:
    view = await write(
        db,
        "Change your plan",
        "Open **Billing**.",
        more={"ur": Text("اپنا پلان تبدیل کریں", "**بلنگ** کھولیں۔")},
        publish=False,
    )
    async with db.session() as session:
        after = await service.update_article(session, AUTHOR, view.article.id, publish=["ur"])
    assert set(after.published) == {"ur"} and set(after.drafts) == {"en"}
    assert after.published["ur"].html == "<p><strong>بلنگ</strong> کھولیں۔</p>\n"
    async with db.session() as session:
        with pytest.raises(Invalid):  # nothing left to publish in Urdu
            await service.update_article(session, AUTHOR, view.article.id, publish=["ur"])
        with pytest.raises(Invalid):
            await service.update_article(session, AUTHOR, view.article.id, publish=["fr"])


async def test_internal_articles_are_hidden_from_customer_reads(db: Database) -> None:
    public = await write(db, "Shipping times", "Orders ship in two days.")
    secret = await write(db, "Refund override procedure", "Agents only.", internal=True)
    async with db.session(write=False) as session:
        with pytest.raises(NotFound):
            await service.get_article(session, secret.article.id, include_internal=False)
        assert await service.get_article(session, secret.article.id, include_internal=True)
        listed = await service.list_articles(session, include_internal=False)
        everything = await service.list_articles(session, include_internal=True)
    assert [v.article.id for v in listed] == [public.article.id]
    assert {v.article.id for v in everything} == {public.article.id, secret.article.id}


async def test_related_articles_are_kept_in_order_and_checked(db: Database) -> None:
    a = await write(db, "Invoices")
    b = await write(db, "Receipts")
    c = await write(db, "Refunds")
    async with db.session() as session:
        view = await service.update_article(
            session, AUTHOR, a.article.id, related_ids=[c.article.id, b.article.id]
        )
    assert view.related == [c.article.id, b.article.id]
    async with db.session() as session:
        with pytest.raises(Invalid):
            await service.update_article(session, AUTHOR, a.article.id, related_ids=[a.article.id])
        with pytest.raises(Invalid):
            await service.update_article(session, AUTHOR, a.article.id, related_ids=[99999])


async def test_slugs_are_made_unique_and_checked(db: Database) -> None:
    first = await write(db, "Two-factor authentication")
    second = await write(db, "Two-factor authentication!")
    urdu = await write(db, "پاس ورڈ", language="ur")
    assert first.article.slug == "two-factor-authentication"
    assert second.article.slug == "two-factor-authentication-2"
    assert urdu.article.slug == "article"
    async with db.session() as session:
        with pytest.raises(Conflict):
            await service.update_article(
                session, AUTHOR, second.article.id, slug="two-factor-authentication"
            )
        with pytest.raises(Invalid):
            await service.update_article(session, AUTHOR, second.article.id, slug="Not A Slug")


async def test_only_authors_write(db: Database) -> None:
    agent = actor_for(2, Role.agent.value, "Ayesha Agent")
    async with db.session() as session:
        with pytest.raises(Forbidden):
            await service.create_article(session, agent, translations={"en": Text("x", "y")})


async def test_unstorable_text_is_refused_not_crashed(db: Database) -> None:
    async with db.session() as session:
        for bad in ("", "   ", "a\x00b", "x" * 301, "\ud800"):
            with pytest.raises(Invalid):
                await service.create_article(session, AUTHOR, translations={"en": Text(bad, "")})


def test_markdown_renders_formatting_and_safe_links() -> None:
    html = content.render(
        "# Title\n\nSee [docs](https://example.com) and `code`.\n\n| a |\n|:-:|\n| 1 |"
    )
    assert "<h1>Title</h1>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "<code>code</code>" in html
    assert '<th style="text-align:center">a</th>' in html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "![x](javascript:alert(1))",
        '<img src=x onerror="alert(1)">',
        "<a href='javascript:alert(1)'>x</a>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<iframe src=https://evil.example></iframe>",
        "| a |\n|---|\n| <svg onload=alert(1)> |",
        '[x](https://ok.example "title\\" onmouseover=\\"alert(1)")',
        "```\n<script>alert(1)</script>\n```",
    ],
)
def test_markdown_injection_renders_inert(markdown: str) -> None:
    html = content.render(markdown)
    assert_inert(html)
    assert "<img" not in html or "javascript" not in html


def _vectors() -> list[str]:
    found = []
    for path in sorted(XSS.rglob("*.test")):
        raw = path.read_text(errors="replace")
        found.append(raw.split("\n--\n", 1)[0] if path.parent.name == "regressions" else raw)
    return found


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.append((tag, attrs))


def assert_inert(html: str) -> None:
    parser = Elements()
    parser.feed(html)
    for tag, attrs in parser.seen:
        assert tag not in ("script", "iframe", "object", "embed", "style", "svg", "base"), html
        for name, value in attrs:
            assert not name.startswith("on") and name not in ("srcdoc", "formaction"), html
            url = "".join((value or "").split()).lower()
            if name in ("href", "src"):
                assert not url.startswith(("javascript:", "vbscript:", "data:")), html


def test_every_shared_xss_vector_renders_without_script_handlers_or_js_urls() -> None:
    vectors = _vectors()
    assert len(vectors) >= 200
    for vector in vectors:
        assert_inert(content.render(vector))
