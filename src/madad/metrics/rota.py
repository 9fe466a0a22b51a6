"""A rota as a manager writes it, one shift pattern per line, and where it falls short.

    # days        hours (UTC)   agents
    Mon-Fri       09:00-17:00   6
    Sat,Sun       10:00-14:00   2
    Daily         22:00-06:00   1      (overnight: runs into the next morning)

Lines add up (overlapping shifts are more agents). Days are English names or their first three
letters, a range `Mon-Fri`, a list `Sat,Sun`, or `Daily`; times are on the half hour, the end
may be 24:00, and a shift ending before it starts runs past midnight (Sunday night into Monday).
Pure functions; the planner stores the text as typed and reads it with `parse_rota`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from madad.metrics.staffing import INTERVALS_PER_WEEK, SLOTS_PER_DAY, IntervalPlan, compare_rota

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
FULL = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MAX_AGENTS = 10_000
MAX_LINES = 500
EXAMPLE = "Mon-Fri 09:00-17:00 6"
_LINE = re.compile(r"^(?P<days>\S+)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s+"
                   r"(?P<agents>\d+)$")  # fmt: skip


class RotaError(ValueError):
    """A line of the rota that cannot be read, with its number (1-based)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


def _day(name: str, line: int) -> int:
    key = name.strip().lower()
    if key in DAYS:
        return DAYS.index(key)
    if key in FULL:
        return FULL.index(key)
    raise RotaError(line, f"{name.strip()[:20]!r} is not a day (Mon … Sun)")


def _days(text: str, line: int) -> list[int]:
    if text.lower() in ("daily", "everyday"):
        return list(range(7))
    days: list[int] = []
    for part in text.split(","):
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = _day(first, line), _day(last, line)
            days += [(a + i) % 7 for i in range((b - a) % 7 + 1)]
        else:
            days.append(_day(part, line))
    return days


def _slot(text: str, line: int, *, end: bool) -> int:
    hours, _, minutes = text.partition(":")
    h, m = int(hours), int(minutes)
    if m not in (0, 30) or not (0 <= h <= 24) or (h == 24 and (m or not end)):
        raise RotaError(line, f"{text} is not a half hour between 00:00 and 24:00")
    return h * 2 + m // 30


def parse_rota(spec: str) -> list[int]:
    """The agents rostered in each of the week's 336 half hours (Monday 00:00 first, UTC)."""
    week = [0] * INTERVALS_PER_WEEK
    lines = spec.splitlines()
    if len(lines) > MAX_LINES:
        raise RotaError(MAX_LINES + 1, f"a rota has at most {MAX_LINES} lines")
    for number, raw in enumerate(lines, start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        m = _LINE.match(re.sub(r"\s+", " ", text))
        if m is None:
            raise RotaError(
                number, "write it as: days start-end agents (e.g. Mon-Fri 09:00-17:00 6)"
            )
        agents = int(m["agents"])
        if agents > MAX_AGENTS:
            raise RotaError(number, f"at most {MAX_AGENTS} agents in a shift")
        start = _slot(m["start"], number, end=False)
        stop = _slot(m["end"], number, end=True)
        if start == stop % SLOTS_PER_DAY and stop != SLOTS_PER_DAY:
            raise RotaError(number, "a shift must end at another time than it starts")
        length = (stop - start) % SLOTS_PER_DAY or SLOTS_PER_DAY
        for day in _days(m["days"], number):
            for i in range(length):
                week[(day * SLOTS_PER_DAY + start + i) % INTERVALS_PER_WEEK] += agents
    return week


@dataclass(frozen=True)
class RotaCheck:
    """The plan against the rota: per interval how many agents are missing (0 when covered),
    the shortfall in agent-hours over the week, and how many half hours are short."""

    missing: list[int]
    agent_hours_short: float
    short_intervals: int


def check_rota(plan: Sequence[IntervalPlan], rota: Sequence[int]) -> RotaCheck:
    missing = [0] * INTERVALS_PER_WEEK
    for s in compare_rota(plan, rota):
        missing[s.interval] = s.short
    return RotaCheck(missing, sum(missing) / 2, sum(1 for m in missing if m))
