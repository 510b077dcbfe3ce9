"""How fast `hrdp classify` runs on a real archive, next to the stdlib parse-only ceiling.

Builds one mbox from ../shared/corpus/spamassassin (ham + spam, 3,651 messages), then runs,
side by side in one process:
  - stdlib: BytesParser(policy=compat32) over the same messages (the parse-only ceiling);
  - hrdp:   `hrdp classify --dns-zone sample_mail/zone.db --format jsonl` on the mbox
            (default scorer, embedded zone resolver, rows written to /dev/null).
Prints messages/s, MB/s and the ratio. Usage: python bench/classify_speed.py [--corpus DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from email.parser import BytesParser
from email.policy import compat32
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def build_mbox(corpus: Path, target: Path) -> list[bytes]:
    messages = []
    with target.open("wb") as out:
        for path in sorted((corpus / "spamassassin").rglob("*.eml")):
            data = path.read_bytes()
            messages.append(data)
            lines = [b">" + ln if ln.lstrip(b">").startswith(b"From ") else ln
                     for ln in data.split(b"\n")]
            out.write(b"From bench@example.test Thu Jan  1 00:00:00 2004\n")
            out.write(b"\n".join(lines).rstrip(b"\n") + b"\n\n")
    return messages


def parse_only(messages: list[bytes], rounds: int) -> float:
    parser = BytesParser(policy=compat32)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for data in messages:
            parser.parsebytes(data)
        best = min(best, time.perf_counter() - start)
    return best


def hrdp_run(mbox: Path, rounds: int, extra: list[str]) -> float:
    cmd = [sys.executable, "-m", "hrdp", "classify", "-q", "--format", "jsonl",
           "--dns-zone", str(REPO / "sample_mail" / "zone.db"), *extra, str(mbox)]
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        with open(os.devnull, "wb") as sink:
            done = subprocess.run(cmd, stdout=sink, check=False)
        best = min(best, time.perf_counter() - start)
        if done.returncode not in (0, 3, 4):
            raise SystemExit(f"hrdp failed with {done.returncode}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_corpus = os.environ.get("HRDP_CORPUS", str(REPO.parent / "shared" / "corpus"))
    parser.add_argument("--corpus", default=default_corpus)
    parser.add_argument("--rounds", type=int, default=3, help="best of N runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        mbox = Path(tmp) / "spamassassin.mbox"
        messages = build_mbox(Path(args.corpus), mbox)
        size_mb = mbox.stat().st_size / 1e6
        n = len(messages)
        ceiling = parse_only(messages, args.rounds)
        runs = [("stdlib compat32 parse only (in process)", ceiling)]
        for jobs in (1, 2):
            runs.append((f"hrdp classify --jobs {jobs} (with start-up)",
                         hrdp_run(mbox, args.rounds, ["--jobs", str(jobs)])))
        print(f"archive: {n} messages, {size_mb:.1f} MB (spamassassin ham+spam as one mbox)")
        print(f"{'run':<42}{'seconds':>9}{'msg/s':>9}{'MB/s':>8}{'vs ceiling':>12}")
        for name, secs in runs:
            print(f"{name:<42}{secs:>9.2f}{n / secs:>9.0f}{size_mb / secs:>8.1f}"
                  f"{ceiling / secs:>11.0%}")


if __name__ == "__main__":
    main()
