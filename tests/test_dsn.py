"""Bounce detectors, one edge case at a time, on messages written for these tests."""

from __future__ import annotations

import pytest

from hrdp.dsn import DETECTORS, Detector, Finding, examine
from hrdp.dsn.fields import (
    clean_address,
    kind_from_action,
    parse_fields,
    status_code,
    status_from_diagnostic,
)
from hrdp.dsn.report import DsnReport
from hrdp.message import ParsedMessage

DAEMON = "From: Mail Delivery System <MAILER-DAEMON@mx.acme.test>\nReturn-Path: <>\n"
ORIGINAL = (
    "From: Dave <Dave@acme.test>\nTo: gone@customer.test\nSubject: Hello\n"
    "Message-ID: <hello-1@acme.test>\n\nHi.\n"
)


def parse(text: str, *, crlf: bool = True) -> ParsedMessage:
    data = text.lstrip("\n").replace("\n", "\r\n") if crlf else text.lstrip("\n")
    return ParsedMessage(data.encode("utf-8"))


def report(
    fields: str,
    *,
    top: str = "multipart/report; report-type=delivery-status",
    part: str = "message/delivery-status",
    subject: str = "Undelivered Mail Returned to Sender",
    headers: str = DAEMON,
) -> str:
    """A multipart/report DSN (RFC 6522) around the given delivery-status fields."""
    return f"""
{headers}To: dave@acme.test
Subject: {subject}
MIME-Version: 1.0
Content-Type: {top}; boundary="BOUND"

--BOUND
Content-Type: text/plain

This is the mail system at host mx.acme.test.

--BOUND
Content-Type: {part}

{fields.strip()}

--BOUND
Content-Type: message/rfc822

{ORIGINAL}
--BOUND--
"""


FAILED = """
Reporting-MTA: dns; mx.acme.test

Final-Recipient: rfc822; Gone@Customer.test
Original-Recipient: rfc822;gone@customer.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <gone@customer.test>: Recipient address rejected
"""


def dsn_of(text: str) -> DsnReport:
    finding = examine(parse(text))
    assert finding.dsn is not None, finding
    assert finding.notification is None
    return finding.dsn


# RFC 3464 / RFC 6522 / RFC 6533 ---------------------------------------------------


def test_rfc3464_failure_fields() -> None:
    dsn = dsn_of(report(FAILED))
    assert dsn.kind == "failed"
    assert dsn.detector == "rfc3464"
    assert dsn.recipients == ["gone@customer.test"]
    assert dsn.status == ["5.1.1"]
    assert dsn.reason == ["userunknown"]
    assert dsn.reporting_mta == "mx.acme.test"
    assert dsn.diagnostic == ["550 5.1.1 <gone@customer.test>: Recipient address rejected"]
    assert dsn.original_message_id == "<hello-1@acme.test>"
    assert dsn.original_sender == "dave@acme.test"


def test_rfc3464_lenient_spacing_missing_report_type_and_odd_case() -> None:
    fields = """
Reporting-MTA : dns; mx.acme.test

Final-Recipient : rfc822; <gone@customer.test>
ACTION :Failed
Status : 5.1.1 (bad destination mailbox address)
"""
    dsn = dsn_of(report(fields, top="Multipart/REPORT", part="Message/Delivery-Status"))
    assert (dsn.kind, dsn.recipients, dsn.status) == ("failed", ["gone@customer.test"], ["5.1.1"])
    assert dsn.reporting_mta == "mx.acme.test"


def test_rfc3464_blocks_without_blank_lines() -> None:
    fields = """
Reporting-MTA: dns; mx.acme.test
Final-Recipient: rfc822; a@customer.test
Action: failed
Status: 5.2.2
Final-Recipient: rfc822; b@customer.test
Action: failed
Status: 5.1.2
"""
    dsn = dsn_of(report(fields))
    assert dsn.recipients == ["a@customer.test", "b@customer.test"]
    assert dsn.reason == ["mailboxfull", "hostunknown"]


def test_global_delivery_status_rfc6533() -> None:
    fields = """
Reporting-MTA: dns; mx.acme.test

Final-Recipient: utf-8; ñandú@customer.test
Action: failed
Status: 5.1.1
"""
    dsn = dsn_of(report(fields, part="message/global-delivery-status"))
    assert dsn.kind == "failed"
    assert dsn.status == ["5.1.1"]


