"""message.py: sender choice, domain normalisation, header decoding, on written and real mail."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrdp.message import (
    ParsedMessage,
    decode_text,
    looks_like_header_block,
    normalise_domain,
)


def parse(text: str | bytes, **kwargs: str) -> ParsedMessage:
    raw = text.encode() if isinstance(text, str) else text
    return ParsedMessage(raw, **kwargs)


@pytest.mark.parametrize(
    ("given", "name", "skip", "invalid"),
    [
        ("Example.COM.", "example.com", "", False),
        ("bücher.test", "xn--bcher-kva.test", "", False),
        ("[192.0.2.1]", "[192.0.2.1]", "domain literal", False),
        ("192.0.2.1", "192.0.2.1", "", True),  # Postfix: an IP is not a host name
        ("bad_name.test", "bad_name.test", "", True),
        ("-lead.test", "-lead.test", "", True),
        ("", "", "no domain", False),
    ],
)
def test_normalise_domain(given: str, name: str, skip: str, invalid: bool) -> None:
    domain = normalise_domain(given)
    assert (domain.name, domain.skip, domain.invalid) == (name, skip, invalid)


def test_return_path_beats_header_from() -> None:
    msg = parse("Return-Path: <b@Env.Test>\nFrom: a@hdr.test\n\nx")
    assert (msg.sender.address, msg.sender.source, msg.sender.domain.name) == (
        "b@Env.Test", "envelope", "env.test")


def test_topmost_return_path_wins() -> None:
    msg = parse("Return-Path: <new@one.test>\nReturn-Path: <old@two.test>\nFrom: a@h.test\n\nx")
    assert msg.sender.domain.name == "one.test"


def test_null_return_path_is_a_known_null_sender() -> None:
    msg = parse("Return-Path: <>\nFrom: a@hdr.test\n\nx")
    assert msg.sender.source == "envelope"
    assert msg.sender.address == ""
    assert msg.sender.domain.skip == "null sender"


def test_mbox_from_line_used_when_no_return_path() -> None:
    assert parse("From: a@hdr.test\n\nx", mbox_from="e@mbox.test").sender.domain.name == "mbox.test"
    # MAILER-DAEMON on a From_ line is how local delivery agents store <>.
    assert parse("From: a@hdr.test\n\nx", mbox_from="MAILER-DAEMON").sender.address == ""
    # "???@???" (an unknown envelope) falls back to the header
    assert parse("From: a@hdr.test\n\nx", mbox_from="???@???").sender.source == "header"


def test_envelope_from_option_beats_everything() -> None:
    msg = parse("Return-Path: <b@env.test>\nFrom: a@hdr.test\n\nx", envelope_from="c@mta.test")
    assert msg.sender.domain.name == "mta.test"
    assert parse("From: a@hdr.test\n\nx", envelope_from="<>").sender.address == ""


def test_header_from_fallback_and_missing_sender() -> None:
    msg = parse('From: "Doe, Jane" <jane@Example.Test>\n\nx')
    assert (msg.sender.source, msg.sender.domain.name) == ("header", "example.test")
    assert parse("Subject: hi\n\nx").sender.source == "none"
    assert parse("From: undisclosed\n\nx").sender.domain.skip == "no domain"


def test_eight_bit_utf8_header_and_encoded_words() -> None:
    raw = ("From: =?utf-8?q?B=C3=BCcherei?= <info@bücher.test>\n"
           "Subject: =?UTF-8?B?w7Y=?= =?utf-8?q?_x?=\n\nb")
    msg = parse(raw.encode("utf-8"))
    assert msg.sender.domain.name == "xn--bcher-kva.test"
    assert msg.header("Subject") == "ö x"


def test_decode_text_survives_garbage() -> None:
    assert decode_text("=?no-such-charset?q?abc?= tail") == "=?no-such-charset?q?abc?= tail"
    assert decode_text("=?utf-8?b?!!!?=") in ("=?utf-8?b?!!!?=", "")
    assert decode_text("a\n\tb") == "a b"
    assert decode_text(None) == ""


def test_header_block_sniffing() -> None:
    assert looks_like_header_block(b"\r\nReceived: from x\r\n")
    assert not looks_like_header_block(b"; zone file\n$ORIGIN test.\n")
    assert not looks_like_header_block(b"source\tindex\tpool\n")
    assert not looks_like_header_block(b"\x89PNG\r\n")


def test_header_any_spelling_and_has_any() -> None:
    msg = parse("Subject: =?utf-8?q?caf=C3=A9?=\nX-Empty:\nReceived: a\nReceived: b\n\nbody")
    assert msg.header("Subject") == msg.header("subject") == msg.header("SUBJECT") == "café"
    assert msg.header("X-Absent") == msg.header("x-absent") == ""
    assert msg.headers("received") == ["a", "b"]
    assert msg.has_any(frozenset({"x-empty", "x-spam-status"}))  # there, even empty
    assert not msg.has_any(frozenset({"x-spam-status", "x-rspamd-score"}))
    assert not msg.has_any(frozenset())


def test_junk_has_no_headers() -> None:
    assert not parse(b"\x89PNG\r\n\x1a\nbinary").has_headers
    assert parse("Subject: x\n\nbody").has_headers


def test_real_corpus_messages_parse(corpus: Path) -> None:
    """Every real message parses, and a sender is found for nearly all of them."""
    files = sorted(corpus.glob("*/*.eml")) + sorted(corpus.glob("spamassassin/*/*.eml"))
    assert len(files) > 3000
    sources: dict[str, int] = {}
    for path in files:
        msg = ParsedMessage(path.read_bytes())
        assert msg.has_headers, path
        sources[msg.sender.source] = sources.get(msg.sender.source, 0) + 1
    assert sources.get("none", 0) < 0.01 * len(files), sources


@pytest.mark.parametrize(
    "value",
    ["plain", "  padded  ", "two  spaces", "tab\there", "fold\n\tline", "vt\x0bff\x0c",
     "sep\x1cx", "=?utf-8?q?a?=", "caf\udcc3\udca9", "nul\x00x", "del\x7f", " lead", "\x1ftail"],
)
def test_decode_text_fast_path_agrees_with_full_decoding(value: str) -> None:
    full = " ".join(value.encode("utf-8", "surrogateescape").decode("utf-8", "replace").split())
    if "=?" in value:
        full = "a"
    assert decode_text(value) == full


@pytest.mark.parametrize(
    ("value", "address"),
    [("a@b.test", "a@b.test"), ("Jane <j@x.test>", "j@x.test"),
     ('"Doe, Jane" <j@x.test>', "j@x.test"), ("j@x.test (Jane)", "j@x.test"),
     ("<j@x.test>", "j@x.test"), ("Jane <j@x.test>, Bob <b@y.test>", "j@x.test"),
     ("undisclosed-recipients:;", "")],
)
def test_sender_address_forms(value: str, address: str) -> None:
    assert parse(f"From: {value}\n\nx").sender.address == address
