"""Knowledge-base KPIs as pure functions over facts (the knowledge base's part of the
definitions in `metrics.definitions`; the report in `metrics.kb_report` computes them from the
facts of a period directly, since these facts belong to no ticket and so to no rollup).

Facts read (see `kb.reading` and `kb.bot` for their shapes): `kb.view`, `kb.read` (data
`read_seconds`), `kb.vote` (`helpful`), `kb.search` (`query`, `results`), `kb.contact_started`
(`article_id`, `visitor`, `help_session`, channel), `kb.bot_offered` (`offer`),
`kb.bot_resolved` and `kb.bot_handoff` (`offer`). Every measure belongs to the period of its
fact; deflection to the period of the visit's first read, and a bot outcome to the period of
its offer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from madad.kb.bot import OUTCOME_WINDOW
from madad.metrics.definitions import Durations, FactLike, Period, Rate

DEFLECTION_WINDOW = timedelta(hours=24)
BOT_OUTCOME_WINDOW = OUTCOME_WINDOW  # an offer's answer counts this long after it
KB_KINDS = (
    "kb.view",
    "kb.read",
    "kb.vote",
    "kb.search",
    "kb.contact_started",
    "kb.bot_offered",
    "kb.bot_resolved",
    "kb.bot_handoff",
)


def _in(facts: Iterable[FactLike], kind: str, period: Period) -> list[FactLike]:
    return [f for f in facts if f.kind == kind and f.at in period]


def _article(f: FactLike) -> int | None:
    value = f.data.get("article_id")
    return value if isinstance(value, int) else None


@dataclass
class ArticleFigures:
    """One article's figures over a period."""

    views: int = 0
    reads: int = 0
    read_seconds: list[float] = field(default_factory=list)
    helpful: int = 0
    votes: int = 0
    contacts: Counter[str] = field(default_factory=Counter)  # channel → contacts started

    @property
    def read_time(self) -> Durations:
        return Durations.of(self.read_seconds)

    @property
    def helpfulness(self) -> Rate:
        return Rate(self.helpful, self.votes)


def article_figures(facts: Iterable[FactLike], period: Period) -> dict[int, ArticleFigures]:
    """Per article: views = kb.view facts; reads = kb.read facts (a view visible ≥ 10 s);
    read time = their read_seconds; helpful / votes = kb.vote facts with helpful true / all;
    contacts = kb.contact_started facts naming the article, by channel."""
    out: dict[int, ArticleFigures] = defaultdict(ArticleFigures)
    for f in facts:
        if f.at not in period or not f.kind.startswith("kb."):
            continue
        article = _article(f)
        if article is None:
            continue
        if f.kind == "kb.view":
            out[article].views += 1
        elif f.kind == "kb.read":
            out[article].reads += 1
            seconds = f.data.get("read_seconds")
            if isinstance(seconds, int | float):
                out[article].read_seconds.append(float(seconds))
        elif f.kind == "kb.vote":
            out[article].votes += 1
            out[article].helpful += f.data.get("helpful") is True
        elif f.kind == "kb.contact_started":
            out[article].contacts[f.channel or ""] += 1
    return dict(out)


def article_views(facts: Iterable[FactLike], period: Period) -> int:
    """Article views = kb.view facts in the period."""
    return len(_in(facts, "kb.view", period))


def article_reads(facts: Iterable[FactLike], period: Period) -> int:
    """Reads = kb.read facts in the period (views with the article visible ≥ 10 s)."""
    return len(_in(facts, "kb.read", period))


def read_time(facts: Iterable[FactLike], period: Period) -> Durations:
    """Read time = the visible seconds of each read (capped at 30 min); report the median."""
    return Durations.of(
        float(f.data["read_seconds"])
        for f in _in(facts, "kb.read", period)
        if isinstance(f.data.get("read_seconds"), int | float)
    )


def helpful_votes(facts: Iterable[FactLike], period: Period) -> Rate:
    """Share helpful = "yes" votes / all votes on "was this article helpful?"."""
    votes = _in(facts, "kb.vote", period)
    return Rate(sum(1 for f in votes if f.data.get("helpful") is True), len(votes))


def contacts_from_articles(facts: Iterable[FactLike], period: Period) -> Counter[str]:
    """Contacts started from an article page = kb.contact_started facts naming an article,
    by channel (portal requests, chats)."""
    return Counter(f.channel or "" for f in _in(facts, "kb.contact_started", period) if _article(f))


