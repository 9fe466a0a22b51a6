"""Staffing maths: Erlang C, Erlang A and an interval-by-interval planner.

Pure Python (stdlib only). Times are in seconds throughout; a *load* is in Erlangs.

Notation used in the docstrings:

- ``λ`` arrival rate, ``AHT`` average handle time, ``μ = 1/AHT``;
- ``A = λ·AHT`` the offered load (traffic intensity) in Erlangs;
- ``N`` the number of agents handling contacts (not counting shrinkage);
- ``T`` the service-level target ("answered within T seconds");
- ``θ = 1/patience`` the abandonment rate of one waiting customer (Erlang A).

Erlang C (M/M/N) assumes customers wait for ever; Erlang A (M/M/N+M) lets each waiting customer
hang up after an exponentially distributed patience, which is what live channels see. Both are
computed without factorials, so loads of thousands of Erlangs neither overflow nor lose precision.

Service level follows the definition in ARCHITECTURE.md ("Facts and metrics"): contacts answered
within ``T`` divided by contacts offered, leaving out *short abandons* (customers who hang up
within 5 s). Erlang C has no abandonment, so there the short-abandon rule changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = [
    "INTERVALS_PER_WEEK",
    "INTERVAL_SECONDS",
    "SLOTS_PER_DAY",
    "IntervalPlan",
    "Performance",
    "Recommendation",
    "Shortfall",
    "StaffingTarget",
    "agents_required",
    "compare_rota",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_asa",
    "erlang_c_performance",
    "erlang_c_service_level",
    "estimate_patience",
    "occupancy",
    "offered_load",
    "performance",
    "plan_week",
    "recommend",
    "scheduled_staff",
]

INTERVAL_SECONDS = 1800
SLOTS_PER_DAY = 24 * 3600 // INTERVAL_SECONDS
INTERVALS_PER_WEEK = 7 * SLOTS_PER_DAY
SHORT_ABANDON_SECONDS = 5.0

# Queue states whose probability is below e^-45 of the largest one are left out of Erlang A
# (a relative error far below a float's precision in every result).
_NEGLIGIBLE_LOG = -45.0
# A guard against pathological inputs (patience of years with a heavy overload): beyond this many
# queue states Erlang A refuses rather than running for minutes.
_MAX_QUEUE_STATES = 2_000_000
# Searching beyond this many agents means the inputs are wrong, not the centre big.
_MAX_AGENTS = 10_000_000


# ---------------------------------------------------------------------------------------------
# Inputs


def offered_load(arrivals: float, aht: float, period: float = 3600.0) -> float:
    """Offered load in Erlangs: ``A = λ·AHT`` with ``λ = arrivals / period``.

    ``offered_load(100, 180, 1800)`` is 100 contacts per half hour at 3 minutes each: 10 Erlangs.
    """
    _check_nonnegative("arrivals", arrivals)
    _check_nonnegative("aht", aht)
    _check_positive("period", period)
    return arrivals * aht / period


def estimate_patience(*, abandoned: int, total_wait_seconds: float) -> float:
    """Mean customer patience (seconds) estimated from observed waits.

    With exponential patience, the maximum-likelihood estimate of the abandonment rate is::

        θ̂ = abandoned / total waiting time of all contacts that waited (answered + abandoned)

    because an answered contact's wait is a censored observation of its patience. The mean
    patience is ``1/θ̂ = total_wait_seconds / abandoned``. With no abandonment at all the estimate
    is ``math.inf`` (nobody hangs up: Erlang C applies).
    """
    if abandoned < 0:
        raise ValueError("abandoned must be ≥ 0")
    _check_nonnegative("total_wait_seconds", total_wait_seconds)
    if abandoned == 0:
        return math.inf
    if total_wait_seconds == 0:
        raise ValueError("abandoned contacts need a positive total waiting time")
    return total_wait_seconds / abandoned


# ---------------------------------------------------------------------------------------------
# Erlang B and C


def erlang_b(agents: int, load: float) -> float:
    """Erlang B blocking probability ``B(N, A)`` by the stable recursion.

    ``B(0) = 1``, ``B(n) = A·B(n−1) / (n + A·B(n−1))``. Every step stays in [0, 1], so there is no
    factorial, no overflow and no cancellation whatever ``N`` and ``A``. Cost O(N).
    """
    _check_agents(agents)
    _check_nonnegative("load", load)
    b = 1.0
    for n in range(1, agents + 1):
        ab = load * b
        b = ab / (n + ab)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability that a contact waits, ``P(W > 0)``, in Erlang C (M/M/N).

    From Erlang B: ``C(N, A) = N·B / (N − A·(1 − B))``, equal to the textbook
    ``(A^N/N!)·N/(N−A) / (Σ_{k<N} A^k/k! + (A^N/N!)·N/(N−A))`` without its factorials.

    When ``N ≤ A`` the queue is unstable (it grows without bound): every contact waits and this
    returns 1.
    """
    _check_agents(agents)
    _check_nonnegative("load", load)
    if load == 0:
        return 0.0
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


