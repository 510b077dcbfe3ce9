"""The table of MTA plain-text bounce formats that ``mta_bodies`` recognises.

Each entry names an MTA and the sentences only its bounces contain; matching starts
at a line start, so a quoted bounce ("> Hi. This is the qmail-send program") in an
ordinary reply does not count. Where the generic readers of ``textscan`` fall short, an
entry adds its own: a recipient line shape, a header without which the wording is
another MTA's, a table for each recipient's diagnostic (``readings.py``), or the block
where the format prints the cause before its list of addresses. A new plain-text format
is one more entry here; ``mta_bodies`` indexes the markers of all of them at import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hrdp.dsn.decoding import top_level
from hrdp.dsn.readings import GMAIL, IMAIL, INTERSCAN, NOTES, ZOHO, Reading


@dataclass(frozen=True)
class BodyFormat:
    """An MTA's plain-text bounce: ``markers`` found in the notice prove it.

    ``header`` (name, value pattern) is a header only this software writes; when
    present it replaces the bounce-context check (fml writes its rejections from the
    list's -admin address). ``recipient`` (group 1 = address) reads the failed
    recipient where the generic recipient lines do not fit. ``reasons`` (phrase,
    reason) are the format's own sentences for a cause, written once for the whole
    notice rather than next to each recipient; the first found is the reason's hint.
    ``needs``: headers (name, value pattern) of which one must match, for software
    whose wording alone does not tell it (Zoho sends Exim's text; InterScan's sentences
    mean nothing elsewhere). ``reading``: the format's own table for each recipient's
    diagnostic (``readings.py``). ``block``: (opening line, closing line or None for
    the end of the notice) of the cause a format prints once before its list of
    addresses; it is every recipient's diagnostic.
    """

    name: str
    markers: re.Pattern[str]
    header: tuple[str, re.Pattern[str]] | None = None
    recipient: re.Pattern[str] | None = None
    reasons: tuple[tuple[str, str], ...] = ()
    needs: tuple[tuple[str, re.Pattern[str]], ...] = ()
    reading: Reading | None = None
    block: tuple[re.Pattern[str], re.Pattern[str] | None] | None = None

    def hint(self, notice_lower: str) -> str:
        return next((reason for phrase, reason in self.reasons if phrase in notice_lower), "")


LINE_START = r"\n[ \t]*"


def _lines(*phrases: str) -> re.Pattern[str]:
    """Phrases that must open a line (after indentation), written in lower case: they
    are searched in "\\n" + the lower-cased notice (``Evidence.lines_lower``), so a
    line start is a newline the engine finds with a fast literal search."""
    return re.compile(LINE_START + "(?:" + "|".join(phrases) + ")", re.MULTILINE)


_MARSHAL_CAUSE = r"could not be delivered because of\s*$"
_MARSHAL_LIST = r"the following recipients were affected:"

FORMATS: tuple[BodyFormat, ...] = (
    # Zoho Mail sends Exim's template (its own header tells it apart) with the error on
    # the recipient's line: "addr Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1
    # ..." or "[Status: Error, Address: <addr>, ResponseCode 421, , Host not reachable.]".
    BodyFormat(
        "zoho",
        _lines(r"this message was created automatically by mail delivery"),
        needs=(("X-ZohoMail", re.compile(r"\S")),),
        recipient=re.compile(
            r"^(?:\[Status: [^\n]{0,40}?Address: <)?([^\s<>@]{1,64}@[^\s<>@,\]]{1,255})>?"
            r"(?:,? ResponseCode|[ \t][^\n]{0,200}?ERROR_CODE :)",
            re.MULTILINE,
        ),
        reading=ZOHO,
    ),
    # Gmail's own notices (mailer-daemon@googlemail.com, before Google Workspace's RFC
    # 3464 reports): "Delivery to the following recipient failed permanently:".
    BodyFormat(
        "gmail",
        _lines(r"delivery to the following recipient"),
        needs=(("From", re.compile(r"mailer-daemon@googlemail\.com", re.IGNORECASE)),),
        reading=GMAIL,
    ),
    # Trend Micro InterScan MSS / TREND VISION ONE: "Sent <<< RCPT TO:<addr>",
    # "Received >>> 550 5.1.1 ...", or "Unable to deliver message to <addr>".
    BodyFormat(
        "interscan",
        _lines(
            r"reason: unable to deliver message to <",
            r"unable to deliver message to <",
            r"sent <<< ",
            r"received >>> ",
        ),
        needs=(
            ("From", re.compile(r"^\W*interscan", re.IGNORECASE)),
            ("Content-Type", re.compile(r"interscan", re.IGNORECASE)),
        ),
        reading=INTERSCAN,
    ),
    # qmail-send (qmail 1.03 qsutil/qmail-send.c) and its clones: Yahoo! Mail, X2,
    # mFILTER-fronted qmail, Outblaze, Sina.
    BodyFormat(
        "qmail",
        _lines(
            r"hi\. this is the qmail-send program",
            r"this is the qmail-send program",
            r"i'm afraid i wasn't able to deliver your message",
            r"sorry, we were unable to deliver your message",
            r"unable to deliver message to the following address",
            r"this is a permanent error; i've given up",
        ),
    ),
    # Postfix bounce(8) templates: "This is the mail system at host ..." (2.3+),
    # "This is the Postfix program at host ..." (older); notify_classes reports to the
    # postmaster ("Transcript of session follows.").
    BodyFormat(
        "postfix",
        _lines(
            r"this is the (?:mail system|postfix program) at host ",
            r"transcript of session follows\.\s*$",
        ),
    ),
    # sendmail 8 and V5 sendmail transcripts.
    BodyFormat(
        "sendmail",
        _lines(
            r"-+ ?the following addresses had (?:permanent fatal|transient non-fatal|delivery) "
            r"errors",
            r"-+ ?transcript of session follows",
            r"-+ ?unsent message follows",
            r"\*+ +\*\* +this is a warning message only",
        ),
    ),
    # GMX rewrites Exim's template (wrapped lines, quoted addresses, "Reason:" lines,
    # its own separator) and its give-ups follow none of Exim's status conventions.
    BodyFormat("gmx", _lines(r"--- the header of the original message is following\. ---")),
    # Exim deliver.c bounce and warning texts (also MXLogic, mail.ru).
    BodyFormat(
        "exim",
        _lines(
            r"this message was created automatically by mail delivery software",
            r"a message that you (?:have )?sent could not be delivered to one or more",
            r"a message that you sent has not yet been delivered to one or more",
            r"the following address(?:\(es\)|es)? failed:",
            r"a message that you sent was rejected by the local scanning code",
        ),
    ),
    # Exchange 2000/2003 and Lotus Domino plain-text NDRs.
    BodyFormat(
        "exchange",
        _lines(
            r"did not reach the following recipient",
            r"did not reach some or all of the intended recipients",
            r"the following recipient\(s\) could not be reached",
            r"delivery has failed to these recipients or (?:groups|distribution lists)",
            r"your message did not reach some or all",
        ),
    ),
    BodyFormat("domino", _lines(r"was not delivered to:\s*$")),
    # DragonFly Mail Agent (dma) and OpenSMTPD's MAILER-DAEMON texts.
    BodyFormat("dragonfly", _lines(r"this is the dragonfly mail agent")),
    BodyFormat(
        "opensmtpd",
        _lines(
            r"this is the mailer-daemon, please do not reply",
            r"an error has occurred while attempting to deliver a message",
            r"a message is delayed for more than",
        ),
    ),
    # Mimecast, KDDI au one net, m-FILTER, Verizon MMS, SMTP32 (IMail), Courier.
    BodyFormat(
        "mimecast",
        _lines(r"an email that you attempted to send to the following address could not"),
    ),
    BodyFormat("kddi", _lines(r"could not be delivered to: <")),
    BodyFormat("mfilter", _lines(r"-{5,}server message\s*$")),
    # IMail (SMTP32): "Unknown user: addr", "Delivery failed 3 attempts: addr",
    # "undeliverable to addr", each line one recipient and its cause.
    BodyFormat(
        "smtp32",
        _lines(r"original message follows\.", r"user mailbox exceeds"),
        recipient=re.compile(
            r"^(?:[^\n:]{8,80}: |undeliverable[ \t]+to[ \t]+)<?"
            r"([^\s<>@:,]{1,64}@[^\s<>@,]{1,255}?)>?[.,]?[ \t]*$",
            re.IGNORECASE | re.MULTILINE,
        ),
        reading=IMAIL,
    ),
    BodyFormat("courier", _lines(r"this is a delivery status notification from")),
    # fml (Japanese mailing-list manager) rejections: not a member, loop alert.
    BodyFormat(
        "fml",
        _lines(
            r"you are not a member of this mailing list",
            r"duplicated message-id in",
            r"your mail is rejected",
        ),
        header=("X-MLServer", re.compile(r"^fml\b", re.IGNORECASE)),
        recipient=re.compile(
            r"(?:mailing list|duplicated message-id in) <([^<>\s]+@[^<>\s]+)>", re.I
        ),
        reasons=(
            ("you are not a member of this mailing list", "rejected"),
            ("duplicated message-id", "systemerror"),
        ),
    ),
    # au by KDDI's EZweb gateway (lsean.ezweb.ne.jp): one English sentence states the
    # cause for every recipient listed after it (Sisimai's Lhost::EZweb).
    BodyFormat(
        "ezweb",
        _lines(
            r"the user\(s\) account is (?:disabled|temporarily (?:limited|over quota))",
            r"each of the following recipients was rejected by a remote mail server",
            r"your message was not delivered within \d+ days",
            r"the following recipients did not receive this message",
        ),
        reasons=(
            ("the user(s) account is disabled", "suspend"),
            ("the user(s) account is temporarily limited", "suspend"),
            ("the user(s) account is temporarily over quota", "mailboxfull"),
            ("was rejected by a remote mail server", "filtered"),
            ("remote host is not responding", "expired"),
            ("was not delivered within", "expired"),
        ),
    ),
    # Lotus Notes / HCL Notes: under "Failure Reasons" the cause comes before the
    # address it is about ("User not listed in public Name & Address Book" then addr).
    BodyFormat(
        "notes",
        _lines(r"-{3,} ?failure reasons"),
        block=(_lines(r"-{3,} ?failure reasons"), None),
        reading=NOTES,
    ),
    # Trustwave MailMarshal: "Could not be delivered because of", the reply, then "The
    # following recipients were affected:" and the addresses.
    BodyFormat(
        "mailmarshal",
        _lines(_MARSHAL_CAUSE, _MARSHAL_LIST),
        block=(_lines(_MARSHAL_CAUSE), _lines(_MARSHAL_LIST)),
    ),
)


def marker_phrases(form: BodyFormat) -> list[str]:
    """The phrases of a format's markers, as ``_lines`` joined them."""
    pattern = form.markers.pattern
    if not (pattern.startswith(LINE_START + "(?:") and pattern.endswith(")")):
        raise ValueError(f"{form.name}: markers must be made by _lines()")
    return top_level(pattern[len(LINE_START) + 3 : -1])
