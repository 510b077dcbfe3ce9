"""Auto-replies (vacation, out-of-office): machine-written answers that are not bounces.

Asked last, so that a real bounce carrying ``Auto-Submitted`` stays a bounce, and never
for MAILER-DAEMON / postmaster senders (as Sisimai decides).
"""

from __future__ import annotations

import re

from hrdp.dsn.evidence import evidence
from hrdp.dsn.report import Finding
from hrdp.message import ParsedMessage

# Subject openings of vacation responders: Outlook / Exchange ("Automatic reply:",
# "Auto:"), German, French, Spanish, Italian, Dutch, Japanese and Chinese Exchange
# translations, Lotus Notes ("<name> is out of the office."), generic tools.
# "\bis" is written "i(?<!\wi)s": a pattern that opens with an assertion makes the
# engine try every position; opening with a literal, it skips ahead to an "i".
SUBJECT = re.compile(
    r"^(?:auto(?:matic|matische)?[- ]?(?:reply|response|respons|antwort)|auto:|"
    r"autoreply|out of (?:the )?office|abwesenheitsnotiz|abwesend|"
    r"r[ée]ponse automatique|respuesta autom[áa]tica|risposta automatica|"
    r"automatisch antwoord|自動応答|自动回复|自動返信|on vacation|vacation reply|"
    r"away from (?:the|my) office)"
    r"|i(?<!\wi)s out of (?:the )?office\b",
    re.IGNORECASE,
)
_REPLY = re.compile(r"^(?:re|aw|sv|fwd?|wg)\s*:", re.IGNORECASE)


def _rfc3834_headers(message: ParsedMessage) -> bool:
    """RFC 3834 Auto-Submitted: auto-replied, and the older conventions: X-Autoreply
    (Cyrus, Exim vacation), X-Autorespond, Precedence: auto_reply, X-Apple-Action:
    vacation (macOS Server), X-Mailer: vacation."""
    if message.header("Auto-Submitted").lower().startswith("auto-replied"):
        return True
    if message.header("X-Autoreply") or message.header("X-Autorespond"):
        return True
    if message.header("Precedence").lower() == "auto_reply":
        return True
    if message.header("X-Apple-Action").lower() == "vacation":
        return True
    return "vacation" in message.header("X-Mailer").lower()


class AutoReplyDetector:
    """RFC 3834 auto-responses and vacation / out-of-office replies without its
    headers (recognised by subject), from a sender that is not a mailer daemon."""

    name = "autoreply"

    def detect(self, message: ParsedMessage) -> Finding | None:
        ev = evidence(message)
        if ev.daemon_sender:
            return None
        if _rfc3834_headers(message):
            return Finding(notification="autoreply")
        # A person's reply about someone's absence ("Re: ... is out of the office") is
        # not an auto-reply; responders put their phrase first.
        if SUBJECT.search(ev.subject) and not _REPLY.match(ev.subject):
            return Finding(notification="autoreply")
        return None
