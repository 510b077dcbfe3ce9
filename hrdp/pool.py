"""Turn the facts about one message into a pool decision. Pure: no I/O, no parsing.

The rules follow Exchange Online Protection's "high-risk delivery pool" article (2016
text; docs/rules.md maps each rule to this code):
1. spam score at or above the threshold -> high-risk;
2. sending domain with no A and no MX record -> high-risk, whatever the spam verdict;
3. every DSN (bounce) -> high-risk.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from hrdp.dsn.report import DSN_KINDS, DsnKind, DsnReport

Pool = Literal["normal", "high-risk", "relay", "blocked"]
POOLS: tuple[Pool, ...] = ("normal", "high-risk", "relay", "blocked")

# The row contract fixes this order; later rules append, never reorder.
REASONS: tuple[str, ...] = (
    "dsn",
    "no-a-mx",
    "null-mx",
    "spam",
    "relay",
    "limit",
    "malformed",
    "dns-tempfail",
    "scorer-error",
)
# Reasons that are recorded for people but do not by themselves move a message.
_SOFT = {"dns-tempfail", "scorer-error"}


@dataclass(frozen=True)
class Policy:
    """How facts map to pools; every field has a command-line option."""

    dsn_kinds: frozenset[DsnKind] = frozenset(DSN_KINDS)
    null_mx_high_risk: bool = True  # RFC 7505: the domain says it sends/accepts no mail
    dns_error_high_risk: bool = False  # --on-dns-error; a tempfail is never "absent"
    scorer_error_high_risk: bool = False  # --on-scorer-error


@dataclass(frozen=True)
class Facts:
    """What the pipeline learnt about one message; None means "not checked"."""

    malformed: bool = False
    dsn: DsnReport | None = None
    dns: str | None = None  # a DnsOutcome: ok, no-a-mx, null-mx, tempfail, skipped
    spam: bool | None = None
    scorer_failed: bool = False


@dataclass(frozen=True)
class Decision:
    pool: Pool
    reasons: list[str] = field(default_factory=list)


def is_routed_dsn(dsn: DsnReport | None, policy: Policy) -> bool:
    """Rule 3: a DSN of a kind the policy routes (default: every kind)."""
    return dsn is not None and dsn.kind in policy.dsn_kinds


def decide(facts: Facts, policy: Policy) -> Decision:
    """Apply the rules; reasons come out in the contract's fixed order."""
    fired: set[str] = set()
    if facts.malformed:
        fired.add("malformed")
    if is_routed_dsn(facts.dsn, policy):
        fired.add("dsn")
    if facts.dns == "no-a-mx":
        fired.add("no-a-mx")
    elif facts.dns == "null-mx" and policy.null_mx_high_risk:
        fired.add("null-mx")
    elif facts.dns == "tempfail":
        fired.add("dns-tempfail")
    if facts.spam:
        fired.add("spam")
    if facts.scorer_failed:
        fired.add("scorer-error")
    return Decision(_pool(fired, policy), sort_reasons(fired))


def _pool(fired: set[str], policy: Policy) -> Pool:
    hard = fired - _SOFT
    if policy.dns_error_high_risk and "dns-tempfail" in fired:
        hard.add("dns-tempfail")
    if policy.scorer_error_high_risk and "scorer-error" in fired:
        hard.add("scorer-error")
    return "high-risk" if hard else "normal"


def sort_reasons(reasons: Collection[str]) -> list[str]:
    return [r for r in REASONS if r in reasons]
