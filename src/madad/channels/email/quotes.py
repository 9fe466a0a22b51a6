"""Separating what a customer wrote from what they quoted: reply headers of Gmail, Outlook,
Apple Mail and Thunderbird ("On … wrote:" in English, German, French, Spanish, Urdu and more),
quoted `>` blocks, and signatures.

Pure functions. Stripping only ever shortens what is shown: the full original stays stored.
Forwarded messages are not quotes and are kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")

# "On <date>, <name> wrote:" and its translations; the line may be wrapped over up to 3 lines.
_ATTRIBUTION = re.compile(
    r"""^\s*(
        (On|Le|El|Am|Op|Il|Em|Den|W\ dniu|Dne|Στις|В|On\ \w+day)\b.{0,300}?
            (wrote|a\ écrit|escribió|schrieb|schreef|ha\ scritto|escreveu|skrev|napisał|napsal|
             έγραψε|пишет|написал|написала)\s*:
        | (Am|Den|Op|On)\b.{0,300}?\b(schrieb|skrev|schreef|wrote)\b.{0,200}?:
        | .{0,300}?\ (wrote|schrieb|a\ écrit|escribió|пишет|написал|написала)\s*:
        | .{0,300}?نے\s+(لکھا|تحریر\s+کیا)\s*[:：]?
        | .{0,300}?كتب.{0,300}?[:：]
        | (في|بتاریخ|بتاريخ)\ .{0,300}?(كتب|لکھا)\s*[:：]?
    )\s*$""",
    re.IGNORECASE | re.VERBOSE | re.DOTALL,
)
_ATTRIBUTION_START = re.compile(
    r"^\s*(On|Le|El|Am|Op|Il|Em|Den|W dniu|Dne|Στις|В|في|بتاریخ|بتاريخ)\b|نے|كتب|wrote|schrieb"
    r"|^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b",  # Android: "02.04.2012 14:20 user <…> wrote:"
    re.IGNORECASE,
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Mensaje original|"
    r"Messaggio originale|Oorspronkelijk bericht|Mensagem original|Původní zpráva|"
    r"Alkuperäinen viesti|Opprinnelig melding|Originalmeddelande|الرسالة الأصلية|اصل پیغام)"
    r"\s*-{2,}\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{20,}\s*$")
_FROM = re.compile(
    r"^\s*\**(From|Von|De|Van|Da|Od|Från|Fra|Lähettäjä|Від|От|من|منجانب)\s*\**\s*:", re.I
)
_HEADER_NEXT = re.compile(
    r"^\s*\**(Sent|Date|To|Subject|Cc|Gesendet|Datum|An|Betreff|Envoyé|Date|À|Objet|Enviado|"
    r"Fecha|Para|Asunto|Verzonden|Aan|Onderwerp|Inviato|Data|A|Oggetto|Skickat|Till|Ämne|"
    r"Sendt|Til|Emne|إلى|التاريخ|الموضوع|تاريخ|بھیجا|بنام|موضوع)\s*\**\s*:",
    re.I,
)
_FORWARD = re.compile(
    r"^\s*(-{2,}\s*(Forwarded message|Weitergeleitete Nachricht|Message transféré|"
    r"Mensaje reenviado|Messaggio inoltrato|Doorgestuurd bericht)\s*-{2,}|"
    r"Begin forwarded message:|Anfang der weitergeleiteten Nachricht:|"
    r"Début du message réexpédié :)",
    re.IGNORECASE,
)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(Sent from my \w[\w \-]{0,40}|Sent from (Mail|Outlook) for \w+|Get Outlook for \w+|"
    r"Sent from Yahoo Mail.{0,40}|Sent from Mail for Windows( 10)?|Sent via .{1,40}|"
    r"Von meinem \w[\w \-]{0,30} gesendet|Gesendet von meinem \w[\w \-]{0,30}|"
    r"Envoyé de mon \w[\w \-]{0,30}|Enviado desde mi \w[\w \-]{0,30}|"
    r"میرے \w+ سے بھیجا گیا|أرسلت من \w+)\s*\.?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Reply:
    """What the sender wrote (`body`), what they quoted and their signature, if found."""

    body: str
    quoted: str = ""
    signature: str = ""

    @property
    def stripped(self) -> bool:
        return bool(self.quoted or self.signature)


def _plain(line: str) -> str:
    return _BIDI.sub("", line).strip()


def _attribution_at(lines: list[str], i: int) -> int:
    """How many lines (1-3) starting at `i` form an "On … wrote:" line; 0 if none."""
    if not _ATTRIBUTION_START.search(_plain(lines[i])):
        return 0
    joined = ""
    for n in range(3):
        if i + n >= len(lines):
            break
        joined = (joined + " " + _plain(lines[i + n])).strip()
        if len(joined) > 400:
            break
        if _ATTRIBUTION.match(joined):
            return n + 1
    return 0


def _header_block_at(lines: list[str], i: int) -> bool:
    """An Outlook-style "From: … Sent: … To: … Subject:" block starts at line `i`."""
    if not _FROM.match(_plain(lines[i])):
        return False
    following = [_plain(x) for x in lines[i + 1 : i + 6] if _plain(x)]
    return sum(1 for x in following if _HEADER_NEXT.match(x)) >= 2


def _forwarded_before(lines: list[str], i: int) -> bool:
    for j in range(i - 1, max(-1, i - 3), -1):
        if _plain(lines[j]):
            return bool(_FORWARD.match(_plain(lines[j])))
    return False


def _quote_start(lines: list[str]) -> int | None:
    """The first line of the quoted original, if the message ends with one."""
    for i, line in enumerate(lines):
        plain = _plain(line)
        if not plain:
            continue
        if _FORWARD.match(plain):
            return None  # a forward: everything below is content
        if _ORIGINAL.match(plain) or (
            _RULE.match(plain) and any(_FROM.match(_plain(x)) for x in lines[i + 1 : i + 4])
        ):
            return i
        if _header_block_at(lines, i) and i > 0 and not _forwarded_before(lines, i):
            return i
        if _attribution_at(lines, i):
            return i
    return _trailing_quote(lines)


def _trailing_quote(lines: list[str]) -> int | None:
    """The start of a `>` block that runs to the end (inline answers between quotes are kept)."""
    end = len(lines)
    while end > 0 and not _plain(lines[end - 1]):
        end -= 1
    start = end
    while start > 0 and (_plain(lines[start - 1]).startswith(">") or not _plain(lines[start - 1])):
        start -= 1
    if start == end or not any(_plain(x).startswith(">") for x in lines[start:end]):
        return None
    while start < end and not _plain(lines[start]):
        start += 1
    return start


def _signature_start(lines: list[str]) -> int | None:
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].rstrip("\r") in ("-- ", "--", "—"):
            if len(lines) - i <= 15:
                return i
            return None
    for i in range(len(lines) - 1, -1, -1):
        plain = _plain(lines[i])
        if not plain:
            continue
        return i if _MOBILE_SIGNATURE.match(plain) else None
    return None


def _bottom_post(lines: list[str]) -> int | None:
    """Where the reply starts when it is written below the whole quote ("On … wrote:" and a `>`
    block at the top, then only unquoted text); None for anything else, inline answers included.
    """
    i = 0
    while i < len(lines) and not _plain(lines[i]):
        i += 1
    if i == len(lines) or not (n := _attribution_at(lines, i)):
        return None
    i += n
    start = i
    while i < len(lines) and (not _plain(lines[i]) or _plain(lines[i]).startswith(">")):
        i += 1
    rest = lines[i:]
    if i == start or not any(_plain(x) for x in rest):
        return None
    if any(_plain(x).startswith(">") or _attribution_at(rest, j) for j, x in enumerate(rest)):
        return None
    return i


def split_reply(text: str) -> Reply:
    """Split an email's plain text into the new reply, the quoted original and the signature.

    A reply written below the quote (bottom-posting) is found too. When nothing is left of the
    reply (a message that only quotes), the whole text is the body.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _quote_start(lines)
    quoted = ""
    below = _bottom_post(lines) if cut is not None and not "".join(lines[:cut]).strip() else None
    if below is not None:
        quoted = "\n".join(lines[:below]).strip("\n")
        lines = lines[below:]
    elif cut is not None:
        quoted = "\n".join(lines[cut:]).strip("\n")
        lines = lines[:cut]
    signature = ""
    sig = _signature_start(lines)
    if sig is not None:
        signature = "\n".join(lines[sig:]).strip("\n")
        lines = lines[:sig]
    body = "\n".join(lines).strip()
    if not body:
        return Reply(text.strip())
    return Reply(body, quoted, signature)


