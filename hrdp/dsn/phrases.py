"""What diagnostic texts say, per bounce reason (Sisimai's vocabulary).

One compiled pattern per reason, matched against the lower-cased diagnostic of one
recipient (at most ``reasons.DIAGNOSTIC_CAP`` characters, whitespace collapsed). The
phrases are the wording of real MTAs and providers, grouped as Sisimai groups them in its
Reason classes; "a ... b" pairs are written ``a.{0,200}?b`` (bounded: linear on any input).
The order in which reasons are tried lives in ``reasons.py``, not here. The tables are
split by side: ``phrases_recipient.py`` (address, mailbox, domain, receiving system) and
``phrases_sender.py`` (sender's host, reputation, authentication, content).

A diagnostic is asked about a dozen reasons on average, so ``said`` finds every reason
at once: one Hyperscan scan for all phrases where Hyperscan runs (``multiscan.py``),
else one regex search for all phrases, and at each place where one matches, only the
reasons with a phrase that opens with the characters there are asked.
"""

from __future__ import annotations

import re

from hrdp.dsn.decoding import any_of, opening, top_level
from hrdp.dsn.multiscan import Occurrences
from hrdp.dsn.phrases_recipient import RECIPIENT_PHRASES
from hrdp.dsn.phrases_sender import SENDER_PHRASES
from hrdp.dsn.status import COMMAND

# Each reason's phrases as written: the recipient's side (phrases_recipient.py), the
# sender's side (phrases_sender.py); one pattern per reason.
SOURCES: dict[str, tuple[str, ...]] = {**RECIPIENT_PHRASES, **SENDER_PHRASES}
PHRASES: dict[str, re.Pattern[str]] = {
    reason: any_of(*phrases) for reason, phrases in SOURCES.items()
}


# Phrases that rule a reason out although one of its phrases is there too.
EXCEPT_SOURCES: dict[str, tuple[str, ...]] = {
    # A limit on connections is toomanyconn, not a sending rate (speeding).
    "speeding": (r"connection rate limit",),
    "rejected": (r"5\.1\.0 address rejected|recipient address rejected|ip address rejected",),
}
EXCEPT: dict[str, re.Pattern[str]] = {
    reason: any_of(*phrases) for reason, phrases in EXCEPT_SOURCES.items()
}

# Answers of a directory lookup: only a recipient lookup says them (Domino's directory,
# Exchange's resolver, Google's "address couldn't be found", mail.local's user table),
# so they tell the recipient was refused at RCPT / delivery, not by a filter after DATA.
DIRECTORY = re.compile(
    r"not listed in (?:domino directory|public name & address book)|resolver\.adr\.recip"
    r"|because the address couldn.t be found|mail\.local: unknown user"
    r"|wasn.t found at the destination domain"
)
# The domain exists but names no mail exchanger (RFC 7505 null MX, or none found).
NO_MX = re.compile(r"null mx|couldn.t find a mail exchanger|no mx (?:found|record found) for")


def _key(alternative: str) -> str:
    """The first two characters of every match of ``alternative`` when both are fixed
    (literals, the first not repeated), else the first alone; "" when not even that."""
    first = opening(alternative)
    width = 2 if alternative[:1] == "\\" else 1
    if not first or alternative[width : width + 1] in ("?", "*", "+", "{"):
        return first
    return first + opening(alternative[width:])


def _by_opening() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Where the pattern of all phrases matches, who to ask: by the two characters
    there, the reasons with a phrase opening with them or with the first alone; by the
    first character, the reasons with a phrase of which only the first is known.

    Every phrase must open with a literal: then the engine also skips ahead to the
    first characters (a character set prefix) when it searches all of them at once."""
    pairs: dict[str, list[str]] = {}
    singles: dict[str, list[str]] = {}
    for reason, phrases in SOURCES.items():
        for alternative in (alt for phrase in phrases for alt in top_level(phrase)):
            key = _key(alternative)
            if not key:
                raise ValueError(f"{reason}: phrase without a literal opening: {alternative!r}")
            table = pairs if len(key) == 2 else singles
            if reason not in table.setdefault(key, []):
                table[key].append(reason)
    by_pair = {
        pair: tuple(r for r in SOURCES if r in found or r in singles.get(pair[0], ()))
        for pair, found in pairs.items()
    }
    return by_pair, {char: tuple(found) for char, found in singles.items()}


_BY_PAIR, _BY_FIRST = _by_opening()
_ANY = any_of(*(phrase for phrases in SOURCES.values() for phrase in phrases))


def says(reason: str, diagnostic: str) -> bool:
    """Whether the (lower-cased) diagnostic holds one of ``reason``'s phrases."""
    pattern = PHRASES.get(reason)
    if not diagnostic or pattern is None or not pattern.search(diagnostic):
        return False
    unless = EXCEPT.get(reason)
    return unless is None or not unless.search(diagnostic)


def said_by_regex(diagnostic: str) -> frozenset[str]:
    """Every reason ``says`` finds in the (lower-cased) diagnostic. A reason's pattern
    matches somewhere if and only if it matches at one of the places where the pattern
    of all phrases does, so those places are the only ones to look at."""
    found: set[str] = set()
    start = 0
    while (match := _ANY.search(diagnostic, start)) is not None:
        start = match.start()
        pair = diagnostic[start : start + 2]
        for reason in _BY_PAIR.get(pair) or _BY_FIRST.get(pair[:1], ()):
            if reason not in found and PHRASES[reason].match(diagnostic, start):
                found.add(reason)
        start += 1
    return frozenset(
        reason for reason in found if reason not in EXCEPT or not EXCEPT[reason].search(diagnostic)
    )


# What one scan of a (lower-cased) diagnostic finds: each reason's phrases, each
# exception (key "except:" + reason), a directory's answer, a missing MX, and a phrase
# naming the SMTP command that failed (status.py). Keys are not reasons when they hold
# a ":" or a "-".
_EXCEPTED = "except:"
SCAN: Occurrences[str] = Occurrences({
    **{reason: re.compile("|".join(phrases), re.DOTALL) for reason, phrases in SOURCES.items()},
    **{_EXCEPTED + reason: re.compile("|".join(phrases), re.DOTALL)
       for reason, phrases in EXCEPT_SOURCES.items()},
    "directory": DIRECTORY,
    "no-mx": NO_MX,
    "command": COMMAND,
})  # fmt: skip


def said_in(found: frozenset[str]) -> frozenset[str]:
    """The reasons of a ``SCAN.found`` answer, less those an exception rules out."""
    return frozenset(key for key in found if key in PHRASES and _EXCEPTED + key not in found)


def said(diagnostic: str) -> frozenset[str]:
    """Every reason ``says`` finds in the (lower-cased) diagnostic: one Hyperscan scan
    where it runs (``multiscan.py``), else ``said_by_regex``; the same answer either way."""
    found = SCAN.found(diagnostic)
    return said_by_regex(diagnostic) if found is None else said_in(found)
