"""The knowledge-base API: articles with translations, drafts and history; public search that
never shows internal articles to the public; and every bad input a 4xx problem document."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.conftest import Person, count_statements

NAUGHTY = json.loads(Path("/work/shared/data/naughty-strings/blns.json").read_text())
PROBLEM = "application/problem+json"


async def post_article(client: httpx.AsyncClient, who: Person, **body: object) -> httpx.Response:
    return await client.post("/api/v1/kb/articles", json=body, headers=who.headers)


async def test_an_article_is_written_translated_published_and_revised(
    client: httpx.AsyncClient, admin: Person
) -> None:
    r = await post_article(
        client,
        admin,
        translations={
            "en": {"title": "Update your card", "body": "Go to **Billing**."},
            "ur": {"title": "اپنا کارڈ اپ ڈیٹ کریں", "body": "**بلنگ** پر جائیں۔"},
        },
        publish=["en"],
    )
    assert r.status_code == 201, r.text
    article = r.json()
    assert article["slug"] == "update-your-card"
    en, ur = article["translations"]["en"], article["translations"]["ur"]
    assert en["published"]["html"] == "<p>Go to <strong>Billing</strong>.</p>\n"
    assert en["draft"] is None and en["url"] == "/help/articles/update-your-card"
    assert ur["published"] is None and ur["draft"]["title"] == "اپنا کارڈ اپ ڈیٹ کریں"
    assert ur["url"] is None

    path = f"/api/v1/kb/articles/{article['id']}"
    r = await client.patch(
        path,
        json={"translations": {"en": {"body": "Open **Billing → Cards**."}}},
        headers=admin.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["translations"]["en"]["draft"]["title"] == "Update your card"  # kept
    r = await client.patch(path, json={"publish": True}, headers=admin.headers)
    assert r.status_code == 200, r.text
    both = r.json()["translations"]
    assert both["en"]["published"]["body"] == "Open **Billing → Cards**."
    assert both["ur"]["url"] == "/help/ur/articles/update-your-card"

    r = await client.get(f"{path}/versions", params={"lang": "en"}, headers=admin.headers)
    assert [(v["number"], v["status"]) for v in r.json()] == [(2, "published"), (1, "superseded")]
    r = await client.get("/api/v1/kb/articles", params={"lang": "ur"}, headers=admin.headers)
    assert [a["id"] for a in r.json()["items"]] == [article["id"]]


async def test_public_search_never_shows_internal_articles(
    client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    for title, internal in (("Refund policy", False), ("Refund override for agents", True)):
        r = await post_article(
            client,
            admin,
            translations={"en": {"title": title, "body": "Refunds within 30 days."}},
            internal=internal,
            publish=True,
        )
        assert r.status_code == 201, r.text
    public = await client.get("/api/v1/kb/search", params={"q": "refund"})
    assert public.status_code == 200
    assert [h["slug"] for h in public.json()["items"]] == ["refund-policy"]
    staff = await client.get("/api/v1/kb/search", params={"q": "refund"}, headers=agent.headers)
    assert {h["slug"] for h in staff.json()["items"]} == {
        "refund-policy",
        "refund-override-for-agents",
    }
    hit = public.json()["items"][0]
    assert hit["url"] == "/help/articles/refund-policy"
    assert "<mark>" in hit["snippet"]
    # Reading articles (drafts, internal ones) needs kb:read.
    assert (await client.get("/api/v1/kb/articles")).status_code == 401
    bad = await client.get(
        "/api/v1/kb/search", params={"q": "x"}, headers={"Authorization": "Bearer nope"}
    )
    assert bad.status_code == 401 and bad.headers["content-type"] == PROBLEM


async def test_agents_read_but_do_not_write(client: httpx.AsyncClient, agent: Person) -> None:
    r = await post_article(client, agent, translations={"en": {"title": "x"}})
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert (await client.get("/api/v1/kb/articles", headers=agent.headers)).status_code == 200


async def test_bad_input_is_a_problem_document(client: httpx.AsyncClient, admin: Person) -> None:
    good = {"translations": {"en": {"title": "Fine", "body": ""}}}
    created = (await post_article(client, admin, **good, slug="fine", publish=True)).json()
    path = f"/api/v1/kb/articles/{created['id']}"
    cases: list[tuple[str, str, object, int]] = [
        ("POST", "/api/v1/kb/articles", {"translations": {}}, 422),
        ("POST", "/api/v1/kb/articles", {"translations": {"fr": {"title": "x"}}}, 422),
        ("POST", "/api/v1/kb/articles", {"translations": {"en": {"title": ""}}}, 422),
        ("POST", "/api/v1/kb/articles", {"translations": {"en": {"title": "   "}}}, 422),
        ("POST", "/api/v1/kb/articles", {"translations": {"en": {"title": "a\u0000b"}}}, 422),
        ("POST", "/api/v1/kb/articles", {"translations": {"en": {"title": "x" * 301}}}, 422),
        ("POST", "/api/v1/kb/articles", {**good, "colour": "red"}, 422),
        ("POST", "/api/v1/kb/articles", {**good, "slug": "Bad Slug"}, 422),
        ("POST", "/api/v1/kb/articles", {**good, "slug": "fine"}, 409),
        ("POST", "/api/v1/kb/articles", {**good, "section_id": 999}, 422),
        ("POST", "/api/v1/kb/articles", {**good, "section_id": 2**40}, 422),
        ("POST", "/api/v1/kb/articles", {**good, "related_ids": [999]}, 422),
        ("POST", "/api/v1/kb/articles", {**good, "publish": ["ur"]}, 422),
        ("POST", "/api/v1/kb/articles", [], 422),
        ("PATCH", path, {"translations": {"ur": {"body": "no title"}}}, 422),
        ("PATCH", path, {"related_ids": [created["id"]]}, 422),
        ("PATCH", path, {"publish": ["en"]}, 422),  # no draft left to publish
        ("PATCH", "/api/v1/kb/articles/999", {"internal": True}, 404),
        ("PATCH", "/api/v1/kb/articles/0", {"internal": True}, 422),
        ("GET", "/api/v1/kb/articles/999", None, 404),
        ("GET", "/api/v1/kb/articles/abc", None, 422),
        ("GET", f"{path}/versions?lang=fr", None, 422),
        ("GET", "/api/v1/kb/search?q=x&lang=fr", None, 422),
        ("GET", "/api/v1/kb/search?q=x&limit=0", None, 422),
        ("GET", "/api/v1/kb/search?q=x&limit=abc", None, 422),
        ("POST", "/api/v1/kb/categories", {"slug": "x", "titles": {}}, 422),
        (
            "POST",
            "/api/v1/kb/sections",
            {"category_id": 999, "slug": "x", "titles": {"en": "X"}},
            422,
        ),
    ]
    for method, url, body, status in cases:
        r = await client.request(method, url, json=body, headers=admin.headers)
        assert r.status_code == status, (method, url, body, r.status_code, r.text)
        assert r.headers["content-type"] == PROBLEM, (method, url)
    r = await client.post(
        "/api/v1/kb/articles",
        content=b'{"translations": ',
        headers={**admin.headers, "content-type": "application/json"},
    )
    assert r.status_code == 400 and r.headers["content-type"] == PROBLEM


async def test_search_takes_any_text(client: httpx.AsyncClient, admin: Person) -> None:
    await post_article(
        client, admin, translations={"en": {"title": "Password reset", "body": "x"}}, publish=True
    )
    for q in [*NAUGHTY, '"password', "password*)", "NOT password", "x" * 6000, "a b " * 1500]:
        for lang in ("en", "ur"):
            r = await client.get("/api/v1/kb/search", params={"q": q, "lang": lang})
            assert r.status_code == 200, (q, r.text)
            assert isinstance(r.json()["items"], list)
    r = await client.get("/api/v1/kb/search", params={"q": '"password* OR'})
    assert [h["slug"] for h in r.json()["items"]] == ["password-reset"]


async def test_every_naughty_title_is_stored_and_shown_back_exactly(
    client: httpx.AsyncClient, admin: Person
) -> None:
    stored = 0
    for i, title in enumerate(NAUGHTY):
        r = await post_article(
            client,
            admin,
            translations={"en": {"title": title, "body": title}},
            slug=f"n-{i}",
            publish=True,
        )
        if not title.strip() or len(title) > 300:
            assert r.status_code == 422 and r.headers["content-type"] == PROBLEM, (title, r.text)
            continue
        assert r.status_code == 201, (title, r.text)
        got = await client.get(f"/api/v1/kb/articles/{r.json()['id']}", headers=admin.headers)
        published = got.json()["translations"]["en"]["published"]
        assert published["title"] == title and published["body"] == title
        assert "<script" not in published["html"].lower()
        stored += 1
    assert stored > 480


async def test_categories_and_sections(client: httpx.AsyncClient, admin: Person) -> None:
    r = await client.post(
        "/api/v1/kb/categories",
        json={"slug": "billing", "titles": {"en": "Billing", "ur": "بلنگ"}},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    category = r.json()["id"]
    r = await client.post(
        "/api/v1/kb/sections",
        json={"category_id": category, "slug": "invoices", "titles": {"en": "Invoices"}},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    again = await client.post(
        "/api/v1/kb/categories",
        json={"slug": "billing", "titles": {"en": "B"}},
        headers=admin.headers,
    )
    assert again.status_code == 409
    section = r.json()["id"]
    article = await post_article(
        client, admin, translations={"en": {"title": "Invoices explained"}}, section_id=section
    )
    assert article.json()["section_id"] == section
    path = f"/api/v1/kb/articles/{article.json()['id']}"
    moved = await client.patch(path, json={"section_id": None}, headers=admin.headers)
    assert moved.status_code == 200 and moved.json()["section_id"] is None
    kept = await client.patch(path, json={"internal": True}, headers=admin.headers)
    assert kept.json()["section_id"] is None and kept.json()["internal"] is True
    tree = (await client.get("/api/v1/kb/categories")).json()
    assert tree[0]["titles"]["ur"] == "بلنگ"
    assert [s["slug"] for s in tree[0]["sections"]] == ["invoices"]


async def test_the_article_list_costs_the_same_few_queries_for_any_length(
    app: object, client: httpx.AsyncClient, admin: Person
) -> None:
    for i in range(12):
        r = await post_article(
            client,
            admin,
            translations={"en": {"title": f"Article {i}"}, "ur": {"title": f"مضمون {i}"}},
            publish=["en"],
        )
        assert r.status_code == 201
    counts = []
    for limit in (2, 12):
        with count_statements(app.state.db) as counter:  # type: ignore[attr-defined]
            r = await client.get(
                "/api/v1/kb/articles", params={"limit": limit}, headers=admin.headers
            )
        assert len(r.json()["items"]) == limit
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 6, counts
