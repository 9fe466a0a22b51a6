"""The knowledge-base report: the `metrics.kb` definitions over a period, computed in the
database — counts grouped by kind and article, the failed queries grouped, and only the few
columns the medians and deflection need (read time; visit, visitor and time of each read) —
with the articles' titles. Knowledge-base facts belong to no ticket, so the ticket rollups do
not hold them; the `(kind, at)` index of `activity` finds them. The results are the pure
definitions' (a test holds the two equal on both databases).

Outcomes that complete after the period still count for it: a contact started up to 24 hours
after a visit's first read, a bot offer's answer up to a week after the offer.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity.models import Activity
from madad.activity.service import FACT_COLUMNS, Fact
from madad.kb.bot import CHANNELS as BOT_CHANNELS
from madad.kb.bot import OUTCOME_WINDOW
from madad.kb.models import Article, Version
from madad.metrics import kb
from madad.metrics.definitions import Durations, Period, Rate

TOP_ARTICLES = 50
ARTICLE = Activity.data["article_id"].as_integer()
SECONDS = Activity.data["read_seconds"].as_float()
VISIT = Activity.data["help_session"].as_string()
VISITOR = Activity.data["visitor"].as_string()
QUERY = Activity.data["query"].as_string()  # one object: GROUP BY must repeat its parameter
RESULTS = Activity.data["results"].as_integer()
HELPFUL = Activity.data["helpful"].as_boolean()
QUESTION = Activity.data["question"].as_string()
LANGUAGE = Activity.data["language"].as_string()
TOP_QUESTIONS = 20


def _in(period: Period, *kinds: str) -> Any:
    return and_(Activity.kind.in_(kinds), Activity.at >= period.start, Activity.at < period.end)


async def bot_facts(session: AsyncSession, period: Period) -> list[Fact]:
    """The bot's offers of the period and their outcomes (up to a week later)."""
    conn = await session.connection()
    stmt = select(*FACT_COLUMNS).where(
        or_(
            _in(period, "kb.bot_offered"),
            and_(
                Activity.kind.in_(("kb.bot_resolved", "kb.bot_handoff")),
                Activity.at >= period.start,
                Activity.at < period.end + OUTCOME_WINDOW,
            ),
        )
    )
    return [Fact(*row) for row in await conn.execute(stmt)]


class Measured:
    """What the database measured for a period: per article and in total."""

    def __init__(self) -> None:
        self.kinds: Counter[str] = Counter()
        self.per_article: dict[int, kb.ArticleFigures] = defaultdict(kb.ArticleFigures)
        self.read_seconds: list[float] = []
        self.helpful = 0
        self.contacts: Counter[str] = Counter()
        self.no_result = 0
        self.failed: Counter[str] = Counter()
        self.deflection = Rate(0, 0)
        self.bot = kb.BotOutcomes(0, 0, 0)
        self.bot_by_channel: dict[str, kb.BotOutcomes] = {}
        self.unanswered: Counter[str] = Counter()  # channel → questions the bot had nothing for
        self.questions: list[dict[str, Any]] = []  # the latest of them


async def measure(session: AsyncSession, period: Period) -> Measured:
    m = Measured()
    helpful = func.sum(case((HELPFUL, 1), else_=0))
    rows = await session.execute(
        select(Activity.kind, ARTICLE, Activity.channel, func.count(), helpful)
        .where(_in(period, "kb.view", "kb.read", "kb.vote", "kb.search", "kb.contact_started"))
        .group_by(Activity.kind, ARTICLE, Activity.channel)
    )
    for kind, article, channel, n, yes in rows:
        m.kinds[kind] += n
        if kind == "kb.vote":
            m.helpful += int(yes or 0)
        if article is None:
            continue
        figures = m.per_article[article]
        if kind == "kb.view":
            figures.views += n
        elif kind == "kb.read":
            figures.reads += n
        elif kind == "kb.vote":
            figures.votes += n
            figures.helpful += int(yes or 0)
        elif kind == "kb.contact_started":
            figures.contacts[channel or ""] += n
            m.contacts[channel or ""] += n
    reads = await session.execute(
        select(ARTICLE, SECONDS, Activity.at, Activity.id, VISIT, VISITOR).where(
            _in(period, "kb.read")
        )
    )
    visits = []
    for article, seconds, at, fact_id, visit, visitor in reads:
        if seconds is not None:
            m.read_seconds.append(float(seconds))
            if article is not None:
                m.per_article[article].read_seconds.append(float(seconds))
        visits.append((at, fact_id, visit, visitor))
    contacts = await session.execute(
        select(Activity.at, VISITOR, VISIT).where(
            Activity.kind == "kb.contact_started",
            Activity.at >= period.start,
            Activity.at < period.end + kb.DEFLECTION_WINDOW,
        )
    )
    m.deflection = kb.deflection_of(visits, list(contacts))
    failed = await session.execute(
        select(QUERY, func.count()).where(_in(period, "kb.search"), RESULTS == 0).group_by(QUERY)
    )
    for query, n in failed:
        m.failed[str(query or "").casefold()] += n
        m.no_result += n
    offers = await bot_facts(session, period)
    m.bot = kb.bot_outcomes(offers, period)
    unanswered = _in(period, "kb.bot_unanswered")
    for channel, n in await session.execute(
        select(Activity.channel, func.count()).where(unanswered).group_by(Activity.channel)
    ):
        m.unanswered[channel or ""] += n
    latest = await session.execute(
        select(Activity.at, Activity.channel, Activity.ticket_id, QUESTION, LANGUAGE)
        .where(unanswered)
        .order_by(Activity.at.desc(), Activity.id.desc())
        .limit(TOP_QUESTIONS)
    )
    m.questions = [
        {"at": at, "channel": ch, "ticket_id": t, "question": q or "", "language": lang}
        for at, ch, t, q, lang in latest
    ]
    for ch in BOT_CHANNELS:
        outcome = kb.bot_outcomes(offers, period, channel=ch)
        if outcome.offers or m.unanswered[ch]:
            m.bot_by_channel[ch] = outcome
    return m


