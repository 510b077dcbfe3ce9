"""Status and reason per recipient (hrdp/dsn/reasons.py, phrases.py), the cheap screen
(screen.py), and the per-message budget on hostile input; messages written here."""

from __future__ import annotations

import time

import pytest

from hrdp.dsn import examine
from hrdp.dsn.reasons import decide, prefer, pseudo_status, smtp_command
from hrdp.dsn.screen import could_be_notice
from hrdp.message import ParsedMessage


@pytest.mark.parametrize(
    ("status", "diagnostic", "expected"),
    [
        # A specific status code says it alone (RFC 3463).
        ("5.1.1", "550 5.1.1 <a@b.test>: Recipient address rejected: User unknown",
         ("5.1.1", "userunknown")),
        ("5.2.2", "552 5.2.2 Mailbox full", ("5.2.2", "mailboxfull")),
        ("5.3.4", "552 5.3.4 Message too big for system", ("5.3.4", "mesgtoobig")),
        ("5.1.2", "550 5.1.2 Host unknown", ("5.1.2", "hostunknown")),
        ("4.4.7", "", ("4.4.7", "expired")),
        # 5.7.1 is ambiguous: the text decides.
        ("5.7.1", "554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org",
         ("5.7.1", "blocked")),
        ("5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering",
         ("5.7.1", "spamdetected")),
        ("5.7.1", "550 5.7.1 SPF check: fail", ("5.7.1", "authfailure")),
        # No status: the code in the text, else Sisimai's pseudo code for the reason.
        ("", "550 5.1.1 <a@b.test>... User unknown (in reply to RCPT TO command)",
         ("5.1.1", "userunknown")),
        ("", "552 mailbox over quota", ("5.0.922", "mailboxfull")),
        ("", "452 mailbox over quota", ("4.0.922", "mailboxfull")),
        ("", "Host or domain name not found. Name service error", ("5.0.912", "hostunknown")),
        ("", "550 Relaying denied", ("5.0.909", "norelaying")),
        ("", "Connection timed out", ("5.0.947", "expired")),
        ("", "", ("5.0.900", "undefined")),
        ("", "Something nobody has written before", ("5.0.901", "onhold")),
    ],
)  # fmt: skip
def test_decide(status: str, diagnostic: str, expected: tuple[str, str]) -> None:
    assert decide(status, diagnostic) == expected


def test_user_unknown_after_data_is_filtered_as_sisimai_files_it() -> None:
    at_rcpt = "550 <a@b.test>: User unknown (in reply to RCPT TO command)"
    after_data = "550 <a@b.test>: User unknown (in reply to end of DATA command)"
    assert decide("", at_rcpt)[1] == "userunknown"
    assert decide("", after_data)[1] == "filtered"
    # A notice that names the command elsewhere hands it over.
    assert decide("", "550 User unknown", command="RCPT")[1] == "userunknown"


def test_delay_without_reason_is_expired_and_hint_is_kept() -> None:
    assert decide("", "Delivery to the following recipients has been delayed", delayed=True) == (
        "5.0.947",
        "expired",
    )
    assert decide("", "You cannot post to this group", hint="rejected") == ("5.0.918", "rejected")
    # A tentative hint loses to a plainer status.
    assert decide("5.2.2", "mailbox full", hint="userunknown")[1] == "mailboxfull"


@pytest.mark.parametrize(
    ("field", "in_text", "reply", "expected"),
    [
        ("", "5.1.1", "", "5.1.1"),
        ("5.0.0", "5.1.1", "550", "5.1.1"),  # a catch-all field loses
        ("5.1.1", "5.0.0", "550", "5.1.1"),
        ("4.4.7", "4.4.2", "", "4.4.2"),  # 4.4.7 is ambiguous
        ("5.1.1", "4.2.2", "452", "4.2.2"),  # the reply code's class decides
    ],
)
def test_prefer(field: str, in_text: str, reply: str, expected: str) -> None:
    assert prefer(field, in_text, reply) == expected


