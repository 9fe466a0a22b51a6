"""The knowledge-base report: the `metrics.kb` definitions over the facts of a period, read
straight from `activity` (by kind and time, on its `(kind, at)` index) — knowledge-base facts
belong to no ticket, so the ticket rollups do not hold them — with the articles' titles.

Outcomes that complete after the period still count for it: a contact started up to 24 hours
after a visit's first read, a bot offer's answer up to a week after the offer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity.models import Activity
from madad.activity.service import FACT_COLUMNS, Fact
from madad.kb.bot import CHANNELS as BOT_CHANNELS
from madad.kb.bot import OUTCOME_WINDOW
from madad.kb.models import Article, Version
from madad.metrics import kb
from madad.metrics.definitions import Durations, Period, Rate

READING = ("kb.view", "kb.read", "kb.vote", "kb.search", "kb.contact_started", "kb.bot_offered")
TOP_ARTICLES = 50


async def kb_facts(session: AsyncSession, period: Period) -> list[Fact]:
    """The knowledge-base facts a period's figures need."""
    conn = await session.connection()
    stmt = select(*FACT_COLUMNS).where(
        or_(
            and_(
                Activity.kind.in_(READING),
                Activity.at >= period.start,
                Activity.at < period.end,
            ),
            and_(
                Activity.kind == "kb.contact_started",
                Activity.at >= period.end,
                Activity.at < period.end + kb.DEFLECTION_WINDOW,
            ),
            and_(
                Activity.kind.in_(("kb.bot_resolved", "kb.bot_handoff")),
                Activity.at >= period.start,
                Activity.at < period.end + OUTCOME_WINDOW,
            ),
        )
    )
    return [Fact(*row) for row in await conn.execute(stmt)]


def _durations(v: Durations) -> dict[str, Any]:
    return {"n": v.n, "mean": v.mean, "median": v.median, "p90": v.p90}


def _rate(r: Rate) -> dict[str, Any]:
    return {"numerator": r.numerator, "denominator": r.denominator, "value": r.value}


def figures(facts: list[Fact], period: Period) -> dict[str, Any]:
    """The headline figures of a period, as plain values."""
    found = kb.searches(facts, period)
    bot = kb.bot_outcomes(facts, period)
    return {
        "views": kb.article_views(facts, period),
        "reads": kb.article_reads(facts, period),
        "read_time": _durations(kb.read_time(facts, period)),
        "helpful": _rate(kb.helpful_votes(facts, period)),
        "contacts": dict(sorted(kb.contacts_from_articles(facts, period).items())),
        "searches": found.total,
        "no_result": _rate(found.no_result_rate),
        "deflection": _rate(kb.deflection(facts, period)),
        "bot": {
            "offers": bot.offers,
            "resolution": _rate(bot.resolution_rate),
            "handoff": _rate(bot.handoff_rate),
            "by_channel": {
                ch: {
                    "offers": o.offers,
                    "resolution": _rate(o.resolution_rate),
                    "handoff": _rate(o.handoff_rate),
                }
                for ch in BOT_CHANNELS
                if (o := kb.bot_outcomes(facts, period, channel=ch)).offers
            },
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
    facts = await kb_facts(session, period)
    before = await kb_facts(session, period.previous())
    per_article = kb.article_figures(facts, period)
    ranked = sorted(per_article.items(), key=lambda kv: (-kv[1].reads, -kv[1].views, kv[0]))
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
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat()},
        "total": figures(facts, period),
        "previous": figures(before, period.previous()),
        "articles": articles,
        "failed_searches": [{"query": q, "times": n} for q, n in kb.searches(facts, period).failed],
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