def test_delivery_status_part_nested_anywhere_in_the_tree() -> None:
    text = f"""
{DAEMON}Subject: Returned mail
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="OUTER"

--OUTER
Content-Type: multipart/report; boundary="INNER"

--INNER
Content-Type: message/delivery-status

{FAILED.strip()}

--INNER--
--OUTER--
"""
    assert dsn_of(text).recipients == ["gone@customer.test"]


def test_base64_delivery_status_part() -> None:
    encoded = "".join(
        f"{line}\n"
        for line in __import__("base64").encodebytes(FAILED.strip().encode()).decode().split()
    )
    text = report(encoded).replace(
        "Content-Type: message/delivery-status\n",
        "Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n",
    )
    assert dsn_of(text).recipients == ["gone@customer.test"]


def test_most_severe_action_wins_and_lists_only_its_recipients() -> None:
    fields = """
Reporting-MTA: dns; mx.acme.test

Final-Recipient: rfc822; slow@customer.test
Action: delayed
Status: 4.4.1

Final-Recipient: rfc822; gone@customer.test
Action: failed
Status: 5.1.1

Final-Recipient: rfc822; fine@customer.test
Action: delivered
Status: 2.0.0
"""
    dsn = dsn_of(report(fields))
    assert (dsn.kind, dsn.recipients) == ("failed", ["gone@customer.test"])
    delayed = dsn_of(report(fields.replace("Action: failed", "Action: delivered")))
    assert (delayed.kind, delayed.recipients) == ("delayed", ["slow@customer.test"])


@pytest.mark.parametrize("action", ["delivered", "relayed", "expanded"])
def test_success_dsns_are_dsns(action: str) -> None:
    fields = f"Final-Recipient: rfc822; ok@customer.test\nAction: {action}\nStatus: 2.0.0"
    dsn = dsn_of(report(fields, subject="Successful Mail Delivery Report"))
    assert (dsn.kind, dsn.recipients) == (action, ["ok@customer.test"])


def test_delay_dsn() -> None:
    fields = """
Final-Recipient: rfc822; slow@customer.test
Action: delayed
Status: 4.4.1
Will-Retry-Until: Sat, 5 Dec 2026 10:00:00 +0000
"""
    dsn = dsn_of(report(fields, subject="Delayed Mail (still being retried)"))
    assert (dsn.kind, dsn.status) == ("delayed", ["4.4.1"])


def test_give_up_with_class_4_status_is_failed() -> None:
    fields = "Final-Recipient: rfc822; slow@customer.test\nAction: failed\nStatus: 4.4.7"
    dsn = dsn_of(report(fields))
    assert (dsn.kind, dsn.status, dsn.reason) == ("failed", ["4.4.7"], ["expired"])


def test_opensmtpd_action_error_is_failed() -> None:
    fields = "Final-Recipient: rfc822; gone@customer.test\nAction: error\nStatus: 5.0.0"
    assert dsn_of(report(fields)).kind == "failed"


def test_status_derived_from_diagnostic_when_missing() -> None:
    fields = """
Final-Recipient: rfc822; a@customer.test
Action: failed
Diagnostic-Code: smtp; 550 5.1.1 user unknown

Final-Recipient: rfc822; b@customer.test
Action: failed
Diagnostic-Code: smtp; 552 mailbox over quota
"""
    dsn = dsn_of(report(fields))
    # The code in the diagnostic, else Sisimai's pseudo code for the reason read there.
    assert dsn.status == ["5.1.1", "5.0.922"]
    assert dsn.reason == ["userunknown", "mailboxfull"]


def test_source_routed_final_recipient_falls_back_to_original() -> None:
    fields = """
Original-Recipient: rfc822;gone@customer.test
Final-Recipient: rfc822;@relay.customer.test:gone@internal
Action: failed
Status: 5.2.0
"""
    assert dsn_of(report(fields)).recipients == ["gone@customer.test"]


def test_empty_delivery_status_part_reads_the_notice() -> None:
    text = report("Reporting-MTA: dns; mx.acme.test").replace(
        "This is the mail system at host mx.acme.test.",
        "This is the mail system at host mx.acme.test.\n\n<gone@customer.test>: host"
        " mx.customer.test said: 550 5.1.1 No such user",
    )
    dsn = dsn_of(text)
    assert (dsn.kind, dsn.recipients, dsn.status) == ("failed", ["gone@customer.test"], ["5.1.1"])


def test_declared_report_with_lost_boundary() -> None:
    text = report(FAILED).replace('boundary="BOUND"', 'boundary="GONE"')
    dsn = dsn_of(text)
    assert (dsn.detector, dsn.recipients, dsn.status) == (
        "rfc3464",
        ["gone@customer.test"],
        ["5.1.1"],
    )


