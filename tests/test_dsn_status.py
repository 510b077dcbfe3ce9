"""How a recipient's status code is derived (hrdp/dsn/status.py and the detectors that
feed it), one rule at a time, on messages written for these tests (docs/bounces.md,
"Status code rules")."""

from __future__ import annotations

import pytest

from hrdp.dsn import examine
from hrdp.dsn.report import DsnReport
from hrdp.dsn.rfc3464 import recipient_of, sharpen
from hrdp.dsn.status import is_catch_all, status_for
from hrdp.message import ParsedMessage

DAEMON = "From: Mail Delivery System <MAILER-DAEMON@mx.acme.test>\nReturn-Path: <>\n"
ORIGINAL = "From: dave@acme.test\nTo: gone@customer.test\nSubject: Hi\n\nHi.\n"


def dsn_of(text: str) -> DsnReport:
    raw = text.lstrip("\n").replace("\n", "\r\n").encode("utf-8")
    dsn = examine(ParsedMessage(raw)).dsn
    assert dsn is not None
    return dsn


# Status part outside multipart/report (OpenSMTPD) -----------------------------------

OPENSMTPD = f"""
{DAEMON}To: dave@acme.test
Subject: Delivery status notification: delayed
MIME-Version: 1.0
Content-Type: {{top}}; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

    Hi!

    This is the MAILER-DAEMON, please DO NOT REPLY to this email.

    A message is delayed for more than 4 hours for the following
    list of recipients:

gone@customer.test: {{why}}

    Please note that this is only a temporary failure report.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.test

Final-Recipient: rfc822; gone@customer.test
Action: delayed
Status: {{status}}

--B--
"""


@pytest.mark.parametrize(
    ("why", "status", "expected"),
    [
        ("Envelope expired", "4.4.7", ("5.0.947", "expired")),
        ("No MX found for domain", "4.0.0", ("5.0.932", "notaccept")),
        ("Domain does not exist", "5.0.0", ("5.0.912", "hostunknown")),
    ],
)
def test_status_part_outside_a_report_gives_way_to_the_text(
    why: str, status: str, expected: tuple[str, str]
) -> None:
    text = OPENSMTPD.format(top="multipart/mixed", why=why, status=status)
    dsn = dsn_of(text)
    assert (dsn.status[0], dsn.reason[0]) == expected


def test_status_part_inside_a_report_is_read() -> None:
    text = OPENSMTPD.format(
        top="multipart/report; report-type=delivery-status", why="Envelope expired", status="4.4.7"
    )
    assert dsn_of(text).status == ["4.4.7"]


# Exim's conventions (Sisimai's Lhost::Exim) -----------------------------------------

EXIM = f"""
{DAEMON}To: dave@acme.test
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: gone@customer.test

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  gone@customer.test
    {{diagnostic}}

------ This is a copy of the message, including all the headers. ------

{ORIGINAL}"""


@pytest.mark.parametrize(
    ("diagnostic", "expected"),
    [
        # A give-up after the retry rules ran out ends temporary failures.
        ("retry timeout exceeded", "4.0.947"),
        # A reply to MAIL FROM is about the sender: the code stays "on hold".
        (
            "SMTP error from remote mail server after MAIL FROM:<dave@acme.test> SIZE=9:\n"
            "    550 Unroutable sender address",
            "5.0.901",
        ),
        (
            "SMTP error from remote mail server after MAIL FROM:<dave@acme.test>:\n"
            "    450 service permits 2 unverifyable sending IPs",
            "4.0.901",
        ),
        # A code in the text is always taken.
        ("SMTP error after RCPT TO:<gone@customer.test>: 550 5.1.1 No such user", "5.1.1"),
        # A reply to RCPT without a code: the reason's pseudo code, the reply's class.
        ("SMTP error after RCPT TO:<gone@customer.test>: 550 No such user here", "5.0.911"),
    ],
)
def test_exim_status_conventions(diagnostic: str, expected: str) -> None:
    dsn = dsn_of(EXIM.format(diagnostic=diagnostic))
    assert dsn.status == [expected]
    # The same text without X-Failed-Recipients follows the same rules.
    bare = EXIM.replace("X-Failed-Recipients: gone@customer.test\n", "")
    assert dsn_of(bare.format(diagnostic=diagnostic)).status == [expected]


