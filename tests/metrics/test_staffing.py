"""Staffing maths: Erlang C against published figures and an exact reference, Erlang A against an
independent computation, the patience estimate, the interval planner and the command.

Published sources used:

- Call Centre Helper, "Erlang C Formula – Made Simple With an Easy Worked Example"
  (callcentrehelper.com): 100 calls in 30 minutes, AHT 180 s, target 80 % answered in 20 s.
  Traffic intensity 10 Erlangs; 14 agents needed, probability of waiting 17.4 %, service level
  88.8 %, ASA about 8 s (7.8 s), occupancy 71.4 %; with 30 % shrinkage, 20 agents to schedule.
- Erlang C tables for A = 10 Erlangs (e.g. the table in G. Koole, "Call Center Optimization",
  and any Erlang C table): P(wait) 0.6821, 0.4494, 0.2853, 0.1741 for 11, 12, 13, 14 agents.

The figures above are quoted from those sources as recalled (the pages could not be re-read
while writing this), which is why every published figure asserted here is also checked against
`exact_erlang_c`, a direct evaluation of the textbook factorial formula in exact rational
arithmetic: a misremembered table value cannot hide a bug, nor a bug a loose tolerance.
"""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from madad.metrics import staffing as s
from madad.metrics.staffing_cli import staffing

# ---------------------------------------------------------------------------------------------
# Independent references


def exact_erlang_c(agents: int, load: Fraction) -> Fraction:
    """Textbook Erlang C with factorials, in exact rationals (small N only):

    C = (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A))
    """
    top = load**agents / math.factorial(agents) * Fraction(agents) / (agents - load)
    bottom = sum(load**k / math.factorial(k) for k in range(agents)) + top
    return top / bottom


def log_space_erlang_c(agents: int, load: float) -> float:
    """Erlang C for large N from log-gamma terms and a log-sum-exp (a second, different route)."""
    logs = [k * math.log(load) - math.lgamma(k + 1) for k in range(agents)]
    log_top = agents * math.log(load) - math.lgamma(agents + 1) + math.log(agents / (agents - load))
    top = max([*logs, log_top])
    total = math.fsum(math.exp(v - top) for v in logs) + math.exp(log_top - top)
    return math.exp(log_top - top) / total


def reference_erlang_a(
    agents: int, load: float, aht: float, patience: float, target: float, short: float = 5.0
) -> dict[str, float]:
    """Erlang A by brute force: the truncated birth–death chain for the state distribution, and a
    fine Runge–Kutta integration of a tagged customer's progress through the queue for waits.

    A waiting customer with i contacts ahead moves up at rate N·μ + i·θ, is answered from the head
    at rate N·μ and hangs up at rate θ. Nothing here uses the Beta/negative-binomial closed forms
    of the module under test.
    """
    mu, theta = 1.0 / aht, 1.0 / patience
    lam = load * mu
    p = [1.0]
    n = 0
    while True:
        n += 1
        death = n * mu if n <= agents else agents * mu + (n - agents) * theta
        p.append(p[-1] * lam / death)
        if n > agents + 5 and p[-1] < 1e-18 * max(p):
            break
    z = math.fsum(p)
    pi = [x / z for x in p]
    queue = pi[agents:]
    p_wait = math.fsum(queue)
    mean_queue = math.fsum(i * q for i, q in enumerate(queue))
    p_abandon = theta * mean_queue / lam

    k = len(queue)
    up = [agents * mu + i * theta for i in range(k + 1)]
    out = [agents * mu + (i + 1) * theta for i in range(k)]

    def deriv(t: float, y: list[float]) -> list[float]:
        u = y[:k]
        du = [-out[i] * u[i] + (up[i + 1] * u[i + 1] if i + 1 < k else 0.0) for i in range(k)]
        served = agents * mu * u[0]
        return [*du, served, theta * math.fsum(u), t * served]

    def integrate(y: list[float], t0: float, t1: float, h: float) -> list[float]:
        steps = max(1, math.ceil((t1 - t0) / h))
        h = (t1 - t0) / steps
        t = t0
        for _ in range(steps):
            k1 = deriv(t, y)
            k2 = deriv(t + h / 2, [a + h / 2 * b for a, b in zip(y, k1, strict=True)])
            k3 = deriv(t + h / 2, [a + h / 2 * b for a, b in zip(y, k2, strict=True)])
            k4 = deriv(t + h, [a + h * b for a, b in zip(y, k3, strict=True)])
            y = [
                a + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4)
                for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4, strict=True)
            ]
            t += h
        return y

    h = 0.05
    y = [*queue, 0.0, 0.0, 0.0]
    y = integrate(y, 0.0, short, h)
    abandoned_short = y[k + 1]
    y = integrate(y, short, target, h)
    answered_in_target = (1.0 - p_wait) + y[k]
    horizon = 60.0 / (agents * mu + theta)
    y = integrate(y, target, horizon, 0.25)
    return {
        "p_wait": p_wait,
        "p_abandon": p_abandon,
        "answered_after_waiting": y[k],
        "asa": y[k + 2] / (1.0 - p_abandon),
        "service_level": answered_in_target / (1.0 - abandoned_short),
        "occupancy": load * (1.0 - p_abandon) / agents,
    }