def test_inline_fields_in_text_plain() -> None:
    text = f"""
{DAEMON}Subject: Delivery Status Notification (Failure)
Content-Type: text/plain

Your message could not be delivered.

Final-Recipient: rfc822; gone@customer.test
Action: failed
Status: 5.1.1
"""
    dsn = dsn_of(text)
    assert (dsn.detector, dsn.recipients) == ("rfc3464-inline", ["gone@customer.test"])


# Reports that are not bounces ------------------------------------------------------


def test_arf_abuse_report_is_a_notification() -> None:
    text = report(
        "Feedback-Type: abuse\nUser-Agent: SomeISP-FBL/1.0\nVersion: 1",
        top="multipart/report; report-type=feedback-report",
        part="message/feedback-report",
        subject="Abuse report",
        headers="From: fbl@isp.test\n",
    )
    assert examine(parse(text)) == Finding(notification="feedback-report")


def test_feedback_report_part_without_report_type() -> None:
    text = report(
        "Feedback-Type: abuse\nVersion: 1",
        top="multipart/mixed",
        part="message/feedback-report",
        headers="From: fbl@isp.test\n",
    )
    assert examine(parse(text)) == Finding(notification="feedback-report")


MDN_FIELDS = """
Reporting-UA: pc.customer.test; Mailer 1.0
Final-Recipient: rfc822; reader@customer.test
Original-Message-ID: <hello-1@acme.test>
Disposition: {disposition}
"""


def test_read_receipt_is_a_notification() -> None:
    fields = MDN_FIELDS.format(disposition="manual-action/MDN-sent-manually; displayed")
    text = report(
        fields,
        top="multipart/report; report-type=disposition-notification",
        part="message/disposition-notification",
        subject="Read: Hello",
        headers="From: Reader <reader@customer.test>\n",
    )
    assert examine(parse(text)) == Finding(notification="read-receipt")


def test_sieve_reject_mdn_is_a_failure() -> None:
    # RFC 5429 2.2.2: Sieve "reject" answers with an MDN, disposition "deleted".
    fields = MDN_FIELDS.format(disposition="automatic-action/MDN-sent-automatically; deleted")
    text = report(
        fields,
        top="multipart/report; report-type=disposition-notification",
        part="message/disposition-notification",
        subject="Automatically rejected mail",
    )
    dsn = dsn_of(text)
    assert (dsn.kind, dsn.recipients) == ("failed", ["reader@customer.test"])


# MTA-specific cues without RFC 3464 -----------------------------------------------


EXIM = f"""
{DAEMON}To: dave@acme.test
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: Gone@Customer.test, other@customer.test

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  gone@customer.test
    550 5.1.1 No such user here
  other@customer.test
    552 5.2.2 Mailbox full

------ This is a copy of the message, including all the headers. ------

{ORIGINAL}"""


def test_x_failed_recipients() -> None:
    dsn = dsn_of(EXIM)
    assert dsn.detector == "x-failed-recipients"
    assert dsn.recipients == ["gone@customer.test", "other@customer.test"]
    assert dsn.status == ["5.1.1", "5.2.2"]
    assert dsn.original_message_id == "<hello-1@acme.test>"


def test_exim_text_without_the_header() -> None:
    text = EXIM.replace("X-Failed-Recipients: Gone@Customer.test, other@customer.test\n", "")
    dsn = dsn_of(text)
    assert (dsn.detector, dsn.recipients) == ("exim", ["gone@customer.test", "other@customer.test"])


QMAIL = """
From: MAILER-DAEMON@mx.customer.test
To: dave@acme.test
Subject: failure notice

Hi. This is the qmail-send program at mx.customer.test.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<gone@customer.test>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Return-Path: <dave@acme.test>
Message-ID: <hello-2@acme.test>
"""


def test_qmail() -> None:
    dsn = dsn_of(QMAIL)
    assert (dsn.detector, dsn.kind, dsn.recipients) == ("qmail", "failed", ["gone@customer.test"])
    assert dsn.status == ["5.1.1"]
    assert dsn.original_message_id == "<hello-2@acme.test>"


def test_bounce_carrying_auto_submitted_stays_a_bounce() -> None:
    text = QMAIL.replace(
        "Subject: failure notice", "Subject: failure notice\nAuto-Submitted: auto-replied"
    )
    assert dsn_of(text).kind == "failed"


def test_postfix_delay_warning_text() -> None:
    text = f"""
{DAEMON}Subject: Delayed Mail (still being retried)

This is the mail system at host mx.acme.test.

####################################################################
# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #
####################################################################

<slow@customer.test>: connect to mx.customer.test[192.0.2.1]:25: Connection timed out
"""
    dsn = dsn_of(text)
    assert (dsn.kind, dsn.recipients) == ("delayed", ["slow@customer.test"])


