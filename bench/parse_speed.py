"""hrdp.mime next to the stdlib parser it replaced, on the same files, in one run.

Usage: python bench/parse_speed.py [--corpus DIR] [--rounds N]

Per folder of ../shared/corpus (messages per second, best of --rounds):
  stdlib      email.message_from_bytes(raw, policy=compat32): every part built
  mime head   hrdp.mime.parse(raw): the header block (what ordinary mail needs)
  mime walk   hrdp.mime.parse(raw) and every part's body split (what a scorer reads)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hrdp import mime  # noqa: E402  (after the path set-up above)


def rate(raws: list[bytes], parse: Callable[[bytes], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for raw in raws:
            parse(raw)
        best = min(best, time.perf_counter() - start)
    return len(raws) / best


def _message(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.name not in (
        "labels.jsonl", "README.md")


def walk(raw: bytes) -> None:
    for part in mime.parse(raw).walk():
        _ = part.body


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default = os.environ.get("HRDP_CORPUS", str(REPO.parent / "shared" / "corpus"))
    parser.add_argument("--corpus", type=Path, default=Path(default))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folders = sorted({p.parent for p in args.corpus.rglob("*") if _message(p)})
    print(f"{'folder':24} {'msgs':>6} {'stdlib':>9} {'mime head':>10} {'mime walk':>10}")
    for folder in folders:
        raws = [p.read_bytes() for p in sorted(folder.iterdir()) if _message(p)]
        std = rate(raws, lambda raw: message_from_bytes(raw, policy=compat32), args.rounds)
        head = rate(raws, mime.parse, args.rounds)
        full = rate(raws, walk, args.rounds)
        name = str(folder.relative_to(args.corpus))
        print(f"{name:24} {len(raws):6} {std:9,.0f} {head:10,.0f} {full:10,.0f}"
              f"   walk {full / std:.1f}x, head {head / std:.1f}x")


if __name__ == "__main__":
    main()
