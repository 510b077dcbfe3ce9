"""The cheap first look: can this message be a bounce or a notification at all?

examine() runs on every message of multi-GB archives, and almost all of them are
ordinary mail. Every detector in ``DETECTORS`` needs at least one of the facts below
before it can answer, so a message with none of them is ordinary and no detector is
asked: no MIME walk, no body decoding. The screen reads header values already parsed
(``ParsedMessage.header`` is a cached dict lookup), one short subject pattern, and for
multipart mail the Content-Type header of each part the detectors would visit (the
same walk as ``evidence.walk``: into multiparts, never into returned messages). No
body is searched and nothing is decoded.

Keep this in step with the detectors: a new detector that answers on some other fact
adds that fact here (tests/test_dsn_reasons.py checks each detector's own cue gets through).
"""

from __future__ import annotations

import re

from hrdp.dsn.amazonses import looks_like_sns
from hrdp.dsn.autoreply import SUBJECT as AUTOREPLY_SUBJECT
from hrdp.dsn.evidence import DAEMON_TOKENS, MAX_DEPTH, MAX_PARTS, evidence
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
# Bounce and auto-reply subjects, as the detectors read them, searched in the
# lower-cased subject (their sources are written in lower case; a pattern that
# ignores case runs several times slower in Python's engine).
_SUBJECTS = tuple(
    re.compile(pattern.pattern)
    for pattern in (BOUNCE_SUBJECT, BOUNCE_SUBJECT_SUFFIX, AUTOREPLY_SUBJECT)
)


def _first(table: dict[str, list[str]], name: str) -> str:
    """The first raw value of a header (folded, encoded words kept; "" when absent)."""
    values = table.get(name)
    return values[0] if values else ""


def _content_type(value: str) -> str:
    """compat32's get_content_type() of a raw value: text/plain when absent or invalid."""
    ctype = value.partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


def _cue_header(table: dict[str, list[str]]) -> bool:
    if not _CUE_HEADERS.isdisjoint(table):  # present counts, even empty (Exchange's Is-Ndr)
        return True
    auto = _first(table, "auto-submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return True
    return _first(table, "precedence").strip().lower() == "auto_reply" or (
        "vacation" in _first(table, "x-mailer").lower()
    )


def _machine_sender(message: ParsedMessage, table: dict[str, list[str]], sender: str) -> bool:
    """MAILER-DAEMON / postmaster sender or null reverse path (RFC 5321 4.5.5); the
    address parsing of ``evidence`` runs only when a telltale substring is there."""
    envelope = (_first(table, "return-path"), message.mbox_from, message.envelope_from)
    raw = " ".join((sender, *(value or "" for value in envelope))).lower()
    if not any(token in raw for token in DAEMON_TOKENS):
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
    if lower.startswith("complaint about message from "):  # Microsoft JMRP
        return True
    return any(pattern.search(lower) for pattern in _SUBJECTS)


def could_be_notice(message: ParsedMessage) -> bool:
    """False only when no detector can recognise the message (an ordinary one)."""
    # The header table ParsedMessage built for header(): names lower-cased, raw values.
    table = message._raw_headers
    ctype = _content_type(_first(table, "content-type"))
    if ctype == "multipart/report":
        return True
    if _cue_header(table):
        return True
    sender = _first(table, "from")
    if "=?" in sender:  # an encoded display name ("Mail Delivery System" in base64)
        sender = message.header("From")
    if _machine_sender(message, table, sender):
        return True
    subject = message.header("Subject") if "subject" in table else ""
    if subject and _notice_subject(subject):
        return True
    if ctype.startswith("text/"):
        return looks_like_sns(sender.lower(), subject, message.msg)
    return ctype.startswith("multipart/") and _has_report_part(message.msg)
