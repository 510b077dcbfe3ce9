"""The maths of the ``bayes`` scorer: Robinson's token probability and Fisher's
chi-squared combining, as SpamBayes' classifier.py computes them.

Each token's spam probability is Robinson's f(w), the ratio of its spam and ham
frequencies shrunk towards 0.5 when it was seen rarely; the strongest tokens of a
message are combined with Fisher's chi-squared method (Robinson's "chi-combining",
SpamBayes' chi2_spamprob). RankedClues precomputes a model's clues once so a message
is scored with a few C-level sorts and sums.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Mapping
from itertools import compress, filterfalse, islice, repeat
from operator import and_, itemgetter, or_
from typing import TYPE_CHECKING

from hrdp.scoring.bayes_model import shown
from hrdp.scoring.tokens import MIN_WORD

if TYPE_CHECKING:
    from hrdp.scoring.bayes_model import BayesModel

# SpamBayes' defaults (Options.py), tuned on many corpora, except s: 0.2 (SpamBayes 0.45)
# ranked better in cross-validation on the train half (docs/scorers.md).
UNKNOWN_WORD_STRENGTH = 0.2  # Robinson's s: weight of the 0.5 prior
UNKNOWN_WORD_PROB = 0.5  # Robinson's x: probability of a never-seen token
MIN_PROB_STRENGTH = 0.1  # tokens with |f(w) - 0.5| below this are ignored
MAX_DISCRIMINATORS = 150  # the strongest tokens used per message
DETAIL_TOKENS = 3  # strongest clues shown per side in Score.detail


def chi2q(x2: float, freedom: int) -> float:
    """P(chi-squared with ``freedom`` (even) degrees of freedom >= x2): SpamBayes' chi2Q,
    the Poisson sum e^-m * sum(m^i / i!, i < n) with m = x2 / 2, n = freedom / 2.

    Most messages are clear-cut, and then the sum is 0 or 1 to within e^-40: a bound on
    the largest neglected part answers without the n-step loop."""
    m, n = x2 / 2.0, freedom // 2
    if m > 0.0:
        ln_m = math.log(m)
        if m > n and -m + (n - 1) * ln_m - math.lgamma(n) + math.log(n) < _NEGLIGIBLE:
            return 0.0  # n terms, each at most the last one
        if m < n - 1 and -m + n * ln_m - math.lgamma(n + 1) - math.log1p(-m / (n + 1)) < (
            _NEGLIGIBLE
        ):
            return 1.0  # the tail from i = n is a series shrinking by m / (n + 1) or faster
    total = term = math.exp(-m)
    for i in range(1, n):
        term *= m / i
        total += term
    return min(total, 1.0)


_NEGLIGIBLE = -40.0  # ln of a part of a probability too small to change any comparison


def token_probability(spam: int, ham: int, spam_total: int, ham_total: int) -> float:
    """Robinson's f(w) (SpamBayes' probability()): the token's spam ratio over the sum of
    its spam and ham ratios, shrunk towards UNKNOWN_WORD_PROB when it was seen rarely."""
    spam_ratio, ham_ratio = spam / spam_total, ham / ham_total
    if spam_ratio + ham_ratio == 0.0:
        return UNKNOWN_WORD_PROB
    n = spam + ham
    prob = spam_ratio / (spam_ratio + ham_ratio)
    s = UNKNOWN_WORD_STRENGTH
    return (s * UNKNOWN_WORD_PROB + n * prob) / (s + n)


# One clue: (strength |f - 0.5|, f(w), ln f, ln(1 - f), token). Strength first, so a
# plain sort ranks clues; the logs are taken once at load, not once per message.
Clue = tuple[float, float, float, float, str]


def clue_table(model: BayesModel) -> dict[str, Clue]:
    """Every token strong enough to be a clue, with its f(w) and logs precomputed."""
    if model.spam_count == 0 or model.ham_count == 0:
        return {}
    table: dict[str, Clue] = {}
    for token, (spam, ham) in model.tokens.items():
        prob = token_probability(spam, ham, model.spam_count, model.ham_count)
        strength = abs(prob - 0.5)
        if strength >= MIN_PROB_STRENGTH:
            table[token] = (strength, prob, math.log(prob), math.log1p(-prob), token)
    return table


def combine(clues: list[Clue]) -> float:
    """Fisher/Robinson chi-squared combining (SpamBayes' chi2_spamprob): 0 ham .. 1 spam."""
    if not clues:
        return 0.5
    return _chi_combined(math.fsum(map(_LN_F, clues)), math.fsum(map(_LN_NOT_F, clues)),
                         len(clues))


def _chi_combined(ln_f: float, ln_not_f: float, count: int) -> float:
    """combine() from the sums of ln f and ln(1 - f) of ``count`` clues (fsum: exact, so
    the same in any order)."""
    ham_evidence = chi2q(-2.0 * ln_f, 2 * count)
    spam_evidence = chi2q(-2.0 * ln_not_f, 2 * count)
    # S = 1 - spam_evidence, H = 1 - ham_evidence; SpamBayes returns (S - H + 1) / 2.
    return (ham_evidence - spam_evidence + 1.0) / 2.0


class RankedClues:
    """A clue table ranked once, strongest first (ties by token, as sorting the Clue tuples
    breaks them): a message's clues are then ints, sorted and summed in C.

    Each clue's int is 2 * rank + 1 for a spam clue (f > 0.5), 2 * rank for a ham clue:
    ordered as the ranks, and it tells the side without a look-up. Its logs sit side by
    side in one array (the table is large: one cache line per clue, not two). Ranks count
    from 1, so filter(None, ...) drops tokens that are not clues; tokens shorter than
    MIN_WORD are left out, as the tokenizer makes none."""

    def __init__(self, table: Mapping[str, Clue]) -> None:
        self.clues = [(0.0, 0.5, 0.0, 0.0, ""), *sorted(table.values(), reverse=True)]
        self.code = {
            # A new str per key, allocated in rank order: the strong clues share pages.
            clue[4]: 2 * rank + (clue[1] > 0.5)
            for rank, clue in enumerate(self.clues) if rank and len(clue[4]) >= MIN_WORD
        }
        self.logs = array("d", [log for clue in self.clues for log in clue[2:4]])

    def select(self, tokens: set[str], words: set[str] | None = None,
               excluded: Iterable[str] = ()) -> list[int]:
        """The codes of the MAX_DISCRIMINATORS strongest clues among ``tokens`` and ``words``
        (less ``excluded``), strongest first: one dict probe per token, all in C."""
        get = self.code.get
        found = set(filter(None, map(get, tokens)))
        if words:
            found.update(filter(None, map(get, words.difference(excluded))))
        codes = sorted(found)
        del codes[MAX_DISCRIMINATORS:]
        return codes

    def combine(self, codes: list[int]) -> float:
        if not codes:
            return 0.5
        at = list(map(and_, codes, repeat(-2)))  # 2 * rank: where ln f is; ln(1 - f) next
        return _chi_combined(math.fsum(map(self.logs.__getitem__, at)),
                             math.fsum(map(self.logs.__getitem__, map(or_, at, repeat(1)))),
                             len(codes))

    def strongest(self, codes: list[int]) -> list[str]:
        """The strongest spam clues, then ham clues (a few each), as "spam 'token' 0.990"."""
        clues = self.clues
        spammy = islice(compress(codes, map(and_, codes, repeat(1))), DETAIL_TOKENS)
        hammy = islice(filterfalse(_ODD, codes), DETAIL_TOKENS)
        return [f"spam {shown(clues[i >> 1][4])} {clues[i >> 1][1]:.3f}" for i in spammy] + [
            f"ham {shown(clues[i >> 1][4])} {clues[i >> 1][1]:.3f}" for i in hammy
        ]


_ODD = (1).__and__
_LN_F, _LN_NOT_F = itemgetter(2), itemgetter(3)
