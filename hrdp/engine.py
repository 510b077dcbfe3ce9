"""Where stage one runs: in this process, or in --jobs worker processes.

Batches go to the workers with at most two per worker in flight, so reading an archive
never runs ahead of classifying it (bounded memory), and results come back in input
order. Each worker builds its own scorer from a picklable ScorerSpec: scorer objects
hold sockets and threads and are not sent between processes.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Protocol

from hrdp.examine import Examiner, Job, Partial, error_partial
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


class Engine(Protocol):
    def map(self, batches: Iterable[list[RawMessage]]) -> Iterator[list[Partial]]: ...
    def close(self) -> None: ...


class InlineEngine:
    """Stage one in this process. A daemon scorer's answers stay in flight across batches
    (the pipeline settles them in order), so parsing overlaps the daemon's work."""

    def __init__(self, job: Job, scorer: Scorer | None) -> None:
        self.examiner = Examiner(job, scorer)

    def map(self, batches: Iterable[list[RawMessage]]) -> Iterator[list[Partial]]:
        for batch in batches:
            yield self.examiner.batch(batch, wait=False)

    def close(self) -> None:
        self.examiner.close()


@dataclass
class _Batch:
    batch: list[RawMessage]
    future: Future[list[Partial]] = field(default_factory=Future)
    generation: int = 0  # which pool it was sent to


_WORKER: Examiner | None = None


def _init_worker(job: Job, spec: ScorerSpec | None) -> None:
    global _WORKER
    _WORKER = Examiner(job, spec.load() if spec else None)


def _work(batch: list[RawMessage]) -> list[Partial]:
    assert _WORKER is not None, "worker not initialised"
    return _WORKER.batch(batch)


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

    def map(self, batches: Iterable[list[RawMessage]]) -> Iterator[list[Partial]]:
        in_flight: deque[_Batch] = deque()
        for batch in batches:
            in_flight.append(self._submit(_Batch(batch)))
            if len(in_flight) >= 2 * self.jobs:
                yield self._collect(in_flight.popleft())
        while in_flight:
            yield self._collect(in_flight.popleft())

    def _submit(self, item: _Batch) -> _Batch:
        item.generation = self.generation
        try:
            item.future = self.pool.submit(_work, item.batch)
        except BrokenProcessPool as exc:  # noticed at submit time: _collect handles it
            item.future = Future()
            item.future.set_exception(exc)
        return item

    def _collect(self, item: _Batch) -> list[Partial]:
        """A worker that dies (killed, out of memory, a crash in C code) breaks the whole
        pool, and every batch in flight fails with it. Each failed batch runs again
        alone in a fresh pool: one that breaks it alone is the culprit and gets error
        rows (never silence); the others give their rows as usual."""
        try:
            return item.future.result()
        except BrokenProcessPool:
            self._restart(item.generation)
        alone = self._submit(_Batch(item.batch))
        try:
            return alone.future.result()
        except BrokenProcessPool:
            self._restart(alone.generation)
            return [error_partial(raw, "a worker process died classifying this message batch")
                    for raw in item.batch]

    def _restart(self, broken_generation: int) -> None:
        if broken_generation == self.generation:  # not already replaced
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._start()
            self.generation += 1

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
