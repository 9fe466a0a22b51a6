"""The demo's knowledge base and its readers: the articles published through the kb service,
and 90 days of help-centre visits recorded through the kb's own recorders (kb.reading) —
searches (some finding nothing), views, reads with their visible time and scroll depth,
votes with a few comments, and the visits after which a customer still asked a person.

A visit is what help.js calls a help session: one browser (`visitor`, kept for good) on one
outing (`help_session`). Most visits end with the customer's answer (deflected); the visits
before a chat or a portal request are recorded by the ticket's life (life.py) through
`before_contact`, and the contact itself names the visit.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.permissions import Actor
from madad.db import Database
from madad.demo.articles import GAPS, GAPS_UR, PIECES, SHELVES, VOTE_COMMENTS, Piece
from madad.kb import reading
from madad.kb import service as kb
from madad.kb.service import Text

BOUNCE = 0.33  # views left within 10 s: not reads
VOTE_AFTER_READ = 0.15
COMMENT_ON_VOTE = 0.25
SEARCH_FIRST = 0.55
GAP_SEARCH = 0.12
RESULTS_SHOWN = 20  # the help centre's results page


@dataclass
class Published:
    id: int
    piece: Piece
    languages: tuple[str, ...]
    related: list[int] = field(default_factory=list)


@dataclass
class HelpCentre:
    """The published knowledge base, by slug and by id."""

    by_key: dict[str, Published]
    by_id: dict[int, Published]

    @property
    def public(self) -> list[Published]:
        return [a for a in self.by_key.values() if not a.piece.internal]


async def add_knowledge_base(db: Database, author: Actor) -> HelpCentre:
    """Categories, sections and every article published in its languages, then related
    articles (they name each other, so all must exist first)."""
    by_key: dict[str, Published] = {}
    async with db.session() as session:
        sections: dict[str, int] = {}
        for position, shelf in enumerate(SHELVES):
            category = await kb.create_category(
                session,
                author,
                slug=shelf.key,
                titles={"en": shelf.title, "ur": shelf.title_ur},
                descriptions={"en": shelf.description, "ur": shelf.description_ur},
                position=position,
            )
            for order, (key, title, title_ur) in enumerate(shelf.sections):
                section = await kb.create_section(
                    session,
                    author,
                    category_id=category.id,
                    slug=key,
                    titles={"en": title, "ur": title_ur},
                    position=order,
                )
                sections[key] = section.id
        for piece in PIECES:
            texts = {"en": Text(piece.title, piece.body)}
            if piece.title_ur and piece.body_ur:
                texts["ur"] = Text(piece.title_ur, piece.body_ur)
            view = await kb.create_article(
                session,
                author,
                translations=texts,
                slug=piece.key,
                section_id=sections[piece.section],
                internal=piece.internal,
                publish=tuple(texts),
            )
            by_key[piece.key] = Published(view.article.id, piece, tuple(texts))
        for published in by_key.values():
            if published.piece.related:
                published.related = [by_key[k].id for k in published.piece.related]
                await kb.update_article(
                    session, author, published.id, related_ids=published.related
                )
    return HelpCentre(by_key, {a.id: a for a in by_key.values()})


@dataclass(frozen=True)
class Visit:
    visitor: str
    help_session: str
    article_id: int | None  # the article page the visit ended on, if any


class Readers:
    """Writes help-centre visits through kb.reading; one per call, in any session."""

    def __init__(self, centre: HelpCentre, rng: random.Random) -> None:
        self.centre = centre
        self.rng = rng
        self.visitors: dict[int, str] = {}  # customer id → their browser's visitor id
        self.found: dict[tuple[str, str], list[int]] = {}  # (query, language) → article ids
        public = centre.public
        self.popular = (public, [a.piece.popularity for a in public])
        self.counts: dict[str, int] = {}

    def _id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def visitor_of(self, customer_id: int | None) -> str:
        if customer_id is None:
            return self._id()
        if customer_id not in self.visitors:
            self.visitors[customer_id] = self._id()
        return self.visitors[customer_id]

    def _count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    async def search(
        self, session: AsyncSession, q: str, language: str, at: datetime, ids: tuple[str, str]
    ) -> list[int]:
        """The search as the results page reports it: the real search's result count."""
        key = (q.casefold(), language)
        if key not in self.found:
            hits = await kb.search_articles(session, q, language=language, limit=RESULTS_SHOWN)
            self.found[key] = [h.article_id for h in hits.hits]
        found = self.found[key]
        await reading.record_search(
            session, q, language, results=len(found), visitor=ids[0], help_session=ids[1], at=at
        )
        self._count("searches")
        return found

    async def read(
        self,
        session: AsyncSession,
        article: Published,
        language: str,
        at: datetime,
        ids: tuple[str, str],
        *,
        helpful: float | None = None,
        vote: float = VOTE_AFTER_READ,
    ) -> tuple[datetime, bool]:
        """A view, and a read when it stays visible ≥ 10 s (then perhaps a vote); returns when
        the customer left the page and whether they read it."""
        rng = self.rng
        shown = language if language in article.languages else "en"
        kw = {"visitor": ids[0], "help_session": ids[1]}
        await reading.record_view(session, article.id, shown, at=at, **kw)
        self._count("views")
        if rng.random() < BOUNCE:
            return at + timedelta(seconds=rng.uniform(2, 9)), False
        seconds = max(10.0, rng.lognormvariate(math.log(55), 0.7))
        depth = 0.2 + 0.8 * (1 - math.exp(-seconds / 60)) * rng.uniform(0.7, 1.15)
        left = at + timedelta(seconds=seconds)
        await reading.record_read(
            session,
            article.id,
            shown,
            visible_seconds=seconds,
            scroll_depth=min(depth, 1.0),
            at=left,
            **kw,
        )
        self._count("reads")
        if rng.random() < vote:
            yes = rng.random() < (article.piece.helpful if helpful is None else helpful)
            comment = None
            if rng.random() < COMMENT_ON_VOTE:
                comment = rng.choice(VOTE_COMMENTS[(yes, "ur" if shown == "ur" else "en")])
            await reading.record_vote(
                session,
                article.id,
                shown,
                helpful=yes,
                comment=comment,
                at=left + timedelta(seconds=rng.uniform(1, 6)),
                **kw,
            )
            self._count("votes")
        return left + timedelta(seconds=6), True

    def _query(self, language: str) -> str | None:
        """What a visitor types: a gap now and then, else how people ask for an article."""
        rng = self.rng
        if rng.random() < GAP_SEARCH:
            return rng.choice(GAPS_UR if language == "ur" else GAPS)
        article = rng.choices(*self.popular)[0]
        asked = (article.piece.searches_ur if language == "ur" else ()) or article.piece.searches
        return rng.choice(asked) if asked else None

    async def browse(
        self, session: AsyncSession, start: datetime, language: str, customer_id: int | None
    ) -> None:
        """A visit that needed no person: search or browse, read, maybe a related article."""
        rng = self.rng
        ids = (self.visitor_of(customer_id), self._id())
        at = start
        article: Published | None = None
        if rng.random() < SEARCH_FIRST:
            q = self._query(language)
            if q is not None:
                found = await self.search(session, q, language, at, ids)
                at += timedelta(seconds=rng.uniform(3, 12))
                if found and rng.random() < 0.9:
                    pick = found[0] if rng.random() < 0.8 or len(found) == 1 else found[1]
                    article = self.centre.by_id[pick]
                elif not found and rng.random() < 0.3:
                    article = rng.choices(*self.popular)[0]
        else:
            article = rng.choices(*self.popular)[0]
        for _ in range(3):
            if article is None:
                return
            at, was_read = await self.read(session, article, language, at, ids)
            related = [self.centre.by_id[i] for i in article.related if i in self.centre.by_id]
            related = [a for a in related if not a.piece.internal]
            article = rng.choice(related) if was_read and related and rng.random() < 0.35 else None
            at += timedelta(seconds=rng.uniform(2, 15))

    async def before_contact(
        self,
        session: AsyncSession,
        customer_id: int,
        article_key: str,
        language: str,
        contact_at: datetime,
    ) -> Visit:
        """A customer looks for the answer first (a search, the article of their problem),
        finds it does not settle their case, and asks a person: the contact names the visit,
        and the article page when they started it there."""
        rng = self.rng
        ids = (self.visitor_of(customer_id), self._id())
        at = contact_at - timedelta(minutes=rng.uniform(3, 15))
        article = self.centre.by_key[article_key]
        if rng.random() < 0.6:
            piece = article.piece
            asked = (piece.searches_ur if language == "ur" else ()) or piece.searches
            found = await self.search(session, rng.choice(asked), language, at, ids)
            at += timedelta(seconds=rng.uniform(3, 12))
            if found and article.id not in found[:3]:
                article = self.centre.by_id[found[0]]
        left, _ = await self.read(session, article, language, at, ids, helpful=0.3, vote=0.2)
        on_article = rng.random() < 0.7 and left < contact_at
        return Visit(ids[0], ids[1], article.id if on_article else None)


async def add_reading(
    db: Database,
    readers: Readers,
    arrivals: list[tuple[datetime, str, int | None]],
    tell: Callable[[str, int, int], None],
) -> None:
    """The visits that needed nobody: (start, language, customer id or None) each."""
    batch = 200
    for first in range(0, len(arrivals), batch):
        async with db.session() as session:
            for start, language, customer_id in arrivals[first : first + batch]:
                await readers.browse(session, start, language, customer_id)
        tell("help centre", min(first + batch, len(arrivals)), len(arrivals))