def erlang_c_asa(agents: int, load: float, aht: float) -> float:
    """Average speed of answer in Erlang C: ``ASA = C(N, A)·AHT / (N − A)``.

    Everybody is answered in Erlang C, so this is also the mean wait of all contacts. ``math.inf``
    when ``N ≤ A`` (unstable queue).
    """
    _check_nonnegative("aht", aht)
    c = erlang_c(agents, load)
    if load == 0:
        return 0.0
    if agents <= load:
        return math.inf
    return c * aht / (agents - load)


def erlang_c_service_level(agents: int, load: float, aht: float, target_seconds: float) -> float:
    """Share answered within ``T`` in Erlang C: ``SL(T) = 1 − C(N, A)·exp(−(N − A)·T / AHT)``.

    0 when ``N ≤ A`` (unstable: the wait grows without bound, so in the long run nobody is
    answered within any fixed ``T``).
    """
    _check_positive("aht", aht)
    _check_nonnegative("target_seconds", target_seconds)
    c = erlang_c(agents, load)
    if load == 0:
        return 1.0
    if agents <= load:
        return 0.0
    return 1.0 - c * math.exp(-(agents - load) * target_seconds / aht)


def occupancy(agents: int, load: float) -> float:
    """Agent occupancy in Erlang C: ``A / N``, the share of agents' time spent handling contacts.

    Capped at 1 for ``N ≤ A`` (every agent is busy all the time). No agents means no occupancy.
    """
    _check_agents(agents)
    _check_nonnegative("load", load)
    if agents == 0:
        return 0.0
    return min(1.0, load / agents)


@dataclass(frozen=True, slots=True)
class Performance:
    """What ``agents`` agents achieve on a given load.

    ``asa`` is the mean wait of *answered* contacts (abandoned ones are not in ASA);
    ``service_level`` is answered within ``target_seconds`` / (offered − short abandons);
    ``occupancy`` is carried load / agents. ``p_abandon`` is 0 in Erlang C.
    """

    agents: int
    load: float
    aht: float
    target_seconds: float
    p_wait: float
    asa: float
    service_level: float
    occupancy: float
    p_abandon: float = 0.0
    patience: float | None = None

    @property
    def model(self) -> str:
        """``"erlang_a"`` when customers hang up in the model, else ``"erlang_c"``."""
        return "erlang_c" if self.patience is None else "erlang_a"


def erlang_c_performance(
    agents: int, load: float, aht: float, target_seconds: float = 20.0
) -> Performance:
    """All Erlang C results for ``agents`` agents (see the functions above for the formulas)."""
    return Performance(
        agents=agents,
        load=load,
        aht=aht,
        target_seconds=target_seconds,
        p_wait=erlang_c(agents, load),
        asa=erlang_c_asa(agents, load, aht),
        service_level=erlang_c_service_level(agents, load, aht, target_seconds),
        occupancy=occupancy(agents, load),
    )


# ---------------------------------------------------------------------------------------------
# Erlang A


