"""The data flow of `hrdp classify`: raw message -> facts -> decision -> result.

Stage one (examine.py: parse, DSN detection, scoring) runs in batches, in this process
or in --jobs workers (engine.py). Stage two runs here: the sender-domain DNS check,
submitted as a future as soon as a batch comes back so the distinct domains of a run
resolve concurrently and once each, then the pool decision. Rows leave in input order
through a bounded window.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from itertools import chain, islice

from hrdp.dnscheck import DnsVerdict, DomainChecker
from hrdp.engine import Engine, InlineEngine, ProcessEngine, ScorerSpec
from hrdp.examine import Job, Partial, Result
from hrdp.pool import Policy, decide
from hrdp.scoring.base import Scorer
from hrdp.sources import RawMessage

__all__ = ["Result", "Settings", "classify"]


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
    batches = _batched(raws, settings.batch_size)
    first = list(islice(batches, 2))
    engine = _engine(settings, several=len(first) > 1)
    window = _window(settings)
    pending: deque[tuple[Partial, Future[DnsVerdict] | None]] = deque()
    try:
        for partials in engine.map(chain(first, batches)):
            for partial in partials:
                domain = partial.domain
                pending.append((partial, settings.checker.submit(domain) if domain else None))
            while pending and (len(pending) > window or _ready(pending[0])):
                yield _finish(*pending.popleft(), settings.job.policy)
        while pending:
            yield _finish(*pending.popleft(), settings.job.policy)
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


def _finish(partial: Partial, dns: Future[DnsVerdict] | None, policy: Policy) -> Result:
    result, facts = partial.result, partial.settle().facts
    if dns is not None:
        result.dns = dns.result()
        facts = replace(facts, dns=result.dns.outcome)
    result.decision = decide(facts, policy)
    return result
