"""The phrase rules' matcher on Hyperscan, a C library made for many patterns at once.

Hyperscan's wheel exists for x86-64 only; rule_set falls back to phrase_regex elsewhere.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from typing import cast

import hyperscan

from hrdp import hscache
from hrdp.errors import ScorerError

# Every character str.split() folds (str.isspace(): ASCII's six, \x1c-\x1f, and these),
# as one run of UTF-8 sequences: a space in a phrase stands for such a run in the text.
UNICODE_SPACES = "\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008" \
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
_SPACE_RUN = "(?:[\\x09-\\x0d\\x1c-\\x20]|" + "|".join(
    "".join(f"\\x{byte:02x}" for byte in char.encode()) for char in UNICODE_SPACES) + ")+"
_ASCII_ALNUM = frozenset(c for c in range(128) if chr(c).isalnum())


def _word_start(data: bytes, start: int) -> bool:
    """No letter or digit just before ``start`` in ``data`` (UTF-8)."""
    if start == 0:
        return True
    if data[start - 1] < 128:
        return data[start - 1] not in _ASCII_ALNUM
    lead = start - 1
    while lead > 0 and data[lead] & 0xC0 == 0x80:  # back over continuation bytes
        lead -= 1
    return not data[lead:start].decode("utf-8", "surrogatepass").isalnum()


def _expression(phrase: str) -> bytes:
    """``phrase`` as a Hyperscan pattern of its UTF-8 bytes, each hex-escaped (so any
    character, NUL too, stands for itself), a whitespace run for each space."""
    return _SPACE_RUN.join(
        "".join(f"\\x{byte:02x}" for byte in word.encode("utf-8", "surrogatepass"))
        for word in phrase.split(" ")).encode("ascii")


def _collect(ident: int, start: int, _end: int, _flags: int, found: object) -> None:
    cast("list[tuple[int, int]]", found).append((ident, start))


class HyperscanPhraseMatcher:
    """All phrases of the phrase rules in one pass over the lower-cased body, with
    Rule.hits' meaning (a phrase where a word starts, whitespace runs folded).

    Hyperscan (a C library made for many patterns at once) reports every place where
    a phrase is in the body's UTF-8 bytes, each space of a phrase matching a run of any
    whitespace str.split() folds, in about 4 us for 2 KB: folding the text first (one
    space per run) cost 10 us more, and a prefix-factored Python regex of the same
    phrases, tried at each of the ~650 word starts of such a body, took ~35 us. The few
    places found (leftmost start of each match) are checked for a word start here. A
    match's start is the same in the folded text's terms: the character before it is
    the same, or whitespace either way.

    A Hyperscan scan needs scratch space that no other scan uses at the same time: each
    thread makes its own on first use."""

    def __init__(self, owners: Mapping[str, Collection[int]]) -> None:
        self._phrases = [(phrase[0].isalnum(), frozenset(rules))
                         for phrase, rules in owners.items()]
        try:  # compiled once per machine: hrdp.hscache keeps it
            self._database = hscache.compile_database(
                [_expression(phrase) for phrase in owners], list(range(len(owners))),
                [hyperscan.HS_FLAG_SOM_LEFTMOST] * len(owners))
        except hyperscan.error as exc:
            raise ScorerError(f"rules: the phrases cannot be compiled ({exc})") from None
        self._local = threading.local()

    def _scratch(self) -> hyperscan.Scratch:
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._database.scratch.clone()
        return scratch

    def rules_hit(self, text: str) -> set[int]:
        """The indexes of the rules with a phrase in ``text`` (the body, lower-cased)."""
        data = text.encode("utf-8", "surrogatepass")
        found: list[tuple[int, int]] = []
        self._database.scan(data, _collect, context=found, scratch=self._scratch())
        hit: set[int] = set()
        for ident, start in found:
            at_word, rules = self._phrases[ident]
            if not at_word or _word_start(data, start):
                hit |= rules
        return hit
