"""Batch throughput of `hrdp classify` and its peers on one large archive, side by side.

Builds an mbox of --messages messages (default 200,000) cycled from ../shared/corpus (every
folder: ham, spam, bounces, non-bounces) plus one 10x smaller, then prints in one run:
  - the stdlib compat32 parse-only ceiling (in process, the same messages);
  - hrdp at --jobs 1 and --jobs 2 (default scorer, --dns-zone resolver): msg/s, MB/s;
  - peak memory for the small and full archive: RSS of the largest process, RSS summed over
    the process tree (counting pages the forked workers share with their parent once per
    process) and PSS summed over the tree (counting them once);
  - peers on samples of the same messages: flufl.bounce's scan (parse + scan_message),
    rspamd's /checkv2 (keep-alive, 4 concurrent clients) and spamd (CHECK, 2 children).
Usage: python bench/throughput.py [--messages N] [--rounds N] [--peer-sample N] [--no-daemons]
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes
from email.policy import compat32
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_SECONDS = 0.5  # memory samples of the process tree during a run
sys.path.insert(0, str(REPO))


def corpus_messages(corpus: Path) -> list[bytes]:
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "labels.jsonl")
    return [p.read_bytes().replace(b"\r\n", b"\n") for p in files]


def write_mbox(messages: list[bytes], count: int, target: Path) -> int:
    """``count`` messages cycled from ``messages`` as an mboxrd file; returns its size."""
    escaped = []
    for data in messages:
        if data.startswith(b"From "):  # a corpus file that is itself an mbox: drop its From_
            data = data.split(b"\n", 1)[1]
        lines = [b">" + ln if ln.lstrip(b">").startswith(b"From ") else ln
                 for ln in data.split(b"\n")]
        escaped.append(b"From bench@example.test Thu Jan  1 00:00:00 2004\n"
                       + b"\n".join(lines).rstrip(b"\n") + b"\n\n")
    with target.open("wb") as out:
        for i in range(count):
            out.write(escaped[i % len(escaped)])
    return target.stat().st_size


def parse_ceiling(messages: list[bytes], count: int) -> float:
    """msg/s of BytesParser(policy=compat32) alone over ``count`` messages (best of 3)."""
    sample = [messages[i % len(messages)] for i in range(count)]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for data in sample:
            message_from_bytes(data, policy=compat32)
        best = min(best, time.perf_counter() - start)
    return count / best


def tree_rss(pid: int) -> tuple[int, int, int]:
    """(largest process RSS, whole tree RSS, whole tree PSS) in bytes, from /proc. Forked
    workers share their parent's pages: the RSS sum counts those once per process, the
    PSS sum (each shared page split between its sharers) counts them once."""
    pids, rss, pss = [pid], [], 0
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pids.extend(int(c) for c in children)
        rss += [int(line.split()[1]) * 1024 for line in status.splitlines()
                if line.startswith("VmRSS:")]
        pss += sum(int(line.split()[1]) * 1024 for line in rollup.splitlines()
                   if line.startswith("Pss:"))
    return (max(rss, default=0), sum(rss), pss)


def run_hrdp(archive: Path, jobs: int) -> tuple[float, int, int, int]:
    """Wall seconds and peak memory (largest process RSS, tree RSS, tree PSS) of one run.

    Memory is sampled every 50 ms for the first two seconds, then every SAMPLE_SECONDS:
    a sample costs about 2 ms of CPU (smaps_rollup walks the page tables), and every
    50 ms that took 4% of a core from a --jobs 2 run that uses both cores, and nothing
    from a --jobs 1 run that leaves one idle. (wait4's ru_maxrss cannot replace it: it
    counts the bench's own pages, which the child held between fork and exec.)"""
    cmd = [sys.executable, "-m", "hrdp", "classify", "-q", "--format", "jsonl", "--jobs",
           str(jobs), "--dns-zone", str(REPO / "sample_mail" / "zone.db"), str(archive)]
    peak = [0, 0, 0]
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        process = subprocess.Popen(cmd, stdout=sink)
        while process.poll() is None:
            peak = [max(old, new) for old, new in zip(peak, tree_rss(process.pid), strict=True)]
            time.sleep(0.05 if time.perf_counter() - start < 2 else SAMPLE_SECONDS)
    seconds = time.perf_counter() - start
    if process.returncode not in (0, 3, 4):
        raise SystemExit(f"hrdp failed with exit status {process.returncode}")
    return seconds, peak[0], peak[1], peak[2]


def flufl_rate(messages: list[bytes]) -> float | None:
    try:
        from flufl.bounce import scan_message
    except ImportError:
        return None
    logging.disable(logging.ERROR)  # flufl logs a traceback per detector that raises
    start = time.perf_counter()
    for data in messages:
        # flufl raises on a few real messages; they count as scanned
        with contextlib.suppress(Exception):
            scan_message(message_from_bytes(data, policy=compat32))
    return len(messages) / (time.perf_counter() - start)


def rspamd_rate(url: str, messages: list[bytes], clients: int = 4) -> float:
    host, port = url.removeprefix("http://").split(":")
    local = threading.local()

    def check(data: bytes) -> None:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(host, int(port), timeout=30)
        local.conn.request("POST", "/checkv2", body=data)
        local.conn.getresponse().read()

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(check, messages))
    return len(messages) / (time.perf_counter() - start)


