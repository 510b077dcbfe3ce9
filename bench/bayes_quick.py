"""Quick accuracy and speed check of the ``bayes`` and ``rules`` scorers on one split.

Splits ../shared/corpus/spamassassin by the file name's SHA-1 (first byte even: train,
odd: test; the rule tests/test_bayes.py uses), trains a bayes model on the train half,
and prints for each scorer on the test half: spam recall and ham false positives at its
default threshold, recall at 0.1% and 0.5% false positives, and messages/s (scoring
only, then parse + score). ``--folds K`` also cross-validates bayes on the train half
alone (how its default threshold was chosen). bench/score_eval.py is the full benchmark.

``--rules-table`` prints each built-in rule's hit rates on both halves (the data its
weight was fitted on). ``--speed`` parses the whole corpus once and prints messages/s of
score() alone (best of 3) for rules, bayes (trained on the train half) and auto, against
the parse itself.

Usage: python bench/bayes_quick.py [--corpus DIR] [--folds K] [--scorer bayes|rules|both]
                                   [--rules-table] [--speed]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from hrdp.message import ParsedMessage
from hrdp.scoring.auto import AutoScorer
from hrdp.scoring.bayes import BayesModel, BayesScorer
from hrdp.scoring.rules import RulesScorer
from hrdp.scoring.tokens import MessageView, tokenize

REPO = Path(__file__).resolve().parent.parent
Labelled = list[tuple[str, bool, bytes]]  # (file name, is spam, raw bytes)


def in_train_half(name: str) -> bool:
    """The fixed split: SHA-1 of the file name, first byte even -> train."""
    return hashlib.sha1(name.encode()).digest()[0] % 2 == 0


def load_corpus(corpus: Path) -> Labelled:
    items: Labelled = []
    for label in ("ham", "spam"):
        for path in sorted((corpus / "spamassassin" / label).glob("*.eml")):
            items.append((path.name, label == "spam", path.read_bytes()))
    return items


def recall_at_fp(values: Sequence[tuple[float, bool]], fp_rate: float) -> float:
    """Spam recall at the strictest threshold whose ham false positives stay <= fp_rate."""
    hams = sorted((v for v, spam in values if not spam), reverse=True)
    spams = [v for v, spam in values if spam]
    allowed = int(fp_rate * len(hams))
    # Spam needs value > the (allowed+1)-th highest ham value.
    bar = hams[allowed] if allowed < len(hams) else -float("inf")
    return sum(v > bar for v in spams) / len(spams)


def report(name: str, values: list[tuple[float, bool]], threshold: float, secs: float) -> None:
    spams = [v for v, s in values if s]
    hams = [v for v, s in values if not s]
    recall = sum(v >= threshold for v in spams) / len(spams)
    fps = sum(v >= threshold for v in hams)
    print(f"{name}: {len(hams)} ham, {len(spams)} spam; threshold {threshold}: "
          f"recall {recall:.2%}, FP {fps} ({fps / len(hams):.2%}); "
          f"recall at 0.1% FP {recall_at_fp(values, 0.001):.2%}, "
          f"at 0.5% FP {recall_at_fp(values, 0.005):.2%}, at 1.2% FP "
          f"{recall_at_fp(values, 0.012):.2%}; {len(values) / secs:,.0f} msg/s scoring only")


def train_model(parsed: list[tuple[str, bool, ParsedMessage]]) -> BayesModel:
    model = BayesModel()
    for _name, spam, message in parsed:
        model.learn(message, spam)
    return model


def run(scorer_score: Callable[[ParsedMessage], float],
        parsed: list[tuple[str, bool, ParsedMessage]]) -> tuple[list[tuple[float, bool]], float]:
    start = time.perf_counter()
    values = [(scorer_score(message), spam) for _n, spam, message in parsed]
    return values, time.perf_counter() - start


def bayes_scorer(model: BayesModel, tmp: Path) -> BayesScorer:
    path = tmp / "model.json.gz"
    model.save(path)
    return BayesScorer({"model": str(path)}, None)


def cross_validate(train: list[tuple[str, bool, ParsedMessage]], folds: int, tmp: Path) -> None:
    """K-fold cross-validation on the train half alone: how the default threshold was chosen
    (the test half is never looked at)."""
    values: list[tuple[float, bool]] = []
    for fold in range(folds):
        fit = [m for i, m in enumerate(train) if i % folds != fold]
        held = [m for i, m in enumerate(train) if i % folds == fold]
        scorer = bayes_scorer(train_model(fit), tmp)
        values += run(lambda m, s=scorer: s.score(m).value, held)[0]  # type: ignore[misc]
    for threshold in (0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.9):
        spams = [v for v, spam in values if spam]
        hams = [v for v, spam in values if not spam]
        print(f"bayes {folds}-fold CV on the train half, threshold {threshold}: recall "
              f"{sum(v >= threshold for v in spams) / len(spams):.2%}, ham FP "
              f"{sum(v >= threshold for v in hams) / len(hams):.2%}")


def rules_table(halves: dict[str, list[tuple[str, bool, ParsedMessage]]]) -> None:
    """Each built-in rule's hit rate on spam and ham of each half: what its weight rests on."""
    rules = RulesScorer({}, None).rules
    print(f"{'rule':24} {'weight':>6}  train: spam    ham   test: spam    ham")
    views = {half: [(spam, MessageView(m)) for _n, spam, m in part]
             for half, part in halves.items()}
    for rule in rules:
        cells = []
        for half in ("train", "test"):
            for want in (True, False):
                group = [view for spam, view in views[half] if spam == want]
                cells.append(f"{sum(rule.hits(v) for v in group) / len(group):6.2%}")
        train_cells, test_cells = f"{cells[0]:>11} {cells[1]}", f"{cells[2]:>11} {cells[3]}"
        print(f"{rule.name:24} {rule.weight:6g}  {train_cells} {test_cells}")


