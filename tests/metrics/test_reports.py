"""Reports over the API, in the console and on the command line, on the hand-worked day."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest

from madad.activity import service as facts
from madad.auth.models import Role
from madad.bus import MemoryBus
from madad.config import Settings
from madad.db import Database
from madad.metrics import reports
from tests.conftest import Person, count_statements, make_person
from tests.console.conftest import PASSWORD, sign_in
from tests.metrics.worked import stream

WEEK = "from=2026-03-02&to=2026-03-09"


async def write_worked_day(db: Database, agents: tuple[int, int] = (7, 8)) -> None:
    async with db.session() as session:
        for f in stream(agents=agents):
            facts.record(
                session,
                f.kind,
                ticket_id=f.ticket_id,
                contact_id=f.contact_id,
                agent_id=f.agent_id,
                team_id=f.team_id,
                channel=f.channel,
                data=f.data,
                at=f.at,
            )
    await facts.drain_consumers(db)


@pytest.fixture
async def supervisor(app: object) -> Person:
    return await make_person(
        app.state.db,  # type: ignore[attr-defined]
        role=Role.supervisor,
        name="Zainab Supervisor",
        password=PASSWORD,
    )


async def test_the_kpi_api_gives_the_hand_worked_figures(
    client: httpx.AsyncClient, app: object, supervisor: Person
) -> None:
    await write_worked_day(app.state.db)  # type: ignore[attr-defined]
    r = await client.get(f"/api/v1/reports/kpis?{WEEK}", headers=supervisor.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    t = body["total"]
    assert body["period"] == {"from": "2026-03-02", "to": "2026-03-09"}
    assert t["created"]["value"] == 6
    assert t["first_response"]["n"] == 2 and t["first_response"]["mean"] == 930
    assert t["resolution_first"]["mean"] == 2100 and t["resolution_full"]["mean"] == 5700
    assert (t["fcr"]["numerator"], t["fcr"]["denominator"]) == (1, 2)
    assert (t["one_touch"]["numerator"], t["one_touch"]["denominator"]) == (1, 2)
    assert (t["repeat"]["numerator"], t["repeat"]["denominator"]) == (1, 6)
    assert (t["escalated"]["numerator"], t["escalated"]["denominator"]) == (1, 6)
    assert t["asa"]["mean"] == 27.5 and t["hold"]["mean"] == 60
    assert (t["service_level"]["numerator"], t["service_level"]["denominator"]) == (1, 3)
    assert (t["abandoned"]["numerator"], t["abandoned"]["denominator"]) == (1, 3)
    assert t["csat"]["value"] == 1.0
    assert t["resolutions"] == {"events": 3, "tickets": 2, "contacts": 2}
    assert t["handled"] == {"tickets": 2, "agent_days": 2, "value": 1.0}
    assert body["previous"]["period"] == {"from": "2026-02-23", "to": "2026-03-02"}

    r = await client.get(f"/api/v1/reports/kpis?{WEEK}&group_by=agent", headers=supervisor.headers)
    groups = {g["key"]: g["kpis"] for g in r.json()["groups"]}
    assert groups[7]["first_response"]["mean"] == 1800
    assert groups[8]["first_response"]["mean"] == 60
    assert groups[7]["reopen_event"]["value"] == 1  # the reopen counts against its solver

    r = await client.get(f"/api/v1/reports/kpis?{WEEK}&group_by=channel&format=csv",
                         headers=supervisor.headers)  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["group"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert set(rows) == {"email", "chat", "phone"}
    assert float(rows["chat"]["first_response_mean_s"]) == 60

    # By what the tickets are: a ticket with a tag counts under it; untagged under null.
    r = await client.get(f"/api/v1/reports/kpis?{WEEK}&group_by=tag", headers=supervisor.headers)
    tags = {g["key"]: g for g in r.json()["groups"]}
    assert {k: g["tickets"] for k, g in tags.items()} == {None: 3, "billing": 2, "login": 1}
    assert tags["billing"]["reopens"] == 1 and tags["billing"]["fcr"]["value"] == 0.0
    assert tags["login"]["first_response"]["mean"] == 60 and tags["login"]["csat"]["value"] == 1
    r = await client.get(f"/api/v1/reports/kpis?{WEEK}&group_by=priority&format=csv",
                         headers=supervisor.headers)  # fmt: skip
    [row] = list(csv.DictReader(io.StringIO(r.text)))
    assert (row["group"], row["tickets"], row["resolved"]) == ("normal", "6", "2")


async def test_a_report_read_in_one_session_is_as_read_side_by_side(db: Database) -> None:
    """`kpis` reads its parts one after the other in one session, `kpis_side_by_side` each in
    a session of its own (a group's histograms apart from its sums): the figures are the
    same, to the last bit, the period's and the one before's."""
    await write_worked_day(db)
    for first, last in ((2, 9), (4, 6), (3, 5), (2, 3)):
        period = reports.day_period(date(2026, 3, first), date(2026, 3, last))
        for options in (
            {}, {"channel": "email"}, {"agent_id": 7}, {"team_id": 1},
            {"group_by": "agent"}, {"group_by": "team", "channel": "chat"},
        ):  # fmt: skip
            async with db.session(write=False) as session:
                together = await reports.kpis(session, period, **options)
            apart = await reports.kpis_side_by_side(db, period, **options)
            assert together == apart, (first, last, options)
    # Both halves of the worked days have figures of their own.
    async with db.session(write=False) as session:
        report = await reports.kpis(session, reports.day_period(date(2026, 3, 4), date(2026, 3, 6)))
    assert report["total"]["created"]["value"] and report["previous"]["total"]["created"]["value"]
    assert report["total"] != report["previous"]["total"]


async def test_the_kpi_api_refuses_bad_input_and_the_wrong_people(
    client: httpx.AsyncClient, supervisor: Person, agent: Person
) -> None:
    r = await client.get(f"/api/v1/reports/kpis?{WEEK}", headers=agent.headers)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    for query in (
        "from=2026-03-09&to=2026-03-02",
        "from=not-a-date",
        "group_by=weather",
        "format=xml",
        "from=1900-01-01&to=2026-01-01",
        "team_id=-1",
    ):
        r = await client.get(f"/api/v1/reports/kpis?{query}", headers=supervisor.headers)
        assert r.status_code == 422, (query, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


async def test_the_ticket_export_has_one_row_per_ticket(
    client: httpx.AsyncClient, app: object, supervisor: Person
) -> None:
    await write_worked_day(app.state.db)  # type: ignore[attr-defined]
    r = await client.get(f"/api/v1/reports/tickets?{WEEK}", headers=supervisor.headers)
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert sorted(int(row["ticket"]) for row in rows) == [1, 2, 3, 4, 5, 6]
    first = next(row for row in rows if row["ticket"] == "1")
    assert (first["reopens"], first["fcr"], first["resolution_seconds"]) == (
        "1",
        "False",
        "10800.0",
    )
    r = await client.get(f"/api/v1/reports/tickets?{WEEK}&format=json", headers=supervisor.headers)
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert {row["ticket"]: row["repeat_contact"] for row in lines}[3] is True


async def test_the_dashboard_shows_the_kpis_to_supervisors_only(
    client: httpx.AsyncClient, app: object, supervisor: Person, settings: Settings
) -> None:
    db = app.state.db  # type: ignore[attr-defined]
    seven = await make_person(db, role=Role.agent, name="Sara Seven", password=PASSWORD)
    eight = await make_person(db, role=Role.agent, name="Imran Eight", password=PASSWORD)
    await write_worked_day(db, agents=(seven.id, eight.id))
    browser = await sign_in(client, supervisor)
    with count_statements(db) as counter:
        page = await browser.get(f"/reports?{WEEK}")
    assert page.status_code == 200, page.text
    assert counter.count <= 45, counter.count  # a fixed set of queries, whatever the data
    html = page.text
    assert "15.5 min" in html  # first response mean 930 s
    assert "33.3 %" in html  # service level 1/3
    assert "<svg" in html and html.count('class="bar"') >= 7
    assert "Resolutions that cannot be inflated" in html
    for path in (f"/reports/agents/{seven.id}?{WEEK}", "/reports/staffing?weeks=2&aht=240",
                 f"/reports/kpis.csv?{WEEK}", f"/reports/kpis.json?{WEEK}&group_by=team",
                 f"/reports/tickets.csv?{WEEK}"):  # fmt: skip
        r = await browser.get(path)
        assert r.status_code == 200, (path, r.text[:500])
    r = await browser.get(f"/reports/agents/{seven.id}?{WEEK}")
    assert "Sara Seven" in r.text and "30 min" in r.text  # the first response of "agent 7"
    assert "Sara Seven" in page.text and "Imran Eight" in page.text
    client.cookies.clear()
    as_agent = await sign_in(client, seven)
    assert (await as_agent.get("/reports")).status_code == 403
    assert "/reports" not in (await as_agent.get("/inbox")).text


async def test_report_pages_escape_what_they_are_given(
    client: httpx.AsyncClient, supervisor: Person
) -> None:
    browser = await sign_in(client, supervisor)
    evil = "<script>alert(1)</script>"
    r = await browser.get("/reports", params={"channel": evil[:32], "from": "x<b>"})
    assert r.status_code == 200
    assert "<script>alert(1)" not in r.text and "x<b>" not in r.text
    r = await browser.get("/reports/staffing", params={"aht": "-5"})
    assert r.status_code == 422
    r = await browser.get("/reports/agents/999999")
    assert r.status_code == 404


def madad(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MADAD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "MADAD_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run([sys.executable, "-m", "madad", *args], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)  # fmt: skip


async def test_the_report_and_rebuild_commands(tmp_path: Path) -> None:
    assert madad(tmp_path, "db", "upgrade").returncode == 0
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    db = Database(settings, bus=MemoryBus())
    try:
        async with db.session() as session:
            for f in stream():
                facts.record(session, f.kind, ticket_id=f.ticket_id, contact_id=f.contact_id,
                             agent_id=f.agent_id, team_id=f.team_id, channel=f.channel,
                             data=f.data, at=f.at)  # fmt: skip
            for ticket in (1, 2):  # ticket 2's survey is answered in the stream, 1's never
                facts.record(session, "survey.sent", ticket_id=ticket, contact_id=ticket,
                             channel="chat", data={"survey_id": f"csat-{ticket}", "kind": "csat"},
                             at=datetime(2026, 3, 2, 9, 20, tzinfo=UTC))  # fmt: skip
    finally:
        await db.dispose()
    r = madad(tmp_path, "metrics", "rebuild")
    assert r.returncode == 0, r.stderr
    assert "of 6 tickets" in r.stdout
    r = madad(tmp_path, "metrics", "rebuild", "--processes", "0")
    assert r.returncode == 2 and "--processes" in r.stderr, (r.stdout, r.stderr)
    r = madad(tmp_path, "report", "kpis", "--from", "2026-03-02", "--to", "2026-03-09",
              "--format", "json")  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["total"]["first_response"]["mean"] == 930
    r = madad(tmp_path, "report", "kpis", "--from", "2026-03-02", "--to", "2026-03-09",
              "--group-by", "team", "--format", "csv")  # fmt: skip
    assert r.returncode == 0 and r.stdout.startswith("group,")
    r = madad(tmp_path, "report", "kpis", "--from", "2026-03-02", "--to", "2026-03-09")
    assert r.returncode == 0 and "First response time" in r.stdout
    assert "CSAT response rate" in r.stdout and "50.0% (1/2)" in r.stdout
    r = madad(tmp_path, "report", "tickets", "--from", "2026-03-02", "--to", "2026-03-09")
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == 7
    for bad in (["--from", "yesterday"], ["--from", "2026-03-09", "--to", "2026-03-02"],
                ["--group-by", "mood"], ["--format", "xml"]):  # fmt: skip
        r = madad(tmp_path, "report", "kpis", *bad)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
        assert r.stderr.strip()
    r = madad(tmp_path, "staffing", "--arrivals-per-hour", "200", "--aht", "180", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["agents_required"] == 14  # A = 10 Erlangs