# ---------------------------------------------------------------------------------------------
# Erlang C


@pytest.mark.parametrize(
    ("agents", "published"), [(11, 0.6821), (12, 0.4494), (13, 0.2853), (14, 0.1741)]
)
def test_erlang_c_matches_the_published_table_for_ten_erlangs(agents: int, published: float):
    exact = float(exact_erlang_c(agents, Fraction(10)))
    assert exact == pytest.approx(published, abs=5e-5)  # the table is right
    assert s.erlang_c(agents, 10.0) == pytest.approx(exact, rel=1e-12)


def test_call_centre_helper_worked_example():
    """Call Centre Helper's worked example: 100 calls per 30 minutes, AHT 3 minutes, 80/20."""
    load = s.offered_load(100, 180, 1800)
    assert load == pytest.approx(10.0)
    target = s.StaffingTarget(service_level=0.8, target_seconds=20)
    rec = s.recommend(load, 180, target, shrinkage=0.3)
    assert rec.required == 14
    assert rec.scheduled == 20
    result = rec.performance
    assert round(result.p_wait, 3) == 0.174
    assert round(result.service_level, 3) == 0.888
    assert round(result.asa, 1) == 7.8
    assert round(result.occupancy, 3) == 0.714
    # 13 agents fall just short (79.6 %), which is why the answer is 14.
    assert s.erlang_c_service_level(13, load, 180, 20) == pytest.approx(0.7956, abs=1e-4)
    # The same numbers from the textbook formulas in exact arithmetic.
    c = exact_erlang_c(14, Fraction(10))
    assert result.asa == pytest.approx(float(c * 180 / 4), rel=1e-12)
    assert result.service_level == pytest.approx(1 - float(c) * math.exp(-4 * 20 / 180), rel=1e-12)


def test_westbay_worked_example_inputs_against_the_exact_formula():
    """The inputs of the Westbay Engineers Erlang C walk-through (360 calls per half hour, 4-minute
    calls, 55 agents, 15 s target); the expected figures come from `exact_erlang_c`."""
    load = s.offered_load(360, 240, 1800)
    assert load == pytest.approx(48.0)
    c = float(exact_erlang_c(55, Fraction(48)))
    result = s.erlang_c_performance(55, load, 240, 15)
    assert result.p_wait == pytest.approx(c, rel=1e-12)
    assert result.p_wait == pytest.approx(0.2387, abs=1e-4)
    assert result.asa == pytest.approx(c * 240 / 7, rel=1e-12)
    assert result.service_level == pytest.approx(1 - c * math.exp(-7 * 15 / 240), rel=1e-12)
    assert result.occupancy == pytest.approx(48 / 55)


