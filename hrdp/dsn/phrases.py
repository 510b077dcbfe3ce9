"""What diagnostic texts say, per bounce reason (Sisimai's vocabulary).

One compiled pattern per reason, matched against the lower-cased diagnostic of one
recipient (at most ``reasons.DIAGNOSTIC_CAP`` characters, whitespace collapsed). The
phrases are the wording of real MTAs and providers, grouped as Sisimai groups them in its
Reason classes; "a ... b" pairs are written ``a.{0,200}?b`` (bounded: linear on any input).
The order in which reasons are tried lives in ``reasons.py``, not here. The tables are
split by side: ``phrases_recipient.py`` (address, mailbox, domain, receiving system) and
``phrases_sender.py`` (sender's host, reputation, authentication, content).
"""

from __future__ import annotations

import re

from hrdp.dsn.decoding import any_of
from hrdp.dsn.phrases_recipient import RECIPIENT_PHRASES
from hrdp.dsn.phrases_sender import SENDER_PHRASES

# One pattern per reason: the recipient's side (phrases_recipient.py), the sender's
# side (phrases_sender.py).
PHRASES: dict[str, re.Pattern[str]] = {**RECIPIENT_PHRASES, **SENDER_PHRASES}


# Phrases that rule a reason out although one of its phrases is there too.
EXCEPT: dict[str, re.Pattern[str]] = {
    # A limit on connections is toomanyconn, not a sending rate (speeding).
    "speeding": any_of(r"connection rate limit"),
    "rejected": any_of(r"5\.1\.0 address rejected|recipient address rejected|ip address rejected"),
}


def says(reason: str, diagnostic: str) -> bool:
    """Whether the (lower-cased) diagnostic holds one of ``reason``'s phrases."""
    pattern = PHRASES.get(reason)
    if not diagnostic or pattern is None or not pattern.search(diagnostic):
        return False
    unless = EXCEPT.get(reason)
    return unless is None or not unless.search(diagnostic)
