"""Synonyms: the words customers use for what support articles call otherwise ("money back" for
a refund, "receipt" for an invoice, "2fa" for two-factor authentication), so that a paraphrase
finds the article that a lexical engine alone would miss.

Pure. `expand` turns a query into groups of alternative words (all groups required, as
`search.Query` has them): a phrase of the table becomes the words it stands for; a word gets
its synonyms as alternatives beside itself. It returns None when nothing in the query has a
synonym, so the query is searched as it was typed. The table is a curated list for support
desks, in English (Urdu has none yet); it is data, to grow with the failed searches the
knowledge-base report lists.
"""

from __future__ import annotations

from collections.abc import Iterable

# A phrase (its words, lower-case) → what it stands for, as words; "" drops the phrase.
PHRASES: dict[str, dict[tuple[str, ...], str]] = {
    "en": {
        ("money", "back"): "refund",
        ("get", "my", "money"): "refund",
        ("reimburse",): "refund",
        ("reimbursement",): "refund",
        ("log", "in"): "sign in",
        ("log", "on"): "sign in",
        ("login",): "sign in",
        ("logon",): "sign in",
        ("signin",): "sign in",
        ("cant",): "",
        ("cannot",): "",
        ("unable", "to"): "",
        ("2fa",): "two factor",
        ("mfa",): "two factor",
        ("two", "step"): "two factor",
        ("sso",): "single sign",
        ("never", "arrived"): "where order",
        ("not", "arrived"): "where order",
        ("hasn", "t", "arrived"): "where order",
        ("didn", "t", "arrive"): "where order",
        ("never", "received"): "where order",
        ("not", "received"): "where order",
        ("uk",): "united kingdom",
        ("britain",): "united kingdom",
        ("great", "britain"): "united kingdom",
        ("england",): "united kingdom",
        ("usa",): "united states",
        ("uae",): "united arab emirates",
        ("close", "my", "account"): "delete account",
        ("close", "account"): "delete account",
        ("unsubscribe",): "cancel subscription",
        ("stop", "my", "subscription"): "cancel subscription",
    },
}
# A word → the words that may stand for it.
WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "receipt": ("invoice",),
        "receipts": ("invoices",),
        "bill": ("invoice",),
        "colleague": ("agent", "teammate"),
        "colleagues": ("agents", "teammates"),
        "coworker": ("agent", "teammate"),
        "teammate": ("agent",),
        "add": ("invite",),
        "parcel": ("package", "order", "shipment"),
        "package": ("parcel", "order", "shipment"),
        "delivery": ("shipping",),
        "mobile": ("phone",),
        "cellphone": ("phone",),
        "pwd": ("password",),
        "passcode": ("password",),
        "e-mail": ("email",),
        "refund": ("refunds",),
    },
}
LONGEST = 3


def expand(
    words: Iterable[str], language: str, *, stop: frozenset[str], max_terms: int, max_term: int
) -> list[list[str]] | None:
    """The query's words as groups of alternatives with synonyms, or None when none apply."""
    phrases, synonyms = PHRASES.get(language, {}), WORDS.get(language, {})
    given = list(words)
    groups: list[list[str]] = []
    applied = False
    i = 0
    while i < len(given):
        for n in range(min(LONGEST, len(given) - i), 0, -1):
            phrase = tuple(given[i : i + n])
            if phrase in phrases:
                groups += [[w] for w in phrases[phrase].split() if w not in stop]
                applied, i = True, i + n
                break
        else:
            word = given[i]
            if word not in stop:
                alternatives = synonyms.get(word, ())
                applied = applied or bool(alternatives)
                groups.append([word, *alternatives])
            i += 1
    if not applied:
        return None
    seen: set[str] = set()
    out = []
    for group in groups:
        group = [w[:max_term] for w in dict.fromkeys(group)]
        if group[0] not in seen:
            seen.add(group[0])
            out.append(group)
    return out[:max_terms] or None
