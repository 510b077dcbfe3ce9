"""Provider rules (hrdp/dsn/rhost.py) and the reason rules added with them
(hrdp/dsn/reasons.py, phrases.py); diagnostics written here after the providers'
published wording."""

from __future__ import annotations

import pytest

from hrdp.dsn.reasons import code_in, decide
from hrdp.dsn.rhost import Failure, hosts_in, provider_reason


@pytest.mark.parametrize(
    ("hosts", "status", "diagnostic", "expected"),
    [
        # Tencent QQ: frequency limits are connection limits, DMARC an auth failure.
        (("mx3.qq.com",), "5.0.0", "550 Ip frequency limited [x]", "toomanyconn"),
        (("mx3.qq.com",), "5.0.0", "550 DMARC check failed.", "authfailure"),
        # Yahoo Inc.: TSS04 deferrals are about the sender; "dd ... account" no user.
        (("mta6.am0.yahoodns.net",), "4.7.0",
         "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected "
         "volume or user complaints", "rejected"),
        (("mta6.am0.yahoodns.net",), "5.0.0",
         "554 delivery error: dd This user doesn't have a yahoo.com account", "userunknown"),
        # MessageLabs: its own wording for an unknown user and for missing SMTP AUTH.
        (("server-1.bemta-2.messagelabs.com",), "5.0.0", "550 a@b.test... No such user",
         "userunknown"),
        (("server-1.bemta-2.messagelabs.com",), "5.0.0",
         "550-Please turn on SMTP Authentication in your mail client.", "securityerror"),
        # Cox and Spectrum answer with AUP# codes.
        (("cox.net",), "5.1.0", "550 5.1.0 sender rejected. AUP#CDRBL", "blocked"),
        (("charter.net",), "5.1.0", "550 5.1.0 sender rejected. AUP#In-1310", "toomanyconn"),
        # au (KDDI): "550 : User unknown" is the handset's sender filter.
        (("lsean.ezweb.ne.jp",), "5.0.0", "550 : User unknown", "filtered"),
        (("lsean.ezweb.ne.jp",), "5.0.0", "550 <a@ezweb.ne.jp>: User unknown", "userunknown"),
        # AOL: a broken MX answer means the domain accepts no mail.
        (("omr-a015e.mx.aol.com",), "5.4.4",
         "Name service error for name=x.test type=MX: Malformed or unexpected name server "
         "reply", "notaccept"),
        # Google Workspace relaying Google's own sentence.
        (("googlemail.com",), "5.0.0",
         "Your message wasn't delivered to a@b.test because the address couldn't be found. "
         "Check for typos or unnecessary spaces and try again.", "userunknown"),
        # Outlook.com and La Poste / Orange.
        (("bay004.hotmail.com",), "5.5.0",
         "550 Requested action not taken: mailbox unavailable (-1:2:-1)", "userunknown"),
        (("smtpz4.laposte.net",), "5.5.0",
         "550 5.5.0 Adresse destinataire invalide. Invalid recipient. LPN007_416",
         "userunknown"),
    ],
)  # fmt: skip
def test_provider_rules(
    hosts: tuple[str, ...], status: str, diagnostic: str, expected: str
) -> None:
    assert decide(status, diagnostic, hosts=hosts)[1] == expected


def test_docomo_reads_the_command() -> None:
    """NTT docomo's "550 Unknown user" after DATA is its sender filter (rejected)."""
    host = ("mfsmax.docomo.ne.jp",)
    after_data = "550 Unknown user a@docomo.ne.jp (in reply to end of DATA command)"
    at_rcpt = "550 Unknown user a@docomo.ne.jp (in reply to RCPT TO command)"
    assert decide("5.0.0", after_data, hosts=host)[1] == "rejected"
    assert decide("5.0.0", at_rcpt, hosts=host)[1] == "userunknown"
    assert decide("5.2.0", after_data, hosts=host)[1] == "filtered"


def test_provider_needs_its_host_and_falls_through() -> None:
    failure = Failure("5.0.0", "550", "", "550 ip frequency limited")
    assert provider_reason(["mx.example.test"], failure) == ""
    # Google relays for au: Google's table says nothing, au's rule answers.
    relay = ["googlemail.com", "lsean.ezweb.ne.jp"]
    assert provider_reason(relay, Failure("5.0.0", "550", "", "550 : user unknown")) == "filtered"
    # Hosts named in a Postfix or sendmail diagnostic count.
    assert hosts_in("host mx3.qq.com[192.0.2.1] said: 550") == ["mx3.qq.com"]
    assert decide("", "host mx3.qq.com said: 550 Connection frequency limited")[1] == (
        "toomanyconn"
    )