@settings(max_examples=60, deadline=None)
@given(
    agents=st.integers(min_value=1, max_value=60),
    load=st.fractions(min_value=Fraction(1, 10), max_value=Fraction(80)).map(
        lambda f: f.limit_denominator(1000)
    ),
)
def test_erlang_c_equals_the_factorial_formula(agents: int, load: Fraction):
    if agents <= load:
        assert s.erlang_c(agents, float(load)) == 1.0
        return
    assert s.erlang_c(agents, float(load)) == pytest.approx(
        float(exact_erlang_c(agents, load)), rel=1e-10, abs=1e-300
    )


def test_erlang_b_matches_its_factorial_formula():
    load = Fraction(7)
    exact = (load**9 / math.factorial(9)) / sum(load**k / math.factorial(k) for k in range(10))
    assert s.erlang_b(9, 7.0) == pytest.approx(float(exact), rel=1e-13)
    assert s.erlang_b(0, 7.0) == 1.0


def test_large_loads_neither_overflow_nor_lose_precision():
    # 171! already overflows a float; here N is in the hundreds and thousands.
    result = s.erlang_c_performance(950, 900.0, 300, 20)
    assert result.p_wait == pytest.approx(log_space_erlang_c(950, 900.0), rel=1e-9)
    assert 0 < result.p_wait < 1
    assert 0 < result.asa < 5
    assert 0.99 < result.service_level < 1
    assert result.occupancy == pytest.approx(900 / 950)

    big = s.erlang_c_performance(5100, 5000.0, 240, 20)
    assert big.p_wait == pytest.approx(log_space_erlang_c(5100, 5000.0), rel=1e-9)
    assert all(math.isfinite(v) for v in (big.p_wait, big.asa, big.service_level))

    required = s.agents_required(900.0, 300, s.StaffingTarget(0.8, 20))
    assert s.erlang_c_service_level(required, 900.0, 300, 20) >= 0.8
    assert s.erlang_c_service_level(required - 1, 900.0, 300, 20) < 0.8
    assert 900 < required < 950


def test_too_few_agents_means_an_unstable_queue():
    result = s.erlang_c_performance(10, 10.0, 180, 20)
    assert (result.p_wait, result.asa, result.service_level, result.occupancy) == (
        1.0,
        math.inf,
        0.0,
        1.0,
    )
    assert s.erlang_c_performance(3, 10.0, 180, 20).asa == math.inf
    assert s.erlang_c_performance(0, 10.0, 180, 20).service_level == 0.0


def test_no_load_needs_no_agents():
    assert s.erlang_c(5, 0.0) == 0.0
    assert s.erlang_c_service_level(5, 0.0, 180, 20) == 1.0
    assert s.agents_required(0.0, 180, s.StaffingTarget()) == 0
    assert s.recommend(0.0, 180, s.StaffingTarget(), shrinkage=0.3).scheduled == 0


@settings(max_examples=80, deadline=None)
@given(
    load=st.floats(min_value=0.05, max_value=400),
    extra=st.integers(min_value=1, max_value=40),
    aht=st.floats(min_value=10, max_value=1200),
    target=st.floats(min_value=0, max_value=120),
)
def test_more_agents_never_make_erlang_c_worse(load: float, extra: int, aht: float, target: float):
    n = math.floor(load) + extra
    fewer = s.erlang_c_performance(n, load, aht, target)
    more = s.erlang_c_performance(n + 1, load, aht, target)
    assert more.p_wait <= fewer.p_wait
    assert more.asa <= fewer.asa
    assert more.service_level >= fewer.service_level
    assert 0 <= more.service_level <= 1
    assert more.occupancy < fewer.occupancy


# ---------------------------------------------------------------------------------------------
# Agents required and shrinkage


def test_targets_on_asa_and_occupancy():
    load = 10.0
    asa_only = s.StaffingTarget(service_level=None, asa=5.0)
    n = s.agents_required(load, 180, asa_only)
    assert s.erlang_c_asa(n, load, 180) <= 5.0 < s.erlang_c_asa(n - 1, load, 180)
    assert n == 15  # 7.8 s with 14 agents, 3.7 s with 15

    capped = s.StaffingTarget(service_level=0.8, max_occupancy=0.6)
    n = s.agents_required(load, 180, capped)
    assert n == 17  # 10/17 = 0.588 ≤ 0.6 < 10/16
    assert s.agents_required(load, 180, s.StaffingTarget(0.8, 20, max_occupancy=0.85)) == 14


