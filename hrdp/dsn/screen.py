"""The cheap first look: can this message be a bounce or a notification at all?

examine() runs on every message of multi-GB archives, and almost all of them are
ordinary mail. Every detector in ``DETECTORS`` needs at least one of the facts below
before it can answer, so a message with none of them is ordinary and no detector is
asked: no MIME walk, no body decoding. The screen reads header values already parsed
(``ParsedMessage.header`` is a cached dict lookup), two short subject patterns, and for
multipart mail the Content-Type header of each part the detectors would visit (the
same walk as ``evidence.walk``: into multiparts, never into returned messages). No
body is searched and nothing is decoded; a text/* body's first characters are looked
at (Amazon SNS sends JSON) without asking the MIME reader for its parts.

Keep this in step with the detectors: a new detector that answers on some other fact
adds that fact here (tests/test_dsn_reasons.py checks each detector's own cue gets through).
"""

from __future__ import annotations

import re

from hrdp.dsn.amazonses import looks_like_sns
from hrdp.dsn.autoreply import SUBJECT as AUTOREPLY_SUBJECT
from hrdp.dsn.decoding import top_level
from hrdp.dsn.evidence import DAEMON_TOKEN, MAX_DEPTH, MAX_PARTS, evidence
from hrdp.dsn.textscan import BOUNCE_SUBJECT, BOUNCE_SUBJECT_SUFFIX
from hrdp.message import ParsedMessage
from hrdp.mime import Part

# Headers that only machine-written notices carry: Exim / Google Groups / mail.ru
# recipient lists, Exchange NDR marks, fml, Apple's unsubscribe request, RFC 3834 and
# older auto-reply marks, Amazon SNS.
_CUE_HEADERS = frozenset({
    "x-failed-recipients",
    "x-mailer-daemon-recipients",
    "x-ms-exchange-message-is-ndr",
    "x-dsncontext",
    "x-mlserver",
    "x-apple-unsubscribe",
    "x-autoreply",
    "x-autorespond",
    "x-apple-action",
    "x-amz-sns-message-type",
})  # fmt: skip
# Report parts (RFC 3464, RFC 6533, RFC 5965, RFC 8098) in a multipart body.
_REPORT_TYPES = ("delivery-status", "feedback-report", "disposition-notification")


def _subject_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Bounce and auto-reply subjects, as the detectors read them, for the lower-cased
    subject (their sources are written in lower case; a pattern that ignores case runs
    several times slower in Python's engine), and Microsoft JMRP's opening: the
    alternatives anchored at the start in one pattern for ``match`` (tried at one
    place), the others in one for ``search``. Three searches, one of them trying its
    anchored alternatives at every position, cost three times as much."""
    anchored = ["complaint about message from "]
    floating: list[str] = []
    for pattern in (BOUNCE_SUBJECT, BOUNCE_SUBJECT_SUFFIX, AUTOREPLY_SUBJECT):
        if pattern.flags & (re.MULTILINE | re.VERBOSE):
            raise ValueError(f"not a one-line subject pattern: {pattern.pattern!r}")
        for alternative in top_level(pattern.pattern):
            if alternative.startswith("^"):
                anchored.append(alternative[1:])
            else:
                floating.append(alternative)
    return re.compile("|".join(anchored)), re.compile("|".join(floating))


_SUBJECT_START, _SUBJECT_ANYWHERE = _subject_patterns()


def _content_type(value: str) -> str:
    """compat32's get_content_type() of a raw value: text/plain when absent or invalid."""
    ctype = value.partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


def _cue_header(table: dict[str, list[str]]) -> bool:
    if not _CUE_HEADERS.isdisjoint(table):  # present counts, even empty (Exchange's Is-Ndr)
        return True
    values = table.get("auto-submitted")
    auto = values[0].strip().lower() if values else ""
    if auto and not auto.startswith("no"):
        return True
    values = table.get("precedence")
    if values and values[0].strip().lower() == "auto_reply":
        return True
    values = table.get("x-mailer")
    return "vacation" in values[0].lower() if values else False


def _machine_sender(message: ParsedMessage, table: dict[str, list[str]], sender: str) -> bool:
    """MAILER-DAEMON / postmaster sender or null reverse path (RFC 5321 4.5.5); the
    address parsing of ``evidence`` runs only when a telltale substring is there
    (``sender``: the From value, lower-cased)."""
    values = table.get("return-path")
    envelope = (values[0] if values else "", message.mbox_from or "", message.envelope_from or "")
    if DAEMON_TOKEN.search(sender) is None and (
        DAEMON_TOKEN.search(" ".join(envelope).lower()) is None
    ):
        return False
    ev = evidence(message)
    return ev.daemon_sender or ev.null_sender


def _has_report_part(msg: Part) -> bool:
    """A report part among the parts ``evidence.walk`` visits, by raw Content-Type."""
    stack: list[tuple[Part, int]] = [(msg, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        ctype = (part.get("Content-Type") or "").lower() if depth else "multipart/"
        if any(name in ctype for name in _REPORT_TYPES):
            return True
        if depth < MAX_DEPTH and ctype.lstrip().startswith("multipart/"):
            stack.extend((child, depth + 1) for child in part.children or ())
    return False


def _notice_subject(subject: str) -> bool:
    lower = subject.lower()
    return bool(_SUBJECT_START.match(lower) or _SUBJECT_ANYWHERE.search(lower))


def could_be_notice(message: ParsedMessage) -> bool:
    """False only when no detector can recognise the message (an ordinary one)."""
    # The header table ParsedMessage built for header(): names lower-cased, raw values.
    table = message._raw_headers
    values = table.get("content-type")
    ctype = _content_type(values[0]) if values else "text/plain"
    if ctype == "multipart/report":
        return True
    if _cue_header(table):
        return True
    values = table.get("from")
    sender = values[0] if values else ""
    if "=?" in sender:  # an encoded display name ("Mail Delivery System" in base64)
        sender = message.header("From")
    sender = sender.lower()
    if _machine_sender(message, table, sender):
        return True
    subject = message.header("Subject") if "subject" in table else ""
    if subject and _notice_subject(subject):
        return True
    if ctype.startswith("text/"):
        return looks_like_sns(sender, subject, message.msg)
    return ctype.startswith("multipart/") and _has_report_part(message.msg)
