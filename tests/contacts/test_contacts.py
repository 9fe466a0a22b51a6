"""The CRM: contacts found by any identity, edited, merged with their history; organisations."""

from __future__ import annotations

import httpx

from tests.conftest import Person
from tests.tickets.helpers import inbound


async def test_create_lookup_and_edit_a_contact(client: httpx.AsyncClient, agent: Person) -> None:
    r = await client.post(
        "/api/v1/contacts",
        json={
            "name": "Bilal Ahmed",
            "emails": ["Bilal@Example.com", "b.ahmed@work.example"],
            "phones": ["+92 (300) 555-0101"],
            "handles": ["instagram:@BilalA"],
            "language": "ur",
            "time_zone": "Asia/Karachi",
            "birthday": "1990-04-12",
            "custom": {"tier": "gold"},
        },
        headers=agent.headers,
    )
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["emails"] == ["bilal@example.com", "b.ahmed@work.example"]
    assert c["phones"] == ["+923005550101"] and c["handles"] == ["instagram:bilala"]
    for query in (
        "email=b.ahmed@work.example",
        "phone=%2B923005550101",
        "handle=instagram:@bilala",
    ):
        found = await client.get(f"/api/v1/contacts/lookup?{query}", headers=agent.headers)
        assert found.status_code == 200 and found.json()["id"] == c["id"], query
    r = await client.patch(
        f"/api/v1/contacts/{c['id']}",
        json={"emails": ["b.ahmed@work.example"], "time_zone": "Europe/London"},
        headers=agent.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["emails"] == ["b.ahmed@work.example"]
    assert r.json()["time_zone"] == "Europe/London" and r.json()["language"] == "ur"
    gone = await client.get(
        "/api/v1/contacts/lookup?email=bilal@example.com", headers=agent.headers
    )
    assert gone.status_code == 404


async def test_identities_belong_to_one_contact(client: httpx.AsyncClient, agent: Person) -> None:
    await client.post(
        "/api/v1/contacts", json={"emails": ["one@example.com"]}, headers=agent.headers
    )
    r = await client.post(
        "/api/v1/contacts", json={"emails": ["ONE@example.com"]}, headers=agent.headers
    )
    assert r.status_code == 409 and "belongs to contact" in r.json()["detail"]


async def test_bad_contact_fields_are_422(client: httpx.AsyncClient, agent: Person) -> None:
    for payload in (
        {"emails": ["nope"]},
        {"time_zone": "Mars/Olympus"},
        {"language": "english please"},
        {"birthday": "yesterday"},
        {"phones": ["12"]},
        {"organisation_id": 99999},
    ):
        r = await client.post("/api/v1/contacts", json=payload, headers=agent.headers)
        assert r.status_code in (404, 422), (payload, r.text)
        assert r.headers["content-type"] == "application/problem+json"


async def test_merging_contacts_moves_tickets_identities_notes_and_history(
    client: httpx.AsyncClient, agent: Person
) -> None:
    a = await inbound(client, agent, email="sana@example.com")
    b = await inbound(client, agent, email="sana.k@example.net")
    await client.post(
        f"/api/v1/contacts/{b['contact_id']}/notes",
        json={"body": "Prefers Urdu"},
        headers=agent.headers,
    )
    r = await client.post(
        f"/api/v1/contacts/{b['contact_id']}/merge",
        json={"into": a["contact_id"]},
        headers=agent.headers,
    )
    assert r.status_code == 200, r.text
    merged = r.json()
    assert sorted(merged["emails"]) == ["sana.k@example.net", "sana@example.com"]
    tickets = (
        await client.get(f"/api/v1/contacts/{a['contact_id']}/tickets", headers=agent.headers)
    ).json()
    assert sorted(t["id"] for t in tickets) == sorted([a["ticket_id"], b["ticket_id"]])
    notes = (
        await client.get(f"/api/v1/contacts/{a['contact_id']}/notes", headers=agent.headers)
    ).json()
    assert [n["body"] for n in notes] == ["Prefers Urdu"]
    timeline = (
        await client.get(f"/api/v1/contacts/{a['contact_id']}/timeline", headers=agent.headers)
    ).json()["items"]
    assert {f["ticket_id"] for f in timeline if f["ticket_id"]} == {a["ticket_id"], b["ticket_id"]}
    assert timeline[0]["kind"] == "contact.merged"
    # The old record points at the survivor; new mail from the old address finds the survivor.
    old = (await client.get(f"/api/v1/contacts/{b['contact_id']}", headers=agent.headers)).json()
    assert old["merged_into_id"] == a["contact_id"]
    c = await inbound(client, agent, email="sana.k@example.net", text="one more thing")
    assert c["contact_id"] == a["contact_id"]
    again = await client.post(
        f"/api/v1/contacts/{b['contact_id']}/merge",
        json={"into": a["contact_id"]},
        headers=agent.headers,
    )
    assert again.status_code == 409


async def test_contact_with_tickets_cannot_be_deleted(
    client: httpx.AsyncClient, agent: Person
) -> None:
    a = await inbound(client, agent)
    r = await client.delete(f"/api/v1/contacts/{a['contact_id']}", headers=agent.headers)
    assert r.status_code == 409
    c = (await client.post("/api/v1/contacts", json={"name": "Temp"}, headers=agent.headers)).json()
    assert (
        await client.delete(f"/api/v1/contacts/{c['id']}", headers=agent.headers)
    ).status_code == 204
    assert (
        await client.get(f"/api/v1/contacts/{c['id']}", headers=agent.headers)
    ).status_code == 404


async def test_search_contacts_by_name_or_address(client: httpx.AsyncClient, agent: Person) -> None:
    await client.post(
        "/api/v1/contacts",
        json={"name": "Hina Raza", "emails": ["hina@x.example"]},
        headers=agent.headers,
    )
    await client.post(
        "/api/v1/contacts",
        json={"name": "Omar", "emails": ["omar@y.example"]},
        headers=agent.headers,
    )
    names = lambda r: [c["name"] for c in r.json()["items"]]  # noqa: E731
    assert names(await client.get("/api/v1/contacts?q=raza", headers=agent.headers)) == [
        "Hina Raza"
    ]
    assert names(await client.get("/api/v1/contacts?q=omar@", headers=agent.headers)) == ["Omar"]


async def test_organisations_domains_churn_and_merge(
    client: httpx.AsyncClient, agent: Person
) -> None:
    r = await client.post(
        "/api/v1/organisations",
        json={"name": "Acme Traders", "plan": "business", "seats": 25, "domains": ["acme.example"]},
        headers=agent.headers,
    )
    assert r.status_code == 201, r.text
    org = r.json()
    # A new contact writing from the organisation's domain joins it.
    t = await inbound(client, agent, email="ali@acme.example")
    contact = (
        await client.get(f"/api/v1/contacts/{t['contact_id']}", headers=agent.headers)
    ).json()
    assert contact["organisation"]["name"] == "Acme Traders"
    ticket = (await client.get(f"/api/v1/tickets/{t['ticket_id']}", headers=agent.headers)).json()
    assert ticket["organisation_id"] == org["id"]
    r = await client.patch(
        f"/api/v1/organisations/{org['id']}", json={"status": "churned"}, headers=agent.headers
    )
    assert r.json()["status"] == "churned" and r.json()["churned_at"]
    r = await client.patch(
        f"/api/v1/organisations/{org['id']}", json={"status": "active"}, headers=agent.headers
    )
    assert r.json()["churned_at"] is None
    kinds = [
        f["kind"]
        for f in (
            await client.get("/api/v1/activity?kind_prefix=organisation.", headers=agent.headers)
        ).json()["items"]
    ]
    assert "organisation.churned" in kinds and "organisation.reactivated" in kinds
    other = (
        await client.post(
            "/api/v1/organisations",
            json={"name": "Acme Traders (old)", "domains": ["acme-old.example"]},
            headers=agent.headers,
        )
    ).json()
    r = await client.post(
        f"/api/v1/organisations/{other['id']}/merge",
        json={"into": org["id"]},
        headers=agent.headers,
    )
    assert r.status_code == 200
    assert sorted(r.json()["domains"]) == ["acme-old.example", "acme.example"]
    clash = await client.post(
        "/api/v1/organisations",
        json={"name": "Impostor", "domains": ["acme.example"]},
        headers=agent.headers,
    )
    assert clash.status_code == 409
    timeline = await client.get(
        f"/api/v1/organisations/{org['id']}/timeline", headers=agent.headers
    )
    assert any(f["ticket_id"] == t["ticket_id"] for f in timeline.json()["items"])
