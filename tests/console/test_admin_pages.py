"""The console's admin pages over HTTP, on both databases: users and roles, teams, API tokens,
webhooks with their delivery log; only admins and owners get in; forms need the CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from madad.auth.models import ApiToken, AuditEntry, Role, Team, TeamMember, User
from madad.db import Database
from madad.webhooks.models import Webhook, WebhookDelivery
from tests.conftest import Person, make_person
from tests.console.conftest import PASSWORD, Browser, sign_in
from tests.console.test_contact_pages import submit
from tests.console.test_inbox_and_ticket import post_inbound
from tests.servers import serve_app
from tests.webhooks.test_webhooks import Receiver, settle

ADMIN_PAGES = ("/admin/users", "/admin/teams", "/admin/tokens", "/admin/webhooks")


@pytest.fixture
async def other_agent(app: object, db: Database) -> AsyncIterator[Browser]:
    """An agent signed in from another browser than the admin (their own cookie jar)."""
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://madad.test") as c:
        person = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
        yield await sign_in(c, person)


async def scalar(db: Database, stmt: object) -> object:
    async with db.session(write=False) as session:
        return await session.scalar(stmt)  # type: ignore[call-overload]


async def audit_actions(db: Database) -> list[str]:
    async with db.session(write=False) as session:
        rows = await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))
        return list(rows.scalars())


# --- who gets in -----------------------------------------------------------------------------


async def test_admin_pages_render_for_an_admin_with_a_sub_navigation(
    admin_browser: Browser,
) -> None:
    for path in ADMIN_PAGES:
        r = await admin_browser.get(path)
        assert r.status_code == 200, path
        assert 'class="subnav"' in r.text and 'aria-current="page"' in r.text, path
        for other in ADMIN_PAGES:
            assert f'href="{other}"' in r.text
    home = await admin_browser.get("/admin")
    assert home.status_code == 303 and home.headers["location"] == "/admin/users"
    assert (await admin_browser.get("/admin/webhooks/999999")).status_code == 404
    assert (await admin_browser.get("/admin/webhooks/99999999999")).status_code == 422
    r = await submit(admin_browser, "/admin/users/99999999999/role", {"role": "agent"})
    assert r.status_code == 422


async def test_an_agent_gets_403_from_admin_pages_and_forms(
    agent_browser: Browser, db: Database
) -> None:
    for path in (*ADMIN_PAGES, "/admin"):
        r = await agent_browser.get(path)
        assert r.status_code == 403, path
        assert r.headers["content-type"].startswith("text/html")
    forms = [
        ("/admin/users", {"name": "Sneaky", "email": "s@example.com", "password": "x" * 10}),
        ("/admin/teams", {"name": "Sneaky team"}),
        ("/admin/tokens", {"user_id": str(agent_browser.person.id), "name": "t"}),
        ("/admin/webhooks", {"url": "https://example.com/h", "events": "*"}),
        (f"/admin/users/{agent_browser.person.id}/role", {"role": "owner"}),
    ]
    for path, data in forms:
        r = await submit(agent_browser, path, data)
        assert r.status_code == 403, path
    assert await scalar(db, select(func.count(User.id))) == 1
    assert await scalar(db, select(User.role)) == "agent"
    assert await scalar(db, select(func.count(Team.id))) == 0
    assert await scalar(db, select(func.count(Webhook.id))) == 0


async def test_admin_forms_without_the_csrf_token_are_refused_and_change_nothing(
    admin_browser: Browser, db: Database
) -> None:
    before = await scalar(db, select(func.count(ApiToken.id)))
    forms = [
        ("/admin/users", {"name": "Forged", "email": "f@example.com", "password": "x" * 10}),
        ("/admin/teams", {"name": "Forged team"}),
        ("/admin/tokens", {"user_id": str(admin_browser.person.id), "name": "t", "scopes": "*"}),
        ("/admin/webhooks", {"url": "https://example.com/h", "events": "*"}),
        (f"/admin/users/{admin_browser.person.id}/active", {"active": "false"}),
    ]
    for path, data in forms:
        r = await admin_browser.client.post(path, data=data)
        assert r.status_code == 403, path
    assert await scalar(db, select(func.count(User.id))) == 1
    assert await scalar(db, select(User.is_active)) is True
    assert await scalar(db, select(func.count(Team.id))) == 0
    assert await scalar(db, select(func.count(ApiToken.id))) == before
    assert await scalar(db, select(func.count(Webhook.id))) == 0


# --- users -----------------------------------------------------------------------------------


async def test_an_admin_adds_a_user_who_can_then_sign_in(
    app: object, admin_browser: Browser, db: Database
) -> None:
    r = await submit(
        admin_browser,
        "/admin/users",
        {
            "name": "Hamza Supervisor",
            "email": "Hamza@Example.com",
            "role": "supervisor",
            "password": PASSWORD,
            "language": "ur",
            "time_zone": "Asia/Karachi",
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/admin/users?done=user_created"
    page = await admin_browser.get(r.headers["location"])
    assert "Hamza Supervisor" in page.text and "hamza@example.com" in page.text
    async with db.session(write=False) as session:
        user = await session.scalar(select(User).where(User.email == "hamza@example.com"))
    assert user is not None and (user.role, user.language) == ("supervisor", "ur")
    assert "user.created" in await audit_actions(db)
    hamza = Person(user.id, user.email, user.role, "")
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://madad.test") as other:
        signed_in = await sign_in(other, hamza)
        assert (await signed_in.get("/inbox")).status_code == 200
    # Mistakes are shown on the form with what was typed; nothing is stored.
    for bad in (
        {"email": "hamza@example.com"},  # taken
        {"email": "not-an-address"},
        {"password": "short"},
        {"time_zone": "Mars/Base"},
        {"role": "emperor"},
    ):
        data = {
            "name": "Second",
            "email": "second@example.com",
            "role": "agent",
            "password": PASSWORD,
            "language": "en",
            "time_zone": "UTC",
            **bad,
        }
        r = await submit(admin_browser, "/admin/users", data)
        assert r.status_code == 422, bad
        assert 'role="alert"' in r.text and 'value="Second"' in r.text, bad
    assert await scalar(db, select(func.count(User.id))) == 2


async def test_nobody_grants_a_role_above_their_own(admin_browser: Browser, db: Database) -> None:
    page = await admin_browser.get("/admin/users")
    assert 'value="admin"' in page.text and 'value="owner"' not in page.text
    r = await submit(
        admin_browser,
        "/admin/users",
        {"name": "Boss", "email": "boss@example.com", "role": "owner", "password": PASSWORD},
    )
    assert r.status_code == 422 and "cannot grant the owner role" in r.text
    owner = await make_person(db, role=Role.owner, name="Olivia Owner")
    r = await submit(admin_browser, f"/admin/users/{owner.id}/role", {"role": "agent"})
    assert r.status_code == 403 and "cannot change a owner" in r.text
    r = await submit(
        admin_browser, f"/admin/users/{admin_browser.person.id}/role", {"role": "owner"}
    )
    assert r.status_code == 403
    assert await scalar(db, select(User.role).where(User.id == owner.id)) == "owner"
    assert await scalar(db, select(User.role).where(User.id == admin_browser.person.id)) == "admin"


async def test_roles_change_and_deactivation_signs_people_out(
    admin_browser: Browser, other_agent: Browser, db: Database
) -> None:
    agent_browser = other_agent
    uid = agent_browser.person.id
    r = await submit(admin_browser, f"/admin/users/{uid}/role", {"role": "supervisor"})
    assert r.status_code == 303
    assert await scalar(db, select(User.role).where(User.id == uid)) == "supervisor"
    # Deactivating is an htmx form behind a confirmation: it answers with where to go next.
    r = await admin_browser.post(f"/admin/users/{uid}/active", {"active": "false"})
    assert r.status_code == 204 and r.headers["hx-redirect"].startswith("/admin/users?done=")
    assert await scalar(db, select(User.is_active).where(User.id == uid)) is False
    assert (await agent_browser.get("/inbox")).status_code == 303  # signed out
    page = await admin_browser.get("/admin/users")
    assert "Deactivated" in page.text and "Reactivate" in page.text
    r = await submit(admin_browser, f"/admin/users/{uid}/active", {"active": "true"})
    assert r.status_code == 303
    assert await scalar(db, select(User.is_active).where(User.id == uid)) is True
    r = await submit(admin_browser, f"/admin/users/{uid}/password", {"password": "a new one 123"})
    assert r.status_code == 303 and "password_set" in r.headers["location"]
    r = await agent_browser.client.post(
        "/login", data={"email": agent_browser.person.email, "password": "a new one 123"}
    )
    assert r.status_code == 303
    actions = await audit_actions(db)
    assert actions.count("user.updated") == 4


# --- teams -----------------------------------------------------------------------------------


async def test_teams_are_created_renamed_staffed_and_deleted(
    admin_browser: Browser, other_agent: Browser, db: Database
) -> None:
    agent_browser = other_agent
    r = await submit(admin_browser, "/admin/teams", {"name": "Billing", "description": "Money"})
    assert r.status_code == 303
    team_id = await scalar(db, select(Team.id).where(Team.name == "Billing"))
    assert isinstance(team_id, int)
    dup = await submit(admin_browser, "/admin/teams", {"name": "Billing"})
    assert dup.status_code == 422 and "already exists" in dup.text
    members = [str(agent_browser.person.id), str(admin_browser.person.id)]
    r = await submit(
        admin_browser,
        f"/admin/teams/{team_id}",
        {"name": "Billing & Refunds", "description": "Money back", "member_ids": members},
    )
    assert r.status_code == 303
    async with db.session(write=False) as session:
        team = await session.get(Team, team_id)
        assert team is not None and team.name == "Billing & Refunds"
        got = set((await session.execute(select(TeamMember.user_id))).scalars())
    assert got == {agent_browser.person.id, admin_browser.person.id}
    page = await admin_browser.get("/admin/teams")
    assert "Billing &amp; Refunds" in page.text and "2 members" in page.text
    users = await admin_browser.get("/admin/users")
    assert "Billing &amp; Refunds" in users.text  # the users list shows teams
    r = await submit(admin_browser, f"/admin/teams/{team_id}", {"name": "Billing & Refunds"})
    assert r.status_code == 303
    assert await scalar(db, select(func.count()).select_from(TeamMember)) == 0
    r = await admin_browser.post(f"/admin/teams/{team_id}/delete")
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/admin/teams?done=team_deleted"
    assert await scalar(db, select(func.count(Team.id))) == 0
    assert {"team.created", "team.updated", "team.deleted"} <= set(await audit_actions(db))


# --- API tokens ------------------------------------------------------------------------------


async def test_a_token_made_on_the_page_works_its_secret_shows_once_and_revoking_stops_it(
    admin_browser: Browser, client: httpx.AsyncClient, db: Database
) -> None:
    agent = await make_person(db, role=Role.agent, name="Imran Agent")
    r = await submit(
        admin_browser,
        "/admin/tokens",
        {
            "user_id": str(agent.id),
            "name": "Shop bridge",
            "scopes": ["tickets:read", "inbound:write"],
        },
    )
    assert r.status_code == 200
    match = re.search(r'id="secret" class="secret" value="(mdd_[^"]+)"', r.text)
    assert match, r.text
    secret = match.group(1)
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/tickets", headers=headers)).status_code == 200
    # The token holds only the scopes chosen.
    assert (await client.get("/api/v1/contacts", headers=headers)).status_code == 403
    listing = await admin_browser.get("/admin/tokens")
    assert secret not in listing.text and secret.split("_", 2)[2] not in listing.text
    assert "Shop bridge" in listing.text and "Imran Agent" in listing.text
    token_id = await scalar(db, select(ApiToken.id).where(ApiToken.name == "Shop bridge"))
    r = await admin_browser.post(f"/admin/tokens/{token_id}/revoke")
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/admin/tokens?done=token_revoked"
    assert (await client.get("/api/v1/tickets", headers=headers)).status_code == 401
    listing = await admin_browser.get("/admin/tokens")
    assert "Revoked" in listing.text
    assert {"token.created", "token.revoked"} <= set(await audit_actions(db))


async def test_a_token_cannot_hold_more_than_its_owners_role(
    admin_browser: Browser, db: Database
) -> None:
    agent = await make_person(db, role=Role.agent, name="Imran Agent")
    before = await scalar(db, select(func.count(ApiToken.id)))
    for scopes in (["webhooks:manage"], [], ["no:such"]):
        r = await submit(
            admin_browser,
            "/admin/tokens",
            {"user_id": str(agent.id), "name": "Too much", "scopes": scopes},
        )
        assert r.status_code == 422 and 'role="alert"' in r.text, scopes
        assert "mdd_" not in r.text
    r = await submit(
        admin_browser,
        "/admin/tokens",
        {"user_id": str(agent.id), "name": "x", "scopes": ["tickets:read"], "expires_in_days": "0"},
    )
    assert r.status_code == 422
    assert await scalar(db, select(func.count(ApiToken.id))) == before


# --- webhooks --------------------------------------------------------------------------------


async def test_webhooks_are_created_edited_deactivated_and_deleted(
    admin_browser: Browser, db: Database
) -> None:
    refused = await submit(
        admin_browser,
        "/admin/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": "ticket.*", "description": "local"},
    )
    assert refused.status_code == 422 and "private or loopback" in refused.text
    assert 'value="http://127.0.0.1:9/hook"' in refused.text
    r = await submit(
        admin_browser,
        "/admin/webhooks",
        {
            "url": "http://127.0.0.1:9/hook",
            "events": "ticket.created, message.received",
            "description": "CRM sync",
            "allow_private": "true",
        },
    )
    assert r.status_code == 303
    hook_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    page = await admin_browser.get(r.headers["location"])
    assert page.status_code == 200 and "CRM sync" in page.text
    async with db.session(write=False) as session:
        hook = await session.get(Webhook, hook_id)
    assert (
        hook is not None
        and hook.allow_private
        and hook.events
        == [
            "ticket.created",
            "message.received",
        ]
    )
    assert hook.secret in page.text  # behind a "show" disclosure
    r = await submit(
        admin_browser,
        f"/admin/webhooks/{hook_id}",
        {"url": "https://hooks.example.com/madad", "events": "*", "description": ""},
    )
    assert r.status_code == 303
    r = await submit(admin_browser, f"/admin/webhooks/{hook_id}/active", {"active": "false"})
    assert r.status_code == 303
    async with db.session(write=False) as session:
        hook = await session.get(Webhook, hook_id)
    assert hook is not None
    assert (hook.url, hook.events, hook.allow_private, hook.active) == (
        "https://hooks.example.com/madad",
        ["*"],
        False,
        False,
    )
    listing = await admin_browser.get("/admin/webhooks")
    assert "hooks.example.com" in listing.text and "Deactivated" in listing.text
    bad = await submit(
        admin_browser, f"/admin/webhooks/{hook_id}", {"url": "ftp://x", "events": "*"}
    )
    assert bad.status_code == 422 and 'value="ftp://x"' in bad.text
    r = await admin_browser.post(f"/admin/webhooks/{hook_id}/delete")
    assert r.status_code == 204 and r.headers["hx-redirect"] == "/admin/webhooks?done=deleted"
    assert await scalar(db, select(func.count(Webhook.id))) == 0
    assert (await admin_browser.get(f"/admin/webhooks/{hook_id}")).status_code == 404
    assert {"webhook.created", "webhook.updated", "webhook.deleted"} <= set(await audit_actions(db))


async def test_the_delivery_log_shows_status_attempts_and_the_last_error(
    app: object, admin_browser: Browser, integration: Person
) -> None:
    receiver = Receiver(statuses=[503])
    async with serve_app(receiver.app()) as base:
        r = await submit(
            admin_browser,
            "/admin/webhooks",
            {"url": base + "/hook", "events": "ticket.created", "allow_private": "true"},
        )
        assert r.status_code == 303
        hook_path = r.headers["location"].split("?")[0]
        await post_inbound(admin_browser.client, integration, "w1")
        await settle(app)
        page = await admin_browser.get(hook_path)
    log = page.text.split('id="deliveries"')[1]
    assert "ticket.created" in log and "Failed, will retry" in log
    assert "HTTP 503" in log and "the receiver answered HTTP 503" in log
    assert "<td>1</td>" in log  # attempts
    delivery_id = int(re.search(r'id="delivery-(\d+)"', log).group(1))  # type: ignore[union-attr]
    failed = await admin_browser.get(hook_path, params={"status": "delivered"})
    assert "Nothing delivered yet." in failed.text
    r = await submit(admin_browser, f"/admin/webhooks/deliveries/{delivery_id}/redeliver", {})
    assert r.status_code == 303 and r.headers["location"].startswith(hook_path)
    db = app.state.db  # type: ignore[attr-defined]
    async with db.session(write=False) as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
    assert delivery is not None and delivery.status == "pending"
