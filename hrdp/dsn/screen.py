"""The cheap first look: can this message be a bounce or a notification at all?

examine() runs on every message of multi-GB archives, and almost all of them are
ordinary mail. Every detector in ``DETECTORS`` needs at least one of the facts below
before it can answer, so a message with none of them is ordinary and no detector is
asked: no MIME walk, no body decoding. Only header values already parsed are read, plus
(for multipart mail only) one substring search of the raw bytes for a report part.

Keep this in step with the detectors: a new detector that answers on some other fact
adds that fact here (tests/test_dsn.py checks each detector's own cue gets through).
"""

from __future__ import annotations

import re

from hrdp.dsn.amazonses import looks_like_sns
from hrdp.dsn.autoreply import SUBJECT as AUTOREPLY_SUBJECT
from hrdp.dsn.evidence import evidence
from hrdp.dsn.textscan import BOUNCE_SUBJECT, BOUNCE_SUBJECT_SUFFIX
from hrdp.message import ParsedMessage

# Headers that only machine-written notices carry: Exim / Google Groups / mail.ru
# recipient lists, Exchange NDR marks, fml, Apple's unsubscribe request, RFC 3834 and
# older auto-reply marks, Amazon SNS.
_CUE_HEADERS = (
    "x-failed-recipients",
    "x-mailer-daemon-recipients",
    "x-ms-exchange-message-is-ndr",
    "x-dsncontext",
    "x-mlserver",
    "x-apple-unsubscribe",
    "auto-submitted",
    "x-autoreply",
    "x-autorespond",
    "x-apple-action",
    "x-amz-sns-message-type",
)
# Report parts (RFC 3464, RFC 6533, RFC 5965, RFC 8098) anywhere in a multipart body.
_REPORT_PART = re.compile(
    rb"(?i)message/(?:global-)?(?:delivery-status|feedback-report|disposition-notification)"
)
# Literal pieces of those type names in their usual spellings: a plain substring test
# runs at memchr speed, so the case-insensitive pattern only runs on mail that has one.
_REPORT_HINTS = (
    b"-status", b"-Status", b"-STATUS", b"k-report", b"k-Report", b"K-REPORT",
    b"-notification", b"-Notification", b"-NOTIFICATION",
)  # fmt: skip
_JMRP_SUBJECT = re.compile(r"^complaint about message from ", re.IGNORECASE)


def _cue_header(message: ParsedMessage) -> bool:
    for name in _CUE_HEADERS:
        values = message.headers(name)  # present counts, even empty (Exchange's Is-Ndr)
        if values and not (name == "auto-submitted" and values[0].lower().startswith("no")):
            return True
    precedence = message.header("Precedence").lower()
    return precedence == "auto_reply" or "vacation" in message.header("X-Mailer").lower()


def could_be_notice(message: ParsedMessage) -> bool:
    """False only when no detector can recognise the message (an ordinary one)."""
    ev = evidence(message)
    main_type = ev.content_type.partition("/")[0]
    if ev.content_type == "multipart/report":
        return True
    if ev.daemon_sender or ev.null_sender or _cue_header(message):
        return True
    subject = ev.subject
    if subject and (
        BOUNCE_SUBJECT.search(subject)
        or BOUNCE_SUBJECT_SUFFIX.search(subject)
        or AUTOREPLY_SUBJECT.search(subject)
        or _JMRP_SUBJECT.match(subject)
    ):
        return True
    if main_type == "text":
        return looks_like_sns(ev)
    if main_type == "multipart":
        raw = message.raw
        return any(hint in raw for hint in _REPORT_HINTS) and bool(_REPORT_PART.search(raw))
    return False
