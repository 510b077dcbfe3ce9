"""The phrase rules' matcher without Hyperscan: one prefix-factored Python regex.

hrdp uses phrase_hyperscan.HyperscanPhraseMatcher where the Hyperscan wheel exists (x86-64);
this one gives the same hits everywhere else, about 40 us slower on a 2 KB body
(tests/test_rules_scorer.py runs both on the same texts).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any


def _trie(phrases: Collection[str]) -> str:
    """One regex for ``phrases``, factored by common prefix so re tries each character of
    the text against one branch per next character (a space in a phrase matches a run of
    whitespace). Where one phrase ends inside another the longer is tried first."""
    root: dict[str, Any] = {}
    for phrase in phrases:
        node = root
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}  # a phrase ends here
    return _trie_node(root)


def _trie_node(node: dict[str, Any]) -> str:
    branches = []
    for char, child in sorted(node.items()):
        if char:
            chain = [char]
            while len(child) == 1 and "" not in child:  # a plain run: no recursion per char
                char, child = next(iter(child.items()))
                chain.append(char)
            text = "".join(r"\s+" if c == " " else re.escape(c) for c in chain)
            branches.append(text + _trie_node(child))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
    return f"(?:{body})?" if "" in node else body


class RegexPhraseMatcher:
    """All phrases of the phrase rules in one pass over the lower-cased body, with
    Rule.hits' meaning (a phrase where a word starts, whitespace runs folded), instead of
    one str.find per phrase.

    Phrases that open with a letter or digit make one prefix-factored regex, tried only
    where a word can start: at the start and after a character that is not a letter or
    digit. To make those few for re's C loop to find, the text is first translated
    (bytes.translate of its UTF-8: ASCII only, in C): whitespace becomes a space and every
    other ASCII character no phrase holds becomes ``mark``. The regex is then tried after
    a space, ``mark`` or the punctuation the phrases hold, and after non-ASCII characters
    that are not alphanumeric. None of this changes where a phrase matches. Phrases
    opening with anything else ('"remove"', "!!!") may start anywhere: one regex per
    opening character.

    A match is the longest phrase at its place; the phrases it starts with are there too,
    so each phrase stands for their rules as well. Each search goes on one character past
    the start of its last match, so overlapping phrases are all found."""

    def __init__(self, owners: Mapping[str, Collection[int]]) -> None:
        self._rules = {
            phrase: frozenset(index for end in range(1, len(phrase) + 1)
                              for index in owners.get(phrase[:end], ()))
            for phrase in owners
        }
        chars = set("".join(owners))
        mark = next(chr(c) for c in range(32) if chr(c) not in chars and not chr(c).isspace())
        table = [c if chr(c).isalnum() or chr(c) in chars else ord(mark) for c in range(128)]
        self._table = bytes(32 if chr(c).isspace() else table[c] for c in range(128)) + bytes(
            range(128, 256))
        punctuation = sorted(c for c in chars if c.isascii() and not c.isalnum() and c != " ")
        opening: dict[str, list[str]] = {}
        for phrase in owners:
            opening.setdefault("" if phrase[0].isalnum() else phrase[0], []).append(phrase)
        words = opening.pop("", [])
        self._patterns = [re.compile(f"({_trie(group)})") for group in opening.values()]
        self._start = self._non_ascii = None
        if words:
            trie = _trie(words)
            self._start = re.compile(trie)
            before = re.escape("".join([" ", mark, *punctuation]))
            self._patterns.append(re.compile(f"[{before}]({trie})"))
            self._non_ascii = re.compile(rf"[^\x00-\x7f\w]({trie})")  # not ASCII, not alnum

    def rules_hit(self, text: str) -> set[int]:
        """The indexes of the rules with a phrase in ``text`` (the body, lower-cased)."""
        patterns = self._patterns
        if not text.isascii() and self._non_ascii is not None:
            patterns = [*patterns, self._non_ascii]
        data = text.encode("utf-8", "surrogatepass").translate(self._table)
        text = data.decode("utf-8", "surrogatepass")
        found: set[str] = set()
        if self._start is not None and (match := self._start.match(text)) is not None:
            found.add(match.group())
        for pattern in patterns:
            search, pos = pattern.search, 0
            while (match := search(text, pos)) is not None:
                found.add(match.group(1))
                pos = match.start(1) + 1
        hit: set[int] = set()
        for phrase in found:
            hit |= self._rules[" ".join(phrase.split())]
        return hit
