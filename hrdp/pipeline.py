"""The data flow of `hrdp classify`: raw message -> facts -> decision -> result.

Stage one (examine.py: parse, DSN detection, scoring) runs in batches, in this process
or in --jobs workers (engine.py); ``classify_files`` lets the workers read the files too
(units of hrdp.ranges), so only rows come back. Stage two runs here: the sender-domain DNS check,
submitted as a future as soon as a batch comes back so the distinct domains of a run
resolve concurrently and once each, then the pool decision. Rows leave in input order
through a bounded window.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import chain, groupby, islice

from hrdp.dnscheck import DnsVerdict, DomainChecker
from hrdp.engine import Done, Engine, InlineEngine, ProcessEngine, ScorerSpec, UnitTask, Work
from hrdp.examine import Job, Partial, Result
from hrdp.pool import Decision, Facts, Policy, decide
from hrdp.ranges import Numbering, Planner, Unit, read_unit, tasks
from hrdp.scoring.base import Scorer
from hrdp.sources import RawMessage

__all__ = ["Result", "Settings", "classify", "classify_files"]

UNIT_BYTES = 4 << 20  # a worker's piece of an archive: fewer, larger results to pickle


@dataclass
class Settings:
    job: Job  # what stage one needs, incl. the policy
    checker: DomainChecker
    scorer: Scorer | None = None  # used in this process
    jobs: int = 1  # worker processes for stage one (0: automatic)
    scorer_spec: ScorerSpec | None = None  # rebuilds the scorer in workers (jobs > 1)
    batch_size: int = 64  # messages per batch sent to a worker
    window: int = 4096  # messages whose DNS answer may be pending at once


def classify(raws: Iterable[RawMessage], settings: Settings) -> Iterator[Result]:
    """One Result per raw message, in input order."""
    return _run(_batched(raws, settings.batch_size), settings)


def classify_files(
    paths: Sequence[str],
    settings: Settings,
    *,
    on_error: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[Result]:
    """``classify(iter_messages(paths))`` for files and folders (not standard input, not
    pipes: hrdp.ranges.check_paths), the rows identical; the workers read the files.

    ``on_read`` hears how many bytes each piece of work read, when its rows come back.
    """
    planner = Planner(UNIT_BYTES, on_error)
    numbering = Numbering()
    work = _work(planner, planner.units(paths), settings.batch_size, on_read)
    yield from _run(work, settings, on_done=_numbered(numbering, planner, on_read))
    planner.report(on_warning)


def _work(
    planner: Planner, units: Iterator[Unit], batch_size: int, on_read: Callable[[int], None] | None
) -> Iterator[Work]:
    """Units grouped into tasks of about UNIT_BYTES (ranges.tasks, as the Dask engine
    groups them); a big file that is not an mbox (a compressed archive: a stream cannot
    be entered in the middle) is read here in batches, so no worker holds a whole archive."""
    for big, run in groupby(units, key=lambda unit: unit.kind == "file" and unit.size > UNIT_BYTES):
        if not big:
            yield from (UnitTask(group) for group in tasks(run, UNIT_BYTES))
            continue
        for unit in run:
            not_mail: list[str] = []
            yield from _batched(_counted(read_unit(unit, not_mail), on_read), batch_size)
            planner.skipped(not_mail)


def _numbered(
    numbering: Numbering, planner: Planner, on_read: Callable[[int], None] | None
) -> Callable[[Done], None]:
    """Gives a unit's partials the indices of a local run, in the order units come back."""

    def settle(done: Done) -> None:
        if done.unit is None:  # a batch read here: indices and bytes counted already
            return
        first = numbering.first_index(done.unit, len(done.partials))
        for partial in done.partials:
            partial.result.index += first
        planner.skipped(done.not_mail)
        if on_read is not None:
            on_read(done.unit.size)

    return settle


def _counted(
    raws: Iterator[RawMessage], on_read: Callable[[int], None] | None
) -> Iterator[RawMessage]:
    for raw in raws:
        if on_read is not None:
            on_read(len(raw.data or b""))
        yield raw


def _run(
    work: Iterator[Work], settings: Settings, on_done: Callable[[Done], None] | None = None
) -> Iterator[Result]:
    first = list(islice(work, 2))
    engine = _engine(settings, several=len(first) > 1)
    window = _window(settings)
    decide_once = _Decisions(settings.job.policy)
    pending: deque[tuple[Partial, Future[DnsVerdict] | None]] = deque()
    try:
        for dones in engine.map(chain(first, work)):
            for done in dones:
                if on_done is not None:
                    on_done(done)
                for partial in done.partials:
                    domain = partial.domain
                    pending.append((partial, settings.checker.submit(domain) if domain else None))
            while pending and (len(pending) > window or _ready(pending[0])):
                yield _finish(*pending.popleft(), decide_once)
        while pending:
            yield _finish(*pending.popleft(), decide_once)
    finally:
        engine.close()


def _concurrency(settings: Settings) -> int:
    return int(getattr(settings.scorer, "concurrency", 1) or 1)


def _window(settings: Settings) -> int:
    """How many messages may wait for DNS or a daemon's score. Daemon scores hold
    their parsed message: keep a few batches' worth in flight, not thousands."""
    if _concurrency(settings) > 1:
        return max(2 * settings.batch_size, 8 * _concurrency(settings))
    return settings.window


def _engine(settings: Settings, several: bool) -> Engine:
    """Worker processes only pay off for more than one batch: a single message from an
    MTA is classified in this process without forking. A daemon scorer is I/O-bound:
    its requests overlap in this process (worker processes would only take the
    daemon's CPU) unless --jobs was asked for explicitly."""
    jobs = settings.jobs or (1 if _concurrency(settings) > 1 else os.cpu_count() or 1)
    if jobs > 1 and several:
        return ProcessEngine(settings.job, settings.scorer_spec, jobs)
    return InlineEngine(settings.job, settings.scorer)


def _batched(raws: Iterable[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    iterator = iter(raws)
    while batch := list(islice(iterator, size)):
        yield batch


def _ready(item: tuple[Partial, Future[DnsVerdict] | None]) -> bool:
    return (item[1] is None or item[1].done()) and item[0].ready()


class _Decisions:
    """decide() once per distinct set of facts: a run has a handful (clean, spam, a DSN
    kind, a DNS outcome...), and the main process decides every row of every worker.
    Rows share the Decision, which nothing changes after."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.known: dict[tuple[object, ...], Decision] = {}

    def __call__(self, facts: Facts, dns: str | None) -> Decision:
        kind = facts.dsn.kind if facts.dsn is not None else None  # all decide() reads of it
        key = (facts.malformed, kind, dns, facts.spam, facts.scorer_failed)
        found = self.known.get(key)
        if found is None:
            found = self.known[key] = decide(
                Facts(facts.malformed, facts.dsn, dns, facts.spam, facts.scorer_failed),
                self.policy)
        return found


def _finish(
    partial: Partial, dns: Future[DnsVerdict] | None, decide_once: _Decisions
) -> Result:
    result, facts = partial.result, partial.settle().facts
    outcome = facts.dns
    if dns is not None:
        result.dns = dns.result()
        outcome = result.dns.outcome
    result.decision = decide_once(facts, outcome)
    return result