def test_sendmail_warning_subject() -> None:
    text = f"""
{DAEMON}Subject: Warning: could not send message for past 4 hours

   **********************************************
   **      THIS IS A WARNING MESSAGE ONLY      **
   **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **
   **********************************************

   ----- The following addresses had transient non-fatal errors -----
<slow@customer.test>
"""
    assert dsn_of(text).kind == "delayed"


def test_sendmail_give_up_after_days_is_failed() -> None:
    text = f"""
{DAEMON}Subject: Returned mail: Cannot send message for 5 days

   ----- The following addresses had permanent fatal errors -----
<slow@customer.test>
    (reason: Deferred: Connection timed out with mx.customer.test.)
"""
    dsn = dsn_of(text)
    assert (dsn.kind, dsn.recipients) == ("failed", ["slow@customer.test"])


SES = (
    '{{"notificationType":"{kind}",{body},"mail":{{"messageId":"0101-abc",'
    '"source":"dave@acme.test","destination":["gone@customer.test"]}}}}'
)


@pytest.mark.parametrize(
    ("kind", "body", "expected"),
    [
        (
            "Bounce",
            '"bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":'
            '"Gone@customer.test","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1"}]}',
            ("failed", ["gone@customer.test"], ["5.1.1"]),
        ),
        (
            "Delivery",
            '"delivery":{"recipients":["ok@customer.test"],"smtpResponse":"250 2.6.0 ok"}',
            ("delivered", ["ok@customer.test"], ["2.0.0"]),
        ),
    ],
)
def test_amazon_ses_json(kind: str, body: str, expected: tuple[str, list[str], list[str]]) -> None:
    text = f"""
From: AWS Notifications <no-reply@sns.amazonaws.com>
Subject: AWS Notification Message

{SES.format(kind=kind, body=body)}
"""
    dsn = dsn_of(text)
    assert (dsn.kind, dsn.recipients, dsn.status) == expected
    assert (dsn.original_message_id, dsn.original_sender) == ("0101-abc", "dave@acme.test")


def test_amazon_ses_complaint_is_feedback() -> None:
    text = f"""
From: AWS Notifications <no-reply@sns.amazonaws.com>
Subject: AWS Notification Message

{SES.format(kind="Complaint", body='"complaint":{"complainedRecipients":[]}')}
"""
    assert examine(parse(text)) == Finding(notification="feedback-report")


def test_exchange_plain_text_ndr() -> None:
    text = """
From: System Administrator <postmaster@customer.test>
Subject: Undeliverable: Hello

Your message

  To:      gone@customer.test
  Subject: Hello

did not reach the following recipient(s):

gone@customer.test on 4/12/2026 10:00 AM
    The e-mail account does not exist at the organization this message was sent to.
    <mx.customer.test #5.1.1>
"""
    dsn = dsn_of(text)
    assert (dsn.recipients, dsn.status) == (["gone@customer.test"], ["5.1.1"])


def test_heuristic_needs_sender_and_subject() -> None:
    text = f"""
{DAEMON}Subject: Undeliverable message

Something went wrong with your message to gone@customer.test.
"""
    assert dsn_of(text).detector == "heuristic"


# Auto-replies ---------------------------------------------------------------------


def test_autoreply_with_rfc3834_header() -> None:
    text = """
From: Erin <erin@customer.test>
Return-Path: <>
Subject: Away until Monday
Auto-Submitted: auto-replied

I am away and will answer when I am back.
"""
    assert examine(parse(text)) == Finding(notification="autoreply")


@pytest.mark.parametrize(
    "subject",
    [
        "Out of Office: Hello",
        "Automatic reply: Hello",
        "Auto: Hello",
        "Abwesenheitsnotiz: Hallo",
        "Erin Example/Sales/Customer is out of the office.",
    ],
)
def test_autoreply_without_rfc3834_headers(subject: str) -> None:
    text = f"From: Erin <erin@customer.test>\nSubject: {subject}\n\nI am out until Monday.\n"
    assert examine(parse(text)) == Finding(notification="autoreply")


def test_reply_about_an_absence_is_not_an_autoreply() -> None:
    text = "From: Fay <fay@acme.test>\nSubject: Re: Erin is out of the office.\n\nNoted.\n"
    assert examine(parse(text)) == Finding()