def test_inner_code_wins_over_a_catch_all() -> None:
    """Sisimai's Status.find: X.0.0 and 4.4.7 only when no other code is there."""
    text = "554 4.4.7 Message expired: unable to deliver.<421 4.4.2 Connection timed out>"
    assert code_in(text) == "4.4.2"
    assert decide("4.4.7", text) == ("4.4.2", "expired")
    assert code_in("550 5.0.0 <a@b.test>... failed") == "5.0.0"


@pytest.mark.parametrize(
    ("status", "diagnostic", "expected"),
    [
        # A lookup in a directory answers for the recipient, not a filter after DATA.
        ("", "User a (a@b.test) not listed in Domino Directory", "userunknown"),
        ("5.5.0", "mail.local: unknown user: kijitora", "userunknown"),
        # No MX (RFC 7505 null MX, or none at all) is notaccept, not hostunknown.
        ("5.4.4", "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)", "notaccept"),
        ("5.1.2", "550 5.1.2 Host unknown (Name server: .: host not found)", "hostunknown"),
        ("", "DNS lookup failure: host cx.example.test not found", "hostunknown"),
        # A connection rate limit is toomanyconn; a sending rate limit is speeding.
        ("4.3.2", "452 4.3.2 Connection rate limit exceeded.", "toomanyconn"),
        ("", "450 4.7.1 Rate limit exceeded, slow down", "speeding"),
        # Exim's line-length refusal after DATA; qmail's refused HELO name.
        ("", "SMTP error from remote mail server after end of data: 500 Line limit exceeded",
         "mesgtoobig"),
        ("5.0.0", "Connected to 192.0.2.1 but my name was rejected. 501 5.0.0 Invalid domain",
         "blocked"),
        # Gmail's DMARC / authentication refusals.
        ("5.7.1", "550-5.7.1 Unauthenticated email from example.test is not accepted due to",
         "authfailure"),
    ],
)  # fmt: skip
def test_reason_rules(status: str, diagnostic: str, expected: str) -> None:
    assert decide(status, diagnostic)[1] == expected


def test_local_program_failure_reads_its_message() -> None:
    """An X-Unix diagnostic (RFC 3464 2.3.6) is a mailer error unless it says more."""
    assert decide("4.3.0", "Disk quota exceeded", hint="mailererror")[1] == "mailboxfull"
    assert decide("5.3.0", "77", hint="mailererror")[1] == "systemerror"
    assert decide("5.0.0", "255", hint="mailererror")[1] == "mailererror"


def test_original_recipient_is_the_address_the_sender_gave() -> None:
    """RFC 3464 2.3.1: after forwarding, Final-Recipient is an address the sender
    never used; Original-Recipient (when present) is the one to act on."""
    from hrdp.dsn.rfc3464 import recipient_of

    block = {
        "original-recipient": "rfc822;list-member@example.test",
        "final-recipient": "rfc822; forwarded-to@elsewhere.test",
    }
    assert recipient_of(block) == "list-member@example.test"
    assert recipient_of({"final-recipient": "rfc822; a@b.test"}) == "a@b.test"
    assert recipient_of({"final-recipient": "rfc822; @relay.test:a@b.test"}) == ""
    quoted = {"final-recipient": 'rfc822; "a..b."@example.test'}
    assert recipient_of(quoted) == '"a..b."@example.test'


def test_ezweb_and_fml_state_one_cause_for_the_notice() -> None:
    from hrdp.dsn import examine
    from hrdp.message import ParsedMessage

    ezweb = (
        b"From: Postmaster@ezweb.ne.jp\r\nTo: s@example.test\r\n"
        b"Subject: Mail System Error - Returned Mail\r\nContent-Type: text/plain\r\n\r\n"
        b"The user(s) account is disabled.\r\n\r\n<someone@ezweb.ne.jp>\r\n"
    )
    dsn = examine(ParsedMessage(ezweb)).dsn
    assert dsn is not None and dsn.recipients == ["someone@ezweb.ne.jp"]
    assert (dsn.status, dsn.reason) == (["5.0.921"], ["suspend"])
