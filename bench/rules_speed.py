"""Microseconds a message of the built-in scoring (``auto`` and ``rules``), per corpus folder.

Each corpus file (../shared/corpus, labels.jsonl aside) is parsed and run through what
classify does before it scores (DSN examination, Message-ID, sender) outside the clock;
routed DSNs, which classify does not score, are skipped but counted, so a folder's
figure is its share of a classify run. Then ``score()`` is timed per message, best of
``--rounds`` rounds over freshly parsed messages (nothing a message caches carries over).
``--no-hyperscan`` runs hrdp as where Hyperscan's wheel does not install; ``--profile``
prints cProfile's top functions of one ``auto`` round.

Usage: python bench/rules_speed.py [--corpus DIR] [--rounds N] [--no-hyperscan] [--profile]
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def load(corpus: Path) -> list[tuple[str, bytes]]:
    return [(str(path.parent.relative_to(corpus)), path.read_bytes())
            for path in sorted(corpus.rglob("*"))
            if path.is_file() and path.name != "labels.jsonl" and path.parent != corpus]


def prepared(files: list[tuple[str, bytes]]) -> list[tuple[str, object]]:
    """(folder, message) as the scorer gets it in classify; None for one it skips."""
    from hrdp import dsn
    from hrdp.message import ParsedMessage
    from hrdp.pool import Policy, is_routed_dsn

    policy, out = Policy(), []
    for folder, data in files:
        message: ParsedMessage | None = ParsedMessage(data)
        assert message is not None
        if not message.has_headers:
            message = None
        else:
            finding = dsn.examine(message)
            _ = message.message_id, message.sender
            if is_routed_dsn(finding.dsn, policy):
                message = None
        out.append((folder, message))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("HRDP_CORPUS", REPO.parent / "shared/corpus")))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-hyperscan", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    if args.no_hyperscan:
        sys.modules["hyperscan"] = None  # type: ignore[assignment]  # as if not installed
    from hrdp.scoring.registry import load as load_scorer
    from hrdp.scoring.rule_set import PhraseMatcher

    files = load(args.corpus)
    if not files:
        print(f"no messages under {args.corpus} (--corpus DIR or HRDP_CORPUS)", file=sys.stderr)
        return 2
    folders = sorted({folder for folder, _data in files})
    counts = {folder: sum(f == folder for f, _d in files) for folder in folders}
    print(f"{len(files)} messages; phrases by {PhraseMatcher.__name__}; µs a message, "
          f"best of {args.rounds}")
    print(f"{'scorer':8s}{'all':>8s}" + "".join(f"{folder:>20s}" for folder in folders))
    for name in ("auto", "rules"):
        scorer = load_scorer(name, {}, None)
        best = dict.fromkeys(folders, float("inf"))
        for _ in range(args.rounds):
            messages = prepared(files)
            spent = dict.fromkeys(folders, 0.0)
            gc.collect()
            gc.disable()
            for folder, message in messages:
                if message is not None:
                    start = time.perf_counter()
                    scorer.score(message)  # type: ignore[arg-type]
                    spent[folder] += time.perf_counter() - start
            gc.enable()
            best = {folder: min(best[folder], spent[folder]) for folder in folders}
        total = sum(best.values()) / len(files) * 1e6
        print(f"{name:8s}{total:8.1f}" + "".join(
            f"{best[folder] / counts[folder] * 1e6:20.1f}" for folder in folders))
    if args.profile:
        import cProfile
        import pstats

        scorer = load_scorer("auto", {}, None)
        messages = [message for _folder, message in prepared(files) if message is not None]
        profile = cProfile.Profile()
        profile.enable()
        for message in messages:
            scorer.score(message)  # type: ignore[arg-type]
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