def parse_all(items: Labelled) -> tuple[list[tuple[str, bool, ParsedMessage]], float]:
    start = time.perf_counter()
    parsed = [(name, spam, ParsedMessage(data)) for name, spam, data in items]
    return parsed, time.perf_counter() - start


def speed(items: Labelled, tmp: Path, repeat: int = 3) -> None:
    """Messages/s of score() alone on the whole corpus, best of ``repeat``, next to the
    parse. Each run scores freshly parsed messages, so nothing a message caches (decoded
    headers) carries over from the run before; outside the clock each has its sender read
    first, as classify does before it scores (the header table is then built)."""
    model = train_model([m for m in parse_all(items)[0] if in_train_half(m[0])])
    scorers = {"rules": RulesScorer({}, None), "bayes": bayes_scorer(model, tmp),
               "auto": AutoScorer({}, None)}
    best = dict.fromkeys(["parse", *scorers], float("inf"))
    for _ in range(repeat):
        for name, scorer in scorers.items():
            parsed, parse_secs = parse_all(items)
            best["parse"] = min(best["parse"], parse_secs)
            messages = [message for _n, _s, message in parsed if message.sender]
            start = time.perf_counter()
            for message in messages:
                scorer.score(message)
            best[name] = min(best[name], time.perf_counter() - start)
    print(f"parse only: {len(items) / best['parse']:,.0f} msg/s")
    for name in scorers:
        print(f"{name}: {len(items) / best[name]:,.0f} msg/s scoring only; parse + score "
              f"{len(items) / (best[name] + best['parse']):,.0f} msg/s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("HRDP_CORPUS", REPO.parent / "shared/corpus")))
    parser.add_argument("--folds", type=int, default=0)
    parser.add_argument("--scorer", choices=("bayes", "rules", "both"), default="both")
    parser.add_argument("--rules-table", action="store_true", help="hit rate of each rule")
    parser.add_argument("--speed", action="store_true", help="score() msg/s, whole corpus")
    args = parser.parse_args(argv)
    items = load_corpus(args.corpus)
    if not items:
        print(f"no messages under {args.corpus}/spamassassin", file=sys.stderr)
        return 1
    if args.speed:
        speed(items, Path(os.environ.get("TMPDIR", "/tmp")))
        return 0
    train_items = [i for i in items if in_train_half(i[0])]
    test_items = [i for i in items if not in_train_half(i[0])]
    train, _ = parse_all(train_items)
    test, parse_secs = parse_all(test_items)
    tmp = Path(os.environ.get("TMPDIR", "/tmp"))
    if args.scorer in ("bayes", "both"):
        if args.folds:
            cross_validate(train, args.folds, tmp)
        start = time.perf_counter()
        scorer = bayes_scorer(train_model(train), tmp)
        print(f"bayes: trained on {len(train)} in {time.perf_counter() - start:.1f} s")
        values, secs = run(lambda m: scorer.score(m).value, test)
        report("bayes test half", values, scorer.threshold, secs)
        print(f"bayes: parse + score {len(test) / (secs + parse_secs):,.0f} msg/s; "
              f"tokenise alone {len(test) / run(lambda m: len(tokenize(m)), test)[1]:,.0f}")
    if args.scorer in ("rules", "both"):
        rules = RulesScorer({}, None)
        for label, part in (("train", train), ("test", test)):
            values, secs = run(lambda m: rules.score(m).value, part)
            report(f"rules {label} half", values, rules.threshold, secs)
        print(f"rules: parse + score {len(test) / (secs + parse_secs):,.0f} msg/s")
    if args.rules_table:
        rules_table({"train": train, "test": test})
    return 0


if __name__ == "__main__":
    sys.exit(main())
