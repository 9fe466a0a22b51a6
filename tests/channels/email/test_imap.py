"""IMAP polling against a real Dovecot (see conftest): import, mark seen or move, UIDVALIDITY
changes, interrupted polls, two pollers at once, the same mail through the webhook, TLS and
bad credentials recorded as the mailbox's poll status."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import func, select, update

from madad.channels.email.imap import poll_mailbox
from madad.channels.email.ingest import Arrival, ingest
from madad.channels.email.models import Mailbox
from madad.db import Database, utcnow
from madad.tickets.models import Message, Ticket
from tests.channels.email.conftest import Dovecot, corpus, imap_values, make_mailbox
from tests.channels.email.helpers import raw_email
from tests.conftest import Person
from tests.servers import ROOT, settings_env


async def messages(db: Database) -> int:
    async with db.session(write=False) as session:
        return await session.scalar(select(func.count()).select_from(Message)) or 0


async def mailbox(db: Database, box_id: int) -> Mailbox:
    async with db.session(write=False) as session:
        box = await session.get(Mailbox, box_id)
        assert box is not None
        return box


async def test_polling_imports_new_mail_once_and_marks_it_seen(
    db: Database, dovecot: Dovecot
) -> None:
    folder = dovecot.new_folder()
    box = await make_mailbox(db, **imap_values(dovecot, folder))
    dovecot.append(folder, corpus("gmail_reply.eml"))
    dovecot.append(folder, corpus("urdu_utf8.eml"))
    dovecot.append(folder, raw_email(subject="Read already"), seen=True)  # not imported first
    first = await poll_mailbox(db, box)
    assert first.error is None and first.imported == 2
    assert dovecot.unseen(folder) == []
    assert await messages(db) == 2
    dovecot.append(folder, raw_email(subject="Later"))
    second = await poll_mailbox(db, box)
    assert second.imported == 1 and second.duplicates == 0
    assert (await poll_mailbox(db, box)).imported == 0
    assert await messages(db) == 3
    state = await mailbox(db, box)
    assert state.last_poll_status == "ok" and state.last_poll_error is None
    assert state.last_success_at is not None and state.poll_owner is None


async def test_a_changed_uidvalidity_reimports_nothing_already_stored(
    db: Database, dovecot: Dovecot
) -> None:
    folder = dovecot.new_folder()
    box = await make_mailbox(db, **imap_values(dovecot, folder))
    old = raw_email(subject="Old one")
    dovecot.append(folder, old)
    assert (await poll_mailbox(db, box)).imported == 1
    validity = (await mailbox(db, box)).imap_uidvalidity
    dovecot.recreate(folder)  # the server renumbers the folder
    dovecot.append(folder, old)
    dovecot.append(folder, raw_email(subject="New one"))
    result = await poll_mailbox(db, box)
    assert result.uidvalidity_changed
    assert (result.imported, result.duplicates) == (1, 1)
    assert (await mailbox(db, box)).imap_uidvalidity != validity
    assert await messages(db) == 2


async def test_a_poll_interrupted_after_storing_finishes_marking_next_time(
    db: Database, dovecot: Dovecot
) -> None:
    folder = dovecot.new_folder()
    box = await make_mailbox(db, **imap_values(dovecot, folder))
    for n in range(3):
        dovecot.append(folder, raw_email(subject=f"Message {n}"))

    async def crash(uids: list[int]) -> None:
        raise ConnectionResetError("the worker lost its connection")

    broken = await poll_mailbox(db, box, before_settle=crash)
    assert broken.error is not None and "ConnectionResetError" in broken.error
    assert await messages(db) == 3
    assert len(dovecot.unseen(folder)) == 3  # stored, not yet marked
    state = await mailbox(db, box)
    assert state.last_poll_status == "error" and "lost its connection" in state.last_poll_error
    again = await poll_mailbox(db, box)
    assert again.error is None and again.imported == 0
    assert dovecot.unseen(folder) == []
    assert await messages(db) == 3


async def test_two_pollers_at_once_store_each_message_once(db: Database, dovecot: Dovecot) -> None:
    folder = dovecot.new_folder()
    box = await make_mailbox(db, **imap_values(dovecot, folder))
    for n in range(6):
        dovecot.append(folder, raw_email(subject=f"Busy {n}"))
    results = await asyncio.gather(
        poll_mailbox(db, box, owner="worker-a"), poll_mailbox(db, box, owner="worker-b")
    )
    assert sum(r.imported for r in results) == 6
    assert sum(1 for r in results if r.skipped) >= 1
    assert await messages(db) == 6


async def test_the_same_email_from_imap_and_the_webhook_is_stored_once(
    db: Database, dovecot: Dovecot
) -> None:
    folder = dovecot.new_folder()
    box = await make_mailbox(db, **imap_values(dovecot, folder))
    raw = raw_email(subject="Twice")
    await ingest(db, Arrival(raw, "api"))
    dovecot.append(folder, raw)
    result = await poll_mailbox(db, box)
    assert (result.imported, result.duplicates) == (0, 1)
    assert await messages(db) == 1


async def test_move_after_import_and_oversized_mail_left_on_the_server(
    db: Database, dovecot: Dovecot, settings: object
) -> None:
    folder, done = dovecot.new_folder(), dovecot.new_folder()
    box = await make_mailbox(
        db, **imap_values(dovecot, folder, after_import="move", move_to_folder=done)
    )
    dovecot.append(folder, raw_email(subject="Small"))
    dovecot.append(folder, raw_email(subject="Huge", text="x" * 200_000))
    db.settings.email_max_message_bytes = 100_000
    result = await poll_mailbox(db, box)
    assert (result.imported, result.quarantined) == (1, 1)
    assert dovecot.count(folder) == 1 and dovecot.count(done) == 1
    async with db.session(write=False) as session:
        subjects = set((await session.execute(select(Ticket.subject))).scalars())
    assert subjects == {"Small"}


async def test_starttls_and_imaps_work_and_a_wrong_password_is_the_poll_status(
    db: Database, dovecot: Dovecot
) -> None:
    folder = dovecot.new_folder()
    dovecot.append(folder, raw_email(subject="Over TLS"))
    tls = await make_mailbox(
        db,
        **imap_values(dovecot, folder, imap_security="starttls", verify_tls=False),
    )
    assert (await poll_mailbox(db, tls)).imported == 1
    imaps = await make_mailbox(
        db,
        name="IMAPS",
        address="imaps@madad.test",
        **imap_values(
            dovecot, folder, imap_security="ssl", imap_port=dovecot.ssl_port, verify_tls=False
        ),
    )
    assert (await poll_mailbox(db, imaps)).error is None
    strict = await make_mailbox(
        db,
        name="Strict",
        address="strict@madad.test",
        **imap_values(dovecot, folder, imap_security="starttls", verify_tls=True),
    )
    refused = await poll_mailbox(db, strict)
    assert refused.error is not None and "CERTIFICATE" in refused.error.upper()
    wrong = await make_mailbox(
        db,
        name="Wrong",
        address="wrong@madad.test",
        **imap_values(dovecot, folder, imap_password="not-it"),
    )
    bad = await poll_mailbox(db, wrong)
    assert bad.error is not None
    state = await mailbox(db, wrong)
    assert state.last_poll_status == "error" and "imap-secret" not in (state.last_poll_error or "")
    assert "not-it" not in (state.last_poll_error or "")


@pytest.mark.parametrize("dialect", ["sqlite"], indirect=True)
async def test_admins_test_the_connection_and_see_the_poll_status(
    client: httpx.AsyncClient, admin: Person, agent: Person, dovecot: Dovecot
) -> None:
    folder = dovecot.new_folder()
    body = {"name": "Main", "address": "support@madad.test", **imap_values(dovecot, folder)}
    r = await client.post("/api/v1/mailboxes", json=body, headers=admin.headers)
    assert r.status_code == 201, r.text
    box = r.json()
    assert box["has_imap_password"] is True and "imap_password" not in box
    assert box["last_poll_status"] == "never"
    test = await client.post(f"/api/v1/mailboxes/{box['id']}/test", headers=admin.headers)
    assert test.status_code == 200 and test.json()["imap"]["ok"] is True, test.text
    bad = await client.patch(
        f"/api/v1/mailboxes/{box['id']}", json={"imap_password": "nope"}, headers=admin.headers
    )
    assert bad.status_code == 200
    test = await client.post(f"/api/v1/mailboxes/{box['id']}/test", headers=admin.headers)
    assert test.json()["ok"] is False and test.json()["imap"]["detail"]
    denied = await client.post(f"/api/v1/mailboxes/{box['id']}/test", headers=agent.headers)
    assert denied.status_code == 403


async def test_a_poller_killed_mid_poll_loses_and_doubles_nothing(
    db: Database, dovecot: Dovecot
) -> None:
    folder = dovecot.new_folder()
    box = await make_mailbox(db, **imap_values(dovecot, folder))
    for n in range(5):
        dovecot.append(folder, raw_email(subject=f"Killed {n}"))
    env = settings_env(db.settings, MADAD_EMAIL_POLL_BATCH="2")
    proc = subprocess.run(
        [sys.executable, "-m", "tests.channels.email.poll_process", str(box)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert await messages(db) == 2  # the first batch was committed, then the worker died
    assert len(dovecot.unseen(folder)) == 5
    async with db.session() as session:  # the dead worker's lease runs out
        await session.execute(update(Mailbox).values(poll_lease_until=utcnow()))
    result = await poll_mailbox(db, box)
    assert result.error is None and result.imported == 3
    assert await messages(db) == 5
    assert dovecot.unseen(folder) == []
