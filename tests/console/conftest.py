"""Console fixtures: an agent signed in through the real login form, with their CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from madad.auth.models import Role
from madad.db import Database
from tests.conftest import Person, make_person

PASSWORD = "correct horse battery"


@dataclass
class Browser:
    """An httpx client holding a console session cookie, like a signed-in browser."""

    client: httpx.AsyncClient
    person: Person
    csrf: str

    async def get(self, path: str, **kw: object) -> httpx.Response:
        return await self.client.get(path, headers={"accept": "text/html"}, **kw)  # type: ignore[arg-type]

    async def post(self, path: str, data: dict | None = None, **kw: object) -> httpx.Response:
        headers = {"x-csrf-token": self.csrf, "hx-request": "true"}
        return await self.client.post(path, data=data or {}, headers=headers, **kw)  # type: ignore[arg-type]


async def sign_in(client: httpx.AsyncClient, person: Person) -> Browser:
    r = await client.post(
        "/login", data={"email": person.email, "password": PASSWORD, "next": "/inbox"}
    )
    assert r.status_code == 303, r.text
    page = await client.get("/inbox", headers={"accept": "text/html"})
    assert page.status_code == 200
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert match
    return Browser(client, person, match.group(1))


@pytest.fixture
async def agent_browser(client: httpx.AsyncClient, db: Database) -> Browser:
    person = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    return await sign_in(client, person)


@pytest.fixture
async def admin_browser(client: httpx.AsyncClient, db: Database) -> Browser:
    person = await make_person(db, role=Role.admin, name="Adil Admin", password=PASSWORD)
    return await sign_in(client, person)
