"""Unpublishing an article or one translation through the API: it leaves the help centre,
search, the sitemap, related links and the answer bot at once; the version stays in the
history as `unpublished` and a `kb.unpublished` fact names who did it; publishing again
brings it back; every refusal changes nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from madad.activity.models import Activity
from madad.db import Database
from madad.kb import bot
from tests.conftest import Person

PROBLEM = "application/problem+json"


async def make(client: httpx.AsyncClient, admin: Person) -> dict:
    body = {
        "translations": {
            "en": {"title": "Request a refund", "body": "Refunds within 14 days of payment."},
            "ur": {"title": "رقم کی واپسی کی درخواست", "body": "چودہ دن کے اندر رقم واپس۔"},
        },
        "publish": True,
    }
    r = await client.post("/api/v1/kb/articles", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    other = {
        "translations": {"en": {"title": "Download an invoice", "body": "Invoices as PDF."}},
        "related_ids": [r.json()["id"]],
        "publish": True,
    }
    assert (
        await client.post("/api/v1/kb/articles", json=other, headers=admin.headers)
    ).status_code == 201
    return r.json()


async def searched(client: httpx.AsyncClient, q: str, lang: str = "en") -> list[str]:
    r = await client.get("/api/v1/kb/search", params={"q": q, "lang": lang})
    return [h["slug"] + ":" + h["language"] for h in r.json()["items"]]


async def offered(app: object, q: str, lang: str = "en") -> list[str]:
    db: Database = app.state.db  # type: ignore[attr-defined]
    async with db.session(write=False) as session:
        return [s.slug for s in await bot.suggest(session, q, lang=lang)]


async def test_a_translation_then_the_article_is_unpublished_and_published_again(
    app: object, client: httpx.AsyncClient, admin: Person
) -> None:
    article = await make(client, admin)
    path = f"/api/v1/kb/articles/{article['id']}"
    assert await searched(client, "رقم واپسی", "ur") == ["request-a-refund:ur"]
    assert await offered(app, "how do i request a refund") == ["request-a-refund"]

    r = await client.post(f"{path}/unpublish", json={"languages": ["ur"]}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert set(r.json()["translations"]) == {"en"}
    urdu = await client.get("/help/ur/articles/request-a-refund")
    assert urdu.status_code == 200 and "Request a refund" in urdu.text  # English, with a note
    assert "رقم کی واپسی کی درخواست" not in urdu.text
    assert "request-a-refund:ur" not in await searched(client, "رقم واپسی", "ur")
    sitemap = (await client.get("/help/sitemap.xml")).text
    assert "/help/ur/articles/request-a-refund" not in sitemap
    assert "/help/articles/request-a-refund" in sitemap

    r = await client.post(f"{path}/unpublish", headers=admin.headers)  # everything left
    assert r.status_code == 200 and r.json()["translations"] == {}
    assert (await client.get("/help/articles/request-a-refund")).status_code == 404
    assert (await client.get("/help/ur/articles/request-a-refund")).status_code == 404
    assert await searched(client, "refund") == []
    assert await offered(app, "how do i request a refund") == []
    assert "request-a-refund" not in (await client.get("/help/sitemap.xml")).text
    assert "request-a-refund" not in (await client.get("/help")).text
    related = await client.get("/help/articles/download-an-invoice")
    assert related.status_code == 200 and "request-a-refund" not in related.text
    beacon = await client.post(
        "/help/beacon",
        content=f'{{"event": "view", "article_id": {article["id"]}, "lang": "en"}}',
    )
    assert beacon.status_code == 404

    history = (
        await client.get(f"{path}/versions", params={"lang": "en"}, headers=admin.headers)
    ).json()
    assert [(v["number"], v["status"]) for v in history] == [(1, "unpublished")]
    assert history[0]["superseded_at"] is not None
    db: Database = app.state.db  # type: ignore[attr-defined]
    async with db.session(write=False) as session:
        rows = (
            await session.scalars(
                select(Activity).where(Activity.kind == "kb.unpublished").order_by(Activity.id)
            )
        ).all()
    assert [(f.data["language"], f.data["article_id"], f.agent_id) for f in rows] == [
        ("ur", article["id"], admin.id),
        ("en", article["id"], admin.id),
    ]

    # Published again as it was; then a new draft published over it.
    r = await client.patch(path, json={"publish": ["en"]}, headers=admin.headers)
    assert r.status_code == 200, r.text
    assert r.json()["translations"]["en"]["published"]["number"] == 1
    assert await searched(client, "refund") == ["request-a-refund:en"]
    assert (await client.get("/help/articles/request-a-refund")).status_code == 200
    assert await offered(app, "how do i request a refund") == ["request-a-refund"]
    r = await client.patch(
        path, json={"translations": {"ur": {"body": "نئی عبارت"}}}, headers=admin.headers
    )
    assert r.json()["translations"]["ur"]["draft"]["title"] == "رقم کی واپسی کی درخواست"
    r = await client.patch(path, json={"publish": ["ur"]}, headers=admin.headers)
    assert r.json()["translations"]["ur"]["published"]["number"] == 2
    history = (
        await client.get(f"{path}/versions", params={"lang": "ur"}, headers=admin.headers)
    ).json()
    assert [(v["number"], v["status"]) for v in history] == [(2, "published"), (1, "unpublished")]


async def test_refusals_change_nothing(
    client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    article = await make(client, admin)
    path = f"/api/v1/kb/articles/{article['id']}/unpublish"
    for url, body, headers, status in (
        ("/api/v1/kb/articles/999999/unpublish", None, admin.headers, 404),
        (path, {"languages": ["fr"]}, admin.headers, 422),
        (path, {"languages": []}, admin.headers, 422),
        (path, {"languages": "en"}, admin.headers, 422),
        (path, {"language": ["en"]}, admin.headers, 422),
        (path, None, agent.headers, 403),
        (path, None, {}, 401),
    ):
        r = await client.post(url, json=body, headers=headers)
        assert r.status_code == status, (url, body, r.status_code, r.text)
        assert r.headers["content-type"] == PROBLEM
    assert await searched(client, "refund") == ["request-a-refund:en"]
    r = await client.post(path, json={"languages": ["ur"]}, headers=admin.headers)
    assert r.status_code == 200
    again = await client.post(path, json={"languages": ["ur"]}, headers=admin.headers)
    assert again.status_code == 422 and "not published in ur" in again.text
