"""The platform as a whole: schema migrations match the models on both databases, the health
check, the OpenAPI document, and the problem documents for requests nobody handles."""

from __future__ import annotations

import httpx
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from madad import migrate
from madad.config import Settings
from madad.db import Base, Database


async def test_migrations_match_the_models(db: Database, settings: Settings) -> None:
    """The migrated schema is exactly what the models declare: nothing missing, nothing extra."""
    async with db.engine.connect() as conn:

        def diff(connection):
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    # SQLite's FTS5 search index (kb_fts and its shadow tables) is no model.
                    "include_name": lambda name, kind, _parent: (
                        not (kind == "table" and name.startswith("kb_fts"))
                    ),
                },
            )
            return compare_metadata(context, Base.metadata)

        changes = await conn.run_sync(diff)
    # SQLite cannot tell a server default that only PostgreSQL has; nothing else may differ.
    assert changes == [], changes
    assert await migrate.current_async(settings) == migrate.head_revisions()


async def test_health_reports_the_database(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["database"] == "ok"


async def test_openapi_describes_the_api(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/v1/inbound",
        "/api/v1/tickets",
        "/api/v1/tickets/{ticket_id}/reply",
        "/api/v1/contacts",
        "/api/v1/organisations",
        "/api/v1/activity",
        "/api/v1/webhooks",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/tokens",
    ):
        assert path in paths, path


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    r = await client.delete("/api/v1/inbound")
    assert r.status_code == 405 and r.json()["title"] == "Method not allowed"
    r = await client.get(
        "/api/v1/tickets/not-a-number", headers={"Authorization": "Bearer mdd_a_b"}
    )
    assert r.status_code in (401, 422)
