"""`madad email ingest` and `madad mailboxes`, run as a user runs them (real processes, a real
SQLite file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.channels.email.conftest import CORPUS


def madad(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MADAD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "MADAD_DATA_DIR": str(tmp_path / "data"),
        "MADAD_SECRET_KEY": "cli-test-secret",
        "COLUMNS": "200",
    }
    env.pop("MADAD_REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "madad", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )


def test_ingest_files_and_maildirs_stores_each_email_once(tmp_path: Path) -> None:
    assert madad(tmp_path, "db", "upgrade").returncode == 0
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1.eml").write_bytes((CORPUS / "gmail_reply.eml").read_bytes())
    (maildir / "cur" / "2.eml").write_bytes((CORPUS / "no_from.eml").read_bytes())
    r = madad(tmp_path, "email", "ingest", str(CORPUS / "gmail_reply.eml"), str(maildir))
    assert r.returncode == 0, r.stderr
    assert "3 files: 1 duplicate, 1 message, 1 quarantined." in r.stdout
    again = madad(tmp_path, "email", "ingest", str(maildir))
    assert "2 files: 2 duplicate." in again.stdout
    missing = madad(tmp_path, "email", "ingest", str(tmp_path / "nope.eml"))
    assert missing.returncode != 0


def test_mailboxes_from_the_command_line(tmp_path: Path) -> None:
    assert madad(tmp_path, "db", "upgrade").returncode == 0
    r = madad(
        tmp_path,
        "mailboxes",
        "add",
        "--name",
        "Main",
        "--address",
        "help@madad.test",
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        "1",
        "--smtp-security",
        "none",
    )
    assert r.returncode == 0 and "Mailbox 1 added." in r.stdout, r.stderr
    listed = madad(tmp_path, "mailboxes", "list")
    assert "help@madad.test" in listed.stdout and "never" in listed.stdout
    test = madad(tmp_path, "mailboxes", "test", "1")
    assert test.returncode == 1 and "SMTP: FAILED" in test.stdout
    bad = madad(tmp_path, "mailboxes", "add", "--name", "Bad", "--address", "not-an-address")
    assert bad.returncode == 1 and "error:" in bad.stderr
    assert madad(tmp_path, "mailboxes", "remove", "1").returncode == 0
