"""Which of several regular expressions occur in a text: one Hyperscan scan for all.

Hyperscan is a C library made for many patterns over one text; its wheel exists for
x86-64 only. Where it is missing, for text that is not ASCII, and until a set has been
asked often enough to be worth compiling, ``Occurrences.found`` returns None and the
caller searches with Python's regex as before. Both engines give the same answer:

- the text is ASCII: a character is a byte, and Python's ``\\w``, ``\\b`` and case
  folding are ASCII's there;
- a pattern uses only what both engines read alike: literals, escaped punctuation,
  ".", classes, groups, alternation, repeats, ``\\w \\W \\b \\B \\n \\t \\r \\f``;
  ``\\s \\S \\d \\D`` are written out as Python reads them on ASCII (its ``\\s``
  includes \\x1c-\\x1f). The word start ``b(?<!\\wb)`` becomes ``\\bb``. Anything
  else (look-arounds, anchors, back-references, possessive repeats, inline flags) is
  refused when a set is made (``hyperscan_source``), so that the engines cannot come to
  disagree silently;
- a repeat bounded above 16 (the ``.{0,200}?`` gaps of the phrase tables) makes most of
  Hyperscan's compile time: it is compiled unbounded, which can only find more, and a
  key found only through such an alternative is confirmed by Python's regex.

Compiling takes 20-70 ms, about what the regex spends on a megabyte of text: a set is
compiled once it has been asked about ``WARM_UP`` characters (the regex answers until
then), so that a short run never pays it and a long one pays at most about twice what
the best choice would. It is compiled once per machine (hrdp.hscache keeps it for other
processes), with scratch space per thread.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from typing import Generic, TypeVar, cast

from hrdp.dsn.decoding import top_level

try:  # Hyperscan's wheel exists for x86-64 only
    import hyperscan

    from hrdp import hscache
except ImportError:  # pragma: no cover - other machines
    hyperscan = None  # type: ignore[assignment]  # no wheel: every set answers None, the regex

log = logging.getLogger(__name__)

K = TypeVar("K")

WARM_UP = 1_000_000  # characters a set answers by regex before it is compiled (tests: 0)
_RELAXED_ABOVE = 16  # a repeat bounded above this is compiled unbounded, then confirmed

# "b(?<!\wb)": a word starts at the letter, written so that Python's engine can skip
# ahead to the letter.
_WORD_START = re.compile(r"([A-Za-z0-9])\(\?<!\\w\1\)")
_REPEAT = re.compile(r"\{(\d+)(,?)(\d*)\}")
# Python's \s and \d on ASCII text, in and out of a class.
_ESCAPES = {"s": "\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f ", "d": "0-9"}
_KEPT = frozenset("wWbBntrf")
_FLAGS = re.IGNORECASE | re.DOTALL | re.MULTILINE | re.UNICODE  # MULTILINE: no anchors anyway


def hyperscan_source(alternative: str) -> tuple[bytes, bool]:
    """``alternative`` (one top-level alternative of a pattern) written for Hyperscan,
    and whether a large bounded repeat was unbounded in it.
    ValueError for a construct whose meaning could differ between the engines."""
    source = _WORD_START.sub(r"\\b\1", alternative)
    out: list[str] = []
    relaxed = False
    index, in_class = 0, False
    while index < len(source):
        char = source[index]
        if not char.isascii():
            raise ValueError(f"non-ASCII character in {alternative!r}")
        if char == "\\":
            out.append(_escape(source[index + 1 : index + 2], in_class, alternative))
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if source.startswith(("[]", "[^]"), index):
                raise ValueError(f"class opening with ']' in {alternative!r}")
        elif char == "{":
            repeat = _REPEAT.match(source, index)
            if repeat is None:
                raise ValueError(f"brace that is no repeat in {alternative!r}")
            low, comma, high = repeat.groups()
            if comma and high and int(high) > _RELAXED_ABOVE:
                out.append(f"{{{low},}}")
                relaxed = True
            else:
                out.append(repeat.group(0))
            index = repeat.end()
            if source.startswith("+", index):
                raise ValueError(f"possessive repeat in {alternative!r}")
            continue
        elif source.startswith("(?", index) and not source.startswith("(?:", index):
            raise ValueError(f"group {source[index : index + 4]!r} in {alternative!r}")
        elif char in "^$":
            raise ValueError(f"anchor {char!r} in {alternative!r}")
        elif char in "*+?" and source.startswith("+", index + 1):
            raise ValueError(f"possessive repeat in {alternative!r}")
        out.append(char)
        index += 1
    return "".join(out).encode("ascii"), relaxed


def _escape(escaped: str, in_class: bool, alternative: str) -> str:
    """One escape of a pattern for Hyperscan (``escaped``: the character after "\\")."""
    if escaped in _ESCAPES:
        body = _ESCAPES[escaped]
        return body if in_class else f"[{body}]"
    if escaped.lower() in _ESCAPES and not in_class:
        return f"[^{_ESCAPES[escaped.lower()]}]"
    if escaped and escaped.isascii() and (escaped in _KEPT or not escaped.isalnum()):
        return "\\" + escaped
    raise ValueError(f"escape \\{escaped} in {alternative!r}")


def _collect(ident: int, _start: int, _end: int, _flags: int, found: object) -> None:
    cast("set[int]", found).add(ident)


class Occurrences(Generic[K]):
    """Which keys' patterns match somewhere in an ASCII text, from one scan: each key
    is one match id (HS_FLAG_SINGLEMATCH: reported once), its relaxed alternatives
    another, confirmed by the key's own pattern when only they are found."""

    def __init__(self, patterns: Mapping[K, re.Pattern[str]]) -> None:
        self._keys = list(patterns)
        self._patterns = [patterns[key] for key in self._keys]
        self._expressions: list[bytes] = []
        self._ids: list[int] = []
        self._flags: list[int] = []
        for ident, pattern in enumerate(self._patterns):
            if pattern.flags & ~_FLAGS:
                raise ValueError(f"flags of {pattern.pattern!r}: {pattern.flags:#x}")
            for alternative in top_level(pattern.pattern):
                expression, relaxed = hyperscan_source(alternative)
                self._expressions.append(expression)
                self._ids.append(ident + len(self._keys) if relaxed else ident)
                self._flags.append(pattern.flags)
        self._asked = 0
        self._database: hyperscan.Database | None = None
        self._failed = hyperscan is None
        self._lock = threading.Lock()
        self._local = threading.local()

    def _hs_flags(self, flags: int) -> int:
        assert hyperscan is not None
        found = hyperscan.HS_FLAG_SINGLEMATCH
        if flags & re.IGNORECASE:
            found |= hyperscan.HS_FLAG_CASELESS
        if flags & re.DOTALL:
            found |= hyperscan.HS_FLAG_DOTALL
        return found

    def _compiled(self) -> hyperscan.Database | None:
        with self._lock:
            if self._database is None and not self._failed:
                try:
                    database = hscache.compile_database(
                        self._expressions, self._ids,
                        [self._hs_flags(flags) for flags in self._flags])
                except hyperscan.error as exc:
                    self._failed = True
                    log.warning("Hyperscan cannot compile these patterns (%s): regex used", exc)
                else:
                    self._database = database
            return self._database

    def _scratch(self, database: hyperscan.Database) -> hyperscan.Scratch:
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = database.scratch.clone()
        return scratch

    def by_regex(self, text: str) -> frozenset[K]:
        """What ``found`` answers, from Python's regex: one search per key."""
        return frozenset(
            key
            for key, pattern in zip(self._keys, self._patterns, strict=True)
            if pattern.search(text)
        )

    def _search(self, ident: int, text: str) -> bool:
        return self._patterns[ident - len(self._keys)].search(text) is not None

    def found(self, text: str) -> frozenset[K] | None:
        """The keys whose pattern matches somewhere in ``text``; None when the caller
        must search with the regex (text not ASCII, set not compiled, no Hyperscan)."""
        database = self._database
        if database is None:
            self._asked += len(text)  # only decides when to compile: a lost update is harmless
            if self._failed or self._asked <= WARM_UP or not text.isascii():
                return None
            database = self._compiled()
            if database is None:
                return None
        elif not text.isascii():
            return None
        hits: set[int] = set()
        database.scan(text.encode("ascii"), _collect, context=hits, scratch=self._scratch(database))
        count = len(self._keys)
        found = {ident for ident in hits if ident < count}
        for ident in hits:  # found only by a relaxed alternative: the regex decides
            if ident >= count and ident - count not in found and self._search(ident, text):
                found.add(ident - count)
        return frozenset(self._keys[ident] for ident in found)
