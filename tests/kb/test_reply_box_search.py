"""The search API as the agent's reply box uses it: with the console's session cookie an agent
also finds internal articles (marked, with no public address); anonymous callers and other
methods never do; public hits carry their absolute help-centre address."""

from __future__ import annotations

import httpx

from madad.auth.models import Role
from madad.db import Database
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, sign_in
from tests.kb.conftest import write


async def test_an_agent_in_the_console_finds_internal_articles_marked(
    client: httpx.AsyncClient, db: Database
) -> None:
    await write(db, "Request a refund", "Refunds within 14 days.")
    await write(db, "Refund override procedure", "Supervisors only.", internal=True)
    anonymous = (await client.get("/api/v1/kb/search", params={"q": "refund"})).json()
    assert [h["title"] for h in anonymous["items"]] == ["Request a refund"]
    assert anonymous["items"][0]["public_url"] == "http://madad.test/help/articles/request-a-refund"

    agent = await make_person(db, role=Role.agent, name="Ayesha", password=PASSWORD)
    await sign_in(client, agent)  # the client now holds the session cookie
    got = (await client.get("/api/v1/kb/search", params={"q": "refund"})).json()["items"]
    by_title = {h["title"]: h for h in got}
    assert set(by_title) == {"Request a refund", "Refund override procedure"}
    assert by_title["Refund override procedure"]["internal"] is True
    assert by_title["Refund override procedure"]["public_url"] is None
    assert by_title["Request a refund"]["public_url"].endswith("/help/articles/request-a-refund")

    # A forged or ended cookie is an anonymous caller, never an error.
    client.cookies.set("madad_session", "forged")
    again = (await client.get("/api/v1/kb/search", params={"q": "refund"})).json()["items"]
    assert [h["title"] for h in again] == ["Request a refund"]
