"""Every reason's diagnostic phrases in one Hyperscan scan (``phrases.said``'s fast path).

Hyperscan is a C library made for many patterns over one text; its wheel exists for
x86-64 only, and ``phrases.py`` keeps its regex path for other machines and for text
that is not ASCII. A diagnostic of about 150 characters costs about 2 us here, against
10-25 us for the regex of all ~600 phrases.

The two engines agree because the phrase tables use only what both read alike:
literals, escaped punctuation, ".", classes, non-capturing groups, alternation and
(lazy) repeats, with DOTALL. Hyperscan has no look-behind: the word start written
``b(?<!\\wb)`` (see ``phrases_recipient.py``) becomes ``\\bb``. On ASCII text a
character is a byte and Python's ``\\w``, hence its word boundary, is ASCII's, so a
pattern matches somewhere in one engine if and only if it does in the other. Any other
construct is refused when the module is imported (``hyperscan_source``), so that a new
phrase cannot make the engines disagree silently.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import cast

import hyperscan

from hrdp.dsn.decoding import top_level

log = logging.getLogger(__name__)

# "b(?<!\wb)": a word starts at the letter (the codebase's "\b" that the regex engine can
# skip ahead to).
_WORD_START = re.compile(r"([a-z0-9])\(\?<!\\w\1\)")


def hyperscan_source(alternative: str) -> bytes:
    """``alternative`` (one top-level alternative of a phrase) for Hyperscan, or
    ValueError when it uses a construct whose meaning could differ between the engines
    (anchors, look-arounds, back-references, class escapes such as ``\\s``, flags)."""
    source = _WORD_START.sub(r"\\b\1", alternative)
    index = 0
    while index < len(source):
        char = source[index]
        if char == "\\":
            escaped = source[index + 1 : index + 2]
            if not escaped or (escaped.isalnum() and escaped != "b") or not escaped.isascii():
                raise ValueError(f"escape \\{escaped} in phrase {alternative!r}")
            index += 2
            continue
        if source.startswith("(?", index) and not source.startswith("(?:", index):
            raise ValueError(f"group {source[index : index + 4]!r} in phrase {alternative!r}")
        if char == "$" or (char == "^" and source[index - 1 : index] != "["):
            raise ValueError(f"anchor {char!r} in phrase {alternative!r}")
        if not char.isascii():
            raise ValueError(f"non-ASCII character in phrase {alternative!r}")
        index += 1
    return source.encode("ascii")


def _collect(ident: int, _start: int, _end: int, _flags: int, found: object) -> None:
    cast("set[int]", found).add(ident)


class ReasonScanner:
    """The reasons whose phrases an ASCII diagnostic holds, less those an exception
    rules out: ``phrases.said_by_regex``'s answer from one scan.

    Each reason is one match id (every alternative of its phrases), each exception
    another; HS_FLAG_SINGLEMATCH reports an id once, so a scan calls back once per
    reason found. The database is compiled on first use (about 0.2 s: a run of
    ordinary mail never pays it), and each thread gets its own scratch space."""

    def __init__(
        self, sources: Mapping[str, tuple[str, ...]], exceptions: Mapping[str, re.Pattern[str]]
    ) -> None:
        self._reasons = list(sources)
        self._excepted = list(exceptions)
        expressions: list[bytes] = []
        ids: list[int] = []
        for ident, reason in enumerate(self._reasons):
            for alternative in (alt for phrase in sources[reason] for alt in top_level(phrase)):
                expressions.append(hyperscan_source(alternative))
                ids.append(ident)
        for offset, reason in enumerate(self._excepted):
            for alternative in top_level(exceptions[reason].pattern):
                expressions.append(hyperscan_source(alternative))
                ids.append(len(self._reasons) + offset)
        self._expressions = expressions
        self._ids = ids
        self._database: hyperscan.Database | None = None
        self._failed = False
        self._lock = threading.Lock()
        self._local = threading.local()

    def _scratch(self) -> hyperscan.Scratch | None:
        """This thread's scratch space; None when the database cannot be built."""
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is not None:
            return scratch
        with self._lock:
            if self._database is None and not self._failed:
                database = hyperscan.Database()
                try:
                    database.compile(
                        expressions=self._expressions,
                        ids=self._ids,
                        elements=len(self._expressions),
                        flags=hyperscan.HS_FLAG_DOTALL | hyperscan.HS_FLAG_SINGLEMATCH,
                    )
                except hyperscan.error as exc:
                    self._failed = True
                    log.warning("DSN phrases: Hyperscan cannot compile them (%s): regex used", exc)
                else:
                    self._database = database
            if self._database is None:
                return None
            scratch = self._local.scratch = self._database.scratch.clone()
        return scratch

    def said(self, diagnostic: str) -> frozenset[str] | None:
        """The reasons found in ``diagnostic``; None when it is not ASCII or Hyperscan
        is unusable (the caller asks the regex then)."""
        if not diagnostic.isascii():
            return None
        scratch = self._scratch()
        if scratch is None or self._database is None:
            return None
        found: set[int] = set()
        self._database.scan(diagnostic.encode("ascii"), _collect, context=found, scratch=scratch)
        if not found:
            return frozenset()
        count = len(self._reasons)
        excepted = {self._excepted[ident - count] for ident in found if ident >= count}
        return frozenset(
            self._reasons[ident]
            for ident in found
            if ident < count and self._reasons[ident] not in excepted
        )