# --- HTML -------------------------------------------------------------------------------------

_HTML_MARKERS = re.compile(
    r"""<(div|blockquote)\b[^>]*\bclass\s*=\s*["'][^"']*\b(gmail_quote|yahoo_quoted|
            protonmail_quote|moz-cite-prefix|zmail_extra|OutlookMessageHeader)\b
      | <blockquote\b[^>]*\btype\s*=\s*["']?cite
      | <div\b[^>]*\bid\s*=\s*["']?(divRplyFwdMsg|appendonsend|yahoo_quoted_\w*|Zm-_Id_-Sgn)
      | <hr\b[^>]*\bid\s*=\s*["']?stopSpelling
      | <div\b[^>]*style\s*=\s*["'][^"']*border-top\s*:\s*solid\s+\#(E1E1E1|B5C4DF)
    """,
    re.IGNORECASE | re.VERBOSE,
)
_BLOCK_OPEN = re.compile(r"<(div|p|br)\b[^>]*>", re.IGNORECASE)


def strip_html_quote(html: str, text_of: Callable[[str], str]) -> str | None:
    """The HTML before the quoted original (and its "On … wrote:" line), or None when no quote
    marker is found or nothing would be left. `text_of` turns HTML into plain text."""
    found = _HTML_MARKERS.search(html)
    if found is None:
        return None
    head = html[: found.start()]
    before = [x for x in text_of(head).splitlines() if x.strip()]
    if before and _FORWARD.match(_plain(before[-1])):
        return None
    # Drop a trailing attribution line that sits just before the marker (Apple Mail).
    for _ in range(3):
        opens = list(_BLOCK_OPEN.finditer(head))
        if not opens:
            break
        tail_text = text_of(head[opens[-1].start() :]).strip()
        if not tail_text:
            head = head[: opens[-1].start()]
            continue
        lines = [x for x in tail_text.splitlines() if x.strip()]
        if lines and len(tail_text) < 500 and _attribution_at(lines, 0):
            head = head[: opens[-1].start()]
            continue
        break
    if not text_of(head).strip():
        return None
    return head
