"""The demo desk: believable, consistent with what the live system writes, seeded once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from madad.activity.models import Activity
from madad.auth import service as auth
from madad.auth.models import User
from madad.config import Settings
from madad.contacts.models import Contact, Organisation
from madad.db import Database, utcnow
from madad.demo.desk import DOMAIN, PASSWORD, AlreadySeeded, build_demo
from madad.files import FileStore
from madad.metrics import definitions as d
from madad.tickets.models import Message, Ticket
from tests.servers import ROOT, free_port

# Every kind of fact the live services write (tickets, messages, contacts, organisations…).
LIVE_KINDS = {
    "ticket.created",
    "message.received",
    "message.sent",
    "message.delivery",
    "note.added",
    "ticket.assigned",
    "ticket.team_changed",
    "ticket.status_changed",
    "ticket.priority_changed",
    "ticket.escalated",
    "ticket.tags_changed",
    "ticket.updated",
    "live.offered",
    "live.answered",
    "live.abandoned",
    "live.hold",
    "live.resumed",
    "live.ended",
    "contact.created",
    "contact.note_added",
    "organisation.created",
    "organisation.updated",
    "organisation.churned",
    "survey.sent",
    "survey.answered",
    # The help centre, the answer bot and callbacks (kb.reading, kb.bot, phone.callbacks).
    "kb.view",
    "kb.read",
    "kb.vote",
    "kb.search",
    "kb.contact_started",
    "kb.bot_offered",
    "kb.bot_resolved",
    "kb.bot_handoff",
    "kb.bot_unanswered",
    "live.callback_requested",
    "live.callback_done",
}


async def small_demo(db: Database, settings: Settings) -> object:
    return await build_demo(
        db,
        FileStore(settings.files_dir),
        tickets_wanted=240,
        contacts_wanted=120,
        organisations_wanted=15,
        days=20,
        seed=3,
    )


async def scalar(db: Database, stmt: object) -> int:
    async with db.session(write=False) as session:
        return int(await session.scalar(stmt) or 0)  # type: ignore[call-overload]


async def test_the_demo_is_a_consistent_history_written_as_live_facts(
    db: Database, settings: Settings
) -> None:
    before = utcnow()
    summary = await small_demo(db, settings)
    tickets = 240 + summary.callbacks  # type: ignore[attr-defined]
    assert await scalar(db, select(func.count(Ticket.id))) == summary.tickets == tickets  # type: ignore[attr-defined]
    assert await scalar(db, select(func.count(Contact.id))) == 120
    assert await scalar(db, select(func.count(Organisation.id))) == 15
    assert await scalar(db, select(func.count(User.id))) == 13
    assert await scalar(db, select(func.count(Message.id))) == summary.messages  # type: ignore[attr-defined]

    async with db.session(write=False) as session:
        facts = (
            (await session.execute(select(Activity).order_by(Activity.at, Activity.id)))
            .scalars()
            .all()
        )
        ticket_rows = {t.id: t for t in (await session.execute(select(Ticket))).scalars()}
        statuses = defaultdict(int)
        for t in ticket_rows.values():
            statuses[t.status] += 1
    kinds = {f.kind for f in facts}
    assert kinds <= LIVE_KINDS, kinds - LIVE_KINDS
    assert {"ticket.created", "message.sent", "ticket.status_changed", "note.added"} <= kinds
    assert {"survey.sent", "survey.answered"} <= kinds  # CSAT through the live survey service
    answered = {f.data["kind"] for f in facts if f.kind == "survey.answered"}
    assert {"csat", "nps", "pulse"} <= answered  # and an NPS round, and the agents' pulse
    assert "message.delivery" in kinds  # replies are reported delivered, as a channel would
    # The help centre was used: the knowledge-base report has data.
    assert {"kb.view", "kb.read", "kb.search", "kb.bot_offered", "kb.contact_started"} <= kinds
    # Chats and calls waited in a queue: ASA, abandonment, hold and handle time have data.
    assert {"live.offered", "live.answered", "live.ended", "live.hold"} <= kinds
    live = d.live_contacts(facts)
    assert live and all(c.channel in ("chat", "phone") for c in live)
    assert all(c.answered_at is None or c.answered_at >= c.offered_at for c in live)
    assert all(c.ended_at is None or c.answered_at is not None for c in live)
    window = before - timedelta(days=20 + 1000)
    assert all(window <= f.at <= utcnow() for f in facts)

    by_ticket: dict[int, list[Activity]] = defaultdict(list)
    for f in facts:
        if f.ticket_id is not None:
            by_ticket[f.ticket_id].append(f)
    for ticket_id, ticket in ticket_rows.items():
        history = by_ticket[ticket_id]
        assert history[0].kind == "ticket.created" and history[0].at == ticket.created_at
        opening = {f.kind for f in history if f.at == ticket.created_at}
        assert "message.received" in opening
        said = [f.at for f in history if f.kind in ("message.received", "message.sent")]
        assert max(said) <= ticket.last_activity_at <= max(f.at for f in history)
        solved = [
            f for f in history if f.kind == "ticket.status_changed" and f.data["to"] == "solved"
        ]
        if ticket.status == "solved":
            assert solved and ticket.solved_at == solved[-1].at
    # Work is left for the team: the inbox is not empty, and most history is resolved.
    assert statuses["solved"] > 120
    assert statuses["new"] + statuses["open"] + statuses["pending"] + statuses["on_hold"] > 0
    # Reopenings and repeat contacts exist.
    reopened = [
        f for f in facts if f.kind == "ticket.status_changed" and f.data["from"] == "solved"
    ]
    assert reopened
    per_contact = defaultdict(int)
    for t in ticket_rows.values():
        per_contact[t.contact_id] += 1
    assert max(per_contact.values()) >= 3


async def test_the_demo_is_seeded_once_and_its_logins_work(
    db: Database, settings: Settings
) -> None:
    await small_demo(db, settings)
    tickets = await scalar(db, select(func.count(Ticket.id)))
    with pytest.raises(AlreadySeeded):
        await small_demo(db, settings)
    assert await scalar(db, select(func.count(Ticket.id))) == tickets
    async with db.session() as session:
        user = await auth.authenticate(session, f"ayesha@{DOMAIN}", PASSWORD)
        assert user.role == "agent" and user.is_active


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "madad", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_madad_demo_and_serve_demo_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MADAD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}",
        "MADAD_DATA_DIR": str(tmp_path / "data"),
        "MADAD_SECRET_KEY": "test-secret-key-not-for-production",
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "COLUMNS": "200",
    }
    first = run_cli(env, "demo", "--tickets", "60", "--contacts", "40", "--organisations", "5")
    assert first.returncode == 0, first.stderr
    assert f"ayesha@{DOMAIN}" in first.stdout and PASSWORD in first.stdout
    again = run_cli(env, "demo", "--tickets", "60")
    assert again.returncode == 1 and "already holds the demo" in again.stderr
    link = run_cli(env, "demo-link", "--language", "ur")
    assert link.returncode == 0, link.stderr
    assert re.search(r"/portal/ur/sign-in/[\w.-]+", link.stdout)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "madad", "serve", "--demo", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    printed = []
    try:
        assert server.stdout is not None
        for line in server.stdout:  # what it prints before it serves
            printed.append(line)
            if "Madad is serving" in line:
                break
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "".join(printed)
            time.sleep(0.2)
        tour = "".join(printed)
        assert "already here" in tour
        for path in ("/inbox", "/help", "/help/ur", "/demo/shop", "/portal", "/reports",
                     "/reports/staffing", "/wallboard"):  # fmt: skip
            assert f"{base}{path}\n" in tour, path
        with httpx.Client(base_url=base, follow_redirects=False) as client:
            r = client.post("/login", data={"email": f"ayesha@{DOMAIN}", "password": PASSWORD})
            assert r.status_code == 303
            page = client.get("/inbox?view=all", headers={"accept": "text/html"})
            assert page.status_code == 200 and 'class="ticket-row' in page.text
            assert client.get("/demo/shop").status_code == 200
        # The printed sign-in link opens the customer portal (no mailbox needed).
        [token] = re.findall(rf"{base}/portal/sign-in/([\w.-]+)", tour)
        with httpx.Client(base_url=base, follow_redirects=False) as customer:
            r = customer.post(f"/portal/sign-in/{token}", headers={"origin": base})
            assert r.status_code == 303, r.text
            requests = customer.get("/portal")
            assert requests.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
