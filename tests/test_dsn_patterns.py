"""The speed devices of hrdp/dsn keep every pattern's meaning: lower-cased and
line-start rewrites, phrase factoring, the light header reader, the provider
suffix table, and the screen's header-only reading. Messages written here."""

from __future__ import annotations

import re
from email.utils import parseaddr

import pytest

from hrdp.dsn import (
    decoding,
    examine,
    headers,
    mta_bodies,
    phrases,
    rfc3464,
    screen,
    status,
    textscan,
)
from hrdp.dsn.autoreply import SUBJECT as AUTOREPLY
from hrdp.dsn.decoding import at_line_start, factored, lowered, opening, top_level
from hrdp.dsn.evidence import evidence, lower_same_length
from hrdp.dsn.fields import make_report
from hrdp.dsn.headers import parse_address, read_headers
from hrdp.dsn.reasons import smtp_command
from hrdp.dsn.rhost import Failure, provider_reason
from hrdp.dsn.screen import could_be_notice
from hrdp.message import ParsedMessage, looks_like_header_block


def test_lowered_keeps_escapes_and_drops_ignorecase() -> None:
    pattern = lowered(re.compile(r"^Received: \S+ \W", re.IGNORECASE | re.MULTILINE))
    assert pattern.pattern == r"^received: \S+ \W"
    assert not pattern.flags & re.IGNORECASE
    assert pattern.search("x\nreceived: by ,")


def test_at_line_start_matches_where_the_line_starts() -> None:
    pattern = at_line_start(re.compile(r"^[ \t]*abc|^def", re.MULTILINE))
    text = "xx abc\n  abc\ndef"
    match = pattern.search("\n" + text)
    assert match is not None and match.start() == text.index("  abc")
    with pytest.raises(ValueError):
        at_line_start(re.compile(r"^a|b", re.MULTILINE))


def test_top_level_split_ignores_groups_classes_and_escapes() -> None:
    assert top_level(r"a(?:b|c)|[|x]|\||d") == ["a(?:b|c)", "[|x]", r"\|", "d"]


@pytest.mark.parametrize(
    "text",
    [
        "user unknown", "unknown user here", "mailbox is full", "no such user",
        "550 5.1.1 bad", "nothing at all", "the user xyz was not found", "mailbox   full",
    ],
)  # fmt: skip
def test_factored_phrases_match_as_written(text: str) -> None:
    """Every reason's grouped pattern finds exactly what the plain alternation finds."""
    for reason, pattern in phrases.PHRASES.items():
        plain = re.compile("|".join(top_level(pattern.pattern)), re.DOTALL)
        assert bool(pattern.search(text)) == bool(plain.search(text)), reason
    plain_bounce = lowered(textscan.BOUNCE_PHRASE)
    assert bool(factored(plain_bounce).search(text)) == bool(plain_bounce.search(text))


@pytest.mark.parametrize(
    "text",
    [
        "", "nothing at all", "550 5.1.1 user unknown", "user unknown user unknown",
        "bad recipient", "xbad recipient", "the bad recipient", "no such person in name directory",
        "ano x in name directory", "mail could not be delivered within 5 days",
        "rate limit exceeded; connection rate limit", "550 5.1.0 address rejected, mailbox full",
        "#5.1.1 bad address (in reply to rcpt to command) spam detected; virus found",
    ],
)  # fmt: skip
def test_said_finds_what_each_reason_finds(text: str) -> None:
    """One scan for every phrase gives the reasons that one search per reason gives,
    exceptions (EXCEPT) included."""
    expected = frozenset(reason for reason in phrases.PHRASES if phrases.says(reason, text))
    assert phrases.said(text) == expected


def test_every_phrase_opens_with_a_literal() -> None:
    """``phrases.said`` looks a match up by its first character."""
    assert opening(r"\#5\.1\.1") == "#"
    assert opening(r"\bbad") == "" and opening("(?:a|b)") == "" and opening("e?mail") == ""
    assert opening("-+ ?x") == "-" and opening("-{5,}x") == "-" and opening("-{0,5}x") == ""
    for sources in phrases.SOURCES.values():
        for alternative in (alt for phrase in sources for alt in top_level(phrase)):
            assert opening(alternative), alternative


def test_word_start_written_after_the_opening_letter() -> None:
    """``b(?<!\\wb)ad`` is "\\bbad": a word must start there."""
    assert phrases.says("userunknown", "the bad recipient")
    assert phrases.says("userunknown", "bad recipient")
    assert not phrases.says("userunknown", "xbad recipient")
    assert phrases.says("userunknown", "no x in name directory")
    assert not phrases.says("userunknown", "ano x in name directory")


