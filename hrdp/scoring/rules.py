"""The ``rules`` scorer: transparent weighted rules, as SpamAssassin's, with no training.

Each rule has a name, a weight and one test; a message's value is the sum of the
weights of the rules it hits, spam at 5.0 (SpamAssassin's required_score) unless
``--threshold`` says otherwise. Score.detail lists the hits as ``NAME(weight)``.

The built-in rules live in rules_builtin.toml (regex rules on headers, decoded body
text, raw HTML and URIs) and, for tests a regex cannot say, in CHECKS below; their
weights were fitted on one half of the SpamAssassin public corpus and checked on the
other (docs/scorers.md). ``--scorer-opt file=PATH`` adds a user rules file in the same
TOML format; a rule there with a built-in's name and only a weight re-weights it
(weight 0 turns it off), a whole rule with a built-in's name replaces it. Rules need
no network and keep no state between messages.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from email.utils import parsedate_tz
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score
from hrdp.scoring.tokens import ADDRESS, MAX_HEADER, MessageView

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

BUILTIN_FILE = Path(__file__).with_name("rules_builtin.toml")
DEFAULT_THRESHOLD = 5.0  # SpamAssassin's required_score
KINDS = ("header", "body", "rawbody", "uri", "phrases", "check")
MAX_WEIGHT = 100.0
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}\Z")
_FREEMAIL = frozenset({"yahoo.com", "hotmail.com", "aol.com", "msn.com", "gmail.com",
                       "mail.com", "outlook.com", "excite.com", "juno.com", "lycos.com",
                       "netscape.net", "mail.ru", "yandex.ru", "gmx.net", "web.de"})


def _domain(view: MessageView, header: str) -> str:
    found = ADDRESS.search(view.message.header(header))
    return found[2].lower() if found else ""


# --- checks a regex cannot express (each named after the SpamAssassin rule it follows) ---


def html_only(view: MessageView) -> bool:
    """MIME_HTML_ONLY: HTML text and no plain-text alternative."""
    types = {ctype for ctype, _cte, _text in view.parts}
    return "text/html" in types and "text/plain" not in types


def html_image_only(view: MessageView) -> bool:
    """HTML_IMAGE_ONLY_*: images with hardly any text (the text is in the picture)."""
    if "<img" not in view.rawbody_lowered:  # no part has one: the common answer, in C
        return False
    html = [(text, shown) for (ctype, _cte, text), shown
            in zip(view.parts, view.rendered, strict=True) if ctype == "text/html"]
    return any("<img" in text.lower() for text, _shown in html) and sum(
        len(shown.split()) for _text, shown in html) < 60


def mime_base64_text(view: MessageView) -> bool:
    """MIME_BASE64_TEXT: text sent base64-encoded, which hides words from filters."""
    return any(cte == "base64" for _ctype, cte, _text in view.parts)


def from_name_other_domain(view: MessageView) -> bool:
    """The From display name shows an address of another domain (a spoof of the sender)."""
    name, _lt, address = view.message.header("From").rpartition("<")
    shown, actual = ADDRESS.search(name), ADDRESS.search(address)
    return shown is not None and actual is not None and shown[2].lower() != actual[2].lower()


def subject_all_caps(view: MessageView) -> bool:
    """SUBJ_ALL_CAPS: a subject of several words in capitals only."""
    subject = view.message.header("Subject")[:MAX_HEADER]
    if subject.isascii() and not subject.isupper():
        return False  # the common case, in C: no capital letter, or a small one
    letters = [c for c in subject if c.isalpha()]
    return len(letters) >= 10 and all(c.isupper() for c in letters) and " " in subject.strip()


def subject_unique_id(view: MessageView) -> bool:
    """SUBJ_HAS_UNIQ_ID: a tracking code after a run of spaces at the end of the Subject."""
    raw = str(view.message.msg.get("Subject", ""))[-MAX_HEADER:]
    return re.search(r"\S\s{5,}[\w#-]{3,}\s*\Z", raw) is not None


# Dates parsedate_tz() surely reads (day name, day, month, year, time, numeric zone):
# most of them, answered without its Python-level parse.
_PLAIN_DATE = re.compile(r"(?:[A-Za-z]+, )?[0-9]{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
                         r"Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}(?::[0-9]{2})? [+-][0-9]{4}"
                         r"(?: .*)?\Z")


def invalid_date(view: MessageView) -> bool:
    """INVALID_DATE: a Date field that RFC 5322 readers cannot parse."""
    date = view.message.header("Date")
    return bool(date) and not _PLAIN_DATE.match(date) and parsedate_tz(date) is None


def thread_reply(view: MessageView) -> bool:
    """In-Reply-To or References (RFC 5322 3.6.4): the message answers an earlier one."""
    return bool(view.message.header("In-Reply-To") or view.message.header("References"))


# ASCII capitals to "U", small letters to "l", every other byte to a space.
_CASES = bytes(85 if 65 <= c <= 90 else 108 if 97 <= c <= 122 else 32 for c in range(256))


def body_mostly_caps(view: MessageView) -> bool:
    """UPPERCASE_50_75 / _75_100: half the (ASCII) letters of a real body are capitals."""
    cases = view.body[:5000].encode("utf-8", "surrogatepass").translate(_CASES)  # all in C
    upper, lower = cases.count(b"U"), cases.count(b"l")
    return upper + lower >= 200 and upper > lower


def freemail_reply_to(view: MessageView) -> bool:
    """FREEMAIL_FORGED_REPLYTO: answers go to a freemail box the sender does not use."""
    reply_to = _domain(view, "Reply-To")
    return reply_to in _FREEMAIL and reply_to != _domain(view, "From")


CHECKS: dict[str, Callable[[MessageView], bool]] = {
    check.__name__: check
    for check in (html_only, html_image_only, mime_base64_text, from_name_other_domain,
                  subject_all_caps, subject_unique_id, invalid_date, thread_reply,
                  body_mostly_caps, freemail_reply_to)
}


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


def _problem(where: str, text: str) -> ScorerError:
    return ScorerError(f"rules file {where}: {text}")


def _weight(entry: Mapping[str, Any], where: str) -> float:
    weight = entry.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise _problem(where, "needs a numeric weight")
    if not math.isfinite(weight) or abs(weight) > MAX_WEIGHT:
        raise _problem(where, f"weight {weight} is not in -{MAX_WEIGHT:g}..{MAX_WEIGHT:g}")
    return float(weight)


def _regex(text: object, where: str) -> re.Pattern[str]:
    if not isinstance(text, str) or not text or len(text) > 2000:
        raise _problem(where, "the pattern must be a non-empty string (at most 2000 characters)")
    try:
        return re.compile(text)
    except re.error as exc:
        raise _problem(where, f"bad regular expression {text!r}: {exc}") from None


def _phrases(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
        raise _problem(where, "phrases must be a non-empty list of strings")
    folded = tuple(" ".join(phrase.lower().split()) for phrase in value)
    if not all(folded):
        raise _problem(where, "phrases must not be blank")
    return folded


def parse_rule(entry: object, where: str) -> Rule:
    """One ``[[rule]]`` table as a Rule; ScorerError naming ``where`` and the fault."""
    if not isinstance(entry, dict):
        raise _problem(where, "is not a table")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise _problem(where, f"name {name!r} is not a letter then letters, digits or _")
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - {"name", "weight", "description", "pattern", "exists", *KINDS})
    if unknown:
        raise _problem(where, f"unknown key {unknown[0]!r}")
    kinds = [kind for kind in KINDS if kind in entry]
    if len(kinds) != 1:
        raise _problem(where, f"needs exactly one of {', '.join(KINDS)}")
    kind, weight = kinds[0], _weight(entry, where)
    description = str(entry.get("description", ""))
    if kind == "check":
        if entry["check"] not in CHECKS:
            raise _problem(where, f"unknown check {entry['check']!r} ({', '.join(CHECKS)})")
        return Rule(name, weight, kind, entry["check"], description=description)
    if kind == "header":
        return _header_rule(entry, name, weight, where, description)
    if kind == "phrases":
        return Rule(name, weight, kind, description=description,
                    phrases=_phrases(entry["phrases"], where))
    return Rule(name, weight, kind, "", _regex(entry[kind], where), description=description)


def _header_rule(entry: dict[str, Any], name: str, weight: float, where: str,
                 description: str) -> Rule:
    header = entry["header"]
    if not isinstance(header, str) or not header.strip():
        raise _problem(where, "header must be a header name")
    exists = entry.get("exists", True)
    if ("pattern" in entry) == ("exists" in entry) or not isinstance(exists, bool):
        raise _problem(where, "a header rule needs a pattern or exists = true/false")
    if "exists" in entry:
        return Rule(name, weight, "header", header, None, entry["exists"], description)
    return Rule(name, weight, "header", header, _regex(entry["pattern"], where), None, description)


def read_rules(path: Path, builtins: Mapping[str, Rule] | None = None) -> dict[str, Rule]:
    """The rules of one TOML file by name; with ``builtins``, the merged rule set."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _problem(str(path), " ".join(str(exc).split())) from None
    entries = document.get("rule", [])
    if set(document) - {"rule"} or not isinstance(entries, list):
        raise _problem(str(path), "expected only [[rule]] tables")
    rules = dict(builtins or {})
    for number, entry in enumerate(entries, 1):
        where = f"{path}: rule {number}"
        if builtins and isinstance(entry, dict) and set(entry) <= {"name", "weight"}:
            old = builtins.get(str(entry.get("name")))
            if old is None:
                raise _problem(f"{where} ({entry.get('name')})", "no built-in rule of that name")
            rules[old.name] = replace(old, weight=_weight(entry, where))
            continue
        rule = parse_rule(entry, where)
        if rule.name in rules and (builtins is None or rule.name not in builtins):
            raise _problem(where, f"rule {rule.name} is defined twice")
        rules[rule.name] = rule
    return rules


def load_rules(user_file: str | None = None) -> list[Rule]:
    """The built-in rules, re-weighted and extended by ``user_file`` when given."""
    rules = read_rules(BUILTIN_FILE)
    if user_file:
        rules = read_rules(Path(user_file), rules)
    return list(rules.values())


class RulesScorer:
    """Weighted SpamAssassin-style rules; no training, no network (file=PATH adds rules)."""

    name: str = "rules"

    def __init__(self, options: Mapping[str, str], threshold: float | None) -> None:
        unknown = sorted(set(options) - {"file"})
        if unknown:
            raise ScorerError(f"rules scorer: unknown option {unknown[0]!r} (known: file)")
        if threshold is not None and not math.isfinite(threshold):
            raise ScorerError(f"rules scorer: threshold {threshold} is not a number")
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.rules = tuple(load_rules(options.get("file")))  # immutable: safe across threads
        self._active = RuleSet([rule for rule in self.rules if rule.weight])

    def score(self, message: ParsedMessage) -> Score:
        hits = self._active.hits(MessageView(message))
        value = round(sum(rule.weight for rule in hits), 3)
        return Score(value, self.threshold, value >= self.threshold, [r.show() for r in hits])
