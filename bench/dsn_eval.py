"""Bounce detection measured against labels: hrdp.dsn next to flufl.bounce, same files, same run.

Usage: python bench/dsn_eval.py --corpus DIR [--corpus DIR ...] [--rounds N] [--misses] [--cpu-time]

DIR is a folder with a ``labels.jsonl`` in the ../shared/corpus format, or a folder of
such folders (each is measured), or a folder of messages without labels (every message
counts as an ordinary one: spamassassin/ham, spamassassin/spam). Printed per folder:

  detection   bounces (``is_bounce``) reported as a failure or delay (hrdp: dsn.kind failed
              or delayed; flufl.bounce: any address from ``all_failures()``)
  false pos.  non-bounces reported as a bounce (notifications and success DSNs included)
  recipients  bounces whose recipient set equals ``expected_recipients`` exactly
  status      recipients whose RFC 3463 code equals ``expected_status`` (where labelled)
  reason      recipients whose reason equals ``expected_reason`` (Sisimai's vocabulary)
  msg/s       parse + detect, best of --rounds; "parse only" is the stdlib compat32 ceiling
              (wall time; --cpu-time counts this process's CPU time, steadier on a shared
              machine where other work takes the cores)
  speed ratio hrdp's messages/second over flufl.bounce's on the same files
  vs stdlib parse  hrdp's parse + detect against the stdlib compat32 parse alone (hrdp
              parses with hrdp.mime, lazily: an ordinary message's body is never split)

With more than one folder, a last table measures all of them as one run.

flufl.bounce reports neither status nor reason ("-"); it is optional: without it only
hrdp is measured. ``--misses`` lists the files hrdp gets wrong (for development).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from hrdp.dsn import examine  # noqa: E402  (after the path set-up above)
from hrdp.message import ParsedMessage  # noqa: E402

Label = dict[str, object]
# One tool's answer for a message: is it a bounce, recipients, status and reason per recipient.
Answer = tuple[bool, list[str], dict[str, str], dict[str, str]]


@dataclass
class Score:
    """One tool's tally over one folder."""

    bounces: int = 0
    detected: int = 0
    ordinary: int = 0
    false_positives: int = 0
    with_recipients: int = 0
    exact: int = 0
    status_total: int = 0
    status_hits: int = 0
    reason_total: int = 0
    reason_hits: int = 0
    errors: int = 0
    seconds: float = float("inf")
    misses: list[str] = field(default_factory=list)

    def add(self, label: Label, answer: Answer) -> None:
        bounce, recipients, status, reason = answer
        name = str(label["file"])
        if not label.get("is_bounce"):
            self.ordinary += 1
            self.false_positives += bounce
            if bounce:
                self.misses.append(f"{name}: false positive")
            return
        self.bounces += 1
        self.detected += bounce
        if not bounce:
            self.misses.append(f"{name}: not detected")
        expected = [str(a).lower() for a in _list(label, "expected_recipients")]
        if expected:
            self.with_recipients += 1
            same = set(recipients) == set(expected)
            self.exact += same
            if not same:
                self.misses.append(f"{name}: recipients {sorted(recipients)} != {expected}")
        self._compare(name, expected, _list(label, "expected_status"), status, "status")
        self._compare(name, expected, _list(label, "expected_reason"), reason, "reason")

    def _compare(
        self, name: str, expected: list[str], wanted: list[object], got: dict[str, str], what: str
    ) -> None:
        for address, value in zip(expected, wanted, strict=False):
            if not value:
                continue
            hit = got.get(address) == value
            if what == "status":
                self.status_total += 1
                self.status_hits += hit
            else:
                self.reason_total += 1
                self.reason_hits += hit
            if not hit:
                self.misses.append(f"{name}: {what} {address} {got.get(address)!r} != {value!r}")


def _list(label: Label, key: str) -> list[object]:
    value = label.get(key)
    return list(value) if isinstance(value, list) else []


def hrdp_answer(raw: bytes) -> Answer:
    dsn = examine(ParsedMessage(raw)).dsn
    if dsn is None:
        return False, [], {}, {}
    status = dict(zip(dsn.recipients, dsn.status, strict=False))
    reason = dict(zip(dsn.recipients, dsn.reason, strict=False))
    return dsn.kind in ("failed", "delayed"), list(dsn.recipients), status, reason


def flufl_answer(raw: bytes) -> Answer:
    from flufl.bounce import all_failures

    temporary, permanent = all_failures(message_from_bytes(raw))
    found = sorted({a.decode("ascii", "replace").lower() for a in temporary | permanent})
    return bool(found), found, {}, {}


def parse_only(raw: bytes) -> Answer:
    message_from_bytes(raw, policy=compat32)
    return False, [], {}, {}