@pytest.mark.parametrize(
    "notice",
    [
        "", "hello\nworld", "\nthis is the mail system at host mx.test.\n",
        "\n  hi. this is the qmail-send program at a.test\n-- this is the qmail-send program",
        "\nthis message was created automatically by mail delivery software\n"
        "\n----- transcript of session follows -----\n",
        "\nyour message did not reach some or all\nwas not delivered to:\n",
        "this is the mail system at host (not at a line start)",
        "\n" + " " * 100 + "\t this is the mail system at host a.test",
        "\n--- ---------- the following addresses had permanent fatal errors",
        "\n*** ** this is a warning message only\n-----server message\n",
    ],
)  # fmt: skip
def test_formats_in_finds_what_each_format_finds(notice: str) -> None:
    """One search for every format's markers gives the formats, in table order, that
    one search per format gives."""
    expected = [form for form in mta_bodies.FORMATS if form.markers.search(notice)]
    assert mta_bodies.formats_in(notice) == expected


def test_lower_case_sources_have_no_capital_literals() -> None:
    """Patterns searched in lower-cased text must be written in lower case."""
    for form in mta_bodies.FORMATS:
        assert lowered(form.markers).pattern == form.markers.pattern, form.name
    for pattern in phrases.PHRASES.values():
        assert lowered(pattern).pattern == pattern.pattern


def test_lower_same_length_keeps_offsets() -> None:
    text = "Ab\u0130cD"  # U+0130 lower-cases to two characters
    assert len(lower_same_length(text)) == len(text)
    assert lower_same_length("MiXeD") == "mixed"


def test_read_headers_stops_at_the_body_and_joins_folded_lines() -> None:
    block = "From x@y Mon\nTo: a@b.test,\n  c@d.test\nTo: z@z.test\nSubject: hi\n\nFrom: body"
    fields = read_headers(block)
    assert fields["to"] == "a@b.test, c@d.test"
    assert fields["subject"] == "hi"
    assert "from" not in fields


def _read_every_line(text: str) -> dict[str, str]:
    """read_headers as it was first written: every line of the text split, the loop
    stopping at the first line that is neither a field nor a continuation."""
    fields: dict[str, str] = {}
    name = ""
    lines = text.split("\n")
    if lines and lines[0].startswith("From "):
        lines = lines[1:]
    for line in lines:
        if line[:1] in (" ", "\t") and name:
            fields[name] = f"{fields[name]} {line.strip()}" if name in fields else line
            continue
        match = re.match(r"([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)", line)
        if match is None:
            break
        name = match.group(1).lower()
        if name in fields:
            name = "\0"
            continue
        fields[name] = match.group(2).strip()
    fields.pop("\0", None)
    return fields


@pytest.mark.parametrize(
    "text",
    [
        "", "From x", "From x\n", "From x\nTo: a", " To: a\nFrom: b", "To: a\n continued",
        "To: a\n\tmore\nTo: b\n again\nCc: c", "To : a\nX: b\r\nY: c\r\n\r\nbody: x",
        "Subject: a\nnot a field\nTo: b", "A:b:c\n\n", "a b: c", ":x", "To: a\n \nCc: b",
        "Received: x\n\tby y\nMessage-ID: <m@x>\nFrom: A <a@b>\n\nBody: " + "x\n" * 500,
    ],
)  # fmt: skip
def test_read_headers_reads_what_a_split_of_every_line_reads(text: str) -> None:
    """read_headers splits only the header block: the same fields as splitting it all."""
    assert read_headers(text) == _read_every_line(text)


@pytest.mark.parametrize(
    "text",
    ["", "\r\n\nTo: a", "\n" * 1500 + "To: a", "é" * 999 + ":", "é" * 400 + "To: a", "x\udcff: y",
     "Received: from x", "-- separator line", " To: a"],
)  # fmt: skip
def test_header_check_reads_only_the_prefix_it_needs(text: str) -> None:
    assert headers._opens_with_field(text) == looks_like_header_block(
        text.encode("utf-8", "replace")
    )


@pytest.mark.parametrize(
    "value",
    [
        "", "Mail Delivery System <MAILER-DAEMON@mx.example.jp>", "<>", "Jetmail System <>",
        '"Mail Delivery System" <postmaster@a.test>', "  Mail   Delivery\tSystem  <a@b.test> ",
        "Name<a.b..c@d.test.>", "mailer-daemon@a.test", " x+y@a.test ", '"" <a@b.test>',
        '"  spaced  " <a@b.test>', "MAILER-DAEMON", "a@b.test (Mail Delivery)",
        '"a\\"b" <x@y.test>', "Name <a@[192.0.2.1]>", "Name <a@b.test>, Other <c@d.test>",
        "n\u00e4me <a@b.test>", "Name <@relay:a@b.test>", "<a@b.test> trailing",
    ],
)  # fmt: skip
def test_parse_address_is_parseaddr(value: str) -> None:
    assert parse_address(value) == parseaddr(value)


