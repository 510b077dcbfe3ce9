"""Stage one of classify, the CPU part: parse, detect DSNs, score — one batch at a time.

It runs in the main process (--jobs 1) or in worker processes; everything it takes and
returns pickles. The DNS check, which needs one cache for the whole run, stays in the
main process (pipeline.py).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from hrdp import dsn
from hrdp.budget import Budget, Overtime
from hrdp.dnscheck import DnsVerdict
from hrdp.dsn.report import Finding
from hrdp.errors import ScorerError
from hrdp.message import Domain, ParsedMessage, Sender
from hrdp.pool import Decision, Facts, Policy, is_routed_dsn
from hrdp.scoring.base import Score, Scorer
from hrdp.sources import RawMessage


@dataclass(frozen=True)
class Job:
    """The per-run settings stage one needs (picklable, sent once to each worker)."""

    policy: Policy = field(default_factory=Policy)
    envelope_from: str | None = None  # --envelope-from
    all_rules: bool = False  # evaluate every rule even when a DSN already decided
    max_size: int = 32 * 1024 * 1024  # bytes of one message that are checked
    time_budget: float = 10.0  # seconds one message may take in stage one (0: none)
    render: str | None = None  # workers prepare rows in this streaming format (hrdp.render)


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
class Partial:
    """A message after stage one: its facts so far and the domain DNS must check."""

    result: Result
    facts: Facts
    domain: Domain | None = None  # None: no DNS check (error row, or a routed DSN)
    # A score still on its way from a daemon (in-process engine only; never pickled).
    score: Future[Score | None] | None = None

    def ready(self) -> bool:
        return self.score is None or self.score.done()

    def settle(self) -> Partial:
        """Take the score in (waiting for it if needed): the facts become final."""
        if self.score is not None:
            Examiner.scored(self, self.score)
            self.score = None
        return self


# Shared by every ordinary message: a worker's batch of results pickles each once (the
# pickle memo), so the main process unpickles fewer objects. Never mutated: the pipeline
# replaces the decision and the facts, it does not edit them.
_UNDECIDED = Decision("normal")
_NOTHING = Finding()
_NO_FACTS = Facts()
_SPAM = Facts(spam=True)
_HAM = Facts(spam=False)


def error_partial(raw: RawMessage, error: str) -> Partial:
    result = Result(raw.source, raw.index, Decision("high-risk", ["malformed"]), error=error)
    return Partial(result, Facts(malformed=True))


class Examiner:
    """Runs stage one. A scorer that declares ``concurrency`` > 1 (a network daemon)
    scores from a thread pool: its answers arrive while the next messages are parsed."""

    def __init__(self, job: Job, scorer: Scorer | None) -> None:
        self.job = job
        self.scorer = scorer
        workers = int(getattr(scorer, "concurrency", 1) or 1)
        self.executor = ThreadPoolExecutor(workers, "hrdp-score") if workers > 1 else None
        self.switch_interval = sys.getswitchinterval()  # restored by close()
        if self.executor is not None:
            # The scoring threads wait on a daemon while this thread parses. With the
            # default 5 ms GIL switch interval an answered request waits up to 5 ms for
            # the parser to yield; 0.5 ms keeps the daemon's pipeline full.
            sys.setswitchinterval(min(sys.getswitchinterval(), 0.0005))

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            sys.setswitchinterval(self.switch_interval)

    def batch(self, raws: list[RawMessage], wait: bool = True) -> list[Partial]:
        """Stage one for a batch. ``wait=False`` leaves daemon scores in flight on the
        partials (settle() takes them in), so the next batch is parsed meanwhile."""
        with Budget(self.job.time_budget) as budget:
            started = [self._start_safely(raw, budget) for raw in raws]
        partials = []
        for partial, pending in started:
            partial.score = pending
            partials.append(partial if not wait else partial.settle())
        return partials

    def _start_safely(
        self, raw: RawMessage, budget: Budget
    ) -> tuple[Partial, Future[Score | None] | None]:
        """A bug met on one odd message must not lose the rest of a batch: that message
        gets an error row naming the bug; HRDP_DEBUG=1 re-raises it with its traceback.
        A message that takes longer than the time budget gets an error row too."""
        try:
            budget.start()
            try:
                return self._start(raw)
            finally:
                budget.stop()
        except Overtime:
            return error_partial(raw, f"not checked: took over {self.job.time_budget:g} s "
                                      "(--message-timeout)"), None
        except Exception as exc:
            if os.environ.get("HRDP_DEBUG"):
                raise
            return error_partial(raw, f"internal error (a bug, please report): {exc!r}"), None

    def _start(self, raw: RawMessage) -> tuple[Partial, Future[Score | None] | None]:
        if raw.data is None:
            return error_partial(raw, raw.error or "message could not be read"), None
        data, warnings = raw.data, []
        if not data or data.isspace():  # not data.strip(), which copies the message
            return error_partial(raw, "empty message"), None
        if len(data) > self.job.max_size:
            data = data[: self.job.max_size]
            warnings.append(f"only the first {self.job.max_size:,} of {len(raw.data):,} bytes "
                            "checked (--max-message-size)")
        message = ParsedMessage(data, mbox_from=raw.mbox_from,
                                envelope_from=self.job.envelope_from)
        if not message.has_headers:
            return error_partial(raw, "no header fields: not an RFC 5322 message"), None
        finding = dsn.examine(message)
        if finding.dsn is None and finding.notification is None:
            finding = _NOTHING
        result = Result(raw.source, raw.index, _UNDECIDED, message_id=message.message_id,
                        sender=message.sender, finding=finding, warnings=warnings)
        partial = Partial(result, Facts(dsn=finding.dsn) if finding.dsn else _NO_FACTS)
        if is_routed_dsn(finding.dsn, self.job.policy) and not self.job.all_rules:
            return partial, None  # rule 3 decided: no DNS, no scoring
        partial.domain = message.sender.domain
        if self.scorer is None:
            return partial, None
        result.scorer = self.scorer.name
        if self.executor is not None:
            return partial, self.executor.submit(self.scorer.score, message)
        # Scored here: the answer is taken in at once (no Future to create and settle).
        try:
            score = self.scorer.score(message)
        except Exception as exc:
            Examiner._failed(partial, exc)
        else:
            Examiner._took(partial, score)
        return partial, None

    @staticmethod
    def scored(partial: Partial, pending: Future[Score | None]) -> None:
        try:
            score = pending.result()
        except Exception as exc:
            Examiner._failed(partial, exc)
            return
        Examiner._took(partial, score)

    @staticmethod
    def _took(partial: Partial, score: Score | None) -> None:
        partial.result.score = score
        facts = partial.facts
        spam = score.spam if score else None
        if facts is _NO_FACTS and (spam is None or isinstance(spam, bool)):
            # An ordinary message: one shared Facts per verdict (pickled once a batch).
            partial.facts = _NO_FACTS if spam is None else _SPAM if spam else _HAM
            return
        # Facts(...): a third of dataclasses.replace's cost
        partial.facts = Facts(facts.malformed, facts.dsn, facts.dns, spam, facts.scorer_failed)

    @staticmethod
    def _failed(partial: Partial, exc: Exception) -> None:
        # A scorer that fails (ScorerError) or a plugin with a bug warns and leaves the
        # pool to --on-scorer-error: never a crash, never a clean verdict.
        if not isinstance(exc, ScorerError) and os.environ.get("HRDP_DEBUG"):
            raise exc
        result = partial.result
        kind = "" if isinstance(exc, ScorerError) else f"{type(exc).__name__}: "
        result.warnings.append(f"scorer {result.scorer} failed: {kind}{exc}")
        partial.facts = replace(partial.facts, scorer_failed=True)