def test_scheduled_staff_rounds_up_without_float_noise():
    assert 1 / (1 - 0.8) > 5  # the noise this guards against
    assert s.scheduled_staff(1, 0.8) == 5
    assert s.scheduled_staff(14, 0.3) == 20
    for required in range(0, 120):
        for percent in range(100):
            exact = Fraction(required) / (1 - Fraction(percent, 100))
            assert s.scheduled_staff(required, percent / 100) == math.ceil(exact)
    assert s.scheduled_staff(15, 0.3) == 22
    assert s.scheduled_staff(14, 0.0) == 14
    assert s.scheduled_staff(0, 0.5) == 0
    with pytest.raises(ValueError):
        s.scheduled_staff(10, 1.0)


def test_bad_targets_are_refused():
    with pytest.raises(ValueError):
        s.StaffingTarget(service_level=1.0)
    with pytest.raises(ValueError):
        s.StaffingTarget(service_level=0.0)
    with pytest.raises(ValueError):
        s.StaffingTarget(asa=0)
    with pytest.raises(ValueError):
        s.StaffingTarget(max_occupancy=1.5)
    with pytest.raises(ValueError):
        s.erlang_c(5, -1.0)
    with pytest.raises(ValueError):
        s.offered_load(-5, 180)


# ---------------------------------------------------------------------------------------------
# Erlang A


@pytest.mark.parametrize(
    ("agents", "load", "aht", "patience"),
    [(14, 10.0, 180, 120), (8, 10.0, 180, 60), (3, 2.5, 300, 200), (20, 18.0, 240, 45)],
)
def test_erlang_a_matches_a_brute_force_computation(agents, load, aht, patience):
    expected = reference_erlang_a(agents, load, aht, patience, target=20.0)
    result = s.erlang_a(agents, load, aht, patience, target_seconds=20.0)
    assert result.p_wait == pytest.approx(expected["p_wait"], rel=1e-9)
    assert result.p_abandon == pytest.approx(expected["p_abandon"], rel=1e-9)
    assert result.occupancy == pytest.approx(expected["occupancy"], rel=1e-9)
    # The tagged-customer integration: every waiting customer is answered or hangs up.
    assert expected["answered_after_waiting"] == pytest.approx(
        expected["p_wait"] - expected["p_abandon"], rel=1e-6
    )
    assert result.service_level == pytest.approx(expected["service_level"], rel=1e-6)
    assert result.asa == pytest.approx(expected["asa"], rel=1e-6)


def test_erlang_a_tends_to_erlang_c_as_patience_grows():
    c = s.erlang_c_performance(14, 10.0, 180, 20)
    previous_gap = math.inf
    # The gap closes like 1/patience (a first-order effect of θ on the queue's tail).
    for patience in (60, 600, 6_000, 60_000, 600_000_000):
        a = s.erlang_a(14, 10.0, 180, patience, 20)
        gap = abs(a.service_level - c.service_level) + abs(a.asa - c.asa) / 180
        assert gap < previous_gap
        previous_gap = gap
    assert a.p_wait == pytest.approx(c.p_wait, rel=1e-6)
    assert a.asa == pytest.approx(c.asa, rel=1e-6)
    assert a.service_level == pytest.approx(c.service_level, rel=1e-6)
    assert a.p_abandon < 1e-7
    assert s.erlang_a(14, 10.0, 180, math.inf, 20) == c


def test_erlang_a_is_stable_with_fewer_agents_than_load():
    result = s.erlang_a(8, 10.0, 180, 60, 20)
    assert 0 < result.p_abandon < 1
    assert result.occupancy < 1
    assert math.isfinite(result.asa)
    # In steady state what is not abandoned is carried by the agents.
    assert 10.0 * (1 - result.p_abandon) < 8