def erlang_a(
    agents: int,
    load: float,
    aht: float,
    patience: float,
    target_seconds: float = 20.0,
    short_abandon: float = SHORT_ABANDON_SECONDS,
) -> Performance:
    """Erlang A (Palm's M/M/N+M queue): Erlang C where each waiting customer hangs up after an
    exponential patience of mean ``patience`` seconds (``θ = 1/patience``).

    The number of contacts in the system is a birth–death chain with birth rate ``λ`` and death
    rate ``n·μ`` for ``n ≤ N``, ``N·μ + (n − N)·θ`` above ``N``. It is stable for any ``N ≥ 1``.
    With ``B = B(N, A)`` (Erlang B) and, in units of ``π_N``, the queue weights
    ``q_j = Π_{i=1..j} A / (N + i·θ/μ)`` with sum ``S`` (the tail of the chain, summed in log
    space until the terms are negligible)::

        P(W > 0) = S·B / (1 − B + S·B)                     (PASTA: arrivals see the chain)

    An arrival that finds ``j`` contacts queued ahead has a *virtual wait* ``V`` (the time until
    an agent would take it) that is a sum of exponentials of rates ``N·μ + i·θ``, ``i = 0..j``, so
    ``e^{−θV} ~ Beta(α, j+1)`` with ``α = N·μ/θ``; it is answered iff its patience exceeds ``V``.
    Hence, with ``I_x(a, j+1)`` the regularised incomplete beta function (a negative binomial
    sum, computed in log space)::

        P(answered | j)           = α / (α + j + 1)
        E[W; answered | j]        = P(answered | j) · Σ_{i=0..j} AHT / (N + (i+1)·θ/μ)
        P(answered, W ≤ T | j)    = α/(α+j+1) · (1 − I_x(α+1, j+1)),  x = e^{−θT}
        P(abandon, W ≤ s | j)     = 1 − x·I_x(α, j+1) − α/(α+j+1)·(1 − I_x(α+1, j+1)),  x = e^{−θs}

    and the results average these over ``j`` with weights ``q_j/S``:

    - ``p_abandon`` = ``P(W>0)·Σ_j (q_j/S)·(j+1)/(α+j+1)`` (equals ``θ·E[queue]/λ``);
    - ``asa`` = mean wait of answered contacts = ``E[W; answered] / (1 − p_abandon)``;
    - ``service_level`` = ``P(answered within T) / (1 − P(abandon within short_abandon))``;
    - ``occupancy`` = ``A·(1 − p_abandon) / N`` (abandoned contacts take no agent time).

    As ``patience → ∞`` all of these tend to Erlang C; ``patience=math.inf`` returns Erlang C.
    """
    _check_agents(agents)
    _check_nonnegative("load", load)
    _check_positive("aht", aht)
    _check_nonnegative("target_seconds", target_seconds)
    _check_nonnegative("short_abandon", short_abandon)
    if not patience > 0:  # also rejects NaN
        raise ValueError("patience must be > 0 seconds")
    if math.isinf(patience):
        return erlang_c_performance(agents, load, aht, target_seconds)
    if agents < 1:
        raise ValueError("Erlang A needs at least one agent")
    if load == 0:
        return Performance(agents, 0.0, aht, target_seconds, 0.0, 0.0, 1.0, 0.0, 0.0, patience)

    n_agents = agents
    r = aht / patience  # θ/μ
    alpha = n_agents / r  # N·μ/θ
    log_q = _queue_log_weights(n_agents, load, r)
    top = max(log_q)
    weights = [math.exp(v - top) for v in log_q]
    total = math.fsum(weights)
    weights = [w / total for w in weights]
    log_s = top + math.log(total)

    b = erlang_b(n_agents, load)
    # P(W > 0) = 1 / (1 + (1 − B) / (B·S)); B underflows to 0 only when A is negligible against N.
    p_wait = 0.0 if b == 0.0 else _inverse_one_plus_exp(math.log1p(-b) - math.log(b) - log_s)

    theta = 1.0 / patience
    answered = [alpha / (alpha + j + 1) for j in range(len(weights))]
    p_abandon_if_wait = math.fsum(w * (1.0 - a) for w, a in zip(weights, answered, strict=True))

    wait_answered = []
    harmonic = 0.0
    for j, a in enumerate(answered):
        harmonic += aht / (n_agents + (j + 1) * r)
        wait_answered.append(a * harmonic)
    mean_wait_answered_if_wait = math.fsum(
        w * m for w, m in zip(weights, wait_answered, strict=True)
    )

    count = len(weights)
    if target_seconds > 0:
        cdf_next = _negative_binomial_cdf(alpha + 1, theta * target_seconds, count)
        answered_within = math.fsum(
            w * a * (1.0 - f) for w, a, f in zip(weights, answered, cdf_next, strict=True)
        )
    else:
        answered_within = 0.0
    if short_abandon > 0:
        x = math.exp(-theta * short_abandon)
        cdf = _negative_binomial_cdf(alpha, theta * short_abandon, count)
        cdf_next = _negative_binomial_cdf(alpha + 1, theta * short_abandon, count)
        short = math.fsum(
            w * max(0.0, 1.0 - x * f - a * (1.0 - g))
            for w, a, f, g in zip(weights, answered, cdf, cdf_next, strict=True)
        )
    else:
        short = 0.0

    p_abandon = p_wait * p_abandon_if_wait
    p_answered = 1.0 - p_abandon
    asa = p_wait * mean_wait_answered_if_wait / p_answered if p_answered > 0 else math.inf
    service_level = ((1.0 - p_wait) + p_wait * answered_within) / (1.0 - p_wait * short)
    return Performance(
        agents=agents,
        load=load,
        aht=aht,
        target_seconds=target_seconds,
        p_wait=p_wait,
        asa=asa,
        service_level=min(1.0, max(0.0, service_level)),
        occupancy=min(1.0, load * p_answered / n_agents),
        p_abandon=p_abandon,
        patience=patience,
    )


