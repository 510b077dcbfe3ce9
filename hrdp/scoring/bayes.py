"""The ``bayes`` scorer: a token classifier trained on the user's own ham and spam.

Graham's "A Plan for Spam" as improved by Gary Robinson and built by SpamBayes: each
token's spam probability is Robinson's f(w), the ratio of its spam and ham frequencies
shrunk towards 0.5 when it was seen rarely; the strongest tokens of a message are
combined with Fisher's chi-squared method (Robinson's "chi-combining", SpamBayes'
classifier.chi2_spamprob), which gives values near 0 or 1 when the evidence agrees
and near 0.5 when it does not: that middle is the "unsure" band.

The maths is in bayes_classifier.py, the model file (JSON, never a pickle: a model from
an untrusted place can only be wrong, not run code) in bayes_model.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score
from hrdp.scoring.bayes_classifier import (
    MAX_DISCRIMINATORS,
    Clue,
    RankedClues,
    chi2q,
    clue_table,
    combine,
    token_probability,
)
from hrdp.scoring.bayes_model import FORMAT, MAX_COUNT, MAX_FILE_BYTES, VERSION, BayesModel
from hrdp.scoring.message_view import MessageView
from hrdp.scoring.tokens import read_tokens

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

__all__ = [  # the model and maths names, once defined here, stay importable from here
    "DEFAULT_THRESHOLD",
    "DEFAULT_UNSURE",
    "FORMAT",
    "MAX_COUNT",
    "MAX_DISCRIMINATORS",
    "MAX_FILE_BYTES",
    "VERSION",
    "BayesModel",
    "BayesScorer",
    "Clue",
    "RankedClues",
    "chi2q",
    "clue_table",
    "combine",
    "parse_unsure",
    "token_probability",
]

# Default threshold and unsure band, chosen on cross-validation folds of the training
# half of the SpamAssassin corpus (bench/bayes_quick.py): see docs/scorers.md.
DEFAULT_THRESHOLD = 0.45
# SpamBayes' ham_cutoff and spam_cutoff: chi-combining is unsure in between, whichever
# side of the threshold a value falls; the detail says so.
DEFAULT_UNSURE = (0.2, 0.9)


def parse_unsure(text: str | None) -> tuple[float, float]:
    """The ``unsure=LOW,HIGH`` option: values in [LOW, HIGH) are marked "unsure"."""
    if text is None:
        return DEFAULT_UNSURE
    low, _comma, high = text.partition(",")
    try:
        band = (float(low), float(high))
    except ValueError:
        band = (math.nan, math.nan)
    if not 0.0 <= band[0] <= band[1] <= 1.0:
        raise ScorerError(f"bayes scorer: unsure={text!r} is not LOW,HIGH in 0 <= LOW <= HIGH <= 1")
    return band


class BayesScorer:
    """A token classifier (SpamBayes-style) trained with hrdp train; needs model=FILE."""

    name: str = "bayes"

    def __init__(self, options: Mapping[str, str], threshold: float | None) -> None:
        unknown = sorted(set(options) - {"model", "unsure"})
        if unknown:
            raise ScorerError(f"bayes scorer: unknown option {unknown[0]!r} (known: model, unsure)")
        path = options.get("model")
        if not path:
            raise ScorerError("bayes scorer: needs --scorer-opt model=FILE (made by hrdp train)")
        if threshold is not None and not math.isfinite(threshold):
            raise ScorerError(f"bayes scorer: threshold {threshold} is not a number")
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        self.unsure = parse_unsure(options.get("unsure"))
        model = BayesModel.load(path)
        if model.spam_count == 0 or model.ham_count == 0:
            raise ScorerError(
                f"bayes model {path} has learnt {model.spam_count} spam and "
                f"{model.ham_count} ham: train it on both (hrdp train)"
            )
        self.model_path = str(path)
        # Read-only after this point: score() shares nothing mutable between threads.
        self._ranked = RankedClues(clue_table(model))

    def clues(self, tokens: set[str]) -> list[Clue]:
        """The MAX_DISCRIMINATORS strongest clues of a message, strongest first."""
        return [self._ranked.clues[code >> 1] for code in self._ranked.select(tokens)]

    def score(self, message: ParsedMessage) -> Score:
        # The body words are looked up as split, not joined into the token set first.
        tokens, words, long_words = read_tokens(MessageView(message))
        ranked = self._ranked
        codes = ranked.select(tokens, words, long_words)
        value = ranked.combine(codes)
        spam = value >= self.threshold
        detail = ["unsure"] if self.unsure[0] <= value < self.unsure[1] else []
        detail += ranked.strongest(codes)
        return Score(value, self.threshold, spam, detail)