def test_erlang_a_at_scale():
    result = s.erlang_a(900, 900.0, 300, 120, 20)
    assert 0 < result.p_abandon < 0.1
    assert 0 < result.p_wait < 1
    assert math.isfinite(result.asa)
    # Garnett, Mandelbaum & Reiman (2002): with N = A (β = 0) in the quality-and-efficiency driven
    # regime, P(wait) → 1 / (1 + sqrt(θ/μ)) = 1 / (1 + sqrt(300/120)) ≈ 0.387.
    assert result.p_wait == pytest.approx(1 / (1 + math.sqrt(300 / 120)), abs=0.02)
    required = s.agents_required(900.0, 300, s.StaffingTarget(0.8, 20), patience=120)
    check = s.erlang_a(required, 900.0, 300, 120, 20)
    assert check.service_level >= 0.8
    assert s.erlang_a(required - 1, 900.0, 300, 120, 20).service_level < 0.8


@settings(max_examples=40, deadline=None)
@given(
    load=st.floats(min_value=0.5, max_value=60),
    agents=st.integers(min_value=1, max_value=70),
    aht=st.floats(min_value=30, max_value=900),
    patience=st.floats(min_value=10, max_value=3600),
)
def test_erlang_a_abandonment_falls_as_agents_are_added(
    load: float, agents: int, aht: float, patience: float
):
    fewer = s.erlang_a(agents, load, aht, patience, 20)
    more = s.erlang_a(agents + 1, load, aht, patience, 20)
    assert 0 < fewer.p_abandon < 1
    assert 0 <= more.p_abandon <= fewer.p_abandon
    assert more.service_level >= fewer.service_level - 1e-12
    assert more.asa <= fewer.asa + 1e-9
    assert 0 <= more.service_level <= 1


def test_erlang_a_needs_fewer_agents_when_customers_hang_up_soon():
    target = s.StaffingTarget(0.8, 20)
    with_c = s.agents_required(10.0, 180, target)
    with_a = s.agents_required(10.0, 180, target, patience=120)
    assert with_a == 12
    assert with_a < with_c == 14
    assert s.erlang_a(12, 10.0, 180, 120, 20).service_level >= 0.8
    assert s.erlang_a(11, 10.0, 180, 120, 20).service_level < 0.8


def test_a_service_level_alone_can_hide_mass_abandonment_so_cap_it():
    target = s.StaffingTarget(0.8, 20)
    n = s.agents_required(5000.0, 300, target, patience=60)
    loose = s.erlang_a(n, 5000.0, 300, 60, 20)
    assert loose.service_level >= 0.8
    assert loose.p_abandon > 0.2  # impatient customers keep the queue short for the rest
    capped = s.StaffingTarget(0.8, 20, max_abandonment=0.05)
    m = s.agents_required(5000.0, 300, capped, patience=60)
    assert s.erlang_a(m, 5000.0, 300, 60, 20).p_abandon <= 0.05
    assert s.erlang_a(m - 1, 5000.0, 300, 60, 20).p_abandon > 0.05
    assert n < m < s.agents_required(5000.0, 300, target)
    # Erlang C has no abandonment, so the cap changes nothing there.
    assert s.agents_required(10.0, 180, capped) == 14


# ---------------------------------------------------------------------------------------------
# Patience


def test_patience_is_total_wait_over_abandons():
    assert s.estimate_patience(abandoned=3, total_wait_seconds=600) == 200
    assert s.estimate_patience(abandoned=0, total_wait_seconds=600) == math.inf
    with pytest.raises(ValueError):
        s.estimate_patience(abandoned=2, total_wait_seconds=0)


def test_patience_estimate_recovers_a_simulated_mean_and_maximises_the_likelihood():
    rng = random.Random(6)
    true_patience = 90.0
    abandoned = 0
    total_wait = 0.0
    for _ in range(40_000):
        patience = rng.expovariate(1 / true_patience)
        offered_wait = rng.expovariate(1 / 45)  # when an agent would have answered
        total_wait += min(patience, offered_wait)
        abandoned += patience < offered_wait
    estimate = s.estimate_patience(abandoned=abandoned, total_wait_seconds=total_wait)
    assert estimate == pytest.approx(true_patience, rel=0.04)

    def log_likelihood(theta: float) -> float:
        return abandoned * math.log(theta) - theta * total_wait

    best = 1 / estimate
    assert log_likelihood(best) > log_likelihood(best * 1.01)
    assert log_likelihood(best) > log_likelihood(best * 0.99)


