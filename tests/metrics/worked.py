"""A hand-worked day of facts, with the KPIs worked out by hand in the comments.

Monday 2 March 2026, UTC. Agents 7 and 8; teams 1 and 2.
- T1 (contact 1, email, billing): created 09:00, reply by 7 at 09:30, solved 10:00, reopened
  11:00, reply 11:30, solved 12:00.  FRT 1800 s; first resolution 3600 s; full 10800 s;
  reopened → not FCR; two replies → not one-touch.
- T2 (contact 2, chat, login): offered 09:00:00, answered by 8 at 09:00:15 (wait 15 s), reply
  09:01 (FRT 60 s), hold 09:05–09:07 (120 s), ended and solved 09:10 (600 s). FCR, one-touch.
  CSAT answer 5.
- T3 (contact 1, email, billing): created Wednesday 09:00 — a repeat of T1 (same contact and
  topic within 7 days of its solve); escalated.
- T4 (contact 3, phone): offered 10:00:00, abandoned 10:00:03 — a short abandon, in nothing.
- T5 (contact 4, phone): offered 10:00:00, abandoned 10:01:00 — a real abandon after 60 s.
- T6 (contact 5, chat): offered 10:00:00, answered by 8 at 10:00:40 (wait 40 s, misses 20 s).

So, for the week of 2 March:
  tickets created 6; FRT mean (1800 + 60) / 2 = 930 s; first resolution mean (3600 + 600) / 2 =
  2100 s; full resolution mean (10800 + 600) / 2 = 5700 s; FCR 1/2; one-touch 1/2; repeat 1/6;
  escalation 1/6; ASA (15 + 40) / 2 = 27.5 s; service level 1 / (2 answered + 1 abandon) = 1/3;
  abandonment 1 / 3 offered (the short abandon is left out); hold (120 + 0) / 2 = 60 s;
  CSAT 1/1; resolutions: 3 events, 2 tickets, 2 contacts; requests per agent per day:
  agent 7 handled T1 on one day, agent 8 T2 on one day → 2 tickets / 2 agent-days = 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

MONDAY = datetime(2026, 3, 2, tzinfo=UTC)
WEEK = (date(2026, 3, 2), date(2026, 3, 9))


@dataclass
class F:
    at: datetime
    kind: str
    ticket_id: int | None
    contact_id: int | None
    agent_id: int | None = None
    team_id: int | None = None
    channel: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    id: int = 0


def at(day: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hh, minutes=mm, seconds=ss)


def stream(
    ticket_base: int = 0, contact_base: int = 0, agents: tuple[int, int] = (7, 8)
) -> list[F]:
    """The facts, with ids offset (and agents 7 and 8 renamed) so that a test can place them
    beside other data."""
    seven, eight = agents

    def t(n: int) -> int:
        return ticket_base + n

    def c(n: int) -> int:
        return contact_base + n

    def created(n: int, contact: int, channel: str, team: int, when: datetime) -> F:
        return F(when, "ticket.created", t(n), c(contact), None, team, channel,
                 {"priority": "normal", "status": "new", "follow_up_of": None})  # fmt: skip

    def status(n: int, contact: int, channel: str, team: int, when: datetime, a: str, b: str,
               agent: int) -> F:  # fmt: skip
        return F(when, "ticket.status_changed", t(n), c(contact), agent, team, channel,
                 {"from": a, "to": b, "by": "agent", "assignee_id": agent})  # fmt: skip

    def reply(n: int, contact: int, channel: str, team: int, when: datetime, agent: int) -> F:
        return F(when, "message.sent", t(n), c(contact), agent, team, channel,
                 {"author_type": "agent"})  # fmt: skip

    def live(n: int, contact: int, channel: str, team: int, when: datetime, kind: str,
             agent: int | None = None) -> F:  # fmt: skip
        return F(when, f"live.{kind}", t(n), c(contact), agent, team, channel)

    def tags(n: int, contact: int, channel: str, team: int, when: datetime, tag: str) -> F:
        return F(when, "ticket.tags_changed", t(n), c(contact), None, team, channel,
                 {"added": [tag], "removed": []})  # fmt: skip

    facts = [
        created(1, 1, "email", 1, at(0, 9)),
        tags(1, 1, "email", 1, at(0, 9), "billing"),
        reply(1, 1, "email", 1, at(0, 9, 30), seven),
        status(1, 1, "email", 1, at(0, 10), "new", "solved", seven),
        status(1, 1, "email", 1, at(0, 11), "solved", "open", seven),
        reply(1, 1, "email", 1, at(0, 11, 30), seven),
        status(1, 1, "email", 1, at(0, 12), "open", "solved", seven),
        created(2, 2, "chat", 1, at(0, 9)),
        tags(2, 2, "chat", 1, at(0, 9), "login"),
        live(2, 2, "chat", 1, at(0, 9), "offered"),
        live(2, 2, "chat", 1, at(0, 9, 0, 15), "answered", eight),
        reply(2, 2, "chat", 1, at(0, 9, 1), eight),
        live(2, 2, "chat", 1, at(0, 9, 5), "hold", eight),
        live(2, 2, "chat", 1, at(0, 9, 7), "resumed", eight),
        live(2, 2, "chat", 1, at(0, 9, 10), "ended", eight),
        status(2, 2, "chat", 1, at(0, 9, 10), "open", "solved", eight),
        F(
            at(0, 9, 30),
            "survey.answered",
            t(2),
            c(2),
            eight,
            1,
            "chat",
            {"survey_id": "csat-2", "kind": "csat", "score": 5},
        ),
        created(3, 1, "email", 1, at(2, 9)),
        tags(3, 1, "email", 1, at(2, 9), "billing"),
        F(at(2, 10), "ticket.escalated", t(3), c(1), seven, 1, "email", {"from": 0, "to": 1}),
        created(4, 3, "phone", 2, at(0, 10)),
        live(4, 3, "phone", 2, at(0, 10), "offered"),
        live(4, 3, "phone", 2, at(0, 10, 0, 3), "abandoned"),
        created(5, 4, "phone", 2, at(0, 10)),
        live(5, 4, "phone", 2, at(0, 10), "offered"),
        live(5, 4, "phone", 2, at(0, 10, 1), "abandoned"),
        created(6, 5, "chat", 2, at(0, 10)),
        live(6, 5, "chat", 2, at(0, 10), "offered"),
        live(6, 5, "chat", 2, at(0, 10, 0, 40), "answered", eight),
    ]
    for i, f in enumerate(facts, start=1):
        f.id = i
    return facts