@pytest.mark.parametrize("text", ["", "a b", "a  b", "a\tb", " \t ", "a \n\t\tb  ", "\t", "  "])
def test_blank_runs_become_one_space(text: str) -> None:
    assert decoding.collapse_blanks(text) == re.sub(r"[ \t]+", " ", text)


# (subject, notice text) pairs where a give-up and a delay phrase meet; test_dsn_engines.py
# asks them of the Hyperscan path too.
NOTICE_CASES = [
    ("", ""), ("Delayed Mail", ""), ("Delayed Mail", "gave up on it"),
    ("", "this is a warning only. will keep trying"), ("Returned mail", "permanent error"),
    ("", "will continue trying ... no further attempts"),
    ("", "no further attempts ... will continue trying"),
    ("Gave up", "delivery has been delayed"), ("", "has not yet been delivered, xgave up"),
]  # fmt: skip


@pytest.mark.parametrize(("subject", "notice"), NOTICE_CASES)
def test_is_delay_reads_both_kinds_of_phrase_in_one_search(subject: str, notice: str) -> None:
    """The same answer as a search for give-up phrases and one for delay phrases."""
    gave_up = textscan._GAVE_UP.search(subject) or textscan._GAVE_UP_LOWER.search(notice)
    delay = textscan.DELAY_SUBJECT.search(subject) or textscan.DELAY_TEXT.search(notice)
    assert textscan.is_delay(subject, notice) == bool(not gave_up and delay)


def test_evidence_is_one_per_message() -> None:
    first, second = _parse(MIXED), _parse(MIXED)
    assert evidence(first) is evidence(first)
    assert evidence(second) is not evidence(first)
    assert evidence(first) is evidence(first) and evidence(first).message is first


@pytest.mark.parametrize(
    "notice",
    [
        "", "<a@b.test>:\n550 no", "x\n  a@b.test\n", "rcpt to:<a@b.test>... user unknown",
        "failed recipient: c@d.test\nto: e@f.test", "\n\n* [smtp:g@h.test]: 550 no",
        "could not be delivered to: <i@j.test>", "x <a@b.test>:", "550-a@b.test on x\n",
    ],
)  # fmt: skip
def test_recipient_lines_found_where_lines_start(notice: str) -> None:
    """The line shapes searched from a newline find what "^" (MULTILINE) finds."""
    line_shapes = textscan._RECIPIENT_SHAPES[:2]
    for shape, source in zip(
        line_shapes, (textscan._RECIPIENT_LINE, textscan._LABELLED_LINE), strict=True
    ):
        plain = lowered(source)
        assert [m.groups() for m in shape.finditer("\n" + notice)] == [
            m.groups() for m in plain.finditer(notice)
        ]


def test_smtp_command_from_every_wording() -> None:
    assert smtp_command("550 no (in reply to end of DATA command)") == "DATA"
    assert smtp_command("RCPT TO:<a@b.test> 550 unknown") == "RCPT"
    assert smtp_command("xrcpt to: nothing") == ""
    assert smtp_command("failed after pipelined MAIL FROM") == "MAIL"
    assert smtp_command("<<< 550 5.1.1 unknown [RCPT_TO]") == "RCPT"


@pytest.mark.parametrize(
    "text", ["RCPT TO", "xRCPT TO", "[RCPT_TO]", "DATA", "EHLO x", "\u00e9DATA", "MAIL_FROMx"]
)
def test_bare_command_opens_with_its_capital(text: str) -> None:
    plain = re.compile(r"\b(?:RCPT[ _]TO|MAIL[ _]FROM|DATA|EHLO|HELO)\b")
    found, expected = status._BARE_COMMAND.search(text), plain.search(text)
    assert (found and found.span()) == (expected and expected.span())


def test_one_decision_per_distinct_question() -> None:
    """Recipients with the same status, diagnostic and domain share one decide()."""
    diagnostic = "550 5.1.1 user unknown"
    report = make_report(
        "failed", "test", ["a@x.test", "b@x.test", "a@x.test", "c@y.test"],
        ["5.1.1", "5.1.1", "5.1.1", ""], [diagnostic, diagnostic, diagnostic, "552 mailbox full"],
    )  # fmt: skip
    assert report.recipients == ["a@x.test", "b@x.test", "c@y.test"]
    assert report.status == ["5.1.1", "5.1.1", "5.0.922"]
    assert report.reason == ["userunknown", "userunknown", "mailboxfull"]


