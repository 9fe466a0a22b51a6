"""Article text: Markdown rendered to sanitised HTML, the plain text search indexes, and the
normalisation applied alike to what is indexed and to what is searched for.

Pure functions. Raw HTML in Markdown is shown as text (markdown-it with `html` off), and the
rendered HTML passes nh3's allow-list, so neither a `<script>` nor a `javascript:` link survives.
"""

from __future__ import annotations

import html
import re
import unicodedata

import nh3
from markdown_it import MarkdownIt

from madad.errors import Invalid

LANGUAGES = ("en", "ur")
RTL = frozenset({"ur"})
MAX_TITLE = 300
MAX_BODY = 200_000

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_MD.enable(["table", "strikethrough"])

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
_CELL_STYLE = re.compile(r"^text-align:(left|right|center)$")


def _attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style":  # markdown-it aligns table cells with an inline style; only that
        return value if _CELL_STYLE.match(value) else None
    if attribute == "class":
        return value if re.fullmatch(r"language-[\w+-]{1,30}", value) else None
    return value


def render(markdown: str) -> str:
    """Markdown → HTML safe to put in a page as is."""
    return nh3.clean(
        _MD.render(markdown),
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        attribute_filter=_attribute,
        strip_comments=True,
    )


def plain_text(rendered_html: str) -> str:
    """The words of rendered (already sanitised) HTML, blocks separated by newlines."""
    spaced = re.sub(r"</(p|li|h\d|tr|pre|blockquote)>|<br\s*/?>", "\n", rendered_html)
    return html.unescape(nh3.clean(spaced, tags=set())).strip()


# Arabic-script harakat, Quranic marks and tatweel carry no meaning for search; the Arabic yeh,
# kaf and alef maksura are folded to their Urdu forms; invisible format characters (ZWNJ, bidi
# controls) are dropped. The private-use highlight markers must never come from the text.
_DROP = re.compile(
    "[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640"
    "\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ue000\ue001\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
)
_FOLD = str.maketrans({"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"})
_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Text as search sees it (indexed text and queries alike)."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text)).translate(_FOLD)


def words(text: str) -> list[str]:
    """The lower-cased words of normalised text."""
    return [w.casefold() for w in _WORD.findall(normalise(text))]


def slugify(title: str) -> str:
    """An ASCII, URL-friendly slug ('' when the title has no ASCII letters or digits)."""
    ascii_only = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")[:80].strip("-")


def check_text(field: str, value: str, *, maximum: int, required: bool = True) -> str:
    """A stored text as given, or Invalid: empty, too long, or not storable (NUL, lone
    surrogates), which PostgreSQL would refuse."""
    if required and not value.strip():
        raise Invalid(field, "must not be empty")
    if len(value) > maximum:
        raise Invalid(field, f"at most {maximum} characters")
    if "\x00" in value:
        raise Invalid(field, "must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise Invalid(field, "must be valid Unicode text") from exc
    return value


def check_language(field: str, language: str) -> str:
    if language not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise Invalid(field, f"unsupported language {language[:20]!r}; one of {known}")
    return language
