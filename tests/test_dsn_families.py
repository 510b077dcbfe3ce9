"""Bounce formats of MTA families the labelled corpus lacks, one written sample each.

The messages in tests/bounces/ were composed for this project from the formats that
Sisimai's public lhost and rhost modules read (markers, headers, line shapes, reason
tables); none is copied from a corpus. The expected values are Sisimai's as
go-sisimai (the version the corpus labels come from) files each shape; where its
Ruby modules say otherwise, the comment on the row says which and why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hrdp.dsn import examine
from hrdp.dsn.readings import GMAIL, IMAIL, INTERSCAN, NOTES, ZOHO, Reading
from hrdp.dsn.reasons import decide, smtp_command
from hrdp.dsn.status import reply_in
from hrdp.dsn.textscan import notice_section
from hrdp.dsn.xfields import stated_reason
from hrdp.message import ParsedMessage

BOUNCES = Path(__file__).parent / "bounces"

Row = tuple[str, str, str]  # recipient, status, reason
SAMPLES: dict[str, tuple[str, list[Row]]] = {
    # amavisd-new reports in RFC 3464. go-sisimai reads them as any report: its
    # "554 5.7.0 reject, id=" is spamdetected whatever category follows (INFECTED),
    # and 5.3.4 is mesgtoobig (the Ruby module's own table said virusdetected and
    # exceedlimit).
    "amavis-1": ("failed", [("kijitora@example.jp", "5.7.0", "spamdetected")]),
    "amavis-2": ("failed", [("shironeko@example.jp", "5.7.0", "spamdetected")]),
    "amavis-3": ("failed", [("mikeneko@example.jp", "5.3.4", "mesgtoobig")]),
    "aol-1": ("failed", [("kijitora@example.jp", "5.4.4", "hostunknown")]),
    "aol-2": ("failed", [("shironeko@example.net", "5.4.4", "notaccept")]),
    "biglobe-1": ("failed", [("kijitora@biglobe.ne.jp", "5.0.922", "mailboxfull")]),
    "biglobe-2": ("failed", [("shironeko@inacatv.ne.jp", "5.0.910", "filtered")]),
    "deutschetelekom-1": (
        "failed",
        [
            ("kijitora@t-online.de", "5.2.2", "mailboxfull"),
            ("shironeko@magenta.de", "5.1.1", "userunknown"),
        ],
    ),
    "deutschetelekom-2": ("failed", [("kijitora@nyaan.example.com", "5.0.912", "hostunknown")]),
    "einsundeins-1": ("failed", [("kijitora@example.eu", "5.0.934", "mesgtoobig")]),
    "einsundeins-2": ("failed", [("neko@example.fr", "5.2.0", "spamdetected")]),
    # Facebook's code beats the status: RCP-P2 is the recipient's preferences.
    "facebook-1": ("failed", [("kijitora@facebook.com", "5.1.1", "filtered")]),
    "facebook-2": ("failed", [("shironeko@facebook.com", "5.1.1", "userunknown")]),
    "facebook-3": ("failed", [("mikeneko@facebook.com", "5.3.4", "mesgtoobig")]),
    # Gmail: the SMTP state ("(state 17)") or Gmail's own sentence, unless a code names
    # the reason itself (4.2.2); "google" samples are the same module's older name.
    "gmail-1": ("failed", [("kijitora@example.jp", "5.1.1", "userunknown")]),
    "gmail-2": ("delayed", [("shironeko@example.jp", "4.2.2", "mailboxfull")]),
    "gmail-3": ("failed", [("mikeneko@nxdomain.example", "5.0.912", "hostunknown")]),
    "google-1": ("failed", [("kijitora@example.com", "5.1.0", "filtered")]),
    "google-2": ("failed", [("shironeko@example.net", "5.0.947", "expired")]),
    "gsuite-1": ("failed", [("kijitora@example.jp", "5.1.0", "userunknown")]),
    "gsuite-2": ("delayed", [("shironeko@example.org", "4.0.0", "networkerror")]),
    # IMail: "Unknown user: addr" is an unknown user whatever the command.
    "imailserver-1": ("failed", [("kijitora@example.com", "5.0.911", "userunknown")]),
    "imailserver-2": ("failed", [("shironeko@example.com", "5.0.922", "mailboxfull")]),
    "imailserver-3": ("failed", [("mikeneko@example.com", "5.0.947", "expired")]),
    # InterScan: "Unable to deliver message to <addr>" is an unknown user.
    "interscanmss-1": ("failed", [("kijitora@example.co.jp", "5.1.1", "userunknown")]),
    "interscanmss-2": ("failed", [("shironeko@neko.example.jp", "5.0.911", "userunknown")]),
    "trendmicro-1": ("failed", [("mikeneko@example.co.jp", "5.1.1", "userunknown")]),
    "trendmicro-2": ("failed", [("kuroneko@example.com", "5.0.911", "userunknown")]),
    "mailfoundry-1": ("failed", [("kijitora@example.org", "5.0.910", "filtered")]),
    "mailfoundry-2": ("failed", [("shironeko@example.org", "5.2.2", "mailboxfull")]),
    # MailMarshal and Notes print the cause before the addresses.
    "mailmarshal-1": ("failed", [("dummyuser@example.com", "5.1.1", "userunknown")]),
    "mailmarshal-2": ("failed", [("kijitora@example.com", "5.2.2", "mailboxfull")]),
    "notes-1": ("failed", [("kijitora@notes.example.jp", "5.0.911", "userunknown")]),
    "notes-2": ("failed", [("shironeko@notes.example.jp", "5.0.944", "networkerror")]),
    # McAfee's status part is in multipart/mixed: its catch-all 5.0.0 gives way to the
    # pseudo code, as Sisimai's McAfee samples are labelled (5.0.910 filtered).
    "mcafee-1": ("failed", [("kijitora@example.co.jp", "5.0.910", "filtered")]),
    "mcafee-2": ("failed", [("shironeko@example.co.jp", "5.1.1", "userunknown")]),
    "messagelabs-1": ("failed", [("kijitora@example.jp", "5.0.0", "userunknown")]),
    "messagelabs-2": ("failed", [("shironeko@example.jp", "5.0.0", "securityerror")]),
    # PowerMTA's bounce category is the reason: bad-mailbox under 5.2.1, spam-related
    # under 5.7.1.
    "powermta-1": ("failed", [("kijitora@example.jp", "5.2.1", "userunknown")]),
    "powermta-2": ("failed", [("shironeko@example.jp", "5.7.1", "spamdetected")]),
    # Amazon SES inbound: go-sisimai files its "550 5.1.1 Mailbox does not exist" as
    # userunknown (lhost-receivingses-01, -02); the Perl module's table said filtered.
    "receivingses-1": ("failed", [("kijitora@example.com", "5.3.4", "mesgtoobig")]),
    "receivingses-2": ("failed", [("shironeko@example.com", "5.2.2", "mailboxfull")]),
    "receivingses-3": ("failed", [("mikeneko@example.com", "5.1.1", "userunknown")]),
    "surfcontrol-1": ("failed", [("kijitora@example.com", "5.0.910", "filtered")]),
    # X3 names the command ("SMTP:RCPT host ..."): an unknown user at RCPT.
    "x3-1": ("failed", [("kijitora@example.com", "5.3.0", "userunknown")]),
    "x3-2": ("failed", [("shironeko@example.com", "5.2.2", "mailboxfull")]),
    "x4-1": ("failed", [("kijitora@example.jp", "5.0.922", "mailboxfull")]),
    "x4-2": ("failed", [("shironeko@example.jp", "5.1.1", "userunknown")]),
    # Zoho: Exim's wording, its own recipient lines; "ResponseCode 421" makes the
    # expiry temporary.
    "zoho-1": ("failed", [("kijitora@example.co.jp", "5.1.1", "userunknown")]),
    "zoho-2": ("failed", [("shironeko@6kaku.example.co.jp", "4.0.947", "expired")]),
}


def read(name: str) -> ParsedMessage:
    return ParsedMessage((BOUNCES / f"{name}.eml").read_bytes())


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_family_sample(name: str) -> None:
    kind, rows = SAMPLES[name]
    dsn = examine(read(name)).dsn
    assert dsn is not None
    assert dsn.kind == kind
    assert list(zip(dsn.recipients, dsn.status, dsn.reason, strict=True)) == rows


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_family_sample_without_the_null_sender(name: str) -> None:
    """Every sample is read alike when it was saved without its Return-Path: the
    sender, the subject or the format is enough (Trend Micro's Japanese subjects)."""
    text = (BOUNCES / f"{name}.eml").read_bytes().replace(b"Return-Path: <>\n", b"")
    dsn = examine(ParsedMessage(text)).dsn
    assert dsn is not None
    assert list(zip(dsn.recipients, dsn.status, dsn.reason, strict=True)) == SAMPLES[name][1]


# Facebook (rhost.py) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("diagnostic", "hosts", "expected"),
    [
        ("550 5.1.1 RCP-P2 http://postmaster.facebook.com/", ("facebook.com",), "filtered"),
        ("550 5.1.1 RCP-P1 http://postmaster.facebook.com/", ("facebook.com",), "userunknown"),
        ("554 5.7.1 POL-P5 message contains a virus", ("mx.facebook.com",), "virusdetected"),
        # An unknown code leaves the generic rules to answer (5.1.1 userunknown).
        ("550 5.1.1 XYZ-P9 http://postmaster.facebook.com/", ("facebook.com",), "userunknown"),
        # The same text from another provider is not Facebook's code.
        ("550 5.1.1 RCP-P2 refused", ("example.com",), "userunknown"),
    ],
)
def test_facebook_codes(diagnostic: str, hosts: tuple[str, ...], expected: str) -> None:
    assert decide("5.1.1", diagnostic, hosts=hosts)[1] == expected


