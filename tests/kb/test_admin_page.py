"""The console's knowledge-base page: supervisors see every article with each language's
state and unpublish or publish a language with a button; refusals are shown on the page and
change nothing; agents are refused; titles are shown as text."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from madad.activity.models import Activity
from madad.auth.models import Role
from madad.db import Database
from madad.kb.service import Text
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in
from tests.kb.conftest import write

XSS_TITLE = "Refunds <script>alert(1)</script> & more"


async def test_a_supervisor_unpublishes_and_publishes_a_translation(
    client: httpx.AsyncClient, db: Database
) -> None:
    refund = await write(
        db, "Request a refund", "Refunds.", more={"ur": Text("رقم کی واپسی", "واپسی۔")}
    )
    await write(db, XSS_TITLE, "Text.", internal=True)
    await write(db, "Draft only", "Soon.", publish=False)
    boss = await make_person(db, role=Role.supervisor, name="Zainab", password=PASSWORD)
    browser = await sign_in(client, boss)
    page = (await browser.get("/admin/knowledge-base")).text
    assert "Refunds &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert "<script>alert(1)" not in page
    assert '<a href="/help/articles/request-a-refund">published, version 1</a>' in page
    assert "draft waiting" in page

    article = refund.article.id
    r = await browser.client.post(
        f"/admin/knowledge-base/{article}/unpublish",
        data={"language": "ur", "csrf_token": browser.csrf},
    )
    assert r.status_code == 303
    assert r.headers["location"] == f"/admin/knowledge-base?done=unpublished#article-{article}"
    page = (await browser.get(r.headers["location"])).text
    assert "Taken down: customers no longer see it." in page
    row = re.search(rf'<tr id="article-{article}">(.*?)</tr>', page, re.S)
    assert row and "unpublished" in row.group(1)
    assert "رقم کی واپسی" not in (await client.get("/help/ur/articles/request-a-refund")).text

    r = await browser.client.post(
        f"/admin/knowledge-base/{article}/publish",
        data={"language": "ur", "csrf_token": browser.csrf},
    )
    assert r.status_code == 303
    assert "رقم کی واپسی" in (await client.get("/help/ur/articles/request-a-refund")).text
    async with db.session(write=False) as session:
        kinds = (
            await session.scalars(select(Activity.kind).where(Activity.kind == "kb.unpublished"))
        ).all()
    assert kinds == ["kb.unpublished"]

    # Refusals: shown on the page, nothing changes.
    for path, data, status in (
        (f"/admin/knowledge-base/{article}/unpublish", {"language": "fr"}, 422),
        ("/admin/knowledge-base/999999/unpublish", {"language": "en"}, 404),
        (f"/admin/knowledge-base/{article}/publish", {"language": "en"}, 422),  # no draft
    ):
        r = await browser.client.post(path, data={**data, "csrf_token": browser.csrf})
        assert r.status_code == status, (path, r.status_code, r.text[:300])
        assert 'role="alert"' in r.text
    forged = await browser.client.post(
        f"/admin/knowledge-base/{article}/unpublish", data={"language": "en"}
    )
    assert forged.status_code == 403
    assert (await client.get("/help/articles/request-a-refund")).status_code == 200


async def test_agents_cannot_manage_articles(client: httpx.AsyncClient, db: Database) -> None:
    agent = await make_person(db, role=Role.agent, name="Ayesha", password=PASSWORD)
    browser = await sign_in(client, agent)
    assert (await browser.get("/admin/knowledge-base")).status_code == 403
