"""An example hrdp scorer plugin: spam when the Subject shouts.

The value is the number of words of three or more letters written in capitals only
("FREE", "URGENT"); spam at ``threshold`` (``--threshold``, default 2). Options:
``min_letters=N`` (``--scorer-opt min_letters=4``) changes what counts as a word.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

__all__ = ["ShoutScorer"]

DEFAULT_THRESHOLD = 2.0


class ShoutScorer:
    """Counts words in capitals in the Subject (an example plugin)."""

    name = "example"

    def __init__(self, options: Mapping[str, str], threshold: float | None) -> None:
        unknown = sorted(set(options) - {"min_letters"})
        if unknown:  # bad options fail at start-up, with a message for users
            raise ScorerError(f"example scorer: unknown option {unknown[0]!r} (known: min_letters)")
        text = options.get("min_letters", "3")
        if not text.isdigit() or int(text) < 1:
            raise ScorerError(f"example scorer: min_letters={text!r} is not a positive number")
        # Set once here and only read in score(): concurrent score() calls are safe.
        self.min_letters = int(text)
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold

    def score(self, message: ParsedMessage) -> Score:
        words = message.header("Subject").split()
        shouted = [w for w in words if len(w) >= self.min_letters and w.isalpha() and w.isupper()]
        value = float(len(shouted))
        return Score(value, self.threshold, value >= self.threshold, shouted[:5])