# PowerMTA (xfields.py) ----------------------------------------------------------------


def test_powermta_category_is_read_per_recipient_block() -> None:
    assert stated_reason({"x-powermta-bouncecategory": "Quota-Issues "}) == "mailboxfull"
    assert stated_reason({"x-powermta-bouncecategory": "other"}) == ""
    assert stated_reason({"status": "5.2.1"}) == ""


@pytest.mark.parametrize(
    ("category", "status", "diagnostic", "expected"),
    [
        # Sisimai's own PowerMTA samples: an inactive mailbox under 5.2.1, a bad mailbox
        # under 5.0.0 (lhost-powermta-01..03).
        ("inactive-mailbox", "5.2.1", "550 5.2.1 <kijitora@example.jp>... Mailbox unavailable",
         ("5.2.1", "suspend")),
        ("bad-mailbox", "5.0.0", "554 5.0.0 Service unavailable", ("5.0.0", "userunknown")),
        # A tentative category gives way to what the reply says plainly.
        ("bad-mailbox", "5.2.2", "552 5.2.2 Mailbox full", ("5.2.2", "mailboxfull")),
        # No category: the status's own name (5.2.1 filtered), as for any report.
        ("", "5.2.1", "550 5.2.1 <kijitora@example.jp>... User Unknown", ("5.2.1", "filtered")),
    ],
)  # fmt: skip
def test_powermta_categories_in_a_report(
    category: str, status: str, diagnostic: str, expected: tuple[str, str]
) -> None:
    text = (BOUNCES / "powermta-1.eml").read_text()
    text = text.replace("Status: 5.2.1", f"Status: {status}")
    text = text.replace("550 5.2.1 <kijitora@example.jp>... User Unknown", diagnostic)
    text = (
        text.replace("bad-mailbox", category)
        if category
        else text.replace("X-PowerMTA-BounceCategory: bad-mailbox\n", "")
    )
    dsn = examine(ParsedMessage(text.encode())).dsn
    assert dsn is not None
    assert (dsn.status[0], dsn.reason[0]) == expected


