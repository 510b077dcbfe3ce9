"""The data flow of `hrdp classify`: raw message -> facts -> decision -> result.

Cheap rules first: a routed DSN needs no DNS and no scoring (unless --all-rules). DNS
lookups, and scores from scorers that declare ``concurrency`` > 1 (network daemons),
are submitted as futures as soon as a message is parsed and collected in input order
through a bounded window, so a batch never waits on one answer at a time.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from hrdp import dsn
from hrdp.dnscheck import DnsVerdict, DomainChecker
from hrdp.dsn.report import Finding
from hrdp.errors import ScorerError
from hrdp.message import ParsedMessage, Sender
from hrdp.pool import Decision, Facts, Policy, decide, is_routed_dsn
from hrdp.scoring.base import Score, Scorer
from hrdp.sources import RawMessage


@dataclass
class Settings:
    policy: Policy
    checker: DomainChecker
    scorer: Scorer | None = None
    envelope_from: str | None = None
    all_rules: bool = False  # evaluate every rule even when an earlier one decided
    window: int = 256  # messages whose DNS answer or score may be pending at once
    executor: ThreadPoolExecutor | None = None  # runs score() for concurrent scorers

    def __post_init__(self) -> None:
        workers = int(getattr(self.scorer, "concurrency", 1) or 1)
        if self.executor is None and workers > 1:
            self.executor = ThreadPoolExecutor(workers, thread_name_prefix="hrdp-score")

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)


@dataclass
class Result:
    """Everything known about one input message; output.py turns it into a row."""

    source: str
    index: int
    decision: Decision
    message_id: str = ""
    sender: Sender | None = None
    finding: Finding = field(default_factory=Finding)
    dns: DnsVerdict | None = None
    score: Score | None = None
    scorer: str = ""
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    result: Result
    facts: Facts
    dns: Future[DnsVerdict] | None = None
    score: Future[Score | None] | None = None


def classify(raws: Iterable[RawMessage], settings: Settings) -> Iterator[Result]:
    """One Result per raw message, in input order."""
    pending: deque[_Pending] = deque()
    for raw in raws:
        pending.append(_start_safely(raw, settings))
        while pending and (len(pending) > settings.window or _ready(pending[0])):
            yield _finish(pending.popleft(), settings)
    while pending:
        yield _finish(pending.popleft(), settings)


def _ready(item: _Pending) -> bool:
    return all(f is None or f.done() for f in (item.dns, item.score))


def _error_result(raw: RawMessage, error: str) -> _Pending:
    facts = Facts(malformed=True)
    result = Result(raw.source, raw.index, Decision("high-risk", ["malformed"]), error=error)
    return _Pending(result, facts)


def _start_safely(raw: RawMessage, settings: Settings) -> _Pending:
    """A bug met on one odd message must not lose the rest of a batch: that message gets
    an error row naming the bug, and HRDP_DEBUG=1 re-raises it with its traceback."""
    try:
        return _start(raw, settings)
    except Exception as exc:
        if os.environ.get("HRDP_DEBUG"):
            raise
        return _error_result(raw, f"internal error (a bug, please report): {exc!r}")


def _start(raw: RawMessage, settings: Settings) -> _Pending:
    if raw.data is None:
        return _error_result(raw, raw.error or "message could not be read")
    if not raw.data.strip():
        return _error_result(raw, "empty message")
    message = ParsedMessage(raw.data, mbox_from=raw.mbox_from, envelope_from=settings.envelope_from)
    if not message.has_headers:
        return _error_result(raw, "no header fields: not an RFC 5322 message")
    return _examine(raw, message, settings)


def _examine(raw: RawMessage, message: ParsedMessage, settings: Settings) -> _Pending:
    finding = dsn.examine(message)
    result = Result(raw.source, raw.index, Decision("normal"), message_id=message.message_id)
    result.sender = message.sender
    result.finding = finding
    facts = Facts(dsn=finding.dsn)
    if is_routed_dsn(finding.dsn, settings.policy) and not settings.all_rules:
        return _Pending(result, facts)  # rule 3 decided: no DNS, no scoring
    item = _Pending(result, facts, dns=settings.checker.submit(message.sender.domain))
    scorer = settings.scorer
    if scorer is not None:
        result.scorer = scorer.name
        if settings.executor is not None:
            item.score = settings.executor.submit(scorer.score, message)
        else:
            item.score = _run_now(scorer, message)
    return item


def _run_now(scorer: Scorer, message: ParsedMessage) -> Future[Score | None]:
    """score() called inline, its outcome (value or ScorerError) kept in a done future."""
    future: Future[Score | None] = Future()
    try:
        future.set_result(scorer.score(message))
    except Exception as exc:  # kept for _finish, like an executor would
        future.set_exception(exc)
    return future


def _finish(item: _Pending, settings: Settings) -> Result:
    facts, result = item.facts, item.result
    if item.dns is not None:
        result.dns = item.dns.result()
        facts = replace(facts, dns=result.dns.outcome)
    if item.score is not None:
        try:
            result.score = item.score.result()
            facts = replace(facts, spam=result.score.spam if result.score else None)
        except Exception as exc:
            # A scorer that fails (ScorerError) or a plugin with a bug warns and leaves
            # the pool to --on-scorer-error: never a crash, never a clean verdict.
            if not isinstance(exc, ScorerError) and os.environ.get("HRDP_DEBUG"):
                raise
            kind = "" if isinstance(exc, ScorerError) else f"{type(exc).__name__}: "
            result.warnings.append(f"scorer {result.scorer} failed: {kind}{exc}")
            facts = replace(facts, scorer_failed=True)
    result.decision = decide(facts, settings.policy)
    return result