def _queue_log_weights(agents: int, load: float, r: float) -> list[float]:
    """``log q_j`` for ``j = 0, 1, …`` with ``q_j = Π_{i=1..j} A / (N + i·r)``, stopping once past
    the peak and below ``e^-45`` of it (the rest is geometrically smaller still)."""
    log_a = math.log(load)
    values = [0.0]
    current = 0.0
    top = 0.0
    j = 0
    while True:
        j += 1
        rate = agents + j * r
        current += log_a - math.log(rate)
        values.append(current)
        top = max(top, current)
        if rate > load and current < top + _NEGLIGIBLE_LOG:
            return values
        if j >= _MAX_QUEUE_STATES:
            raise ValueError(
                "Erlang A would need more than "
                f"{_MAX_QUEUE_STATES} queue states: patience is too long for this overload"
            )


def _inverse_one_plus_exp(z: float) -> float:
    """``1 / (1 + e^z)`` without overflow for large ``z``."""
    if z > 0:
        e = math.exp(-z)
        return e / (1.0 + e)
    return 1.0 / (1.0 + math.exp(z))


def _negative_binomial_cdf(a: float, theta_t: float, count: int) -> list[float]:
    """``I_x(a, j+1)`` for ``j = 0..count−1`` with ``x = e^{−θt}``, given ``θt``.

    For integer second argument the regularised incomplete beta is a negative binomial sum::

        I_x(a, j+1) = Σ_{k=0..j} Γ(a+k)/(Γ(a)·k!) · x^a · (1−x)^k

    Terms are built in log space (``x^a`` alone may underflow while later terms matter).
    """
    log_x = -theta_t
    log_1mx = math.log(-math.expm1(-theta_t))
    log_term = a * log_x
    total = 0.0
    out = []
    for k in range(count):
        if k:
            log_term += math.log(a + k - 1) - math.log(k) + log_1mx
        total += math.exp(log_term)
        out.append(min(1.0, total))
    return out


def performance(
    agents: int,
    load: float,
    aht: float,
    target_seconds: float = 20.0,
    patience: float | None = None,
) -> Performance:
    """Erlang A results when ``patience`` is given, Erlang C results otherwise."""
    if patience is None:
        return erlang_c_performance(agents, load, aht, target_seconds)
    return erlang_a(agents, load, aht, patience, target_seconds)


# ---------------------------------------------------------------------------------------------
# Agents required