def test_mailer_daemon_is_never_an_autoreply() -> None:
    text = f"{DAEMON}Subject: Auto: something\nAuto-Submitted: auto-replied\n\nHello.\n"
    assert examine(parse(text)).notification is None


# Ordinary mail and broken input ----------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "Delivery of the new sofa",
        "Re: Delivery Status Notification (Failure)",
        "Your parcel delivery failed",
        "Undelivered mail: can you resend?",
    ],
)
def test_ordinary_message_about_delivery_is_nothing(subject: str) -> None:
    text = f"""
From: Gus <gus@customer.test>
To: dave@acme.test
Subject: {subject}

The courier says the sofa arrives on Friday; nothing bounced this time.
"""
    assert examine(parse(text)) == Finding()


def test_postmaster_writing_ordinary_mail_is_nothing() -> None:
    text = """
From: Postmaster <postmaster@acme.test>
Subject: New mail server on Monday

We move to the new server on Monday morning.
"""
    assert examine(parse(text)) == Finding()


def test_cr_only_line_endings() -> None:
    text = report(FAILED).lstrip("\n").replace("\n", "\r")
    finding = examine(ParsedMessage(text.encode()))
    assert finding.dsn is not None
    assert finding.dsn.recipients == ["gone@customer.test"]


def test_lost_boundary_is_read_as_text() -> None:
    text = f"""
{DAEMON}Subject: Mail delivery failed
Content-Type: multipart/mixed; boundary="NOT-THERE"

--OTHER
Content-Type: text/plain

This message was created automatically by mail delivery software.
The following address(es) failed:

  gone@customer.test
"""
    dsn = dsn_of(text)
    assert dsn.recipients == ["gone@customer.test"]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",
        b"\x00\xff\xfe garbage \x80",
        b"Content-Type: multipart/report; boundary=\r\n\r\n--\r\n",
        b"Content-Type: multipart/report\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n",
        b"Subject: =?bogus?Q?x?=\r\nFrom: <>\r\n\r\n" + b"<" * 100_000,
        b"Content-Type: message/delivery-status\r\n\r\nFinal-Recipient: ;\r\nAction:\r\n",
    ],
)
def test_broken_input_never_raises(data: bytes) -> None:
    assert isinstance(examine(ParsedMessage(data)), Finding)


class Exploding:
    name = "exploding"

    def detect(self, message: ParsedMessage) -> Finding | None:
        raise RuntimeError("bug")


def test_a_failing_detector_falls_through() -> None:
    finding = examine(parse(report(FAILED)), [Exploding(), *DETECTORS])
    assert finding.dsn is not None and finding.dsn.kind == "failed"
    assert examine(parse(report(FAILED)), [Exploding()]) == Finding()


def test_detector_order_and_protocol() -> None:
    names = [detector.name for detector in DETECTORS]
    assert all(isinstance(detector, Detector) for detector in DETECTORS)
    assert len(set(names)) == len(names)
    assert names[:3] == ["arf", "mdn", "rfc3464"]
    assert names[-2:] == ["heuristic", "autoreply"]


# Field readers ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5.1.1", "5.1.1"),
        ("5.01.001 (bad mailbox)", "5.1.1"),
        ("#5.2.2", "5.2.2"),
        ("smtp; 550 5.7.1 rejected", "5.7.1"),
        ("10.5.1.1", ""),
        ("none", ""),
    ],
)
def test_status_code(text: str, expected: str) -> None:
    assert status_code(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("smtp; 550 No such user", "5.0.0"),
        ("421 try later", "4.0.0"),
        ("X-Postfix; host said: 550-5.1.1 gone", "5.1.1"),
        ("in 2026 at 500MB", ""),
    ],
)
def test_status_from_diagnostic(text: str, expected: str) -> None:
    assert status_from_diagnostic(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("rfc822; <Gone@Customer.test>", "gone@customer.test"),
        ("rfc822;gone@x.test.", "gone@x.test"),
        ("RFC822; @mx.example.org", ""),
        ("rfc822;/var/spool/mail/x", ""),
    ],
)
def test_clean_address(value: str, expected: str) -> None:
    assert clean_address(value) == expected


def test_kind_from_action() -> None:
    assert [kind_from_action(a) for a in ("Failed", "error", "delayed (retrying)", "x")] == [
        "failed",
        "failed",
        "delayed",
        None,
    ]


def test_parse_fields_continuation_lines() -> None:
    [block] = parse_fields("Diagnostic-Code: smtp; 550 no\n  such user\nStatus: 5.1.1")
    assert block == {"diagnostic-code": "smtp; 550 no such user", "status": "5.1.1"}
