"""The last resort for bounces no format reader knows: who sent it and how it reads.

Sisimai and flufl.bounce both end with such a catch-all. A sender or a subject alone
is never enough: a postmaster writes ordinary mail too, and people write subjects
like "Delivery problem" (measured on the nonbounces corpus).
"""

from __future__ import annotations

import re

from hrdp.dsn.evidence import evidence
from hrdp.dsn.report import Finding
from hrdp.dsn.textscan import (
    BOUNCE_SUBJECT,
    BOUNCE_SUBJECT_SUFFIX,
    QMAIL_LINE,
    says_bounce,
    text_report,
)
from hrdp.message import ParsedMessage

_REPLY = re.compile(r"^re\s*:", re.IGNORECASE)
# A bounce says what failed near its top: the phrase search reads the notice's first
# 8 KiB (spam from a null sender carries 40 KiB bodies that would be searched whole).
PHRASE_SCAN = 8 * 1024


class BounceHeuristicDetector:
    """A bounce-like sender (MAILER-DAEMON, postmaster, "Mail Delivery System"; RFC
    5321 4.5.5 null reverse path) with a bounce subject (Sisimai's subject table) or a
    bounce phrase in the notice; or, from any sender, a bounce subject (not a reply)
    together with a bounce phrase, as in a forwarded bounce."""

    name = "heuristic"

    def detect(self, message: ParsedMessage) -> Finding | None:
        ev = evidence(message)
        sender = ev.daemon_sender or ev.null_sender
        subject = bool(BOUNCE_SUBJECT_SUFFIX.search(ev.subject)) or (
            bool(BOUNCE_SUBJECT.search(ev.subject)) and not _REPLY.match(ev.subject)
        )
        if not (sender or subject):
            return None
        if sender and subject:
            return Finding(dsn=text_report(ev, self.name))
        if says_bounce(ev.section_lower[:PHRASE_SCAN]):
            return Finding(dsn=text_report(ev, self.name))
        # qmail's "<addr>:" recipient line from a mailer daemon, whatever the language.
        if sender and QMAIL_LINE.search(ev.section):
            return Finding(dsn=text_report(ev, self.name))
        return None
