"""Knowledge-base search, the one dialect-specific part of the domain: SQLite FTS5 (bm25) and
PostgreSQL full-text (ts_rank over a weighted tsvector, GIN-indexed), behind `index`,
`unindex` and `find`.

A query never reaches either engine's syntax: it is cut into words (`content.words`), each word
quoted, so operators, quotes, brackets and stray asterisks are only text. Words are combined
with AND (the last one as a prefix: search-as-you-type); a query with words or phrases the
synonym table knows (`kb.synonyms`) is also searched as what it means, and those articles come
first; when that finds few articles, words the knowledge base has never seen are corrected
against its vocabulary (edit distance, candidates found by shared trigrams), and the words are
then also combined with OR to fill the page.
"""

from __future__ import annotations

import bisect
import html
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from madad.db import settings_of
from madad.dialects import is_postgres
from madad.kb import synonyms
from madad.kb.content import normalise, words
from madad.kb.models import SearchDocument

MAX_QUERY = 1000  # characters of a query that are read; the rest is ignored
MAX_TERMS = 12
MAX_TERM = 40
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
PG_CONFIG = {"en": "english"}  # Urdu (and anything else) uses 'simple': no stemmer exists
_ENGLISH_STOPWORDS = (
    "a an and are as at be by can do does for from how i if in is it me my of on or our "
    "so that the this to was what when where which who why will with you your"
)
STOPWORDS = {"en": frozenset(_ENGLISH_STOPWORDS.split())}


@dataclass(frozen=True)
class Hit:
    article_id: int
    slug: str
    language: str
    title: str
    snippet: str  # HTML: the text escaped, matches wrapped in <mark>
    score: float  # higher is better; comparable within one result list only
    internal: bool


@dataclass
class Query:
    """A search request reduced to words: groups of alternatives, all groups required (AND)
    or any (OR); the last group's first word matches as a prefix."""

    groups: list[list[str]]
    prefix: bool = True


def terms_of(q: str, language: str) -> list[str]:
    """The words searched for: at most MAX_TERMS distinct words, stop words dropped unless
    nothing else is left."""
    found = list(dict.fromkeys(w[:MAX_TERM] for w in words(q[:MAX_QUERY])))
    stop = STOPWORDS.get(language, frozenset())
    content = [w for w in found if w not in stop]
    return (content or found)[:MAX_TERMS]


# --- writing the index --------------------------------------------------------------------------


async def index(session: AsyncSession, doc: SearchDocument) -> None:
    """Index a (flushed) search document's title and text."""
    if is_postgres(session):
        await session.execute(
            text(
                "UPDATE kb_search SET document = "
                "setweight(to_tsvector(CAST(:cfg AS regconfig), title), 'A') || "
                "setweight(to_tsvector(CAST(:cfg AS regconfig), text), 'B') WHERE id = :id"
            ),
            {"cfg": PG_CONFIG.get(doc.language, "simple"), "id": doc.id},
        )
        return
    await session.execute(
        text("INSERT INTO kb_fts (rowid, title, text) VALUES (:id, :title, :text)"),
        {"id": doc.id, "title": doc.title, "text": doc.text},
    )


async def unindex(session: AsyncSession, doc: SearchDocument) -> None:
    """Remove a search document from the index, before its row changes or goes (FTS5's
    external-content tables are told the old values; PostgreSQL's tsvector lives in the row)."""
    if is_postgres(session):
        return
    await session.execute(
        text(
            "INSERT INTO kb_fts (kb_fts, rowid, title, text) VALUES ('delete', :id, :title, :text)"
        ),
        {"id": doc.id, "title": doc.title, "text": doc.text},
    )


# --- the vocabulary, for typos ----------------------------------------------------------------