# ---------------------------------------------------------------------------------------------
# Interval planner


def toy_week() -> list[float]:
    """Quiet nights, 100 contacts per half hour on weekday mornings, 40 on weekend afternoons."""
    week = [0.0] * s.INTERVALS_PER_WEEK
    for day in range(5):
        for slot in range(18, 24):  # 09:00–12:00
            week[day * 48 + slot] = 100.0
    for day in (5, 6):
        for slot in range(28, 32):  # 14:00–16:00
            week[day * 48 + slot] = 40.0
    return week


def test_plan_week_staffs_each_interval():
    plan = s.plan_week(toy_week(), aht=180, target=s.StaffingTarget(0.8, 20), shrinkage=0.3)
    assert len(plan) == 336
    monday_nine = plan[18]
    assert (monday_nine.weekday, monday_nine.slot) == (0, 18)
    assert monday_nine.load == pytest.approx(10.0)
    assert (monday_nine.required, monday_nine.scheduled) == (14, 20)
    saturday = plan[5 * 48 + 28]
    assert saturday.load == pytest.approx(4.0)
    assert saturday.required == s.agents_required(4.0, 180, s.StaffingTarget(0.8, 20))
    assert saturday.performance.service_level >= 0.8
    assert plan[0].required == plan[0].scheduled == 0
    assert sum(p.required > 0 for p in plan) == 5 * 6 + 2 * 4


