"""The public help centre over HTTP: categories and articles in English and Urdu (right to
left), search pages, "was this helpful?", the reading beacon's facts and the sitemap — and no
page, search or sitemap ever shows a draft or an internal article."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from madad.activity.models import Activity
from madad.db import Database
from madad.kb import service
from madad.kb.service import Text
from tests.kb.conftest import AUTHOR

NAUGHTY = json.loads(Path("/work/shared/data/naughty-strings/blns.json").read_text())
SECRET = "Zanzibar-override-procedure"


@pytest.fixture
async def site(app: object) -> dict[str, int]:
    db: Database = app.state.db  # type: ignore[attr-defined]
    async with db.session() as session:
        billing = await service.create_category(
            session, AUTHOR, slug="billing", titles={"en": "Billing", "ur": "بلنگ"}
        )
        invoices = await service.create_section(
            session, AUTHOR, category_id=billing.id, slug="invoices",
            titles={"en": "Invoices", "ur": "انوائسز"},
        )  # fmt: skip
        refund = await service.create_article(
            session,
            AUTHOR,
            section_id=invoices.id,
            translations={
                "en": Text(
                    "Request a refund", "Refunds within **14 days**.\n\n<script>x()</script>"
                ),
                "ur": Text("رقم کی واپسی", "چودہ دن کے اندر **رقم واپس**۔"),
            },
            publish=["en", "ur"],
        )
        invoice = await service.create_article(
            session,
            AUTHOR,
            section_id=invoices.id,
            translations={"en": Text("Download an invoice", "Every invoice is a PDF.")},
            related_ids=[refund.article.id],
            publish=["en"],
        )
        secret = await service.create_article(
            session,
            AUTHOR,
            section_id=invoices.id,
            translations={"en": Text(SECRET, "The kestrel zanzibar procedure, agents only.")},
            internal=True,
            publish=["en"],
        )
        draft = await service.create_article(
            session,
            AUTHOR,
            section_id=invoices.id,
            translations={"en": Text("Unpublished " + SECRET, "A kestrel zanzibar draft.")},
        )
    return {
        "refund": refund.article.id,
        "invoice": invoice.article.id,
        "secret": secret.article.id,
        "draft": draft.article.id,
    }


async def facts(app: object, kind: str) -> list[dict]:
    db: Database = app.state.db  # type: ignore[attr-defined]
    async with db.session(write=False) as session:
        rows = await session.scalars(select(Activity).where(Activity.kind == kind))
        return [r.data for r in rows]


async def test_the_home_page_lists_published_public_articles(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    r = await client.get("/help")
    assert r.status_code == 200
    assert '<html lang="en" dir="ltr">' in r.text
    for words in ("Billing", "Invoices", "/help/articles/request-a-refund", "Download an invoice"):
        assert words in r.text
    ur = await client.get("/help/ur")
    assert '<html lang="ur" dir="rtl">' in ur.text
    assert "بلنگ" in ur.text and "رقم کی واپسی" in ur.text
    assert "/help/ur/articles/request-a-refund" in ur.text
    # An article not in Urdu yet is listed in English rather than hidden.
    assert "Download an invoice" in ur.text


async def test_an_article_page_renders_markdown_safely_with_its_related_articles(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    r = await client.get("/help/articles/request-a-refund")
    assert r.status_code == 200
    assert "<strong>14 days</strong>" in r.text
    assert "<script>x()" not in r.text and "&lt;script&gt;x()&lt;/script&gt;" in r.text
    assert 'rel="alternate" hreflang="ur"' in r.text
    assert f'data-article-id="{site["refund"]}"' in r.text
    invoice = await client.get("/help/articles/download-an-invoice")
    assert 'href="/help/articles/request-a-refund">Request a refund</a>' in invoice.text
    ur = await client.get("/help/ur/articles/request-a-refund")
    assert "<strong>رقم واپس</strong>" in ur.text and 'dir="rtl"' in ur.text
    fallback = await client.get("/help/ur/articles/download-an-invoice")
    assert fallback.status_code == 200 and 'data-lang="en"' in fallback.text


async def test_no_help_centre_url_shows_a_draft_or_an_internal_article(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    secret_slug = SECRET.lower()
    # Searched for by the word in their titles and bodies; the page may echo the query, never
    # a link to them or their text.
    urls = ["/help", "/help/ur", "/help/sitemap.xml", "/help/search?q=zanzibar"]
    urls += ["/help/ur/search?q=zanzibar", "/api/v1/kb/search?q=zanzibar"]
    urls += [f"/help/articles/{secret_slug}", f"/help/ur/articles/{secret_slug}"]
    urls += ["/help/articles/unpublished-zanzibar-override-procedure"]
    urls += ["/api/v1/kb/categories", "/help/articles/request-a-refund"]
    for url in urls:
        r = await client.get(url)
        assert r.status_code in (200, 404), url
        text = r.text.lower()
        assert "kestrel" not in text and "articles/zanzibar" not in text, url
        assert "articles/unpublished" not in text and "procedure" not in text, url
    assert (await client.get(f"/help/articles/{secret_slug}")).status_code == 404
    for bad in ("/help/fr", "/help/en/articles/request-a-refund", "/help/ur/articles/nope"):
        assert (await client.get(bad)).status_code == 404, bad
    beacon = await client.post(
        "/help/beacon",
        content=json.dumps({"event": "view", "article_id": site["secret"], "lang": "en"}),
    )
    assert beacon.status_code == 404


async def test_the_search_page_marks_matches_and_takes_any_text(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    r = await client.get("/help/search", params={"q": "refund"})
    assert "<mark>Refunds</mark>" in r.text or "<mark>refund" in r.text.lower()
    assert 'href="/help/articles/request-a-refund"' in r.text
    typo = await client.get("/help/search", params={"q": "refnud "})
    assert "request-a-refund" in typo.text and "refund" in typo.text
    for q in NAUGHTY[::3]:
        r = await client.get("/help/ur/search", params={"q": q})
        assert r.status_code == 200, q
        assert "<script>alert" not in r.text


async def test_votes_are_facts_with_their_comments(
    app: object, client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    r = await client.post(
        "/help/ur/articles/request-a-refund/vote",
        data={
            "helpful": "no",
            "comment": "<img src=x onerror=alert(1)> مزید مثالیں",
            "visitor": "v-1234567",
            "help_session": "visit-0002",
        },
    )
    assert r.status_code == 200 and "help-thanks" in r.text
    r = await client.post("/help/articles/download-an-invoice/vote", data={"helpful": "yes"})
    assert r.status_code == 200
    votes = await facts(app, "kb.vote")
    assert {(v["article_id"], v["language"], v["helpful"]) for v in votes} == {
        (site["refund"], "ur", False),
        (site["invoice"], "en", True),
    }
    assert any(v.get("comment") == "<img src=x onerror=alert(1)> مزید مثالیں" for v in votes)
    assert {v["help_session"] for v in votes} == {"visit-0002", None}
    refused = await client.post(
        "/help/articles/download-an-invoice/vote",
        data={"helpful": "yes"},
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code == 403
    bad = await client.post("/help/articles/download-an-invoice/vote", data={"helpful": "maybe"})
    assert bad.status_code == 422
    assert len(await facts(app, "kb.vote")) == 2


async def test_the_beacon_records_views_and_reads_of_ten_seconds_or_more(
    app: object, client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    def send(**body: object) -> object:
        return client.post(
            "/help/beacon", content=json.dumps(body), headers={"Content-Type": "text/plain"}
        )

    assert (
        await send(
            event="view",
            article_id=site["refund"],
            lang="ur",
            visitor="abcd-1234",
            help_session="visit-0001",
        )
    ).status_code == 204
    assert (
        await send(event="read", article_id=site["refund"], lang="ur", seconds=9.9)
    ).status_code == 204
    assert (
        await send(event="read", article_id=site["refund"], lang="ur", seconds=42.5, scroll=0.8)
    ).status_code == 204
    assert (
        await send(event="read", article_id=site["invoice"], lang="en", seconds=99999)
    ).status_code == 204
    views = await facts(app, "kb.view")
    reads = await facts(app, "kb.read")
    assert views == [
        {
            "article_id": site["refund"],
            "language": "ur",
            "visitor": "abcd-1234",
            "help_session": "visit-0001",
        }
    ]
    assert sorted((r["article_id"], r["read_seconds"]) for r in reads) == sorted(
        [(site["refund"], 42.5), (site["invoice"], 1800.0)]
    )
    assert next(r for r in reads if r["article_id"] == site["refund"])["scroll_depth"] == 0.8
    for body in (
        b"",
        b"not json",
        b"[]",
        json.dumps({"event": "view", "article_id": "1", "lang": "en"}).encode(),
        json.dumps({"event": "view", "article_id": site["refund"], "lang": "fr"}).encode(),
        json.dumps({"event": "stare", "article_id": site["refund"], "lang": "en"}).encode(),
        json.dumps(
            {"event": "read", "article_id": site["refund"], "lang": "en", "seconds": "x"}
        ).encode(),
        json.dumps(
            {"event": "view", "article_id": site["refund"], "lang": "en", "visitor": "<x>"}
        ).encode(),
        json.dumps(
            {"event": "view", "article_id": site["refund"], "lang": "en", "help_session": 5}
        ).encode(),
        json.dumps(
            {"event": "view", "article_id": site["refund"], "lang": "en", "help_session": "é" * 9}
        ).encode(),
        json.dumps({"event": "view", "article_id": 2**40, "lang": "en"}).encode(),
        b"{" + b" " * 5000 + b"}",
    ):
        r = await client.post("/help/beacon", content=body)
        assert r.status_code == 422, (body[:80], r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    cross = await client.post(
        "/help/beacon",
        content=json.dumps({"event": "view", "article_id": site["refund"], "lang": "en"}),
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert len(await facts(app, "kb.view")) == 1


async def test_the_sitemap_lists_every_public_article_with_its_languages(
    client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    r = await client.get("/help/sitemap.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    locs = re.findall(r"<loc>([^<]+)</loc>", r.text)
    assert locs == [
        "http://madad.test/help",
        "http://madad.test/help/ur",
        "http://madad.test/help/articles/request-a-refund",
        "http://madad.test/help/ur/articles/request-a-refund",
        "http://madad.test/help/articles/download-an-invoice",
    ]
    assert 'hreflang="ur" href="http://madad.test/help/ur/articles/request-a-refund"' in r.text


async def test_settled_searches_are_facts_with_their_result_counts(
    app: object, client: httpx.AsyncClient, site: dict[str, int]
) -> None:
    def send(body: object) -> object:
        return client.post("/help/beacon", content=json.dumps(body))

    ok = await send({"event": "search", "q": "  gift   cards ", "lang": "en", "results": 0})
    assert ok.status_code == 204
    ok = await send(
        {"event": "search", "q": "رقم", "lang": "ur", "results": 1, "visitor": "v-12345678"}
    )
    assert ok.status_code == 204
    for bad in (
        {"event": "search", "q": "   ", "lang": "en", "results": 0},
        {"event": "search", "q": 5, "lang": "en", "results": 0},
        {"event": "search", "q": "x", "lang": "en", "results": -1},
        {"event": "search", "q": "x", "lang": "en", "results": True},
        {"event": "search", "q": "x", "lang": "en"},
        {"event": "search", "q": "x" * 1001, "lang": "en", "results": 0},
        {"event": "search", "q": "a\u0000b", "lang": "en", "results": 0},
        {"event": "view", "article_id": True, "lang": "en"},
    ):
        r = await send(bad)
        assert r.status_code == 422, (bad, r.text)
    searches = await facts(app, "kb.search")
    assert sorted((s["query"], s["language"], s["results"]) for s in searches) == [
        ("gift cards", "en", 0),
        ("رقم", "ur", 1),
    ]
    page = await client.get("/help/search", params={"q": "refund"})
    assert 'data-search-q="refund" data-search-results="1"' in page.text