@dataclass
class Vocabulary:
    stamp: tuple[Any, ...]
    frequency: Counter[str]
    sorted_words: list[str]
    by_trigram: dict[str, set[str]]
    by_deletion: dict[str, set[str]]  # a word with one letter left out → the words

    @classmethod
    def build(cls, stamp: tuple[Any, ...], documents: list[tuple[str, str]]) -> Vocabulary:
        frequency: Counter[str] = Counter()
        for title, body in documents:
            frequency.update(set(words(title)) | set(words(body)))
        by_trigram: dict[str, set[str]] = {}
        by_deletion: dict[str, set[str]] = {}
        for word in frequency:
            if len(word) >= 3 and not word.isdigit():
                for gram in trigrams(word):
                    by_trigram.setdefault(gram, set()).add(word)
                for short in deletions(word):
                    by_deletion.setdefault(short, set()).add(word)
        return cls(stamp, frequency, sorted(frequency), by_trigram, by_deletion)

    def knows(self, word: str, *, prefix: bool) -> bool:
        if word in self.frequency:
            return True
        if not prefix:
            return False
        i = bisect.bisect_left(self.sorted_words, word)
        return i < len(self.sorted_words) and self.sorted_words[i].startswith(word)

    def correct(self, word: str, *, prefix: bool) -> list[str]:
        """Up to two known words within edit distance 1 (2 for words of 7 letters or more),
        the closest and most frequent first."""
        limit = 1 if len(word) < 7 else 2
        # Candidates share a trigram, or are one deletion apart either way (which catches the
        # short words and the swaps — "papyal", "e0106" — that share no trigram).
        candidates: set[str] = set(self.by_deletion.get(word, ()))
        for gram in trigrams(word):
            candidates |= self.by_trigram.get(gram, set())
        for short in {word} | deletions(word):
            candidates |= self.by_deletion.get(short, set())
            if short in self.frequency:
                candidates.add(short)
        scored: list[tuple[int, int, str]] = []
        for candidate in candidates:
            if prefix and len(candidate) > len(word):
                # Being typed: compare with the candidate's beginning ("pasw" ~ "passw…").
                d = min(
                    distance(word, candidate[:k], limit)
                    for k in range(len(word) - 1, len(word) + 2)
                )
            elif abs(len(candidate) - len(word)) > limit:
                continue
            else:
                d = distance(word, candidate, limit)
            if d <= limit:
                scored.append((d, -self.frequency[candidate], candidate))
        return [c for _, _, c in sorted(scored)[:2]]


def trigrams(word: str) -> set[str]:
    return {word[i : i + 3] for i in range(len(word) - 2)}


def deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance (edits and adjacent swaps), or limit + 1 once over."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


_vocabularies: dict[tuple[str, str], Vocabulary] = {}


async def vocabulary(session: AsyncSession, language: str) -> Vocabulary:
    """The words of the published articles of a language, cached per process until a
    publication changes them (one small query tells)."""
    settings = settings_of(session)
    key = (f"{settings.database_url}#{settings.database_schema or ''}", language)
    stamp = tuple(
        (
            await session.execute(
                text(
                    "SELECT count(*), max(updated_at), max(id) FROM kb_search "
                    "WHERE language = :lang"
                ),
                {"lang": language},
            )
        ).one()
    )
    cached = _vocabularies.get(key)
    if cached is not None and cached.stamp == stamp:
        return cached
    rows = await session.execute(
        text("SELECT title, text FROM kb_search WHERE language = :lang"), {"lang": language}
    )
    built = Vocabulary.build(stamp, [(t, b) for t, b in rows])
    _vocabularies[key] = built
    return built


async def corrections(
    session: AsyncSession, terms: list[str], language: str
) -> dict[str, list[str]]:
    """Unknown words → their likeliest known spellings (the best one first in the value list)."""
    fixable = [t for t in terms if len(t) >= 4 and not t.isdigit()]
    if not fixable:
        return {}
    vocab = await vocabulary(session, language)
    out: dict[str, list[str]] = {}
    for t in fixable:
        last = t == terms[-1]
        if not vocab.knows(t, prefix=last):
            found = vocab.correct(t, prefix=last)
            if found:
                out[t] = found
    return out


# --- querying --------------------------------------------------------------------------------


def fts5_query(query: Query, *, all_required: bool) -> str:
    def quoted(word: str) -> str:
        return '"' + word.replace('"', '""') + '"'

    parts = []
    for i, group in enumerate(query.groups):
        last = query.prefix and i == len(query.groups) - 1
        alternatives = [quoted(w) + ("*" if last and j == 0 else "") for j, w in enumerate(group)]
        parts.append(alternatives[0] if len(group) == 1 else "(" + " OR ".join(alternatives) + ")")
    return (" AND " if all_required else " OR ").join(parts)


def ts_query(query: Query, *, all_required: bool) -> str:
    def quoted(word: str) -> str:
        return "'" + word.replace("\\", "").replace("'", "''") + "'"

    parts = []
    for i, group in enumerate(query.groups):
        last = query.prefix and i == len(query.groups) - 1
        alternatives = [quoted(w) + (":*" if last and j == 0 else "") for j, w in enumerate(group)]
        parts.append(alternatives[0] if len(group) == 1 else "(" + " | ".join(alternatives) + ")")
    return (" & " if all_required else " | ").join(parts)