# Commands and phrases of the plain-text families ----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SMTP:RCPT host 192.0.2.8: 553 5.3.0 <a@b.test>... No such user here", "RCPT"),
        ("SMTP:DATA host 192.0.2.8: 554 5.7.1 rejected", "DATA"),
        ("smtp; 550 5.1.1 unknown", ""),  # a diagnostic type, no command
    ],
)
def test_x3_names_the_command(text: str, expected: str) -> None:
    assert smtp_command(text) == expected


def test_notes_hop_count_is_a_network_error() -> None:
    assert decide("", "Message has exceeded maximum hop count") == ("5.0.944", "networkerror")


# Shapes of the notices: reply codes, separators -----------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[Status: Error, Address: <a@b.test>, ResponseCode 421, , Host not reachable.]", "421"),
        ("ERROR_CODE :550, ERROR_CODE :5.1.1 <a@b.test>... User Unknown", "550"),
        ("invoice 5501, due", ""),  # four digits are no reply code
    ],
)
def test_reply_code_before_a_comma(text: str, expected: str) -> None:
    assert reply_in(text) == expected


def test_returned_message_starts_at_received_without_a_space() -> None:
    notice = "kijitora@example.co.jp Invalid Address\n\nReceived:from mail.zoho.com by mx\n"
    assert notice_section(notice) == "kijitora@example.co.jp Invalid Address\n\n"