def load(folder: Path) -> list[tuple[Label, bytes]]:
    """(label, raw bytes) per message; unlabelled folders hold ordinary messages."""
    labels = folder / "labels.jsonl"
    if labels.exists():
        rows = [json.loads(line) for line in labels.read_text("utf-8").splitlines() if line]
        return [(row, (folder / str(row["file"])).read_bytes()) for row in rows]
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    return [({"file": p.name, "is_bounce": False}, p.read_bytes()) for p in files]


def measure(
    items: list[tuple[Label, bytes]],
    tool: Callable[[bytes], Answer],
    rounds: int,
    clock: Callable[[], float] = time.perf_counter,
) -> Score:
    score = Score()
    for round_number in range(rounds):
        start = clock()
        answers: list[Answer] = []
        errors = 0
        for _label, raw in items:
            try:
                answers.append(tool(raw))
            except Exception:  # flufl.bounce raises on some real mail: counted, not fatal
                errors += 1
                answers.append((False, [], {}, {}))
        score.seconds = min(score.seconds, clock() - start)
        if round_number == 0:
            score.errors = errors
            for (label, _raw), answer in zip(items, answers, strict=True):
                score.add(label, answer)
    return score


def _pct(hits: int, total: int) -> str:
    return f"{hits}/{total} {100 * hits / total:5.1f}%" if total else "-"


def table(title: str, n: int, scores: dict[str, Score], parse_seconds: float) -> str:
    names = list(scores)
    rows: list[tuple[str, list[str]]] = [
        ("detection", [_pct(s.detected, s.bounces) for s in scores.values()]),
        ("false positives", [_pct(s.false_positives, s.ordinary) for s in scores.values()]),
        ("exact recipients", [_pct(s.exact, s.with_recipients) for s in scores.values()]),
        ("status match", [_pct(s.status_hits, s.status_total) for s in scores.values()]),
        ("reason match", [_pct(s.reason_hits, s.reason_total) for s in scores.values()]),
        ("exceptions", [str(s.errors) for s in scores.values()]),
        ("msg/s (parse + detect)", [f"{n / s.seconds:.0f}" for s in scores.values()]),
    ]
    if "flufl.bounce" in scores:
        ratio = scores["flufl.bounce"].seconds / scores["hrdp"].seconds
        rows.append(("speed ratio", [f"{ratio:.1f}x", "1.0x"]))
    versus = parse_seconds / scores["hrdp"].seconds
    rows.append(("vs stdlib parse alone", [f"{versus:.1f}x", "-"][: len(names)]))
    lines = [f"## {title} ({n} messages; parse only {n / parse_seconds:.0f} msg/s)", ""]
    lines.append("| measure | " + " | ".join(names) + " |")
    lines.append("|---|" + "---:|" * len(names))
    lines.extend(f"| {what} | " + " | ".join(cells) + " |" for what, cells in rows)
    return "\n".join(lines)


def folders(root: Path) -> list[Path]:
    if (root / "labels.jsonl").exists():
        return [root]
    labelled = sorted(p for p in root.iterdir() if (p / "labels.jsonl").exists())
    return labelled or [root]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    default = os.environ.get("HRDP_CORPUS", str(REPO.parent / "shared" / "corpus"))
    parser.add_argument("--corpus", action="append", type=Path, help=f"default {default}")
    parser.add_argument("--rounds", type=int, default=3, help="timing: best of N (default 3)")
    parser.add_argument("--misses", action="store_true", help="list what hrdp gets wrong")
    parser.add_argument("--no-flufl", action="store_true", help="measure hrdp only")
    parser.add_argument("--cpu-time", action="store_true", help="time CPU, not wall clock")
    args = parser.parse_args()
    clock = time.process_time if args.cpu_time else time.perf_counter
    # flufl.bounce logs a traceback for each exception it swallows; they are counted.
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    tools: dict[str, Callable[[bytes], Answer]] = {"hrdp": hrdp_answer}
    if not args.no_flufl:
        try:
            import flufl.bounce  # noqa: F401
        except ImportError:
            print("flufl.bounce is not installed: measuring hrdp only", file=sys.stderr)
        else:
            tools["flufl.bounce"] = flufl_answer
    everything: list[tuple[Label, bytes]] = []
    runs = [folder for root in args.corpus or [Path(default)] for folder in folders(root)]
    for folder in runs:
        items = load(folder)
        everything.extend(items)
        report(folder.name, items, tools, args.rounds, args.misses, clock)
    if len(runs) > 1:
        # One run over every folder: flufl.bounce's slow messages count in the total.
        report("all folders, one run", everything, tools, args.rounds, False, clock)


def report(
    title: str,
    items: list[tuple[Label, bytes]],
    tools: dict[str, Callable[[bytes], Answer]],
    rounds: int,
    misses: bool,
    clock: Callable[[], float],
) -> None:
    parse_seconds = measure(items, parse_only, rounds, clock).seconds
    scores = {name: measure(items, tool, rounds, clock) for name, tool in tools.items()}
    print(table(title, len(items), scores, parse_seconds) + "\n")
    if misses:
        print("\n".join(scores["hrdp"].misses) + "\n")


if __name__ == "__main__":
    main()
