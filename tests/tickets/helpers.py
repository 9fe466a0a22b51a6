"""Small builders for ticket tests: customer messages through the real API."""

from __future__ import annotations

import itertools

import httpx

from tests.conftest import Person

_ids = itertools.count(1)


async def inbound(
    client: httpx.AsyncClient,
    who: Person,
    *,
    email: str = "sana@example.com",
    text: str = "My order has not arrived",
    **extra: object,
) -> dict[str, object]:
    payload: dict[str, object] = {
        "external_id": f"ext-{next(_ids)}",
        "contact": {"email": email, "name": email.split("@")[0].title()},
        "text": text,
    }
    payload.update(extra)
    r = await client.post("/api/v1/inbound", json=payload, headers=who.headers)
    assert r.status_code in (200, 201), r.text
    return r.json()