# Plain-text families: their own tables, their headers, their blocks ---------------------


def sample(name: str, *changes: tuple[str, str]) -> ParsedMessage:
    """A sample of tests/bounces with some of its text replaced."""
    text = (BOUNCES / f"{name}.eml").read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return ParsedMessage(text.encode("utf-8"))


def found(message: ParsedMessage) -> tuple[str, list[Row]]:
    dsn = examine(message).dsn
    assert dsn is not None
    return dsn.detector, list(zip(dsn.recipients, dsn.status, dsn.reason, strict=True))


@pytest.mark.parametrize(
    ("reading", "diagnostic", "expected"),
    [
        (GMAIL, "550 550 #5.1.0 Address rejected a@b.test (state 17).", ("filtered", "DATA")),
        # A code that names its reason beats the state: a full mailbox, at RCPT.
        (GMAIL, "450 450 4.2.2 <a@b.test>... Mailbox Full (state 14).", ("mailboxfull", "RCPT")),
        (GMAIL, "DNS Error: Domain name not found", ("hostunknown", "")),
        (GMAIL, "550 5.1.1 The email account does not exist.", ("", "")),
        (IMAIL, "Unknown user: a@b.test", ("userunknown", "")),
        (IMAIL, "Blacklisted URL in message: a@b.test", ("spamdetected", "")),
        (INTERSCAN, "Reason: Unable to deliver message to <a@b.test>", ("userunknown", "")),
        (NOTES, "ディレクトリのリストにありません", ("userunknown", "")),
        (ZOHO, "[Status: Error, Address: <a@b.test>, ResponseCode 421, , Host not reachable.]",
         ("expired", "")),
    ],
)  # fmt: skip
def test_reading(reading: Reading, diagnostic: str, expected: tuple[str, str]) -> None:
    assert reading.read(diagnostic) == expected


def test_gmail_delay_without_a_code_is_temporary() -> None:
    """Sisimai reads Gmail's "temporary failure": a delay without a reply is 4.0.947."""
    message = sample(
        "gmail-2",
        ("Google tried to deliver your message, but it was rejected by the recipient domain."
         " We recommend contacting the other email provider for further information about the"
         " cause of this error. The error that the other server returned was: 450 450 4.2.2"
         " <shironeko@example.jp>... Mailbox Full (state 14).",
         "DNS Error: Could not contact DNS servers"),
    )  # fmt: skip
    assert found(message) == ("gmail", [("shironeko@example.jp", "4.0.947", "expired")])


