"""People and access: password hashes, hashed tokens with scopes, role rules, audit."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from madad.auth import service as auth
from madad.auth.models import ApiToken, AuditEntry, Role, User
from madad.auth.permissions import SYSTEM, Scope
from madad.db import Database
from madad.errors import Forbidden, Invalid, Unauthorized
from tests.conftest import Person, make_person


async def test_passwords_are_argon2_hashes(db: Database) -> None:
    async with db.session() as session:
        user = await auth.create_user(
            session, SYSTEM, email="Amna@Example.com", name="Amna", password="a long passphrase"
        )
    assert user.email == "amna@example.com"
    assert user.password_hash and user.password_hash.startswith("$argon2")
    assert "a long passphrase" not in user.password_hash
    async with db.session() as session:
        assert (await auth.authenticate(session, "amna@example.com", "a long passphrase")).id
    async with db.session() as session:
        try:
            await auth.authenticate(session, "amna@example.com", "wrong")
            raise AssertionError("accepted a wrong password")
        except Unauthorized as exc:
            assert exc.detail == "wrong email or password"


async def test_tokens_are_stored_hashed_and_shown_once(db: Database) -> None:
    person = await make_person(db, role=Role.agent, scopes=[Scope.tickets_read])
    async with db.session(write=False) as session:
        rows = (await session.execute(select(ApiToken))).scalars().all()
    assert len(rows) == 1
    secret = person.token.split("_", 2)[2]
    assert secret not in rows[0].secret_hash and person.token not in rows[0].secret_hash
    async with db.session(write=False) as session:
        actor, _ = await auth.actor_from_token(session, person.token)
    assert actor.can(Scope.tickets_read) and not actor.can(Scope.tickets_write)


async def test_a_token_cannot_hold_more_than_its_role(db: Database) -> None:
    agent = await make_person(db, role=Role.agent)
    async with db.session() as session:
        try:
            await auth.create_token(
                session, SYSTEM, user_id=agent.id, name="x", scopes=[Scope.webhooks]
            )
            raise AssertionError("an agent's token got an admin scope")
        except Invalid as exc:
            assert "webhooks:manage" in exc.detail


async def test_role_rules_for_granting(db: Database) -> None:
    admin = await make_person(db, role=Role.admin)
    async with db.session(write=False) as session:
        actor, _ = await auth.actor_from_token(session, admin.token)
    async with db.session() as session:
        await auth.create_user(
            session, actor, email="s@example.com", name="S", role=Role.supervisor
        )
        try:
            await auth.create_user(session, actor, email="o@example.com", name="O", role=Role.owner)
            raise AssertionError("an admin created an owner")
        except Forbidden:
            pass
    async with db.session(write=False) as session:
        audit = (await session.execute(select(AuditEntry.action))).scalars().all()
    assert "user.created" in audit


async def test_revoked_and_deactivated_tokens_stop_working(
    app: object, client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    assert (await client.get("/api/v1/users/me", headers=agent.headers)).status_code == 200
    r = await client.patch(
        f"/api/v1/users/{agent.id}", json={"is_active": False}, headers=admin.headers
    )
    assert r.status_code == 200 and r.json()["is_active"] is False
    r = await client.get("/api/v1/users/me", headers=agent.headers)
    assert r.status_code == 401 and "deactivated" in r.json()["detail"]
    created = (
        await client.post(
            "/api/v1/tokens", json={"name": "ci", "scopes": ["all"]}, headers=admin.headers
        )
    ).json()
    token = {"Authorization": f"Bearer {created['token']}"}
    assert (await client.get("/api/v1/users/me", headers=token)).status_code == 200
    assert (
        await client.delete(f"/api/v1/tokens/{created['id']}", headers=admin.headers)
    ).status_code == 204
    r = await client.get("/api/v1/users/me", headers=token)
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


async def test_users_and_teams_over_the_api(
    client: httpx.AsyncClient, admin: Person, agent: Person
) -> None:
    r = await client.post(
        "/api/v1/users",
        json={"email": "new@example.com", "name": "New Agent", "password": "s3cret-enough"},
        headers=admin.headers,
    )
    assert r.status_code == 201 and r.json()["role"] == "agent"
    dup = await client.post(
        "/api/v1/users", json={"email": "NEW@example.com", "name": "Dup"}, headers=admin.headers
    )
    assert dup.status_code == 409
    weak = await client.post(
        "/api/v1/users",
        json={"email": "w@example.com", "name": "W", "password": "short"},
        headers=admin.headers,
    )
    assert weak.status_code == 422
    team = await client.post(
        "/api/v1/teams",
        json={"name": "Tier 2", "member_ids": [agent.id, r.json()["id"]]},
        headers=admin.headers,
    )
    assert team.status_code == 201 and sorted(team.json()["member_ids"]) == sorted(
        [agent.id, r.json()["id"]]
    )
    bad = await client.patch(
        f"/api/v1/teams/{team.json()['id']}", json={"member_ids": [999]}, headers=admin.headers
    )
    assert bad.status_code == 422
    teams = (await client.get("/api/v1/teams", headers=agent.headers)).json()
    assert [t["name"] for t in teams] == ["Tier 2"]


async def test_the_last_owner_stays_an_owner(db: Database) -> None:
    async with db.session() as session:
        owner = await auth.create_user(
            session, SYSTEM, email="boss@example.com", name="Boss", role=Role.owner
        )
    async with db.session() as session:
        try:
            await auth.update_user(session, SYSTEM, owner.id, auth.UserPatch(role=Role.agent))
            raise AssertionError("demoted the last owner")
        except Exception as exc:
            assert "last owner" in str(exc)
    async with db.session(write=False) as session:
        assert (await session.get(User, owner.id)).role == "owner"  # type: ignore[union-attr]
