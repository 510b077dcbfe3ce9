"""The ``auto`` scorer, hrdp's default: the best verdict available with no set-up.

Most authoritative first, as flufl.bounce orders its detectors:

1. ``model=FILE`` given: the ``bayes`` scorer, trained on the user's own mail (by far
   the most accurate: docs/scorers.md).
2. Else a trusted upstream verdict on the message (SpamAssassin, rspamd or Microsoft
   365 headers, narrowed by ``trust``): the ``headers`` scorer's reading of it.
3. Else the built-in ``rules`` (plus ``file=PATH`` user rules): offline, no training.

The threshold (``--threshold``) goes to whichever scorer decides, and Score.detail
opens with ``auto: <scorer>`` so a row says who decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score
from hrdp.scoring.bayes import BayesScorer
from hrdp.scoring.headers import HeadersScorer
from hrdp.scoring.rules import RulesScorer

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

BAYES_OPTIONS = frozenset({"model", "unsure"})
HEADERS_OPTIONS = frozenset({"trust"})
RULES_OPTIONS = frozenset({"file"})
OPTIONS = BAYES_OPTIONS | HEADERS_OPTIONS | RULES_OPTIONS


def _subset(options: Mapping[str, str], keys: frozenset[str]) -> dict[str, str]:
    return {key: value for key, value in options.items() if key in keys}


def _labelled(score: Score, scorer: str) -> Score:
    detail = [f"auto: {scorer}", *score.detail]
    if type(score) is Score:  # dataclasses.replace() reads the fields anew each time: slower
        return Score(score.value, score.threshold, score.spam, detail)
    return replace(score, detail=detail)


class AutoScorer:
    """Default: bayes with model=FILE, else a trusted upstream verdict, else the rules."""

    name: str = "auto"

    def __init__(self, options: Mapping[str, str], threshold: float | None) -> None:
        unknown = sorted(set(options) - OPTIONS)
        if unknown:
            known = ", ".join(sorted(OPTIONS))
            raise ScorerError(f"auto scorer: unknown option {unknown[0]!r} (known: {known})")
        self.bayes: BayesScorer | None = None
        self.headers: HeadersScorer | None = None
        self.rules: RulesScorer | None = None
        if options.get("model"):
            self.bayes = BayesScorer(_subset(options, BAYES_OPTIONS), threshold)
        else:
            self.headers = HeadersScorer(_subset(options, HEADERS_OPTIONS), threshold)
            self.rules = RulesScorer(_subset(options, RULES_OPTIONS), threshold)

    @property
    def chosen(self) -> str:
        """What decides: "bayes", or "headers, else rules"."""
        return "bayes" if self.bayes is not None else "headers, else rules"

    def score(self, message: ParsedMessage) -> Score:
        if self.bayes is not None:
            return _labelled(self.bayes.score(message), "bayes")
        assert self.headers is not None and self.rules is not None
        verdict = self.headers.score(message)
        if verdict is not None:
            return _labelled(verdict, "headers")
        return _labelled(self.rules.score(message), "rules")