@pytest.mark.parametrize(
    ("name", "change", "detector"),
    [
        # Exim's wording without Zoho's header is Exim's notice.
        ("zoho-1", ("X-ZohoMail: ", "X-Other: "), "exim"),
        # Gmail's sentence from another sender is not Gmail's notice.
        ("gmail-1", ("mailer-daemon@googlemail.com", "mailer-daemon@mx.example.net"), "heuristic"),
        # InterScan's MIME boundary names it even under another sender name.
        ("trendmicro-2", ('"InterScan Notification"', '"Mail Delivery System"'), "interscan"),
    ],
)
def test_families_that_need_their_header(name: str, change: tuple[str, str], detector: str) -> None:
    assert found(sample(name, change))[0] == detector


def test_interscan_sentence_elsewhere_is_no_unknown_user() -> None:
    """Neither InterScan's sender name nor its MIME boundary: another MTA's sentence."""
    message = sample(
        "trendmicro-2",
        ('"InterScan Notification"', '"Mail Delivery System"'),
        ("InterScan_NT_MIME_Boundary", "Other_Boundary"),
    )
    assert found(message) == ("heuristic", [("kuroneko@example.com", "5.0.901", "onhold")])


def test_notes_gives_each_recipient_the_block_and_reads_japanese() -> None:
    message = sample(
        "notes-1",
        ("User not listed in public Name & Address Book\nkijitora@notes.example.jp\n",
         "ディレクトリのリストにありません\nkijitora@notes.example.jp\nmikeneko@notes.example.jp\n"),
        ("charset=us-ascii", "charset=utf-8"),
    )  # fmt: skip
    assert found(message) == (
        "notes",
        [
            ("kijitora@notes.example.jp", "5.0.911", "userunknown"),
            ("mikeneko@notes.example.jp", "5.0.911", "userunknown"),
        ],
    )


def test_notes_without_an_address_takes_the_returned_message_to() -> None:
    message = sample("notes-1", ("kijitora@notes.example.jp\n\n\n-------", "\n\n-------"))
    assert found(message) == ("notes", [("kijitora@notes.example.jp", "5.0.911", "userunknown")])


def test_mailmarshal_block_is_every_recipient_diagnostic() -> None:
    message = sample(
        "mailmarshal-2",
        ("    kijitora@example.com\n", "    kijitora@example.com\n    shironeko@example.net\n"),
    )
    detector, rows = found(message)
    assert detector == "mailmarshal"
    assert rows == [
        ("kijitora@example.com", "5.2.2", "mailboxfull"),
        ("shironeko@example.net", "5.2.2", "mailboxfull"),
    ]


def test_imail_spam_keeps_the_reply_class() -> None:
    message = sample(
        "imailserver-1", ("Unknown user: kijitora", "550 Blacklisted URL in message: kijitora")
    )
    assert found(message) == ("smtp32", [("kijitora@example.com", "5.0.980", "spamdetected")])


@pytest.mark.parametrize(
    "line",
    ["undeliverable to kijitora@example.com", "undeliverable  to kijitora@example.com"],
)
def test_imail_recipient_lines(line: str) -> None:
    message = sample("imailserver-1", ("Unknown user: kijitora@example.com", line))
    assert found(message) == ("smtp32", [("kijitora@example.com", "5.0.901", "onhold")])


@pytest.mark.parametrize(
    ("status", "diagnostic", "expected"),
    [
        # Sisimai's amavisd-new samples: a next hop's unknown user relayed in the report
        # (lhost-amavis-01, -02), and a refused header (lhost-amavis-03).
        ("5.1.1", "550 5.1.1 <kijitora@example.jp>... User Unknown", ("5.1.1", "userunknown")),
        ("5.7.0", '554 5.7.0 Reject, id=12345-01 - BAD HEADER SECTION, Duplicate header field: '
         '"Message-ID"', ("5.7.0", "notcompliantrfc")),
    ],
)  # fmt: skip
def test_amavis_reports(status: str, diagnostic: str, expected: tuple[str, str]) -> None:
    message = sample(
        "amavis-1",
        ("Status: 5.7.0", f"Status: {status}"),
        ("554 5.7.0 Reject, id=12345-01 - spam", diagnostic),
    )
    assert found(message) == ("rfc3464", [("kijitora@example.jp", *expected)])
