"""Where stage one runs: in this process, or in --jobs worker processes.

Work is a batch of messages read here, or a ``UnitTask``: files and byte ranges of an
mbox (hrdp.ranges) that the worker reads itself, so the archive's bytes never cross a
pipe and this process only settles DNS and writes rows. At most two pieces of work per
worker are in flight, so reading never runs ahead of classifying (bounded memory), and
results come back in input order. Each worker builds its own scorer from a picklable
ScorerSpec: scorer objects hold sockets and threads and are not sent between processes.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Protocol

from hrdp import render, wire
from hrdp.examine import Examiner, Job, Partial, error_partial
from hrdp.lines import Prepared, prepare
from hrdp.ranges import Unit, read_here
from hrdp.scoring import registry
from hrdp.scoring.base import Scorer
from hrdp.sources import RawMessage


@dataclass(frozen=True)
class ScorerSpec:
    """How to build the scorer again in a worker process."""

    name: str
    options: dict[str, str] = field(default_factory=dict)
    threshold: float | None = None

    def load(self) -> Scorer:
        return registry.load(self.name, self.options, self.threshold)


@dataclass(frozen=True)
class UnitTask:
    """Units read where they are classified (small files, ranges of an mbox)."""

    units: list[Unit]

    @property
    def size(self) -> int:
        return sum(unit.size for unit in self.units)


Work = list[RawMessage] | UnitTask


@dataclass
class Done:
    """Stage one's partials for a batch, or for one unit (whose indices count from 0);
    or, from a worker that renders rows, their prepared halves (hrdp.lines)."""

    partials: list[Partial]
    unit: Unit | None = None
    not_mail: list[str] = field(default_factory=list)  # files the unit's walk left out
    prepared: list[Prepared] = field(default_factory=list)

    def __reduce__(self) -> tuple[object, ...]:
        """Crosses the pipe as flat tuples (hrdp.wire): a third of the dataclasses' cost."""
        return (_unpacked, (wire.pack(self.partials), self.unit, self.not_mail, self.prepared))


def _unpacked(rows: list[wire.Row], unit: Unit | None, not_mail: list[str],
              prepared: list[Prepared]) -> Done:
    return Done(wire.unpack(rows), unit, not_mail, prepared)


def _unit_done(examiner: Examiner, unit: Unit, wait: bool = True) -> Done:
    not_mail: list[str] = []
    return Done(examiner.batch(read_here(unit, not_mail), wait=wait), unit, not_mail)


class Engine(Protocol):
    def map(self, work: Iterable[Work]) -> Iterator[list[Done]]: ...
    def close(self) -> None: ...


class InlineEngine:
    """Stage one in this process. A daemon scorer's answers stay in flight across batches
    (the pipeline settles them in order), so parsing overlaps the daemon's work."""

    def __init__(self, job: Job, scorer: Scorer | None) -> None:
        self.examiner = Examiner(job, scorer)

    def map(self, work: Iterable[Work]) -> Iterator[list[Done]]:
        for item in work:
            if isinstance(item, UnitTask):
                yield [_unit_done(self.examiner, unit, wait=False) for unit in item.units]
            else:
                yield [Done(self.examiner.batch(item, wait=False))]

    def close(self) -> None:
        self.examiner.close()


@dataclass
class _Batch:
    work: Work
    future: Future[list[Done]] = field(default_factory=Future)
    generation: int = 0  # which pool it was sent to


_WORKER: Examiner | None = None
_RENDERER: render.Renderer | None = None

# Allocations (less deallocations) between two collections of the youngest generation.
# Python's 700 suits programs that build long-lived object graphs; a batch run frees
# almost everything a message allocates by reference counting, and at 700 the collector
# ran 40 times a message batch over whatever that message still held: 7% of a run.
GC_THRESHOLD = 50_000


def batch_gc() -> None:
    """Set the cyclic garbage collector for a batch run, once its tables are built:
    everything alive now (modules, compiled patterns, rule tables, the scorer) is moved
    out of the collector's sight (gc.freeze), and the youngest generation is collected
    every GC_THRESHOLD allocations. What a message leaves in cycles is still collected,
    a few MB later."""
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 10, 10)


def _init_worker(job: Job, spec: ScorerSpec | None) -> None:
    global _WORKER, _RENDERER
    _WORKER = Examiner(job, spec.load() if spec else None)
    _RENDERER = render.renderer(job.render) if job.render else None
    batch_gc()


def _work(work: Work) -> list[Done]:
    assert _WORKER is not None, "worker not initialised"
    if isinstance(work, UnitTask):
        dones = [_unit_done(_WORKER, unit) for unit in work.units]
    else:
        dones = [Done(_WORKER.batch(work))]
    if _RENDERER is not None:  # the main process only finishes the rows (hrdp.render)
        for done in dones:
            done.prepared = [prepare(partial, _RENDERER) for partial in done.partials]
            done.partials = []
    return dones


def _died(work: Work) -> list[Done]:
    """Error rows for every message of work that killed its worker twice."""
    text = "a worker process died classifying this message batch"
    if isinstance(work, UnitTask):
        return [Done([error_partial(raw, text) for raw in read_here(unit, [])], unit)
                for unit in work.units]
    return [Done([error_partial(raw, text) for raw in work])]


class ProcessEngine:
    """Stage one in ``jobs`` worker processes (fork where the platform has it)."""

    def __init__(self, job: Job, spec: ScorerSpec | None, jobs: int) -> None:
        self.job, self.spec, self.jobs = job, spec, jobs
        self.pool = self._start()
        self.generation = 0

    def _start(self) -> ProcessPoolExecutor:
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        return ProcessPoolExecutor(self.jobs, mp_context=context, initializer=_init_worker,
                                   initargs=(self.job, self.spec))

    def map(self, work: Iterable[Work]) -> Iterator[list[Done]]:
        in_flight: deque[_Batch] = deque()
        for item in work:
            in_flight.append(self._submit(_Batch(item)))
            if len(in_flight) >= 2 * self.jobs:
                yield self._collect(in_flight.popleft())
        while in_flight:
            yield self._collect(in_flight.popleft())

    def _submit(self, item: _Batch) -> _Batch:
        item.generation = self.generation
        try:
            item.future = self.pool.submit(_work, item.work)
        except BrokenProcessPool as exc:  # noticed at submit time: _collect handles it
            item.future = Future()
            item.future.set_exception(exc)
        return item

    def _collect(self, item: _Batch) -> list[Done]:
        """A worker that dies (killed, out of memory, a crash in C code) breaks the whole
        pool, and every batch in flight fails with it. Each failed batch runs again
        alone in a fresh pool: one that breaks it alone is the culprit and gets error
        rows (never silence); the others give their rows as usual."""
        try:
            return item.future.result()
        except BrokenProcessPool:
            self._restart(item.generation)
        alone = self._submit(_Batch(item.work))
        try:
            return alone.future.result()
        except BrokenProcessPool:
            self._restart(alone.generation)
            return _died(item.work)

    def _restart(self, broken_generation: int) -> None:
        if broken_generation == self.generation:  # not already replaced
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._start()
            self.generation += 1

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