def spamd_rate(host: str, port: int, messages: list[bytes], clients: int = 2) -> float:
    def check(data: bytes) -> None:
        with socket.create_connection((host, port), timeout=60) as conn:
            conn.sendall(b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(data) + data)
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(65536):
                pass

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(check, messages))
    return len(messages) / (time.perf_counter() - start)


def peers(messages: list[bytes], sample: int, daemons: bool,
          rounds: int) -> dict[str, float | None]:
    """Each peer's best of ``rounds`` runs, as hrdp gets its best."""
    taken = [messages[i % len(messages)] for i in range(sample)]
    flufl = [rate for _ in range(rounds) if (rate := flufl_rate(taken)) is not None]
    rates: dict[str, float | None] = {"flufl.bounce scan": max(flufl, default=None)}
    if not daemons:
        return rates
    from tests.daemons import running_rspamd, running_spamd

    with running_rspamd(workers=2, wait_hyperscan=True) as rspamd:
        rates["rspamd /checkv2 (2 workers, 4 clients)"] = max(
            rspamd_rate(rspamd.url, taken) for _ in range(rounds))
    with running_spamd(children=2) as spamd:
        rates["spamd CHECK (2 children, 2 clients)"] = max(
            spamd_rate(spamd.host, spamd.port, taken[: min(sample, 300)]) for _ in range(rounds))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_corpus = os.environ.get("HRDP_CORPUS", str(REPO.parent / "shared" / "corpus"))
    parser.add_argument("--corpus", default=default_corpus)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--peer-sample", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2,
                        help="runs of each --jobs on the full archive and of each peer; "
                             "the fastest is shown")
    parser.add_argument("--no-daemons", action="store_true", help="skip rspamd and spamd")
    args = parser.parse_args()
    messages = corpus_messages(Path(args.corpus))
    with tempfile.TemporaryDirectory(prefix="hrdp-bench-") as tmp:
        full, small = Path(tmp) / "full.mbox", Path(tmp) / "small.mbox"
        size = write_mbox(messages, args.messages, full)
        write_mbox(messages, args.messages // 10, small)
        report(args, messages, full, small, size)


def report(args: argparse.Namespace, messages: list[bytes], full: Path, small: Path,
           size: int) -> None:
    n, mb = args.messages, size / 1e6
    print(f"archive: {n:,} messages, {mb:,.0f} MB, cycled from {len(messages):,} corpus files;"
          f" {os.cpu_count()} cores")
    ceiling = parse_ceiling(messages, min(n, 20_000))
    rows = [("stdlib compat32 parse only (1 core)", ceiling, "", "")]
    rates: dict[int, float] = {}
    runs: dict[int, list[tuple[float, int, int, int]]] = {1: [], 2: []}
    for _round in range(args.rounds):  # interleaved, so a busy spell hits both
        for jobs in (1, 2):
            runs[jobs].append(run_hrdp(full, jobs))
    for jobs in (1, 2):
        seconds = min(run[0] for run in runs[jobs])
        one, tree, pss = (max(run[k] for run in runs[jobs]) for k in (1, 2, 3))
        rates[jobs] = n / seconds
        spread = "" if args.rounds == 1 else f" (slowest {n / max(r[0] for r in runs[jobs]):,.0f})"
        rows.append((f"hrdp classify --jobs {jobs}{spread}", rates[jobs], f"{mb / seconds:.1f}",
                     f"{one / 1e6:.0f} / {tree / 1e6:.0f} / {pss / 1e6:.0f}"))
    seconds, one, tree, pss = run_hrdp(small, 1)
    rows.append((f"hrdp --jobs 1, archive / 10 ({n // 10:,})", n // 10 / seconds, "",
                 f"{one / 1e6:.0f} / {tree / 1e6:.0f} / {pss / 1e6:.0f}"))
    peer_rates = peers(messages, args.peer_sample, not args.no_daemons, args.rounds)
    rows += [(name, rate or 0.0, "", "") for name, rate in peer_rates.items()]
    head = "peak MB: RSS largest / RSS tree / PSS tree"
    print(f"{'run':<46}{'msg/s':>10}{'MB/s':>8}  {head:>42}")
    for name, rate, mbs, rss in rows:
        print(f"{name:<46}{rate:>10,.0f}{mbs:>8}  {rss:>42}")
    print(f"\n--jobs 1 vs parse ceiling: {rates[1] / ceiling:.0%} (target >= 50%)")
    print(f"--jobs 2 vs --jobs 1: {rates[2] / rates[1]:.2f}x (target >= 1.8x)")
    for name, rate in peer_rates.items():
        if rate:
            print(f"hrdp --jobs 2 vs {name}: {rates[2] / rate:.1f}x")


if __name__ == "__main__":
    main()
