"""A call's state is a pure function of its events: any order, any repeats, the same state —
and the same hold time the metric engine computes from the facts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from madad.channels.phone.calls import EVENTS, derive, in_call_order
from madad.channels.phone.service import FACT_KIND
from madad.metrics.definitions import live_contacts

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Ev:
    event: str
    at: datetime
    agent_id: int | None = None
    recording_url: str | None = None


@dataclass(frozen=True)
class Fact:
    at: datetime
    kind: str
    agent_id: int | None
    ticket_id: int | None = 1
    contact_id: int | None = 1
    team_id: int | None = None
    channel: str | None = "phone"
    data: dict = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", {"session": "c", "queue": "q"})


def ev(name: str, seconds: int, agent: int | None = None) -> Ev:
    return Ev(name, T0 + timedelta(seconds=seconds), agent)


events = st.lists(
    st.builds(
        ev,
        st.sampled_from(EVENTS),
        st.integers(min_value=0, max_value=600),
        st.one_of(st.none(), st.integers(1, 3)),
    ),
    min_size=1,
    max_size=12,
)


@given(events, st.randoms(use_true_random=False))
def test_any_order_and_any_repeats_give_the_same_call(evs: list[Ev], rnd) -> None:
    shuffled = evs * 2
    rnd.shuffle(shuffled)
    assert derive(shuffled) == derive(evs)


@given(events)
def test_hold_time_and_answer_agree_with_the_metric_engine(evs: list[Ev]) -> None:
    d = derive(evs)
    # Facts of one instant read in the order they were recorded: the call's order here (as one
    # batch records them; events of one instant arriving in separate requests may differ).
    ordered = in_call_order(evs)
    facts = [Fact(e.at, FACT_KIND[e.event], e.agent_id) for e in ordered if e.event in FACT_KIND]
    contacts = live_contacts(facts)
    if d.queued_at is None:
        assert contacts == []
        return
    (c,) = contacts
    assert c.offered_at == d.queued_at
    assert c.ended_at == d.ended_at
    if d.answered_at is not None and (d.abandoned_at is None or d.answered_at <= d.abandoned_at):
        assert (c.answered_at, c.agent_id) == (d.answered_at, d.agent_id)
        assert c.hold_seconds == d.hold_seconds


def test_a_call_answered_then_ended_before_it_was_queued_is_still_ended() -> None:
    d = derive([ev("ended", 90), ev("answered", 20, 7), ev("queued", 0)])
    assert (d.state, d.agent_id, d.hold_seconds) == ("ended", 7, 0.0)


def test_states_along_a_call() -> None:
    seen = []
    so_far: list[Ev] = []
    for e in [ev("queued", 0), ev("ringing", 5), ev("answered", 9, 1), ev("hold", 20),
              ev("resume", 30), ev("transferred", 40, 2), ev("ended", 50)]:  # fmt: skip
        so_far.append(e)
        seen.append(derive(so_far).state)
    assert seen == ["queued", "ringing", "talking", "on_hold", "talking", "transferred", "ended"]
    assert derive([ev("queued", 0), ev("voicemail", 30)]).state == "voicemail"
    assert derive([ev("queued", 0), ev("abandoned", 30), ev("ended", 31)]).state == "abandoned"