@dataclass(frozen=True, slots=True)
class StaffingTarget:
    """What a plan must achieve; every target that is set must hold.

    ``service_level`` of contacts answered within ``target_seconds`` (e.g. 0.8 within 20 s),
    ``asa`` a maximum average speed of answer in seconds, ``max_occupancy`` a ceiling on agent
    occupancy (e.g. 0.85, so agents are not run at 100 %), ``max_abandonment`` a ceiling on the
    share of contacts that hang up (Erlang A; always met in Erlang C).

    Under Erlang A a service level alone can be met by a badly understaffed queue: impatient
    customers who hang up keep the queue short for the rest (5000 Erlangs with 60 s patience
    reach 80 % in 20 s with 3822 agents while 24 % hang up). Set ``max_abandonment`` there.
    """

    service_level: float | None = 0.8
    target_seconds: float = 20.0
    asa: float | None = None
    max_occupancy: float | None = None
    max_abandonment: float | None = None

    def __post_init__(self) -> None:
        if self.service_level is not None and not 0 < self.service_level < 1:
            raise ValueError("service level must be between 0 and 1 (exclusive)")
        _check_nonnegative("target_seconds", self.target_seconds)
        if self.asa is not None and not self.asa > 0:
            raise ValueError("target ASA must be > 0 seconds")
        if self.max_occupancy is not None and not 0 < self.max_occupancy <= 1:
            raise ValueError("maximum occupancy must be in (0, 1]")
        if self.max_abandonment is not None and not 0 < self.max_abandonment < 1:
            raise ValueError("maximum abandonment must be between 0 and 1 (exclusive)")

    def met_by(self, result: Performance) -> bool:
        """True when ``result`` satisfies every target that is set."""
        if self.service_level is not None and result.service_level < self.service_level:
            return False
        if self.asa is not None and result.asa > self.asa:
            return False
        if self.max_abandonment is not None and result.p_abandon > self.max_abandonment:
            return False
        return not (self.max_occupancy is not None and result.occupancy > self.max_occupancy)


def agents_required(
    load: float,
    aht: float,
    target: StaffingTarget,
    patience: float | None = None,
) -> int:
    """The fewest agents ``N`` whose performance meets ``target`` (0 for no load).

    Service level rises and ASA and occupancy fall as ``N`` grows, so the answer is found by
    doubling an upper bound and bisecting: O(log N) evaluations. Erlang C needs ``N > A``; Erlang
    A (``patience`` given) can meet a target with ``N ≤ A`` when enough customers hang up.
    """
    _check_nonnegative("load", load)
    _check_positive("aht", aht)
    if load == 0:
        return 0

    def ok(n: int) -> bool:
        return target.met_by(performance(n, load, aht, target.target_seconds, patience))

    low = 0 if patience is not None else math.floor(load)  # known to fail (or no agents)
    high = max(low + 1, math.ceil(load))
    while not ok(high):
        low = high
        high *= 2
        if high > _MAX_AGENTS:
            raise ValueError("no staffing under 10 million agents meets this target")
    while high - low > 1:
        mid = (low + high) // 2
        if ok(mid):
            high = mid
        else:
            low = mid
    return high


def scheduled_staff(required: int, shrinkage: float) -> int:
    """Agents to schedule so that ``required`` are handling contacts: ``⌈required / (1 − s)⌉``.

    Shrinkage ``s`` is the share of paid time not available for contacts (breaks, training,
    meetings, absence). A 1e-9 tolerance keeps float noise from adding an agent
    (``1 / (1 − 0.8)`` is ``5.000000000000001`` in binary floating point).
    """
    if required < 0:
        raise ValueError("required agents must be ≥ 0")
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    return math.ceil(required / (1.0 - shrinkage) - 1e-9)


@dataclass(frozen=True, slots=True)
class Recommendation:
    """Agents required on contacts, agents to schedule after shrinkage, and what they achieve."""

    required: int
    scheduled: int
    performance: Performance


def recommend(
    load: float,
    aht: float,
    target: StaffingTarget,
    *,
    shrinkage: float = 0.0,
    patience: float | None = None,
) -> Recommendation:
    """Agents required for ``target`` (Erlang A if ``patience`` is given) and staff to schedule."""
    required = agents_required(load, aht, target, patience)
    if required == 0:
        result = Performance(required, load, aht, target.target_seconds, 0.0, 0.0, 1.0, 0.0)
    else:
        result = performance(required, load, aht, target.target_seconds, patience)
    return Recommendation(required, scheduled_staff(required, shrinkage), result)


# ---------------------------------------------------------------------------------------------
# Interval planner


