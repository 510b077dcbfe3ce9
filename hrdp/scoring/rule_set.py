"""Rules of the ``rules`` scorer, and the RuleSet that runs them in one pass over a message.

A Rule is a name, a weight and one test of a KIND: a header field (pattern, or presence
and absence), decoded body text, raw body (HTML kept), URIs, phrases, or a named check
(rule_checks.py). RuleSet compiles a list of rules so each header is read once and every
phrase is found in one scan (PhraseMatcher); its hits are those of Rule.hits, faster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hrdp.errors import ScorerError
from hrdp.scoring.message_view import MAX_HEADER, MessageView
from hrdp.scoring.rule_checks import CHECKS

__all__ = ["KINDS", "PhraseMatcher", "Rule", "RuleSet"]

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


try:  # Hyperscan's wheel is x86-64 only: elsewhere the regex matcher gives the same hits
    from hrdp.scoring.phrase_hyperscan import HyperscanPhraseMatcher as PhraseMatcher
except ImportError:  # tests/test_rules_scorer.py runs hrdp without it too
    from hrdp.scoring.phrase_regex import RegexPhraseMatcher as PhraseMatcher  # type: ignore[assignment]


# ASCII characters that a case-blind regex matches only where the lower-cased text has
# the same character: all but "i" and "s", for which re also matches U+0130 and U+0131,
# and U+017F, that str.lower() does not turn into them (tests/test_rules_scorer.py checks
# the rest against every code point).
_CASELESS_SAFE = frozenset(chr(c) for c in range(128)) - set("iIsS")


def _longest_run(items: Any, caseless: bool, literal: object) -> str:
    """The longest run of literal items in ``items`` (lower-cased and only of
    _CASELESS_SAFE characters when ``caseless``)."""
    runs, run = [""], []
    for op, value in items:
        char = chr(value) if op is literal else ""
        if char and (not caseless or char.lower() in _CASELESS_SAFE):
            run.append(char.lower() if caseless else char)
            continue
        runs.append("".join(run))
        run = []
    runs.append("".join(run))
    return max(runs, key=len)


def required_texts(pattern: re.Pattern[str]) -> tuple[tuple[str, ...], bool] | None:
    """(texts, caseless): every match of ``pattern`` holds one of ``texts``, runs of
    literal characters at its top level (the longest run, or one run from each branch
    of an alternation ``a|b``); with ``caseless``, lower-cased and to be looked for in
    the lower-cased text. ``text in subject`` (a C-speed search) is then needed for a
    match, and most texts lack it. None when there are no such texts, when the regex
    is anchored at the start (re tries it at that one place only: nothing to save), or
    when the regex parser's internals are not the ones known here."""
    try:
        from re import _parser  # type: ignore[attr-defined]  # private: guarded

        parsed = _parser.parse(pattern.pattern, pattern.flags)
        caseless = bool(parsed.state.flags & re.IGNORECASE)
        if parsed.data and parsed.data[0] in ((_parser.AT, _parser.AT_BEGINNING_STRING), (
                _parser.AT, _parser.AT_BEGINNING)) and not parsed.state.flags & re.MULTILINE:
            return None
        literal, branch = _parser.LITERAL, _parser.BRANCH
        run = _longest_run(parsed.data, caseless, literal)
        choices: list[tuple[str, ...]] = [(run,)] if run else []
        for op, value in parsed.data:
            if op is branch:
                texts = tuple(_longest_run(alternative, caseless, literal)
                              for alternative in value[1])
                if all(texts):
                    choices.append(tuple(dict.fromkeys(texts)))
    except Exception:  # another Python's parser: no prefilter, the same hits
        return None
    if not choices:
        return None
    # The rarest-looking: the one whose shortest text is longest, fewer texts first.
    return max(choices, key=lambda texts: (min(map(len, texts)), -len(texts))), caseless


def required_text(pattern: re.Pattern[str]) -> tuple[str, bool] | None:
    """required_texts() when that is one text."""
    required = required_texts(pattern)
    if required is None or len(required[0]) != 1:
        return None
    return required[0][0], required[1]


