"""The phrase rules' matcher on Hyperscan, a C library made for many patterns at once.

Hyperscan's wheel exists for x86-64 only; rule_set falls back to phrase_regex elsewhere.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Mapping
from typing import cast

import hyperscan

from hrdp.errors import ScorerError

# ASCII whitespace (what str.split() folds) to a space; other bytes stay.
_SPACE_TABLE = bytes(32 if chr(c).isspace() else c for c in range(128)) + bytes(range(128, 256))
_SPACE_RUNS = re.compile(rb"  +")
_ASCII_ALNUM = frozenset(c for c in range(128) if chr(c).isalnum())


def fold(text: str) -> bytes:
    """``text`` as UTF-8 with each whitespace run one space: view.folded's phrases and word
    starts (an ASCII text goes through bytes.translate and one regex, 7 us for 2 KB where
    str.split and join take 10; a space may stay at either end, where no phrase ends)."""
    if text.isascii():
        return _SPACE_RUNS.sub(b" ", text.encode("ascii").translate(_SPACE_TABLE))
    return " ".join(text.split()).encode("utf-8", "surrogatepass")


def _word_start(data: bytes, start: int) -> bool:
    """No letter or digit just before ``start`` in ``data`` (UTF-8, as fold() makes it)."""
    if start == 0:
        return True
    if data[start - 1] < 128:
        return data[start - 1] not in _ASCII_ALNUM
    lead = start - 1
    while lead > 0 and data[lead] & 0xC0 == 0x80:  # back over continuation bytes
        lead -= 1
    return not data[lead:start].decode("utf-8", "surrogatepass").isalnum()


def _collect(ident: int, _start: int, end: int, _flags: int, found: object) -> None:
    cast("list[tuple[int, int]]", found).append((ident, end))


class HyperscanPhraseMatcher:
    """All phrases of the phrase rules in one pass over the lower-cased body, with
    Rule.hits' meaning (a phrase where a word starts, whitespace runs folded).

    Hyperscan (a C library made for many patterns at once) reports every place where
    each phrase ends in the folded body, in about a microsecond for 2 KB: a prefix-factored
    Python regex of the same phrases, tried at each of the ~650 word starts of such a
    body, took ~35 us. The few places found are checked for a word start here. Phrases
    are given as hex-escaped bytes, so any character (NUL too) stands for itself.

    A Hyperscan scan needs scratch space that no other scan uses at the same time: each
    thread makes its own on first use."""

    def __init__(self, owners: Mapping[str, Collection[int]]) -> None:
        phrases = [phrase.encode("utf-8", "surrogatepass") for phrase in owners]
        self._phrases = [
            (len(data), phrase[0].isalnum(), frozenset(rules))
            for data, (phrase, rules) in zip(phrases, owners.items(), strict=True)
        ]
        self._database = hyperscan.Database()
        try:
            self._database.compile(
                expressions=["".join(f"\\x{byte:02x}" for byte in data) for data in phrases],
                ids=list(range(len(phrases))), elements=len(phrases))
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
        data = fold(text)
        found: list[tuple[int, int]] = []
        self._database.scan(data, _collect, context=found, scratch=self._scratch())
        hit: set[int] = set()
        for ident, end in found:
            size, at_word, rules = self._phrases[ident]
            if not at_word or _word_start(data, end - size):
                hit |= rules
        return hit
