"""Every UI string is translated into Urdu, with the same placeholders; Urdu is right-to-left."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from madad.web import i18n

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
METHODS = [("src/madad/**.py", "python"), ("src/madad/**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """These tests switch the language of the test process's own context, which later tests
    share: leave it as every other test expects."""
    yield
    i18n.activate(None)


def source_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT),
        method_map=METHODS,
        options_map={"src/madad/**/templates/**.html": {"extensions": "jinja2.ext.i18n"}},
        keywords=KEYWORDS,
    ):
        found.add(tuple(message) if isinstance(message, (tuple, list)) else message)
    return found


def urdu_catalog():  # type: ignore[no-untyped-def]
    with (i18n.LOCALES_DIR / "ur" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale="ur")


def test_every_ui_string_has_an_urdu_translation_with_the_same_placeholders() -> None:
    messages = source_messages()
    assert len(messages) > 100
    catalog = urdu_catalog()
    missing, broken = [], []
    for message in sorted(messages, key=str):
        sources = message if isinstance(message, tuple) else (message,)
        entry = catalog.get(sources[0])
        texts = entry.string if entry is not None else ""
        texts = texts if isinstance(texts, tuple) else (texts,)
        if entry is None or entry.fuzzy or not all(texts):
            missing.append(sources[0])
            continue
        wanted = set(PLACEHOLDER.findall(" ".join(sources)))
        for text in texts:
            got = set(PLACEHOLDER.findall(text))
            # A plural form may leave out the count (Urdu often says "one" in words).
            if got - wanted or (wanted - {"num"}) - got:
                broken.append(sources[0])
    assert missing == [], f"{len(missing)} strings lack an Urdu translation: {missing[:20]}"
    assert broken == [], f"placeholders differ: {broken[:20]}"


def test_urdu_renders_right_to_left_and_english_left_to_right() -> None:
    i18n.activate("ur")
    assert i18n.direction() == "rtl"
    assert i18n.gettext("Inbox") != "Inbox"
    i18n.activate("en")
    assert i18n.direction() == "ltr" and i18n.gettext("Inbox") == "Inbox"
    i18n.activate("xx")  # unknown: English
    assert i18n.current() == "en"


def test_dates_and_numbers_are_localised() -> None:
    moment = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    i18n.activate("en", "Asia/Karachi")
    assert "2:30" in i18n.fmt_datetime(moment, "short")  # 09:30 UTC is 14:30 in Karachi
    assert i18n.fmt_number(12345) == "12,345"
    i18n.activate("ur", "Asia/Karachi")
    assert i18n.fmt_date(moment, "long") != "March 5, 2026"
