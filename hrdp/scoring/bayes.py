"""The ``bayes`` scorer: a token classifier trained on the user's own ham and spam.

Graham's "A Plan for Spam" as improved by Gary Robinson and built by SpamBayes: each
token's spam probability is Robinson's f(w), the ratio of its spam and ham frequencies
shrunk towards 0.5 when it was seen rarely; the strongest tokens of a message are
combined with Fisher's chi-squared method (Robinson's "chi-combining", SpamBayes'
classifier.chi2_spamprob), which gives values near 0 or 1 when the evidence agrees
and near 0.5 when it does not: that middle is the "unsure" band.

The model is a JSON file (gzip when its name ends in ``.gz``), never a pickle, so a
model from an untrusted place can only be wrong, not run code. docs/scorers.md
documents the format; ``BayesModel.load`` checks every field and bounds every size.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import tempfile
from array import array
from collections.abc import Iterable, Mapping
from itertools import compress, filterfalse, islice, repeat
from operator import and_, itemgetter, or_
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score
from hrdp.scoring.tokens import MIN_WORD, TOKENIZER_VERSION, MessageView, read_tokens, tokenize

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

FORMAT = "hrdp-bayes"
VERSION = 1
MAX_FILE_BYTES = 256 << 20  # decompressed: a gzip bomb or a giant file is refused
MAX_COUNT = 1 << 40  # no real mailbox has this many messages; bigger numbers are a forgery
_GZIP_MAGIC = b"\x1f\x8b"

# SpamBayes' defaults (Options.py), tuned on many corpora, except s: 0.2 (SpamBayes 0.45)
# ranked better in cross-validation on the train half (docs/scorers.md).
UNKNOWN_WORD_STRENGTH = 0.2  # Robinson's s: weight of the 0.5 prior
UNKNOWN_WORD_PROB = 0.5  # Robinson's x: probability of a never-seen token
MIN_PROB_STRENGTH = 0.1  # tokens with |f(w) - 0.5| below this are ignored
MAX_DISCRIMINATORS = 150  # the strongest tokens used per message
# Default threshold and unsure band, chosen on cross-validation folds of the training
# half of the SpamAssassin corpus (bench/bayes_quick.py): see docs/scorers.md.
DEFAULT_THRESHOLD = 0.45
# SpamBayes' ham_cutoff and spam_cutoff: chi-combining is unsure in between, whichever
# side of the threshold a value falls; the detail says so.
DEFAULT_UNSURE = (0.2, 0.9)
DETAIL_TOKENS = 3  # strongest clues shown per side in Score.detail


class BayesModel:
    """Per-token counts of the ham and spam messages that held the token."""

    def __init__(self) -> None:
        self.spam_count = 0
        self.ham_count = 0
        self.tokens: dict[str, list[int]] = {}  # token -> [spam messages, ham messages]

    def learn(self, message: ParsedMessage, spam: bool) -> None:
        """Count one message (each of its tokens once) as spam or ham."""
        self.learn_tokens(tokenize(message), spam)

    def learn_tokens(self, tokens: Iterable[str], spam: bool) -> None:
        column = 0 if spam else 1
        table = self.tokens
        for token in tokens:
            counts = table.get(token)
            if counts is None:
                table[token] = counts = [0, 0]
            counts[column] += 1
        if spam:
            self.spam_count += 1
        else:
            self.ham_count += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "tokenizer": TOKENIZER_VERSION,
            "spam_count": self.spam_count,
            "ham_count": self.ham_count,
            "tokens": dict(sorted(self.tokens.items())),
        }

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model atomically: a temporary file in the same folder, then rename."""
        target = Path(path)
        data = json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=False).encode()
        if target.name.endswith(".gz"):
            data = gzip.compress(data, compresslevel=6, mtime=0)
        handle, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, target)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BayesModel:
        """Read a model file; ScorerError (one line) when it is missing or not a valid model."""
        try:
            document = json.loads(_read_bounded(Path(path)), parse_constant=_no_constant)
            return cls.from_json(document)
        except FileNotFoundError:
            message = f"bayes model {path}: no such file (create it with hrdp train)"
            raise ScorerError(message) from None
        except ScorerError as exc:
            raise ScorerError(f"bayes model {path}: {exc}") from None
        except (OSError, EOFError, ValueError, RecursionError) as exc:
            reason = " ".join(str(exc).split())[:120] or type(exc).__name__
            raise ScorerError(f"bayes model {path}: not a readable model ({reason})") from None

    @classmethod
    def from_json(cls, document: object) -> BayesModel:
        """Check a decoded model document field by field (ScorerError on the first fault)."""
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ScorerError(f"not an hrdp bayes model (no \"format\": \"{FORMAT}\")")
        version = document.get("version")
        if version != VERSION:
            raise ScorerError(f"unsupported version {_show(version)} (this hrdp reads {VERSION})")
        if document.get("tokenizer") != TOKENIZER_VERSION:
            raise ScorerError(
                f"trained with tokenizer {_show(document.get('tokenizer'))}, this hrdp uses "
                f"{TOKENIZER_VERSION}: train a new model"
            )
        model = cls()
        model.spam_count = _count(document.get("spam_count"), MAX_COUNT, "spam_count")
        model.ham_count = _count(document.get("ham_count"), MAX_COUNT, "ham_count")
        tokens = document.get("tokens")
        if not isinstance(tokens, dict):
            raise ScorerError("\"tokens\" is not an object")
        for token, counts in tokens.items():
            if not isinstance(counts, list) or len(counts) != 2:
                raise ScorerError(f"token {_show(token)}: counts are not [spam, ham]")
            spam = _count(counts[0], model.spam_count, f"token {_show(token)} spam count")
            ham = _count(counts[1], model.ham_count, f"token {_show(token)} ham count")
            model.tokens[token] = [spam, ham]
        return model


def _read_bounded(path: Path) -> bytes:
    with path.open("rb") as raw:
        head = raw.read(2)
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if head == _GZIP_MAGIC else raw
        data = stream.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ScorerError(f"larger than {MAX_FILE_BYTES >> 20} MiB, refused")
    return data


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a count")


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _count(value: object, limit: int, label: str) -> int:
    if type(value) is not int or not 0 <= value <= limit:
        raise ScorerError(f"{label} {_show(value)} is not a whole number in 0..{limit}")
    return value


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
        return [f"spam {_show(clues[i >> 1][4])} {clues[i >> 1][1]:.3f}" for i in spammy] + [
            f"ham {_show(clues[i >> 1][4])} {clues[i >> 1][1]:.3f}" for i in hammy
        ]


_ODD = (1).__and__
_LN_F, _LN_NOT_F = itemgetter(2), itemgetter(3)


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