SQLITE_FIND = """
SELECT s.article_id, a.slug, s.language, v.title, s.internal,
       snippet(kb_fts, 1, char(57344), char(57345), '…', 24) AS snippet,
       bm25(kb_fts, 8.0, 1.0) AS rank
FROM kb_fts
JOIN kb_search AS s ON s.id = kb_fts.rowid
JOIN kb_versions AS v ON v.id = s.version_id
JOIN kb_articles AS a ON a.id = s.article_id
WHERE kb_fts MATCH :match AND s.language = :lang {internal}
ORDER BY rank LIMIT :limit
"""

PG_FIND = """
WITH q AS (SELECT to_tsquery(CAST(:cfg AS regconfig), :match) AS query),
top AS (
  SELECT s.article_id, s.language, s.version_id, s.internal, s.text,
         ts_rank(s.document, q.query, 1) AS rank
  FROM kb_search AS s, q
  WHERE s.document @@ q.query AND s.language = :lang {internal}
  ORDER BY rank DESC, s.article_id LIMIT :limit
)
SELECT top.article_id, a.slug, top.language, v.title, top.internal,
       ts_headline(CAST(:cfg AS regconfig), left(top.text, 20000), q.query, :options) AS snippet,
       -top.rank AS rank
FROM top, q, kb_versions AS v, kb_articles AS a
WHERE v.id = top.version_id AND a.id = top.article_id
ORDER BY top.rank DESC, top.article_id
"""
PG_HEADLINE = (
    f"StartSel={MARK_OPEN}, StopSel={MARK_CLOSE}, MaxWords=30, MinWords=12, ShortWord=2, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


def snippet_html(raw: str) -> str:
    """Escape everything, then turn the engine's private-use markers into <mark> tags."""
    escaped = html.escape(raw, quote=True)
    return escaped.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


async def _run(
    session: AsyncSession,
    query: Query,
    *,
    language: str,
    include_internal: bool,
    all_required: bool,
    limit: int,
) -> list[Hit]:
    internal = "" if include_internal else "AND NOT s.internal"
    if is_postgres(session):
        sql = PG_FIND.format(internal=internal)
        params: dict[str, Any] = {
            "cfg": PG_CONFIG.get(language, "simple"),
            "match": ts_query(query, all_required=all_required),
            "options": PG_HEADLINE,
        }
    else:
        sql = SQLITE_FIND.format(internal=internal)
        params = {"match": fts5_query(query, all_required=all_required)}
    rows = await session.execute(text(sql), {**params, "lang": language, "limit": limit})
    return [
        Hit(
            article_id=r.article_id,
            slug=r.slug,
            language=r.language,
            title=r.title,
            snippet=snippet_html(r.snippet or ""),
            score=-float(r.rank),
            internal=bool(r.internal),
        )
        for r in rows
    ]


@dataclass
class Found:
    hits: list[Hit]
    corrected: str | None = None  # the query as spelt after corrections, when there were any


async def find(
    session: AsyncSession,
    q: str,
    *,
    language: str,
    include_internal: bool,
    limit: int = 10,
) -> Found:
    """Published articles of one language matching `q`, best first (see the module docstring)."""
    terms = terms_of(q, language)
    if not terms:
        return Found([])
    # A query typed up to a space is complete; otherwise its last word is still being typed.
    prefix = not q[:MAX_QUERY].endswith((" ", "\t"))
    query = Query([[t] for t in terms], prefix=prefix)
    options = {"language": language, "include_internal": include_internal, "limit": limit}
    hits = await _run(session, query, all_required=True, **options)
    expanded = synonyms.expand(
        words(q[:MAX_QUERY]),
        language,
        stop=STOPWORDS.get(language, frozenset()),
        max_terms=MAX_TERMS,
        max_term=MAX_TERM,
    )
    if expanded is not None:
        # What the customer meant first (a phrase the synonyms know is rarely meant word by
        # word: "money back" is a refund, not a backpack), then what they typed.
        query = Query(expanded, prefix=prefix)
        hits = _merge(await _run(session, query, all_required=True, **options), hits)
    corrected: str | None = None
    if len(hits) < min(3, limit) and expanded is None:
        fixes = await corrections(session, terms, language)
        if fixes:
            query = Query([[t, *fixes.get(t, [])] for t in terms], prefix=query.prefix)
            corrected = " ".join(fixes.get(t, [t])[0] for t in terms)
            hits = _merge(hits, await _run(session, query, all_required=True, **options))
    if len(hits) < limit and len(query.groups) > 1:
        hits = _merge(hits, await _run(session, query, all_required=False, **options))
    return Found(hits[:limit], corrected)


def _merge(first: list[Hit], then: list[Hit]) -> list[Hit]:
    seen = {h.article_id for h in first}
    return first + [h for h in then if h.article_id not in seen]


__all__ = ["Found", "Hit", "find", "index", "normalise", "unindex"]
