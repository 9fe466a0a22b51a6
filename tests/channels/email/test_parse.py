"""Pure parts of the email channel, without a database: parsing any charset and structure,
quote and signature stripping per mail client and language, automatic-mail detection, content
sniffing, threading tokens and composing outbound mail safely."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madad.channels.email.bodies import message_body
from madad.channels.email.noise import automatic_reason
from madad.channels.email.outbound import Outgoing, compose
from madad.channels.email.parse import ids_in, normalise_id, parse_email, sniff
from madad.channels.email.quotes import split_reply
from madad.channels.email.threads import (
    own_message_id,
    parse_own_message_id,
    plus_address,
    reply_subject,
    ticket_in_addresses,
    ticket_in_subject,
)
from tests.channels.email.conftest import corpus
from tests.channels.email.helpers import raw_email

SECRET = "unit-test-secret"


@pytest.mark.parametrize(
    ("name", "reply"),
    [
        ("gmail_reply.eml", "Thanks, it arrived this morning!"),
        ("outlook_reply.eml", "Yes please, send it again to this address.\n\nBilal"),
        ("apple_reply.eml", "The link worked, thank you."),
        ("german_reply.eml", "Vielen Dank, die Lieferung ist angekommen. Grüße"),
        ("french_reply.eml", "Merci beaucoup, c'est réglé."),
        ("spanish_reply.eml", "Perfecto, gracias."),
        ("urdu_utf8.eml", "السلام علیکم،\n\nمیرا آرڈر ابھی تک نہیں پہنچا۔ براہ کرم مدد کریں۔"),
    ],
)
def test_replies_are_cut_from_their_quotes(name: str, reply: str) -> None:
    parsed = parse_email(corpus(name))
    body = message_body(parsed, [])
    assert body.text == reply
    assert body.quoted
    if body.html is not None:
        assert "wrote" not in body.html and "From:" not in body.html


def test_forwarded_mail_is_content_not_quote() -> None:
    body = message_body(parse_email(corpus("forwarded.eml")), [])
    assert "The product broke after one day." in body.text and not body.quoted


def test_signatures_are_cut_but_a_message_of_only_quote_is_kept() -> None:
    r = split_reply("Please call me.\n\n-- \nSana Khan\n+92 300 0000000")
    assert r.body == "Please call me." and r.signature.startswith("-- ")
    only = "On Mon, 4 Mar 2024 at 10:02, Support <s@x.test> wrote:\n> all quoted"
    assert split_reply(only).body == only.strip()
    inline = "> question one\nanswer one\n> question two\nanswer two"
    assert split_reply(inline).body == inline


def test_a_reply_below_the_quote_is_found_but_inline_answers_are_kept_whole() -> None:
    below = "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\n> there\n\nHello back\n"
    r = split_reply(below)
    assert r.body == "Hello back" and r.quoted.endswith("> there")
    interleaved = "On Mon, Sana wrote:\n> one?\nyes\n> two?\nno"
    assert split_reply(interleaved).body == interleaved


def test_an_attribution_that_starts_with_a_date_and_wraps() -> None:
    text = 'Hello\n02.04.2012 14:20 пользователь "bob@x.test" <\nbob@x.test> написал:\n> Hi'
    r = split_reply(text)
    assert r.body == "Hello" and r.quoted.startswith("02.04.2012")
    assert split_reply("12.05.2024 the parcel came.\nThanks").body.startswith("12.05.2024")


@pytest.mark.parametrize(
    ("name", "charset_text"),
    [
        ("arabic_windows1256.eml", "مرحبا، لم يصل طلبي بعد. شكرا لكم."),
        ("arabic_iso88596.eml", "هل يمكنني تغيير العنوان؟"),
        ("raw_8bit_headers.eml", "میرا بل غلط ہے۔"),
    ],
)
def test_any_charset_is_read(name: str, charset_text: str) -> None:
    parsed = parse_email(corpus(name))
    assert parsed.text == charset_text
    assert parsed.subject and "\ufffd" not in parsed.subject


def test_rfc2047_and_rfc2231_names_are_decoded() -> None:
    urdu = parse_email(corpus("urdu_utf8.eml"))
    assert urdu.subject == "آرڈر کا مسئلہ" and urdu.sender is not None
    assert urdu.sender.name == "عائشہ صدیقی"
    files = {a.filename for a in parse_email(corpus("inline_image.eml")).attachments}
    assert "رسید.pdf" in files


def test_broken_mail_is_read_with_warnings_never_an_error() -> None:
    parsed = parse_email(corpus("malformed.eml"))
    assert parsed.text == "Hello, this is broken but readable"
    assert parsed.message_id is None and parsed.date is None
    assert any("charset" in w for w in parsed.warnings)
    assert parse_email(b"").warnings == ["the message is empty"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_parsing_never_raises(data: bytes) -> None:
    parsed = parse_email(data)
    assert "\x00" not in parsed.text and "\x00" not in parsed.subject
    parsed.text.encode("utf-8")


def test_delivery_reports_name_the_failed_recipient_and_the_original() -> None:
    parsed = parse_email(corpus("dsn_bounce.eml"))
    assert parsed.report is not None
    [failed] = parsed.report.recipients
    assert failed.address == "gone@example.com" and failed.permanent
    assert parsed.report.original_message_id == "some-outbound-id@madad.test"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "auto-submitted"),
        ({"Auto-Submitted": "no"}, None),
        ({"Precedence": "bulk"}, "precedence-bulk"),
        ({"Precedence": "junk"}, "precedence-junk"),
        ({"X-Autoreply": "yes"}, "autoreply"),
        ({"List-Id": "<x.example>"}, "list"),
        ({"Return-Path": "<>"}, "null-sender"),
    ],
)
def test_automatic_mail_is_recognised(extra: dict[str, str], reason: str | None) -> None:
    assert automatic_reason(parse_email(raw_email(headers=extra))) == reason


def test_daemons_and_auto_subjects_are_automatic() -> None:
    assert automatic_reason(parse_email(raw_email(sender="MAILER-DAEMON@x.example"))) in (
        "mailer-daemon",
    )
    assert automatic_reason(parse_email(raw_email(subject="Out of Office: back Monday")))
    assert automatic_reason(parse_email(raw_email())) is None


def test_content_types_are_sniffed_from_the_bytes() -> None:
    assert sniff(b"%PDF-1.7 ...", "image/png", "x.png") == "application/pdf"
    assert sniff(b"<html><script>", "image/jpeg", "x.jpg") == "text/html"
    assert sniff(b"\x00\x01garbage", "image/png", "x.png") == "application/octet-stream"
    assert sniff(
        b"PK\x03\x04...",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "a.docx",
    ).startswith("application/vnd.openxmlformats")
    assert sniff(b"plain words", "application/octet-stream", "notes.txt") == "text/plain"


def test_message_ids_are_normalised() -> None:
    assert normalise_id(" <abc@x> ") == "abc@x"
    assert normalise_id("<" + "a" * 300 + "@x>").startswith("sha256:")
    assert normalise_id("no id here") is None
    assert ids_in("<a@x> <b@x>\r\n <a@x>") == ["a@x", "b@x"]


def test_threading_tokens_are_signed() -> None:
    mid = own_message_id("r", 42, "madad.test", SECRET)
    assert parse_own_message_id(mid, SECRET).id == 42  # type: ignore[union-attr]
    assert parse_own_message_id(mid.replace("r42", "r43"), SECRET) is None
    assert parse_own_message_id(mid, "another-secret") is None
    plus = plus_address("support@madad.test", 7, SECRET)
    assert plus.startswith("support+t7.") and ticket_in_addresses([plus], SECRET) == 7
    assert ticket_in_addresses([plus.replace("+t7.", "+t8.")], SECRET) is None
    assert ticket_in_subject("Re: help [#12]") == 12 and ticket_in_subject("help #12") is None
    assert reply_subject("RE: Aw: help [#12]", 12) == "Re: help [#12]"


def test_composed_mail_has_no_injected_headers_and_both_parts() -> None:
    msg = compose(
        Outgoing(
            from_name="Agent\r\nBcc: x@evil.example",
            from_address="support@madad.test",
            to_name=None,
            to_address="sana@example.com",
            subject="Hi\nBcc: y@evil.example",
            text="Hello",
            html="<p>Hello</p>",
            message_id="madad.r1.abc@madad.test",
            headers={"X-Madad-Ticket": "1\r\nBcc: z@evil.example"},
        )
    )
    raw = msg.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert not any(line.lower().startswith(b"bcc") for line in head.split(b"\r\n"))
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
