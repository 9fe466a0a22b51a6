"""The `madad` command, run as a user runs it: a real process on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from madad import migrate


def madad(tmp_path: Path, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "MADAD_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "MADAD_DATA_DIR": str(tmp_path / "data"),
    }
    return subprocess.run(
        [sys.executable, "-m", "madad", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        input=input,
        timeout=120,
    )


@pytest.fixture
def migrated(tmp_path: Path) -> Path:
    r = madad(tmp_path, "db", "upgrade")
    assert r.returncode == 0, r.stderr
    return tmp_path


def test_db_upgrade_and_current(migrated: Path) -> None:
    r = madad(migrated, "db", "current")
    assert r.returncode == 0
    assert all(head in r.stdout for head in migrate.head_revisions()), r.stdout
    assert (migrated / "cli.db").exists()


def test_users_and_tokens_from_the_command_line(migrated: Path) -> None:
    r = madad(
        migrated,
        "users",
        "create",
        "--email",
        "owner@example.com",
        "--name",
        "Owner Person",
        "--role",
        "owner",
    )
    assert r.returncode == 0, r.stderr
    assert "Password (shown once)" in r.stdout
    r = madad(
        migrated,
        "tokens",
        "create",
        "--user",
        "owner@example.com",
        "--scopes",
        "inbound:write,tickets:read",
        "--name",
        "bridge",
    )
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("mdd_") and token not in r.stderr
    r = madad(migrated, "tokens", "list")
    assert "bridge" in r.stdout and token.split("_")[2] not in r.stdout


def test_bad_input_gives_a_message_and_a_non_zero_exit(migrated: Path) -> None:
    r = madad(migrated, "users", "create", "--email", "nope", "--name", "X")
    assert r.returncode == 1 and "error:" in r.stderr
    r = madad(
        migrated,
        "users",
        "create",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--password",
        "short",
    )
    assert r.returncode == 1 and "at least 8" in r.stderr
    r = madad(migrated, "tokens", "create", "--user", "ghost@example.com", "--scopes", "all")
    assert r.returncode == 1 and "no user" in r.stderr
    r = madad(migrated, "tokens", "create", "--user", "ghost@example.com", "--scopes", "fly:high")
    assert r.returncode == 2 and "unknown scope" in r.stderr
    r = madad(
        migrated, "users", "create", "--email", "a@example.com", "--name", "A", "--role", "emperor"
    )
    assert r.returncode == 2
    madad(migrated, "users", "create", "--email", "dup@example.com", "--name", "D")
    r = madad(migrated, "users", "create", "--email", "dup@example.com", "--name", "D")
    assert r.returncode == 1 and "already exists" in r.stderr
