"""The live queue admin pages: an admin adds a queue and edits its hours and holidays through
the forms; every bad input comes back on the form, escaped, naming the field; agents get 403."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from markupsafe import escape

from madad.auth.models import Role
from madad.db import Database
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, Browser, sign_in

CORPUS = Path(__file__).parents[2] / "corpus"
NAUGHTY: list[str] = json.loads((CORPUS / "naughty-strings" / "blns.json").read_text())


def form(**values: str) -> dict[str, str]:
    data = {
        "name": "billing",
        "key": "",
        "time_zone": "Asia/Karachi",
        "hours_monday": "09:00-13:00, 14:00-18:00",
        "hours_friday": "22:00-06:00",
        "holidays": "2026-12-25 closed Quaid-e-Azam Day\n2026-12-24 10:00-12:00 Half day",
        "callbacks_enabled": "true",
    }
    data.update(values)
    return data


async def admin(client: httpx.AsyncClient, db: Database) -> Browser:
    person = await make_person(db, role=Role.admin, name="Adil Admin", password=PASSWORD)
    return await sign_in(client, person)


async def test_an_admin_adds_a_queue_and_edits_its_hours(
    client: httpx.AsyncClient, app: object
) -> None:
    browser = await admin(client, app.state.db)  # type: ignore[attr-defined]
    page = await browser.get("/admin/live-queues")
    assert page.status_code == 200 and "No live queues yet." in page.text
    r = await browser.post("/admin/live-queues", form())
    assert (
        r.status_code == 204
        and r.headers["hx-redirect"] == "/admin/live-queues/billing?done=created"
    )

    page = await browser.get("/admin/live-queues/billing")
    assert page.status_code == 200
    assert 'value="09:00-13:00, 14:00-18:00"' in page.text
    assert 'value="22:00-06:00"' in page.text
    assert "2026-12-24 10:00-12:00 Half day\n2026-12-25 closed Quaid-e-Azam Day" in page.text
    assert "/api/v1/live/queues/billing/status" in page.text

    r = await browser.post(
        "/admin/live-queues/billing",
        form(hours_monday="", hours_saturday="10:00-14:00", holidays="", key="billing-pk"),
    )
    assert r.headers["hx-redirect"] == "/admin/live-queues/billing-pk?done=saved"
    status = (await client.get("/api/v1/live/queues/billing-pk/status")).json()
    assert status["key"] == "billing-pk"
    queue = await client.get("/api/v1/live/queues/billing-pk", headers={"accept": "text/html"})
    assert queue.status_code == 401  # the JSON needs a token; the pages a session
    page = await browser.get("/admin/live-queues")
    assert "billing-pk" in page.text and "Asia/Karachi" in page.text


async def test_bad_hours_come_back_on_the_form_naming_the_field(
    client: httpx.AsyncClient, app: object
) -> None:
    browser = await admin(client, app.state.db)  # type: ignore[attr-defined]
    cases = [
        ({"hours_tuesday": "09:00-17:00, 16:00-18:00"}, "Tuesday", "hours_tuesday"),
        ({"hours_sunday": "22:00-04:00", "hours_monday": "03:00-05:00"}, "overlaps",
         "hours_monday"),
        ({"hours_monday": "nine to five"}, "Monday", "hours_monday"),
        ({"time_zone": "Asia/Lahore"}, "not an IANA time zone", "time_zone"),
        ({"holidays": "2026-12-25"}, "line 1", "holidays"),
        ({"holidays": "2026-13-01 closed"}, "YYYY-MM-DD", "holidays"),
        ({"key": "Not A Key"}, "Public key", "key"),
    ]  # fmt: skip
    for values, words, field in cases:
        r = await browser.client.post(
            "/admin/live-queues",
            data={**form(**values), "csrf_token": browser.csrf},
            headers={"accept": "text/html"},
        )
        assert r.status_code == 422, (values, r.text[:300])
        assert words in r.text, (values, words)
        assert f'name="{field}"' in r.text
        marked = r.text.split('aria-invalid="true"')[0].rsplit("<", 1)[1]
        assert f'name="{field}"' in marked, (field, marked)
    page = await browser.get("/admin/live-queues")
    assert "No live queues yet." in page.text

    assert (await browser.post("/admin/live-queues", form())).status_code == 204
    r = await browser.client.post(
        "/admin/live-queues",
        data={**form(key="other"), "csrf_token": browser.csrf},
        headers={"accept": "text/html"},
    )
    assert r.status_code == 409 and "another live queue has the name" in r.text


async def test_naughty_names_are_shown_back_escaped(client: httpx.AsyncClient, app: object) -> None:
    browser = await admin(client, app.state.db)  # type: ignore[attr-defined]
    saved: set[str] = set()
    for i, s in enumerate(NAUGHTY):
        r = await browser.client.post(
            "/admin/live-queues",
            data={**form(name=s, key=f"n{i}", holidays=f"2026-12-25 closed {s}"),
                  "csrf_token": browser.csrf},
            headers={"accept": "text/html"},
        )  # fmt: skip
        assert r.status_code in (303, 409, 422), (i, s, r.status_code)
        if r.status_code == 303:
            saved.add(s.strip())
            page = await browser.get(f"/admin/live-queues/n{i}")
            assert page.status_code == 200
            assert str(escape(s.strip())) in page.text, (i, s)
        else:  # shown back exactly as typed, escaped
            assert f'value="{escape(s)}"' in r.text, (i, s)
    assert len(saved) > 400
    listing = await browser.get("/admin/live-queues")
    script = next(s for s in NAUGHTY if s.startswith("<script>"))
    assert script not in listing.text
    assert str(escape(script)) in listing.text


async def test_agents_cannot_open_the_admin_pages(client: httpx.AsyncClient, db: Database) -> None:
    person = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    browser = await sign_in(client, person)
    assert (await browser.get("/admin/live-queues")).status_code == 403
    assert (await browser.post("/admin/live-queues", form())).status_code == 403