def test_windows_end_at_the_next_mention() -> None:
    section = "a@x.test first\nb@x.test second\nc@x.test third"
    windows = textscan.windows_near(section, ["b@x.test", "a@x.test", "z@x.test", "c@x.test"])
    assert windows == [
        "b@x.test second\n", "a@x.test first\n", section, "c@x.test third",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    ["", "mx.OUTLOOK.com", "dns; a.b.Yahoo.com", "550 5.1.10 RESOLVER.ADR.RecipientNotFound",
     "exchangelab\u017f.com", "outloo\u212a.com", "yahoo.com"],
)  # fmt: skip
def test_rcpt_checkers_read_ascii_lower_cased(text: str) -> None:
    assert rfc3464._checks_at_rcpt(text) == bool(rfc3464._RCPT_CHECKERS.search(text))


def test_provider_matched_by_whole_labels() -> None:
    failure = Failure("5.0.0", "550", "RCPT", "550 mailbox not found")
    assert provider_reason(["mx3.qq.com"], failure) == "userunknown"
    assert provider_reason(["qq.com."], failure) == "userunknown"
    assert provider_reason(["notqq.com"], failure) == ""
    assert provider_reason(["a.b.c.mx3.qq.com"], failure) == "userunknown"
    docomo = Failure("5.1.1", "550", "RCPT", "550 unknown user")
    assert provider_reason(["x.y.mfsmax.docomo.ne.jp."], docomo) == "userunknown"


def _parse(text: str) -> ParsedMessage:
    return ParsedMessage(text.lstrip("\n").replace("\n", "\r\n").encode("utf-8"))


MIXED = """
From: Alice <alice@example.test>
To: bob@example.test
Subject: Photos
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

See attached.
--b
Content-Type: image/png

iVBORw0KGgo=
--b--
"""


def test_ordinary_multipart_is_screened_out() -> None:
    assert not could_be_notice(_parse(MIXED))


def test_report_part_inside_a_returned_message_is_not_a_cue() -> None:
    """The detectors never enter a message/rfc822 part: neither does the screen."""
    inner = (
        "--b\nContent-Type: message/rfc822\n\nSubject: x\nContent-Type: multipart/report;"
        ' boundary="c"\n\n--c\nContent-Type: message/delivery-status\n\nStatus: 5.1.1\n--c--\n'
    )
    assert not could_be_notice(_parse(MIXED.replace("--b--\n", inner + "--b--\n")))


@pytest.mark.parametrize(
    "subject",
    [
        "Lunch on Friday?", "Undelivered Mail Returned to Sender", "Fwd: failure notice",
        "Re: Undeliverable: report", "Report: non remis", "Report - Undeliverable (x)",
        "Report: non remis trailing", "Automatic reply: Lunch", "Re: Automatic reply",
        "Bob is out of the office", "Thisis out of the office", "is out of the office",
        "Complaint about message from 192.0.2.1", "a complaint about message from x",
        "AUTO: away", "Warning: could not send message for past 4 hours", "-undelivered",
    ],
)  # fmt: skip
def test_screen_subject_test_is_the_detectors_subject_patterns(subject: str) -> None:
    """The screen's two subject patterns (anchored ones matched once, the others
    searched) say what the detectors' subject patterns and JMRP's opening say."""
    lower = subject.lower()
    expected = lower.startswith("complaint about message from ") or any(
        re.compile(pattern.pattern).search(lower)
        for pattern in (textscan.BOUNCE_SUBJECT, textscan.BOUNCE_SUBJECT_SUFFIX, AUTOREPLY)
    )
    assert screen._notice_subject(subject) == expected


def test_out_of_office_needs_a_word_start() -> None:
    """``i(?<!\\wi)s out of`` is "\\bis out of"."""
    assert AUTOREPLY.search("Bob is out of the office")
    assert AUTOREPLY.search("is out of the office")
    assert not AUTOREPLY.search("Thisis out of the office")


def test_encoded_daemon_display_name_passes_the_screen() -> None:
    text = MIXED.replace(
        "From: Alice <alice@example.test>",
        "From: =?utf-8?b?TWFpbCBEZWxpdmVyeSBTeXN0ZW0=?= <bounce@example.test>",
    )
    assert could_be_notice(_parse(text))


def test_null_sender_spam_with_a_long_body_is_cheap_and_not_a_bounce() -> None:
    body = "Buy now, great offer.\n" * 3000
    text = f"Return-Path: <>\nFrom: x@y.test\nSubject: Deal\n\n{body}"
    assert examine(_parse(text)).dsn is None
