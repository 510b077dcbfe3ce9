"""Per-message cost of a worker's steps on one mbox, in µs a message (best of --rounds).

Usage: python bench/message_speed.py MBOX [--rounds N]

  read            hrdp.ranges.read_here over the mbox's units (split, unquote, RawMessage)
  mime head       hrdp.mime.parse: the header block of each message
  mime walk       hrdp.mime.parse and every part's body split
  message facts   ParsedMessage + has_headers, message_id, sender (what every row reads)
  examine         Examiner.batch per unit with the default scorer (auto): stage one as a
                  worker runs it (reading not included)
  examine, no scorer  the same without scoring (parse, DSN screen and detection, facts)

CPU time of this process (time.process_time), so other work on a shared machine moves the
figures less than wall-clock time would.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hrdp import mime  # noqa: E402  (after the path set-up above)
from hrdp.examine import Examiner, Job  # noqa: E402
from hrdp.message import ParsedMessage  # noqa: E402
from hrdp.pipeline import UNIT_BYTES  # noqa: E402
from hrdp.ranges import Planner, read_here  # noqa: E402
from hrdp.scoring import registry  # noqa: E402
from hrdp.sources import RawMessage  # noqa: E402


def best(rounds: int, run: Callable[[], object]) -> float:
    fastest = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        run()
        fastest = min(fastest, time.process_time() - start)
    return fastest


def each(run: Callable[..., object], items: list[Any]) -> None:
    """run(item) for each item, its result dropped (as a worker drops a unit's)."""
    for item in items:
        if run is read_here:
            run(item, [])
        else:
            run(item)


def facts(raws: list[RawMessage]) -> None:
    for raw in raws:
        assert raw.data is not None
        message = ParsedMessage(raw.data, mbox_from=raw.mbox_from)
        if message.has_headers:
            _ = message.message_id, message.sender


def head(raws: list[RawMessage]) -> None:
    for raw in raws:
        mime.parse(raw.data or b"")


def walk(raws: list[RawMessage]) -> None:
    for raw in raws:
        assert raw.data is not None
        for part in mime.parse(raw.data).walk():
            _ = part.body


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("mbox")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    units = list(Planner(UNIT_BYTES).units([args.mbox]))
    batches = [read_here(unit, []) for unit in units]
    raws = [raw for batch in batches for raw in batch if raw.data is not None and raw.data.strip()]
    count = sum(len(batch) for batch in batches)
    scorer = registry.load("auto", {}, None)
    with_scorer, without = Examiner(Job(), scorer), Examiner(Job(), None)
    steps: list[tuple[str, Callable[[], object], int]] = [
        ("read", lambda: each(read_here, units), count),
        ("mime head", lambda: head(raws), len(raws)),
        ("mime walk", lambda: walk(raws), len(raws)),
        ("message facts", lambda: facts(raws), len(raws)),
        ("examine", lambda: each(with_scorer.batch, batches), count),
        ("examine, no scorer", lambda: each(without.batch, batches), count),
    ]
    print(f"{count:,} messages of {args.mbox}")
    for name, run, n in steps:
        print(f"{name:20} {best(args.rounds, run) / n * 1e6:8.1f} µs/message")


if __name__ == "__main__":
    main()