@dataclass(frozen=True)
class Searches:
    total: int
    no_result: int
    failed: list[tuple[str, int]]  # (query, times) of searches with no result, most first

    @property
    def no_result_rate(self) -> Rate:
        return Rate(self.no_result, self.total)


def searches(facts: Iterable[FactLike], period: Period, *, top: int = 20) -> Searches:
    """Searches = kb.search facts; with no result = those with results 0; the failed queries
    (case-folded) by how often they were searched — the articles to write."""
    found = _in(facts, "kb.search", period)
    failed = [f for f in found if f.data.get("results") == 0]
    counted = Counter(str(f.data.get("query") or "").casefold() for f in failed)
    ranked = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return Searches(len(found), len(failed), ranked)


def deflection(
    facts: Iterable[FactLike], period: Period, window: timedelta = DEFLECTION_WINDOW
) -> Rate:
    """Deflection = visits (help sessions) with a read in the period after whose first read in
    the period the visitor started no ticket or chat (kb.contact_started of the same visitor or
    visit) within `window` / visits with a read in the period. Visits without an id (no
    browser storage) are not counted; recent visits are provisional until `window` passed."""
    facts = list(facts)
    reads = [
        (f.at, getattr(f, "id", 0) or 0, f.data.get("help_session"), f.data.get("visitor"))
        for f in facts
        if f.kind == "kb.read" and f.at in period
    ]
    return deflection_of(
        reads,
        [
            (f.at, f.data.get("visitor"), f.data.get("help_session"))
            for f in facts
            if f.kind == "kb.contact_started"
        ],
        window,
    )


def deflection_of(
    reads: Iterable[tuple[datetime, int, Any, Any]],
    contacts: Iterable[tuple[datetime, Any, Any]],
    window: timedelta = DEFLECTION_WINDOW,
) -> Rate:
    """Deflection from the period's reads `(at, id, help_session, visitor)` and the contacts
    started `(at, visitor, help_session)` (see `deflection`)."""
    first_read: dict[str, tuple[datetime, Any]] = {}
    for at, _id, visit, visitor in sorted(reads, key=lambda r: (r[0], r[1])):
        if isinstance(visit, str) and visit not in first_read:
            first_read[visit] = (at, visitor)
    started: dict[str, list[datetime]] = defaultdict(list)
    for at, visitor, visit in contacts:
        for key in (visitor, visit):
            if isinstance(key, str):
                started[key].append(at)
    deflected = 0
    for visit, (at, visitor) in first_read.items():
        times = started.get(visit, []) + (
            started.get(visitor, []) if isinstance(visitor, str) else []
        )
        deflected += not any(at <= s < at + window for s in times)
    return Rate(deflected, len(first_read))


@dataclass(frozen=True)
class BotOutcomes:
    offers: int
    resolved: int  # said "that solved it" and did not ask for a person after all
    handoffs: int

    @property
    def resolution_rate(self) -> Rate:
        return Rate(self.resolved, self.offers)

    @property
    def handoff_rate(self) -> Rate:
        return Rate(self.handoffs, self.offers)


def bot_outcomes(
    facts: Iterable[FactLike],
    period: Period,
    *,
    channel: str | None = None,
    window: timedelta = BOT_OUTCOME_WINDOW,
) -> BotOutcomes:
    """Bot resolution rate = offers in the period with a kb.bot_resolved and no kb.bot_handoff
    (each within `window` after the offer) / offers; handoff rate = offers with a
    kb.bot_handoff / offers (an offer neither resolved nor handed off: the customer left)."""
    facts = list(facts)
    offered: dict[str, datetime] = {}
    for f in sorted(_in(facts, "kb.bot_offered", period), key=lambda f: f.at):
        if channel is None or f.channel == channel:
            offered.setdefault(str(f.data.get("offer")), f.at)
    said: dict[str, set[str]] = defaultdict(set)
    for f in facts:
        if f.kind in ("kb.bot_resolved", "kb.bot_handoff"):
            offer = str(f.data.get("offer"))
            at = offered.get(offer)
            if at is not None and at <= f.at < at + window:
                said[offer].add(f.kind)
    resolved = sum(1 for o in offered if said[o] == {"kb.bot_resolved"})
    handoffs = sum(1 for o in offered if "kb.bot_handoff" in said[o])
    return BotOutcomes(len(offered), resolved, handoffs)