def _durations(v: Durations) -> dict[str, Any]:
    return {"n": v.n, "mean": v.mean, "median": v.median, "p90": v.p90}


def _rate(r: Rate) -> dict[str, Any]:
    return {"numerator": r.numerator, "denominator": r.denominator, "value": r.value}


def _bot(o: kb.BotOutcomes, unanswered: int) -> dict[str, Any]:
    return {
        "offers": o.offers,
        "resolution": _rate(o.resolution_rate),
        "handoff": _rate(o.handoff_rate),
        "unanswered": unanswered,
        # Questions the bot offered articles for / questions it was asked.
        "answered": _rate(Rate(o.offers, o.offers + unanswered)),
    }


def figures(m: Measured) -> dict[str, Any]:
    """The headline figures of a period, as plain values."""
    return {
        "views": m.kinds["kb.view"],
        "reads": m.kinds["kb.read"],
        "read_time": _durations(Durations.of(m.read_seconds)),
        "helpful": _rate(Rate(m.helpful, m.kinds["kb.vote"])),
        "contacts": dict(sorted(m.contacts.items())),
        "searches": m.kinds["kb.search"],
        "no_result": _rate(Rate(m.no_result, m.kinds["kb.search"])),
        "deflection": _rate(m.deflection),
        "bot": {
            **_bot(m.bot, sum(m.unanswered.values())),
            "by_channel": {ch: _bot(o, m.unanswered[ch]) for ch, o in m.bot_by_channel.items()},
        },
    }


async def _titles(session: AsyncSession, ids: list[int]) -> dict[int, tuple[str, str, bool]]:
    """(title, slug, still published) per article: its published English title, else any
    published one, else its latest version's."""
    if not ids:
        return {}
    rows = await session.execute(
        select(Version.article_id, Version.language, Version.status, Version.title, Article.slug)
        .join(Article, Article.id == Version.article_id)
        .where(Version.article_id.in_(ids))
        .order_by(Version.article_id, Version.number)
    )
    best: dict[int, tuple[int, str, str, bool]] = {}
    for article_id, language, status, title, slug in rows:
        rank = (2 if status == "published" else 0) + (1 if language == "en" else 0)
        if article_id not in best or rank >= best[article_id][0]:
            best[article_id] = (rank, title, slug, status == "published")
    return {k: (t, s, p) for k, (_r, t, s, p) in best.items()}


async def report(session: AsyncSession, period: Period) -> dict[str, Any]:
    """Headline figures (with the previous period's), articles by reads, the failed searches."""
    m = await measure(session, period)
    before = await measure(session, period.previous())
    ranked = sorted(m.per_article.items(), key=lambda kv: (-kv[1].reads, -kv[1].views, kv[0]))
    ranked = ranked[:TOP_ARTICLES]
    titles = await _titles(session, [a for a, _ in ranked])
    articles = []
    for article_id, f in ranked:
        title, slug, published = titles.get(article_id, ("", "", False))
        articles.append(
            {
                "article_id": article_id,
                "title": title,
                "slug": slug,
                "published": published,
                "views": f.views,
                "reads": f.reads,
                "read_time": _durations(f.read_time),
                "helpful": _rate(f.helpfulness),
                "contacts": dict(sorted(f.contacts.items())),
                "contacts_total": sum(f.contacts.values()),
            }
        )
    failed = sorted(m.failed.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "total": figures(m),
        "previous": figures(before),
        "articles": articles,
        "failed_searches": [{"query": q, "times": n} for q, n in failed],
        "unanswered_questions": m.questions,
    }


ARTICLE_COLUMNS = (
    "article_id",
    "title",
    "views",
    "reads",
    "read_time_median_s",
    "helpful",
    "votes",
    "helpful_share",
    "contacts_started",
)


def flat_articles(report_: dict[str, Any]) -> list[dict[str, Any]]:
    """The articles table as CSV rows."""
    return [
        {
            "article_id": a["article_id"],
            "title": a["title"],
            "views": a["views"],
            "reads": a["reads"],
            "read_time_median_s": a["read_time"]["median"],
            "helpful": a["helpful"]["numerator"],
            "votes": a["helpful"]["denominator"],
            "helpful_share": a["helpful"]["value"],
            "contacts_started": a["contacts_total"],
        }
        for a in report_["articles"]
    ]
