"""`madad import calls FILE.csv`, run as a user runs it: a real process on a real SQLite file."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from madad.activity.models import Activity
from madad.channels.phone.history import events_of_row
from madad.channels.phone.models import PhoneCall
from madad.config import Settings
from madad.db import Database
from madad.errors import Invalid
from tests.test_cli import madad

HEADER = "call_id,caller,queue,agent,queued_at,answered_at,ended_at,abandoned_at,hold_seconds"
ROWS = [
    ["h-1", "+92 300 1111111", "billing", "owner@example.com", "2026-10-01T09:00:00Z",
     "2026-10-01T09:00:30Z", "2026-10-01T09:05:00Z", "", "60"],
    ["h-2", "+92 300 2222222", "billing", "", "2026-10-01T09:01:00+05:00", "", "",
     "2026-10-01T09:01:40+05:00", ""],
    ["h-3", "+92 300 3333333", "sales", "nobody@example.com", "2026-10-01 10:00:00",
     "2026-10-01 10:00:05", "2026-10-01 10:02:00", "", ""],
    ["h-4", "+92 300 4444444", "sales", "", "not a time", "", "", "", ""],
    ["h-5", "", "sales", "", "2026-10-01T10:00:00Z", "", "", "", ""],
    ["h-6", "+92 300 6666666", "sales", "", "2026-10-01T10:00:00Z", "2026-10-01T10:00:10Z",
     "2026-10-01T10:01:00Z", "", "-3"],
]  # fmt: skip
CSV = "\n".join([HEADER, *(",".join(r) for r in ROWS)]) + "\n"


async def _read(path: Path) -> tuple[list[PhoneCall], list[Activity]]:
    db = Database(
        Settings(database_url=f"sqlite+aiosqlite:///{path}", _env_file=None)  # type: ignore[call-arg]
    )
    try:
        async with db.session(write=False) as s:
            calls = list(await s.scalars(select(PhoneCall).order_by(PhoneCall.call_id)))
            facts = list(
                await s.scalars(
                    select(Activity).where(Activity.kind.like("live.%")).order_by(Activity.id)
                )
            )
        return calls, facts
    finally:
        await db.dispose()


def test_import_calls_stores_good_rows_once_and_reports_bad_ones(tmp_path: Path) -> None:
    assert madad(tmp_path, "db", "upgrade").returncode == 0
    r = madad(
        tmp_path, "users", "create", "--email", "owner@example.com", "--name", "Owner", "--role",
        "owner",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    (tmp_path / "calls.csv").write_text(CSV)

    r = madad(tmp_path, "import", "calls", "calls.csv")
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Imported 3 calls: 10 events stored, 0 already stored; 3 bad rows." in r.stdout
    assert "line 5: queued_at: 'not a time' is not an ISO 8601 time" in r.stderr
    assert "line 6: caller: required" in r.stderr
    assert "line 7: hold_seconds: a number of seconds, 0 or more" in r.stderr
    assert "agents not in Madad (stored without one): nobody@example.com" in r.stderr

    calls, facts = asyncio.run(_read(tmp_path / "cli.db"))
    by_id = {c.call_id: c for c in calls}
    assert sorted(by_id) == ["h-1", "h-2", "h-3"]
    h1, h2, h3 = by_id["h-1"], by_id["h-2"], by_id["h-3"]
    assert (h1.state, h1.hold_seconds, h1.agent_id) == ("ended", 60.0, 1)
    assert h1.answered_at == datetime(2026, 10, 1, 9, 0, 30, tzinfo=UTC)
    assert (h2.state, h2.abandoned_at) == ("abandoned", datetime(2026, 10, 1, 4, 1, 40, tzinfo=UTC))
    # A time without a zone is read in UTC; an unknown agent is stored as none.
    assert (h3.state, h3.queued_at, h3.agent_id) == (
        "ended",
        datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
        None,
    )
    assert len(facts) == 10

    # Importing the same file again stores nothing twice.
    r = madad(tmp_path, "import", "calls", "calls.csv")
    assert "Imported 3 calls: 0 events stored, 10 already stored; 3 bad rows." in r.stdout
    calls, facts = asyncio.run(_read(tmp_path / "cli.db"))
    assert len(calls) == 3 and len(facts) == 10

    # A file of good rows exits 0; a file without the required columns is refused whole.
    (tmp_path / "good.csv").write_text("\n".join(CSV.splitlines()[:3]) + "\n")
    assert madad(tmp_path, "import", "calls", "good.csv").returncode == 0
    (tmp_path / "bare.csv").write_text("id,number\n1,2\n")
    r = madad(tmp_path, "import", "calls", "bare.csv")
    assert r.returncode == 1 and "the header lacks call_id, caller" in r.stderr


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"call_id": "x", "caller": "1", "queued_at": ""}, "queued_at"),
        ({"call_id": "x", "caller": "1", "queued_at": "2026-10-01T10:00:00Z",
          "answered_at": "2026-10-01T09:00:00Z"}, "answered_at"),
        ({"call_id": "x", "caller": "1", "queued_at": "2026-10-01T10:00:00Z",
          "hold_seconds": "5"}, "hold_seconds"),
        ({"call_id": "x", "caller": "1", "answered_at": "2026-10-01T10:00:00Z",
          "ended_at": "2026-10-01T10:00:03Z", "hold_seconds": "5"}, "hold_seconds"),
        ({"call_id": "x", "caller": "1", "queued_at": "2026-10-01T10:00:00Z",
          "hold_seconds": "nan"}, "hold_seconds"),
    ],
)  # fmt: skip
def test_rows_that_cannot_be_a_call_name_their_column(row: dict[str, str], field: str) -> None:
    with pytest.raises(Invalid) as raised:
        events_of_row(row, UTC)
    assert raised.value.field == field


def test_a_row_is_the_events_of_its_call() -> None:
    row = {
        "call_id": "r",
        "caller": "+923001234567",
        "queue": "q",
        "agent": "a@example.com",
        "queued_at": "2026-10-01T10:00:00Z",
        "answered_at": "2026-10-01T10:00:20Z",
        "ended_at": "2026-10-01T10:03:00Z",
        "hold_seconds": "30.5",
    }
    got = [(e.event, e.at.isoformat(), e.agent) for e in events_of_row(row, UTC)]
    assert got == [
        ("queued", "2026-10-01T10:00:00+00:00", None),
        ("answered", "2026-10-01T10:00:20+00:00", "a@example.com"),
        ("hold", "2026-10-01T10:00:20+00:00", None),
        ("resume", "2026-10-01T10:00:50.500000+00:00", None),
        ("ended", "2026-10-01T10:03:00+00:00", None),
    ]