def test_plan_week_takes_a_mapping_of_weekday_and_slot():
    week = toy_week()
    mapping = {(i // 48, i % 48): v for i, v in enumerate(week) if v}
    target = s.StaffingTarget(0.8, 20)
    from_list = s.plan_week(week, aht=180, target=target)
    from_mapping = s.plan_week(mapping, aht=180, target=target)
    assert [p.required for p in from_list] == [p.required for p in from_mapping]
    with pytest.raises(ValueError):
        s.plan_week({(7, 0): 1.0}, aht=180, target=target)
    with pytest.raises(ValueError):
        s.plan_week([1.0] * 48, aht=180, target=target)


def test_compare_rota_lists_short_intervals():
    plan = s.plan_week(toy_week(), aht=180, target=s.StaffingTarget(0.8, 20), shrinkage=0.3)
    rota = [p.scheduled for p in plan]
    assert s.compare_rota(plan, rota) == []
    rota[18] = 17  # Monday 09:00: 3 short
    rota[5 * 48 + 29] -= 1  # Saturday 14:30: 1 short
    rota[100] = 5  # overstaffing elsewhere is not a shortfall
    short = s.compare_rota(plan, rota)
    assert [(x.weekday, x.slot, x.needed, x.rostered, x.short) for x in short] == [
        (0, 18, 20, 17, 3),
        (5, 29, plan[5 * 48 + 29].scheduled, plan[5 * 48 + 29].scheduled - 1, 1),
    ]
    as_mapping = {(i // 48, i % 48): n for i, n in enumerate(rota)}
    assert s.compare_rota(plan, as_mapping) == short


def test_plan_week_with_erlang_a():
    plan = s.plan_week(
        toy_week(), aht=180, target=s.StaffingTarget(0.8, 20), patience=120, shrinkage=0.3
    )
    assert plan[18].required == 12
    assert plan[18].performance.p_abandon > 0


# ---------------------------------------------------------------------------------------------
# The command


@pytest.fixture
def run():
    app = typer.Typer()
    app.command()(staffing)
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args))

    return invoke


def test_command_prints_the_answer_and_its_neighbours(run):
    result = run("--arrivals-per-hour", "200", "--aht", "180", "--shrinkage", "0.3")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any("agents required" in line and "14" in line for line in lines)
    assert any("scheduled with 30% shrinkage" in line and "20" in line for line in lines)
    assert any("expected service level" in line and "88.8%" in line for line in lines)
    assert any("expected ASA" in line and "7.8 s" in line for line in lines)
    assert "abandonment" not in result.stdout
    neighbours = [line for line in lines if line.startswith("│") and "%" in line]
    agents = [
        int(line.split("│")[1]) for line in neighbours if line.split("│")[1].strip().isdigit()
    ]
    assert agents == [12, 13, 14, 15, 16, 17]


def test_command_json(run):
    result = run("--arrivals-per-hour", "200", "--aht", "180", "--json", "--max-occupancy", "0.6")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "erlang_c"
    assert data["load_erlangs"] == pytest.approx(10.0)
    assert data["agents_required"] == 17
    assert data["agents_scheduled"] == 17
    assert data["expected"]["occupancy"] <= 0.6
    assert [row["agents"] for row in data["around"]] == [15, 16, 17, 18, 19, 20]
    assert "abandonment_rate" not in data["expected"]


def test_command_with_patience_uses_erlang_a(run):
    result = run("--arrivals-per-hour", "200", "--aht", "180", "--patience", "120", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "erlang_a"
    assert data["agents_required"] == 12
    assert 0 < data["expected"]["abandonment_rate"] < 0.2
    table = run("--arrivals-per-hour", "200", "--aht", "180", "--patience", "120")
    assert "abandonment rate" in table.stdout
    assert "Erlang A" in table.stdout


def test_command_caps_abandonment(run):
    args = ["--arrivals-per-hour", "60000", "--aht", "300", "--patience", "60", "--json"]
    loose = json.loads(run(*args).stdout)
    capped = json.loads(run(*args, "--max-abandonment", "0.05").stdout)
    assert loose["expected"]["abandonment_rate"] > 0.2
    assert capped["expected"]["abandonment_rate"] <= 0.05
    assert capped["agents_required"] > loose["agents_required"]


def test_command_unstable_neighbours_have_no_finite_asa(run):
    # One Erlang: two agents answer 70 % within 20 s, three are needed, and one agent is
    # overwhelmed (N ≤ A): the queue grows without bound.
    result = run("--arrivals-per-hour", "20", "--aht", "180", "--json")
    data = json.loads(result.stdout)
    assert data["agents_required"] == 3
    assert data["around"][0] == {
        "agents": 1,
        "service_level": 0.0,
        "asa_seconds": None,
        "p_wait": 1.0,
        "occupancy": 1.0,
    }
    assert data["around"][1]["service_level"] == pytest.approx(1 - math.exp(-20 / 180) / 3)
    table = run("--arrivals-per-hour", "20", "--aht", "180")
    assert "∞" in table.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--arrivals-per-hour", "-5", "--aht", "180"], "--arrivals-per-hour"),
        (["--arrivals-per-hour", "100", "--aht", "0"], "--aht"),
        (
            ["--arrivals-per-hour", "100", "--aht", "180", "--service-level", "1.2"],
            "--service-level",
        ),
        (["--arrivals-per-hour", "100", "--aht", "180", "--service-level", "0"], "--service-level"),
        (["--arrivals-per-hour", "100", "--aht", "180", "--shrinkage", "1"], "--shrinkage"),
        (["--arrivals-per-hour", "100", "--aht", "180", "--max-occupancy", "0"], "--max-occupancy"),
        (["--arrivals-per-hour", "100", "--aht", "180", "--target-asa", "-1"], "--target-asa"),
        (["--arrivals-per-hour", "100", "--aht", "180", "--patience", "0"], "--patience"),
        (["--arrivals-per-hour", "100", "--aht", "180", "--max-abandonment", "0.05"], "--patience"),
        (
            ["--arrivals-per-hour", "1", "--aht", "1", "--patience", "9", "--max-abandonment", "1"],
            "--max-abandonment",
        ),
    ],
)
def test_command_refuses_bad_input(run, args: list[str], option: str):
    result = run(*args)
    assert result.exit_code == 2
    assert option in result.stderr
    assert result.stdout == ""
