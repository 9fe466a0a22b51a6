"""Every KPI definition against the hand-worked day in worked.py (the arithmetic is there)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from madad.metrics import definitions as d
from madad.metrics.reports import day_period
from tests.metrics.worked import MONDAY, WEEK, F, stream

WEEK_PERIOD = day_period(*WEEK)


def test_ticket_kpis_of_the_worked_day() -> None:
    facts = stream()
    frt = d.first_response_time(facts, WEEK_PERIOD)
    assert (frt.n, frt.mean, frt.median, frt.p90) == (2, 930.0, 60.0, 1800.0)
    assert d.resolution_time_first(facts, WEEK_PERIOD).mean == 2100.0
    assert d.resolution_time_full(facts, WEEK_PERIOD).mean == 5700.0
    assert d.first_contact_resolution(facts, WEEK_PERIOD).value == 0.5
    assert d.one_touch_resolution(facts, WEEK_PERIOD).value == 0.5
    assert d.repeat_contact_rate(facts, WEEK_PERIOD) == d.Rate(1, 6)
    assert d.escalation_rate(facts, WEEK_PERIOD) == d.Rate(1, 6)
    assert d.resolutions(facts, WEEK_PERIOD) == d.Resolutions(events=3, tickets=2, contacts=2)
    per_agent = d.requests_per_agent(facts, WEEK_PERIOD)
    assert per_agent == {7: d.Rate(1, 1), 8: d.Rate(1, 1)}
    assert d.csat(facts, WEEK_PERIOD) == d.Rate(1, 1)


def test_live_kpis_of_the_worked_day() -> None:
    facts = stream()
    asa = d.speed_of_answer(facts, WEEK_PERIOD)
    assert (asa.n, asa.mean) == (2, 27.5)
    assert d.service_level(facts, WEEK_PERIOD) == d.Rate(1, 3)
    assert d.service_level(facts, WEEK_PERIOD, seconds=60) == d.Rate(2, 3)
    assert d.abandonment_rate(facts, WEEK_PERIOD) == d.Rate(1, 3)
    assert d.hold_time(facts, WEEK_PERIOD).mean == 60.0
    # The chat answered at 09:00:15 ended at 09:10 (585 s); the other answered one goes on.
    handle = d.handle_time(facts, WEEK_PERIOD)
    assert (handle.n, handle.mean) == (1, 585.0)


def test_a_measurement_belongs_to_the_period_it_completes_in() -> None:
    facts = stream()
    monday = day_period(WEEK[0], WEEK[0] + timedelta(days=1))
    tuesday = day_period(WEEK[0] + timedelta(days=1), WEEK[0] + timedelta(days=2))
    assert d.resolutions(facts, monday).events == 3
    assert d.resolutions(facts, tuesday).events == 0
    # T3 was created on Wednesday: the repeat belongs there, not to Monday.
    assert d.repeat_contact_rate(facts, monday) == d.Rate(0, 5)


def test_a_repeat_needs_the_same_topic_and_the_window() -> None:
    facts = stream()
    for f in facts:  # T3 becomes a question about something else
        if f.ticket_id == 3 and f.kind == "ticket.tags_changed":
            f.data = {"added": ["shipping"], "removed": []}
    assert d.repeat_contact_rate(facts, WEEK_PERIOD) == d.Rate(0, 6)
    assert d.first_contact_resolution(facts, WEEK_PERIOD).value == 0.5  # T1 reopened anyway
    later = stream()
    for f in later:  # T3 eight days after T1's solve: outside the 7-day window
        if f.ticket_id == 3:
            f.at += timedelta(days=7)
    assert d.repeat_contact_rate(later, day_period(WEEK[0], WEEK[1] + timedelta(days=7))) == (
        d.Rate(0, 6)
    )


def test_bots_and_automatic_replies_are_not_a_first_response() -> None:
    facts = [f for f in stream() if f.ticket_id == 1]
    facts.insert(1, F(MONDAY + timedelta(minutes=1), "message.sent", 1, 1, None, 1, "email",
                      {"author_type": "bot"}))  # fmt: skip
    assert d.first_response_time(facts, WEEK_PERIOD).mean == 1800.0


def test_surveys_nps_ces_pulse_and_response_rates() -> None:
    def answer(i: int, kind: str, score: int, ticket: int | None = None) -> F:
        return F(MONDAY + timedelta(hours=i), "survey.answered", ticket, 1, 7, None, None,
                 {"survey_id": f"{kind}-{i}", "kind": kind, "score": score})  # fmt: skip

    def sent(i: int, kind: str) -> F:
        return F(MONDAY + timedelta(hours=i), "survey.sent", None, 1, None, None, None,
                 {"survey_id": f"{kind}-{i}", "kind": kind})  # fmt: skip

    facts = [answer(i, "nps", s) for i, s in enumerate([10, 9, 8, 7, 6, 0, 10, 10, 3, 9])]
    facts += [sent(i, "nps") for i in range(12)]
    # 5 promoters, 3 detractors of 10 → NPS 20; 10 of 12 sent were answered.
    assert d.nps(facts, WEEK_PERIOD) == pytest.approx(20.0)
    assert d.survey_response_rate(facts, WEEK_PERIOD, "nps") == d.Rate(10, 12)
    ces = [answer(i, "ces", s) for i, s in enumerate([7, 6, 2])]
    assert d.ces(ces, WEEK_PERIOD) == pytest.approx(5.0)
    pulse = [answer(i, "pulse", s) for i, s in enumerate([5, 4, 3, 2])]
    assert d.agent_satisfaction(pulse, WEEK_PERIOD) == d.Rate(2, 4)
    # A changed answer replaces the first one.
    changed = [answer(1, "csat", 2, ticket=9), answer(1, "csat", 5, ticket=9)]
    changed[1].at += timedelta(minutes=5)
    assert d.csat(changed, WEEK_PERIOD) == d.Rate(1, 1)


def test_retention_and_churn_of_organisations() -> None:
    def org(kind: str, org_id: int, day: int) -> F:
        return F(MONDAY + timedelta(days=day), f"organisation.{kind}", None, None, None, None,
                 None, {"organisation_id": org_id})  # fmt: skip

    facts = [org("created", i, -30) for i in range(1, 11)]  # 10 at the start
    facts += [org("churned", 1, 2), org("churned", 2, 3), org("reactivated", 2, 5)]
    facts += [org("created", 11, 1), org("created", 12, 2), org("churned", 12, 4)]
    kept = d.retention(facts, WEEK_PERIOD)
    # S = 10; E = 10 − 1 (org 1) + 1 (org 11) = 10; N = 1 (org 11; org 12 left again).
    assert kept == d.Rate(9, 10)


def test_percentiles_are_nearest_rank() -> None:
    durations = d.Durations.of([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    assert (durations.median, durations.p90) == (50, 90)
    assert d.Durations.of([]).mean is None