def test_gmx_give_up_is_permanent() -> None:
    """GMX rewrites Exim's template; its give-ups follow the default rule (permanent)."""
    text = f"""
{DAEMON}To: dave@acme.test
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of
its recipients. This is a permanent error. The following address
failed:

"gone@customer.test":
Reason: delivery retry timeout exceeded

--- The header of the original message is following. ---

{ORIGINAL}"""
    dsn = dsn_of(text)
    assert (dsn.detector, dsn.status, dsn.reason) == ("gmx", ["5.0.947"], ["expired"])


@pytest.mark.parametrize(
    ("found", "reason", "reply", "command", "mta", "expected"),
    [
        ("5.1.1", "userunknown", "550", "RCPT", "exim", "5.1.1"),
        ("", "expired", "", "", "exim", "4.0.947"),
        ("", "mailboxfull", "", "", "exim", "4.0.922"),
        ("", "userunknown", "", "", "exim", "5.0.911"),
        ("", "rejected", "550", "MAIL", "exim", "5.0.901"),
        ("", "expired", "", "", "postfix", "5.0.947"),
        ("", "rejected", "450", "MAIL", "", "4.0.918"),
        ("", "userunknown", "450", "RCPT", "", ""),  # no temporary code for a hard reason
    ],
)
def test_status_for(
    found: str, reason: str, reply: str, command: str, mta: str, expected: str
) -> None:
    assert status_for(found, reason, reply, command, mta) == expected


# A catch-all gives way to the notice's specific code ---------------------------------


@pytest.mark.parametrize(
    ("status", "diagnostic", "window", "expected"),
    [
        # sendmail: "Diagnostic-Code: X-Unix; 255", the transcript says 5.3.0.
        ("5.0.0", "255", "554 5.3.0 unknown mailer error 255", "5.3.0"),
        # Exchange: the field says expired, the attempts say why.
        ("4.4.7", "550 4.4.7 QUEUE.Expired", "441 4.4.1 Failed to connect", "4.4.1"),
        # A specific code in the report is kept.
        ("5.1.1", "550 5.1.1 No such user", "550 5.7.1 Relaying denied", "5.1.1"),
        # Another class is not the same failure.
        ("5.0.0", "", "421 4.7.0 Too many errors", "5.0.0"),
        ("5.0.0", "", "", "5.0.0"),
    ],
)
def test_sharpen(status: str, diagnostic: str, window: str, expected: str) -> None:
    assert sharpen(status, diagnostic, window) == expected


def test_catch_alls() -> None:
    assert is_catch_all("5.0.0") and is_catch_all("4.0.0") and is_catch_all("4.4.7")
    assert not is_catch_all("5.4.7") and not is_catch_all("5.1.0")


# Recipients: a quoted Final-Recipient, a file-path Final-Recipient ------------------


def test_quoted_final_recipient_wins_over_its_unquoted_original() -> None:
    block = {
        "final-recipient": 'rfc822; "gone..here"@customer.test',
        "original-recipient": "rfc822;gone..here@customer.test",
    }
    assert recipient_of(block) == '"gone..here"@customer.test'
    block["original-recipient"] = "rfc822;alias@customer.test"
    assert recipient_of(block) == "alias@customer.test"


def test_file_path_recipient_keeps_its_status() -> None:
    text = f"""
{DAEMON}To: dave@acme.test
Subject: Mail delivery failed: returning message to sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  save to /var/mail/gone
    generated by gone@customer.test
    mailbox is full: retry timeout exceeded

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.acme.test

Action: failed
Final-Recipient: rfc822;/var/mail/gone
Status: 5.0.0

--B--
"""
    dsn = dsn_of(text)
    assert (dsn.recipients, dsn.status, dsn.reason) == (
        ["gone@customer.test"],
        ["5.0.0"],
        ["mailboxfull"],
    )