def test_pseudo_status_and_command() -> None:
    assert pseudo_status("userunknown", temporary=False) == "5.0.911"
    assert pseudo_status("userunknown", temporary=True) == ""  # never temporary
    assert pseudo_status("filtered", temporary=False) == "5.0.910"
    assert pseudo_status("filtered", temporary=True) == "4.0.924"  # Sisimai's numbering
    assert smtp_command("host x said: 550 no (in reply to RCPT TO command)") == "RCPT"
    assert smtp_command("SMTP error from remote mail server after end of data:") == "DATA"
    assert smtp_command(">>> MAIL From:<a@b.test>\n<<< 553 rejected") == "MAIL"
    assert smtp_command("the mailbox is full") == ""


# The screen ------------------------------------------------------------------------


def parse(text: str) -> ParsedMessage:
    return ParsedMessage(text.lstrip("\n").replace("\n", "\r\n").encode("utf-8"))


ORDINARY = """
From: Alice <alice@example.test>
Return-Path: <alice@example.test>
To: bob@example.test
Subject: Lunch on Friday?
Content-Type: text/plain

Shall we?
"""


def test_ordinary_mail_is_screened_out() -> None:
    assert not could_be_notice(parse(ORDINARY))


@pytest.mark.parametrize(
    "change",
    [
        ("From: Alice <alice@example.test>", "From: Mail Delivery System <MAILER-DAEMON@x.test>"),
        ("Return-Path: <alice@example.test>", "Return-Path: <>"),
        ("Subject: Lunch on Friday?", "Subject: Undelivered Mail Returned to Sender"),
        ("Subject: Lunch on Friday?", "Subject: Automatic reply: Lunch on Friday?"),
        ("Subject: Lunch on Friday?", "Subject: Lunch on Friday?: non remis"),
        ("Subject: Lunch on Friday?", "Subject: Alice is out of the office"),
        ("Subject: Lunch on Friday?", "Subject: Complaint about message from 192.0.2.1"),
        ("Subject: Lunch on Friday?", "Subject: Lunch\nPrecedence: auto_reply"),
        ("Subject: Lunch on Friday?", "Subject: Lunch\nX-Mailer: vacation 1.2"),
        ("Subject: Lunch on Friday?", "Subject: Lunch\nX-Failed-Recipients: c@d.test"),
        ("Subject: Lunch on Friday?", "Subject: Lunch\nAuto-Submitted: auto-replied"),
        ("Subject: Lunch on Friday?", "Subject: Lunch\nX-MS-Exchange-Message-Is-Ndr: "),
        ("Content-Type: text/plain", "Content-Type: multipart/report; boundary=x"),
        ("Shall we?", '{"notificationType":"Bounce"}'),
    ],
)
def test_every_detector_cue_passes_the_screen(change: tuple[str, str]) -> None:
    assert could_be_notice(parse(ORDINARY.replace(*change)))


def test_report_part_nested_in_multipart_mixed_passes_the_screen() -> None:
    mixed = 'Content-Type: multipart/mixed; boundary="b"'
    text = ORDINARY.replace("Content-Type: text/plain", mixed)
    text = text.replace(
        "Shall we?",
        "--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; c@d.test\n--b--",
    )
    assert could_be_notice(parse(text))


# Budget: hostile input finishes quickly -------------------------------------------


@pytest.mark.timeout(60)
def test_twenty_megabyte_single_line_body() -> None:
    body = b"<" + b"a@b" * (20 * 1024 * 1024 // 3)  # one line, no newline, many "@"
    head = (
        b"From: MAILER-DAEMON@x.test\r\nReturn-Path: <>\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nContent-Type: text/plain\r\n\r\n"
    )
    start = time.perf_counter()
    finding = examine(ParsedMessage(head + body))
    assert finding.dsn is not None
    assert time.perf_counter() - start < 60


@pytest.mark.timeout(120)
def test_fifty_thousand_part_mime_message() -> None:
    parts = b"".join(
        b"--b\r\nContent-Type: text/plain\r\n\r\nUser unknown\r\n" for _ in range(50_000)
    )
    head = (
        b"From: MAILER-DAEMON@x.test\r\nReturn-Path: <>\r\nSubject: failure notice\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    )
    finding = examine(ParsedMessage(head + parts + b"--b--\r\n"))
    assert finding.dsn is not None