def searcher(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    """``pattern.search(text) is not None``, searched only where one of its
    required_texts() is (a header value, a URI)."""
    search = pattern.search
    required = required_texts(pattern)
    if required is None:
        return lambda text: search(text) is not None
    texts, caseless = required
    if len(texts) == 1:
        needle = texts[0]
        if caseless:
            return lambda text: needle in text.lower() and search(text) is not None
        return lambda text: needle in text and search(text) is not None
    if caseless:
        return lambda text: (any(map(text.lower().__contains__, texts))
                             and search(text) is not None)
    return lambda text: any(map(text.__contains__, texts)) and search(text) is not None


def _test(rule: Rule) -> Callable[[MessageView], bool]:
    """A check's or a body regex's test without Rule.hits' dispatch on the kind. A body
    regex is searched for only in bodies that hold one of its required_texts()."""
    if rule.kind == "check":
        return CHECKS[rule.target]
    if rule.kind not in ("body", "rawbody") or rule.pattern is None:
        return rule.hits
    search = rule.pattern.search
    required = required_texts(rule.pattern)
    if rule.kind == "body":
        if required is None:
            return lambda view: search(view.body) is not None
        texts, caseless = required
        if caseless:
            return lambda view: (any(map(view.lowered.__contains__, texts))
                                 and search(view.body) is not None)
        return lambda view: (any(map(view.body.__contains__, texts))
                             and search(view.body) is not None)
    if required is None:
        return lambda view: search(view.rawbody) is not None
    texts, caseless = required
    if caseless:
        return lambda view: (any(map(view.rawbody_lowered.__contains__, texts))
                             and search(view.rawbody) is not None)
    return lambda view: (any(map(view.rawbody.__contains__, texts))
                         and search(view.rawbody) is not None)


class RuleSet:
    """Rules compiled for one pass over a message: header rules grouped by field (each
    read once), every phrase in one PhraseMatcher, URI rules skipped when there is no
    URI. ``hits(view)`` is ``[rule for rule in rules if rule.hits(view)]``, faster.

    What a header value or a URI hits is a function of that text alone, and mail of a
    batch repeats them (in the SpamAssassin corpus 82% of X-Mailer values, 67% of To
    values, 39% of URIs): the answers for short ones are kept, up to MEMO of them for
    each field (and for URIs), so that fields whose values hardly repeat (Message-ID,
    Date) do not push out the answers of those that do."""

    MEMO = 1024  # texts of one field whose answers are kept; then all are forgotten
    MEMO_CHARS = 300  # longer texts are rarely repeated: not kept

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._fields: dict[str, list[tuple[int, Callable[[str], bool]]]] = {}  # header tests
        self._presence: list[tuple[str, int, bool]] = []  # header rules without a pattern
        self._tests: list[tuple[int, Callable[[MessageView], bool]]] = []
        self._uris: list[tuple[int, Callable[[str], bool]]] = []
        owners: dict[str, set[int]] = {}
        for index, rule in enumerate(self.rules):
            if rule.kind == "header" and rule.pattern is not None:
                self._fields.setdefault(rule.target.lower(), []).append(
                    (index, searcher(rule.pattern)))
            elif rule.kind == "header":
                self._presence.append((rule.target.lower(), index, bool(rule.exists)))
            elif rule.kind == "phrases":
                for phrase in rule.phrases:
                    owners.setdefault(phrase, set()).add(index)
            elif rule.kind == "uri" and rule.pattern is not None:
                self._uris.append((index, searcher(rule.pattern)))
            else:
                self._tests.append((index, _test(rule)))  # checks, body and rawbody regexes
        try:
            self._phrases = PhraseMatcher(owners) if owners else None
        except RecursionError:  # the regex matcher nests a group per phrase inside another
            raise ScorerError("rules: too many phrases inside one another") from None
        # field ("" for URIs): {text: the rules it hits}
        self._memo: dict[str, dict[str, frozenset[int]]] = {
            name: {} for name in [*self._fields, ""]}

    def _text_hits(self, field: str, text: str) -> frozenset[int]:
        """The rules on header ``field`` (on URIs when "") whose pattern is in ``text``."""
        memo = self._memo[field]
        found = memo.get(text)
        if found is None:
            tests = self._fields[field] if field else self._uris
            found = frozenset([index for index, test in tests if test(text)])
            if len(text) <= self.MEMO_CHARS:
                if len(memo) >= self.MEMO:
                    memo.clear()
                memo[text] = found
        return found

    def hits(self, view: MessageView) -> list[Rule]:
        return [self.rules[index] for index in self.hit_indexes(view)]

    def hit_indexes(self, view: MessageView) -> list[int]:
        """The indexes in ``rules`` of the rules ``view`` hits, in order."""
        hit = {index for index, test in self._tests if test(view)}
        message = view.message
        table = message._raw_headers  # a field written at all has a value there
        for name, index, exists in self._presence:
            if (name in table) == exists:
                hit.add(index)
        text_hits = self._text_hits
        for name in self._fields:
            written = table.get(name)
            if written is not None:  # Rule.hits' values: one decoded and cached, as most are
                values = [message.header(name)] if len(written) == 1 else message.headers(name)
                for value in values:
                    hit |= text_hits(name, value[:MAX_HEADER])
        if self._phrases is not None:
            hit |= self._phrases.rules_hit(view.lowered)
        for uri in set(view.uris) if self._uris else ():  # a link is often repeated
            hit |= text_hits("", uri)
        return sorted(hit)
