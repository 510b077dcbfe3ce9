"""The data flow of `hrdp classify`: raw message -> facts -> decision -> result.

Stage one (examine.py: parse, DSN detection, scoring) runs in batches, in this process
or in --jobs workers (engine.py); ``classify_files`` lets the workers read the files too
(units of hrdp.ranges), so only rows come back. Stage two runs here: the sender-domain DNS check,
submitted as a future as soon as a batch comes back so the distinct domains of a run
resolve concurrently and once each, then the pool decision. Rows leave in input order
through a bounded window.

Given a Renderer (hrdp.render: the writer's streaming format), the pipeline gives Lines
instead of Results, and --jobs workers render their half of every row (hrdp.lines).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from itertools import chain, groupby, islice
from typing import TypeVar, overload

from hrdp import lines
from hrdp.dnscheck import DnsVerdict, DomainChecker
from hrdp.engine import Done, Engine, InlineEngine, ProcessEngine, ScorerSpec, UnitTask, Work
from hrdp.examine import Job, Partial, Result
from hrdp.lines import Decisions, Line, Prepared
from hrdp.ranges import Numbering, Planner, Unit, read_unit, tasks
from hrdp.render import Renderer
from hrdp.scoring.base import Scorer
from hrdp.sources import RawMessage

__all__ = ["Line", "Result", "Settings", "classify", "classify_files"]

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


T = TypeVar("T", Result, Line)
# In the window: a Partial (first None: its index is set already), or a worker's Prepared
# row and the first index of its unit.
Pending = tuple[Partial, "Future[DnsVerdict] | None", None] | tuple[
    Prepared, "Future[DnsVerdict] | None", int]
Finish = Callable[[Pending], T]


@overload
def classify(raws: Iterable[RawMessage], settings: Settings) -> Iterator[Result]: ...
@overload
def classify(raws: Iterable[RawMessage], settings: Settings, renderer: Renderer
             ) -> Iterator[Line]: ...
def classify(raws: Iterable[RawMessage], settings: Settings,
             renderer: Renderer | None = None) -> Iterator[Result] | Iterator[Line]:
    """One Result per raw message, in input order; one Line with a renderer."""
    work = _batched(raws, settings.batch_size)
    if renderer is None:
        return _run(work, settings, _results(settings))
    return _run(work, settings, _lines(settings, renderer), renderer)


@overload
def classify_files(
    paths: Sequence[str], settings: Settings, renderer: None = None, *,
    on_error: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[Result]: ...
@overload
def classify_files(
    paths: Sequence[str], settings: Settings, renderer: Renderer, *,
    on_error: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[Line]: ...
def classify_files(
    paths: Sequence[str],
    settings: Settings,
    renderer: Renderer | None = None,
    *,
    on_error: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_read: Callable[[int], None] | None = None,
) -> Iterator[Result] | Iterator[Line]:
    """``classify(iter_messages(paths))`` for files and folders (not standard input, not
    pipes: hrdp.ranges.check_paths), the rows identical; the workers read the files.

    ``on_read`` hears how many bytes each piece of work read, when its rows come back.
    """
    planner = Planner(UNIT_BYTES, on_error)
    numbering = Numbering()
    work = _work(planner, planner.units(paths), settings.batch_size, on_read)
    on_done = _numbered(numbering, planner, on_read)
    if renderer is None:
        yield from _run(work, settings, _results(settings), on_done=on_done)
    else:
        yield from _run(work, settings, _lines(settings, renderer), renderer, on_done)
    planner.report(on_warning)


def _results(settings: Settings) -> Finish[Result]:
    decisions = Decisions(settings.job.policy)

    def finish(pending: Pending) -> Result:
        assert pending[2] is None, "workers prepare rows only for a renderer"
        return _finish(pending[0], pending[1], decisions)

    return finish


def _lines(settings: Settings, renderer: Renderer) -> Finish[Line]:
    decisions = Decisions(settings.job.policy)

    def finish(pending: Pending) -> Line:
        if pending[2] is None:
            return lines.line_of(_finish(pending[0], pending[1], decisions), renderer)
        return lines.finish(pending[0], pending[1], pending[2], decisions, renderer)

    return finish


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
) -> Callable[[Done], int]:
    """The index of a local run that a unit's first row has, in the order units come
    back (the unit's rows count from 0)."""

    def settle(done: Done) -> int:
        if done.unit is None:  # a batch read here: indices and bytes counted already
            return 0
        first = numbering.first_index(done.unit, len(done.partials) + len(done.prepared))
        planner.skipped(done.not_mail)
        if on_read is not None:
            on_read(done.unit.size)
        return first

    return settle


def _counted(
    raws: Iterator[RawMessage], on_read: Callable[[int], None] | None
) -> Iterator[RawMessage]:
    for raw in raws:
        if on_read is not None:
            on_read(len(raw.data or b""))
        yield raw


def _run(
    work: Iterator[Work], settings: Settings, finish: Finish[T],
    renderer: Renderer | None = None, on_done: Callable[[Done], int] | None = None,
) -> Iterator[T]:
    ahead = list(islice(work, 2))
    engine = _engine(settings, several=len(ahead) > 1, renderer=renderer)
    window = _window(settings)
    submit = settings.checker.submit
    pending: deque[Pending] = deque()
    try:
        for dones in engine.map(chain(ahead, work)):
            for done in dones:
                first = on_done(done) if on_done is not None else 0
                for partial in done.partials:
                    partial.result.index += first
                    domain = partial.domain
                    pending.append((partial, submit(domain) if domain else None, None))
                for prepared in done.prepared:
                    domain = prepared[2]
                    pending.append((prepared, submit(domain) if domain else None, first))
            while pending and (len(pending) > window or _ready(pending[0])):
                yield finish(pending.popleft())
        while pending:
            yield finish(pending.popleft())
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


def _engine(settings: Settings, several: bool, renderer: Renderer | None) -> Engine:
    """Worker processes only pay off for more than one batch: a single message from an
    MTA is classified in this process without forking. A daemon scorer is I/O-bound:
    its requests overlap in this process (worker processes would only take the
    daemon's CPU) unless --jobs was asked for explicitly. Workers render their half of
    each row when there is a renderer."""
    jobs = settings.jobs or (1 if _concurrency(settings) > 1 else os.cpu_count() or 1)
    if jobs > 1 and several:
        job = replace(settings.job, render=renderer.fmt if renderer else None)
        return ProcessEngine(job, settings.scorer_spec, jobs)
    return InlineEngine(settings.job, settings.scorer)


def _batched(raws: Iterable[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    iterator = iter(raws)
    while batch := list(islice(iterator, size)):
        yield batch


def _ready(pending: Pending) -> bool:
    """Its DNS answer is in, and so is its score (a Partial's from a daemon)."""
    return (pending[1] is None or pending[1].done()) and (
        pending[2] is not None or pending[0].ready())


def _finish(
    partial: Partial, dns: Future[DnsVerdict] | None, decide_once: Decisions
) -> Result:
    result, facts = partial.result, partial.settle().facts
    outcome = facts.dns
    if dns is not None:
        result.dns = dns.result()
        outcome = result.dns.outcome
    result.decision = decide_once(facts, outcome)
    return result
