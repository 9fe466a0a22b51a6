"""Portal test helpers: customers (contacts with an email address), the app with a base URL for
links, and a signed-in customer's client (cookie + CSRF token) like a browser holds them."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from madad import jobs
from madad.activity import service as facts
from madad.app import create_app
from madad.auth.permissions import SYSTEM
from madad.config import Settings
from madad.contacts import organisations
from madad.contacts import service as contacts
from madad.contacts.schemas import ContactCreate
from madad.db import Database
from madad.portal import access
from madad.portal.models import SignInLink

BASE = "http://madad.test"


@pytest.fixture
def portal_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"base_url": BASE})


@pytest.fixture
async def portal_app(portal_settings: Settings) -> AsyncIterator[object]:
    app = create_app(portal_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def web(portal_app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(portal_app) as c:
        yield c


def client_of(app: object, **kw: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url=BASE, **kw)  # type: ignore[arg-type]


def db_of(app: object) -> Database:
    return app.state.db  # type: ignore[attr-defined]


async def work(db: Database, settings: Settings) -> None:
    for _ in range(3):
        await facts.drain_consumers(db)
        await jobs.Worker(db, settings).drain(max_seconds=30)


async def make_organisation(db: Database, name: str) -> int:
    async with db.session() as session:
        view = await organisations.create_organisation(session, SYSTEM, {"name": name})
        return view.organisation.id


async def make_customer(
    db: Database, name: str, email: str | None = None, *, organisation_id: int | None = None
) -> tuple[int, str]:
    email = email or f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}@example.com"
    async with db.session() as session:
        view = await contacts.create_contact(
            session,
            SYSTEM,
            ContactCreate(name=name, emails=[email], organisation_id=organisation_id),
        )
        return view.contact.id, email


async def latest_link(db: Database, settings: Settings, address: str) -> str:
    """The token of the newest link sent to an address: what its email carries."""
    async with db.session(write=False) as session:
        link = await session.scalar(
            select(SignInLink)
            .where(SignInLink.address == address)
            .order_by(SignInLink.id.desc())
            .limit(1)
        )
        assert link is not None, f"no link for {address}"
        return access.link_token(settings.resolved_secret_key(), link)


@dataclass
class Portal:
    """A browser signed in to the portal: its cookie is in the client, its CSRF token here."""

    client: httpx.AsyncClient
    csrf: str
    home: str = "/portal"

    async def get(self, path: str, **kw: object) -> httpx.Response:
        return await self.client.get(path, headers={"accept": "text/html"}, **kw)  # type: ignore[arg-type]

    async def post(
        self, path: str, data: dict | None = None, files: list | None = None, **kw: object
    ) -> httpx.Response:
        body = {"csrf_token": self.csrf, **(data or {})}
        return await self.client.post(
            path,
            data=body,
            files=files or [("attachments", ("", b"", "application/octet-stream"))],
            headers={"accept": "text/html", "origin": BASE},
            **kw,  # type: ignore[arg-type]
        )


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
FORM_ID = re.compile(r'name="form_id" value="([^"]+)"')


def form_id_of(html: str) -> str:
    found = FORM_ID.search(html)
    assert found, "no form id on the page"
    return found.group(1)


async def sign_in(app: object, settings: Settings, email: str, *, lang: str = "en") -> Portal:
    """Ask for a link, open it and confirm, as a customer does; a client holding the cookie."""
    client = client_of(app)
    home = "/portal" if lang == "en" else f"/portal/{lang}"
    r = await client.post(f"{home}/sign-in", data={"email": email}, headers={"origin": BASE})
    assert r.status_code == 200, r.text
    token = await latest_link(db_of(app), settings, email.lower())
    r = await client.post(f"{home}/sign-in/{token}", headers={"origin": BASE})
    assert r.status_code == 303, r.text
    page = await client.get(home, headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    found = CSRF.search(page.text)
    assert found
    return Portal(client, found.group(1), home)
