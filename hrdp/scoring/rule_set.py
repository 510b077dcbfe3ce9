"""Rules of the ``rules`` scorer, and the RuleSet that runs them in one pass over a message.

A Rule is a name, a weight and one test of a KIND: a header field (pattern, or presence
and absence), decoded body text, raw body (HTML kept), URIs, phrases, or a named check
(rule_checks.py). RuleSet compiles a list of rules so each header is read once and every
phrase is found in one scan (PhraseMatcher); its hits are those of Rule.hits, faster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hrdp.errors import ScorerError
from hrdp.scoring.message_view import MAX_HEADER, MessageView
from hrdp.scoring.rule_checks import CHECKS

KINDS = ("header", "body", "rawbody", "uri", "phrases", "check")


@dataclass(frozen=True)
class Rule:
    """One rule: a name, a weight, and one test of ``kind`` on ``target``."""

    name: str
    weight: float
    kind: str  # one of KINDS
    target: str = ""  # header name (header rules) or check name (check rules)
    pattern: re.Pattern[str] | None = None
    exists: bool | None = None  # header rules without a pattern: hit on presence/absence
    description: str = ""
    phrases: tuple[str, ...] = ()

    def hits(self, view: MessageView) -> bool:
        if self.kind == "check":
            return CHECKS[self.target](view)
        if self.kind == "header":
            values = [value[:MAX_HEADER] for value in view.message.headers(self.target)]
            if self.pattern is None:
                return bool(values) == self.exists
            return any(self.pattern.search(value) for value in values)
        if self.kind == "phrases":
            folded = view.folded
            return any(_at_word_start(folded, phrase) for phrase in self.phrases)
        assert self.pattern is not None
        if self.kind == "uri":
            return any(self.pattern.search(uri) for uri in view.uris)
        return self.pattern.search(view.body if self.kind == "body" else view.rawbody) is not None

    def show(self) -> str:
        return f"{self.name}({self.weight:g})"


def _at_word_start(text: str, phrase: str) -> bool:
    """``phrase`` in ``text`` where a word starts ("cialis" is not in "specialist")."""
    start = text.find(phrase)
    while start > 0 and phrase[0].isalnum() and text[start - 1].isalnum():
        start = text.find(phrase, start + 1)
    return start != -1


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


class PhraseMatcher:
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


class RuleSet:
    """Rules compiled for one pass over a message: header rules grouped by field (each
    read once), every phrase in one PhraseMatcher, URI rules skipped when there is no
    URI. ``hits(view)`` is ``[rule for rule in rules if rule.hits(view)]``, faster."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._headers: dict[str, list[tuple[int, Rule]]] = {}
        self._tests: list[tuple[int, Callable[[MessageView], bool]]] = []
        self._uris: list[tuple[int, re.Pattern[str]]] = []
        owners: dict[str, set[int]] = {}
        for index, rule in enumerate(self.rules):
            if rule.kind == "header":
                self._headers.setdefault(rule.target.lower(), []).append((index, rule))
            elif rule.kind == "phrases":
                for phrase in rule.phrases:
                    owners.setdefault(phrase, set()).add(index)
            elif rule.kind == "uri" and rule.pattern is not None:
                self._uris.append((index, rule.pattern))
            else:
                self._tests.append((index, rule.hits))  # checks, body and rawbody regexes
        try:
            self._phrases = PhraseMatcher(owners) if owners else None
        except RecursionError:
            raise ScorerError("rules: too many phrases inside one another") from None

    def hits(self, view: MessageView) -> list[Rule]:
        hit = {index for index, test in self._tests if test(view)}
        for name, rules in self._headers.items():
            values = [value[:MAX_HEADER] for value in view.headers(name)]
            for index, rule in rules:
                if rule.pattern is None:
                    if bool(values) == rule.exists:
                        hit.add(index)
                elif any(map(rule.pattern.search, values)):
                    hit.add(index)
        if self._phrases is not None:
            hit |= self._phrases.rules_hit(view.lowered)
        uris = set(view.uris) if self._uris else ()  # a link is often repeated
        hit.update(index for index, pattern in self._uris if any(map(pattern.search, uris)))
        return [rule for index, rule in enumerate(self.rules) if index in hit]
