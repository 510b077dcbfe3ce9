"""A row on its way out: ``Prepared`` in a worker, ``Line`` in the main process.

A --jobs worker turns each message's stage-one result into a Prepared: its row's text
without the stage-two fields (hrdp.render), and what stage two needs (the domain DNS
checks, the facts the pool decision reads). The main process finishes it into a Line:
the row's text, and what the run's summary and exit status need.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from hrdp.dnscheck import DnsVerdict
from hrdp.dsn.report import DsnKind, DsnReport
from hrdp.examine import Partial, Result
from hrdp.message import Domain
from hrdp.pool import Decision, Facts, Policy, decide
from hrdp.render import Pieces, Renderer
from hrdp.rows import to_row

# What decide() reads of a message's facts: malformed, the DSN's kind, the DNS outcome
# stage one found (None: not checked), the spam verdict, whether the scorer failed.
FactsKey = tuple[bool, DsnKind | None, str | None, bool | None, bool]


# A prepared row, as a plain tuple (a class would cost a Python call per row to unpickle):
# (source, index within its unit or batch, the Domain DNS checks or None, FactsKey,
#  a DnsVerdict stage one gave itself or None, error, warnings, the row's DSN kind for
#  the summary, the row's text pieces around the stage-two fields).
Prepared = tuple[str, int, Domain | None, FactsKey, DnsVerdict | None, str | None, list[str],
                 DsnKind | None, Pieces]


@dataclass(slots=True)
class Line:
    """One row to write, and what the run's summary and exit status need of it."""

    source: str
    index: int
    pool: str
    reasons: list[str]
    error: str | None
    dsn_kind: str | None
    warnings: list[str]
    text: str | None = None  # the row in the writer's streaming format
    row: dict[str, Any] | None = None  # the row itself, for a writer that collects rows


def prepare(partial: Partial, renderer: Renderer) -> Prepared:
    """Stage one's half of the row (a settled partial: no score in flight)."""
    result, facts = partial.result, partial.facts
    dsn, finding = facts.dsn, result.finding.dsn
    return (
        result.source, result.index, partial.domain,
        (facts.malformed, dsn.kind if dsn else None, facts.dns, facts.spam, facts.scorer_failed),
        result.dns, result.error, result.warnings, finding.kind if finding else None,
        renderer.prepare(to_row(result)),
    )


def finish(prepared: Prepared, dns: Future[DnsVerdict] | None, first: int,
           decisions: Decisions, renderer: Renderer) -> Line:
    """The Line of a prepared row (its index + ``first``), as line_of gives for its Result."""
    source, index, _domain, facts, verdict, error, warnings, dsn_kind, pieces = prepared
    malformed, kind, outcome, spam, failed = facts
    if dns is not None:
        verdict = dns.result()
        outcome = verdict.outcome
    decision = decisions.of(malformed, kind, outcome, spam, failed)
    index += first
    pool, reasons = decision.pool, decision.reasons
    text = renderer.finish(pieces, index, pool, reasons, verdict.outcome if verdict else "skipped",
                           verdict.detail if verdict else "")
    return Line(source, index, pool, reasons, error, dsn_kind, warnings, text)


def line_of(result: Result, renderer: Renderer | None) -> Line:
    """The Line of a finished Result: rendered, or as a row for a collecting writer."""
    row = to_row(result)
    dsn = result.finding.dsn
    return Line(result.source, result.index, result.decision.pool, result.decision.reasons,
                result.error, dsn.kind if dsn else None, result.warnings,
                renderer.text(row) if renderer else None, None if renderer else row)


class Decisions:
    """decide() once per distinct set of facts: a run has a handful (clean, spam, a DSN
    kind, a DNS outcome...), and the main process decides every row of every worker.
    Rows share the Decision, which nothing changes after."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.known: dict[tuple[object, ...], Decision] = {}

    def __call__(self, facts: Facts, dns: str | None) -> Decision:
        kind = facts.dsn.kind if facts.dsn is not None else None  # all decide() reads of it
        return self.of(facts.malformed, kind, dns, facts.spam, facts.scorer_failed)

    def of(self, malformed: bool, kind: DsnKind | None, dns: str | None, spam: bool | None,
           failed: bool) -> Decision:
        key = (malformed, kind, dns, spam, failed)
        found = self.known.get(key)
        if found is None:
            report = DsnReport(kind, "") if kind is not None else None  # decide reads its kind
            found = self.known[key] = decide(Facts(malformed, report, dns, spam, failed),
                                             self.policy)
        return found
