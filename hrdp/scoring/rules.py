"""The ``rules`` scorer: transparent weighted rules, as SpamAssassin's, with no training.

Each rule has a name, a weight and one test; a message's value is the sum of the
weights of the rules it hits, spam at 5.0 (SpamAssassin's required_score) unless
``--threshold`` says otherwise. Score.detail lists the hits as ``NAME(weight)``.

The built-in rules live in rules_builtin.toml (regex rules on headers, decoded body
text, raw HTML and URIs) and, for tests a regex cannot say, in CHECKS (rule_checks.py);
their weights were fitted on one half of the SpamAssassin public corpus and checked on
the other (docs/scorers.md). ``--scorer-opt file=PATH`` adds a user rules file in the
same TOML format (rule_file.py); a rule there with a built-in's name and only a weight
re-weights it (weight 0 turns it off), a whole rule with a built-in's name replaces it.
Rules (rule_set.py) need no network; all they keep between messages is what repeated
header values and URIs hit (RuleSet.MEMO), which changes no answer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score
from hrdp.scoring.message_view import MessageView
from hrdp.scoring.rule_checks import CHECKS
from hrdp.scoring.rule_file import BUILTIN_FILE, MAX_WEIGHT, load_rules, parse_rule, read_rules
from hrdp.scoring.rule_set import KINDS, PhraseMatcher, Rule, RuleSet

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

__all__ = [  # the rule names, once defined here, stay importable from here
    "BUILTIN_FILE",
    "CHECKS",
    "DEFAULT_THRESHOLD",
    "KINDS",
    "MAX_WEIGHT",
    "PhraseMatcher",
    "Rule",
    "RuleSet",
    "RulesScorer",
    "load_rules",
    "parse_rule",
    "read_rules",
]

DEFAULT_THRESHOLD = 5.0  # SpamAssassin's required_score


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
        self._weights = [rule.weight for rule in self._active.rules]
        self._shown = [rule.show() for rule in self._active.rules]  # NAME(weight), once

    def score(self, message: ParsedMessage) -> Score:
        hits = self._active.hit_indexes(MessageView(message))
        weights = self._weights
        value = round(sum(weights[index] for index in hits), 3)  # in rule order, as before
        shown = self._shown
        return Score(value, self.threshold, value >= self.threshold, [shown[i] for i in hits])
