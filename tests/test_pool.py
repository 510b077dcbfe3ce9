"""pool.decide: the three rules and their fixed reason order, on plain facts."""

from __future__ import annotations

import pytest

from hrdp.dsn.report import DsnReport
from hrdp.pool import REASONS, Facts, Policy, decide

DEFAULT = Policy()


def dsn(kind: str = "failed") -> DsnReport:
    return DsnReport(kind=kind, detector="test")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "pool", "reasons"),
    [
        (Facts(dns="ok", spam=False), "normal", []),
        (Facts(dns="ok", spam=None), "normal", []),
        (Facts(dns="ok", spam=True), "high-risk", ["spam"]),
        # rule 2: no A and no MX is high-risk whatever the spam verdict
        (Facts(dns="no-a-mx", spam=False), "high-risk", ["no-a-mx"]),
        (Facts(dns="null-mx"), "high-risk", ["null-mx"]),
        # a DNS failure is never "absent": recorded, pool unchanged by default
        (Facts(dns="tempfail", spam=False), "normal", ["dns-tempfail"]),
        (Facts(dns="skipped"), "normal", []),
        # rule 3: every DSN kind by default
        (Facts(dsn=dsn("failed")), "high-risk", ["dsn"]),
        (Facts(dsn=dsn("delivered")), "high-risk", ["dsn"]),
        (Facts(malformed=True), "high-risk", ["malformed"]),
        (Facts(dns="tempfail", spam=True, dsn=dsn()), "high-risk", ["dsn", "spam", "dns-tempfail"]),
        (Facts(scorer_failed=True, dns="ok"), "normal", ["scorer-error"]),
    ],
)
def test_default_policy(facts: Facts, pool: str, reasons: list[str]) -> None:
    decision = decide(facts, DEFAULT)
    assert decision.pool == pool
    assert decision.reasons == reasons


def test_reasons_follow_contract_order() -> None:
    decision = decide(Facts(malformed=True, dsn=dsn(), dns="no-a-mx", spam=True), DEFAULT)
    assert decision.reasons == ["dsn", "no-a-mx", "spam", "malformed"]
    assert decision.reasons == sorted(decision.reasons, key=REASONS.index)


def test_dns_error_high_risk_option() -> None:
    policy = Policy(dns_error_high_risk=True)
    assert decide(Facts(dns="tempfail"), policy).pool == "high-risk"


def test_null_mx_can_be_normal() -> None:
    decision = decide(Facts(dns="null-mx"), Policy(null_mx_high_risk=False))
    assert (decision.pool, decision.reasons) == ("normal", [])


def test_dsn_kinds_filter() -> None:
    policy = Policy(dsn_kinds=frozenset({"failed"}))
    assert decide(Facts(dsn=dsn("delayed")), policy).pool == "normal"
    assert decide(Facts(dsn=dsn("failed")), policy).pool == "high-risk"


def test_scorer_error_option() -> None:
    policy = Policy(scorer_error_high_risk=True)
    assert decide(Facts(scorer_failed=True), policy).pool == "high-risk"