@dataclass(frozen=True, slots=True)
class IntervalPlan:
    """Staffing for one 30-minute interval of the week.

    ``interval`` is ``weekday·48 + slot`` with weekday 0 = Monday and slot 0 = 00:00–00:30.
    ``required`` agents on contacts meet the target; ``scheduled`` includes shrinkage.
    """

    interval: int
    arrivals: float
    load: float
    required: int
    scheduled: int
    performance: Performance

    @property
    def weekday(self) -> int:
        """0 = Monday … 6 = Sunday."""
        return self.interval // SLOTS_PER_DAY

    @property
    def slot(self) -> int:
        """Half-hour of the day, 0 = 00:00–00:30 … 47 = 23:30–24:00."""
        return self.interval % SLOTS_PER_DAY


@dataclass(frozen=True, slots=True)
class Shortfall:
    """An interval where the rota schedules fewer agents than the plan needs."""

    interval: int
    needed: int
    rostered: int

    @property
    def short(self) -> int:
        """How many agents are missing."""
        return self.needed - self.rostered

    @property
    def weekday(self) -> int:
        """0 = Monday … 6 = Sunday."""
        return self.interval // SLOTS_PER_DAY

    @property
    def slot(self) -> int:
        """Half-hour of the day, 0 = 00:00–00:30."""
        return self.interval % SLOTS_PER_DAY


WeekPattern = Sequence[float] | Mapping[tuple[int, int], float]
"""336 numbers (Monday 00:00 first), or ``{(weekday, slot): value}`` with the rest 0."""


def _week(values: WeekPattern, name: str) -> list[float]:
    """A week as 336 numbers from a list, or from ``{(weekday, slot): value}`` (missing = 0)."""
    if isinstance(values, Mapping):
        week = [0.0] * INTERVALS_PER_WEEK
        for (weekday, slot), value in values.items():
            if not (0 <= weekday < 7 and 0 <= slot < SLOTS_PER_DAY):
                raise ValueError(f"{name}: no interval ({weekday}, {slot}) in a week")
            week[weekday * SLOTS_PER_DAY + slot] = float(value)
    else:
        week = [float(v) for v in values]
        if len(week) != INTERVALS_PER_WEEK:
            raise ValueError(f"{name}: a week has {INTERVALS_PER_WEEK} intervals, got {len(week)}")
    for value in week:
        _check_nonnegative(name, value)
    return week


def plan_week(
    arrivals: WeekPattern,
    *,
    aht: float,
    target: StaffingTarget,
    shrinkage: float = 0.0,
    patience: float | None = None,
) -> list[IntervalPlan]:
    """Agents required in each 30-minute interval of a week.

    ``arrivals`` is the expected number of contacts per interval: a list of 336 numbers (Monday
    00:00 first) or ``{(weekday, slot): mean arrivals}`` (e.g. the mean over the last N weeks;
    missing intervals have none). Each interval is treated as a steady state with load
    ``A = arrivals · AHT / 1800``; the caller supplies observed arrivals and handle time.
    """
    week = _week(arrivals, "arrivals")
    plans = []
    for interval, count in enumerate(week):
        load = offered_load(count, aht, INTERVAL_SECONDS)
        rec = recommend(load, aht, target, shrinkage=shrinkage, patience=patience)
        plans.append(
            IntervalPlan(interval, count, load, rec.required, rec.scheduled, rec.performance)
        )
    return plans


def compare_rota(
    plan: Sequence[IntervalPlan], rota: Sequence[int] | Mapping[tuple[int, int], int]
) -> list[Shortfall]:
    """Intervals where the rota (agents scheduled, shrinkage included) is below the plan's
    ``scheduled`` figure, in week order, each with how many agents are missing."""
    rostered = _week(rota, "rota")
    shortfalls = []
    for row in plan:
        have = int(rostered[row.interval])
        if have < row.scheduled:
            shortfalls.append(Shortfall(row.interval, row.scheduled, have))
    return shortfalls


# ---------------------------------------------------------------------------------------------
# Checks


def _check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:
        raise ValueError("agents must be a whole number ≥ 0")


def _check_nonnegative(name: str, value: float) -> None:
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number ≥ 0")


def _check_positive(name: str, value: float) -> None:
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"{name} must be a finite number > 0")
