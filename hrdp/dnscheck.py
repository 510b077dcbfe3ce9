"""Does the sender domain have an A or MX record? Postfix's reject_unknown_sender_domain.

Semantics (src/smtpd/smtpd_check.c and src/dns/dns_lookup.c in Postfix 3.x, RFC 5321
section 5.1, RFC 7505, RFC 2308): ask MX, A and AAAA; any positive answer wins, even when
another type failed; a null MX (``MX 0 .``) anywhere in the MX set rejects even with an A;
NXDOMAIN and NODATA on every type mean "absent"; SERVFAIL, REFUSED or a timeout with
nothing positive mean "unknown", never "absent" (Postfix defers with 450 4.1.8).

Two backends share that decision (``decide``): the network one (dns.asyncresolver, one
event loop in a daemon thread, every domain of a batch in flight at once) and the
zone-file one in hrdp/dnszone.py (no network, for tests and offline runs).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Literal, Protocol

import dns.rdata
import dns.rdtypes.ANY.MX

from hrdp.message import Domain

DnsOutcome = Literal["ok", "no-a-mx", "null-mx", "tempfail", "skipped"]
# One query's result. NoNameservers carries the rcode (SERVFAIL or REFUSED); "error" is any
# other failure (no server reachable, malformed reply): like a timeout, it proves nothing.
AnswerStatus = Literal["records", "nxdomain", "nodata", "servfail", "refused", "timeout", "error"]

QUERY_TYPES = ("MX", "A", "AAAA")  # Postfix's order; also the order details are shown in
NULL_MX = "."  # the exchange of a null MX (RFC 7505 section 3)
MAX_IN_FLIGHT = 64  # domains resolved at once by the network backend
_STATUS_TEXT = {
    "nxdomain": "NXDOMAIN",
    "nodata": "NODATA",
    "servfail": "SERVFAIL",
    "refused": "REFUSED",
    "timeout": "timeout",
    "error": "DNS error",
}
_FAILURES = ("servfail", "refused", "timeout", "error")


@dataclass(frozen=True)
class Answer:
    """What one query (one name, one type) gave."""

    status: AnswerStatus
    values: tuple[str, ...] = ()  # MX exchanges by preference ("." = null MX), or addresses


@dataclass(frozen=True)
class DnsVerdict:
    outcome: DnsOutcome
    detail: str  # one short line for people: "MX mail.x.test", "NXDOMAIN", "timeout on MX"


@dataclass(frozen=True)
class CheckStats:
    domains: int  # distinct domain names resolved (each asked once per run)
    queries: int  # DNS queries asked (MX, A and AAAA per domain)
    peak_in_flight: int  # most domains being resolved at the same time


def rdata_values(rdatas: Iterable[dns.rdata.Rdata]) -> tuple[str, ...]:
    """Answer values: MX exchanges in preference order, else the rdata text."""
    items = list(rdatas)
    mxs = [r for r in items if isinstance(r, dns.rdtypes.ANY.MX.MX)]
    if mxs:
        mxs.sort(key=lambda mx: mx.preference)
        return tuple(mx.exchange.to_text(omit_final_dot=True) for mx in mxs)
    return tuple(r.to_text() for r in items)


def _by_status(answers: Mapping[str, Answer], statuses: Iterable[str]) -> str:
    """'SERVFAIL on MX, A; timeout on AAAA' for the answers with one of ``statuses``."""
    groups: dict[str, list[str]] = {}
    for rdtype, answer in answers.items():
        if answer.status in statuses:
            groups.setdefault(answer.status, []).append(rdtype)
    return "; ".join(f"{_STATUS_TEXT[s]} on {', '.join(types)}" for s, types in groups.items())


def decide(answers: Mapping[str, Answer]) -> DnsVerdict:
    """The verdict for one domain from its MX, A and AAAA answers (any subset, in any order)."""
    ordered = {t: answers[t] for t in QUERY_TYPES if t in answers} | dict(answers)
    mx = ordered.get("MX")
    if mx is not None and mx.status == "records" and NULL_MX in mx.values:
        # RFC 7505: the domain accepts no mail; Postfix rejects 550 5.7.27 even with an A.
        return DnsVerdict("null-mx", "null MX (RFC 7505)")
    for rdtype, answer in ordered.items():
        if answer.status == "records" and answer.values:
            # A positive answer beats a temporary failure on another type (Postfix accepts).
            return DnsVerdict("ok", f"{rdtype} {answer.values[0]}")
    if not ordered:
        return DnsVerdict("tempfail", "no answer")
    # What is left is negative or failed; an empty record set is NODATA.
    ordered = {t: Answer("nodata") if a.status == "records" else a for t, a in ordered.items()}
    failed = _by_status(ordered, _FAILURES)
    if failed:
        return DnsVerdict("tempfail", failed)  # absence is not proven: Postfix defers 4.1.8
    statuses = {answer.status for answer in ordered.values()}
    if len(statuses) == 1:
        return DnsVerdict("no-a-mx", _STATUS_TEXT[statuses.pop()])
    return DnsVerdict("no-a-mx", _by_status(ordered, ("nxdomain", "nodata")))


class Backend(Protocol):
    """Resolves one domain (an A-label, no trailing dot) to a verdict."""

    queries: int
    peak_in_flight: int

    def resolve(self, name: str) -> Future[DnsVerdict]: ...

    def close(self) -> None: ...


def done(verdict: DnsVerdict) -> Future[DnsVerdict]:
    future: Future[DnsVerdict] = Future()
    future.set_result(verdict)
    return future


class DomainChecker:
    """Checks sender domains, each distinct name once per run (failures included).

    dnspython caches NXDOMAIN and NODATA but never failures, so without this cache one
    silent domain would cost a whole lifetime for every message that carries it.
    """

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self._cache: dict[str, Future[DnsVerdict]] = {}
        self._lock = threading.Lock()

    def submit(self, domain: Domain) -> Future[DnsVerdict]:
        """Start checking ``domain``; never blocks."""
        if domain.skip:
            return done(DnsVerdict("skipped", domain.skip))
        if domain.invalid:
            # Postfix: a name that is not a valid host name is "not found" with no query.
            return done(DnsVerdict("no-a-mx", "not a valid host name"))
        with self._lock:
            future = self._cache.get(domain.name)
            if future is None:
                future = self._backend.resolve(domain.name)
                self._cache[domain.name] = future
            return future

    def check(self, domain: Domain) -> DnsVerdict:
        return self.submit(domain).result()

    @property
    def stats(self) -> CheckStats:
        backend = self._backend
        return CheckStats(len(self._cache), backend.queries, backend.peak_in_flight)

    def close(self) -> None:
        """Stop the backend; checks still running are cancelled."""
        self._backend.close()

    def __enter__(self) -> DomainChecker:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def make_checker(
    *,
    nameserver: str | None = None,
    timeout: float = 2.0,
    lifetime: float = 5.0,
    zone_files: Sequence[str] = (),
) -> DomainChecker:
    """A checker on zone files (no network) when given, else on ``nameserver`` or resolv.conf.

    Raises DnsError for an unusable zone file or nameserver text.
    """
    # Each backend is imported when used: both build on this module's Answer and
    # decide(), and the network one loads dnspython's asyncio resolver (40 ms at start-up).
    if zone_files:
        from hrdp.dnszone import ZoneBackend

        return DomainChecker(ZoneBackend.load(zone_files))
    from hrdp.dnsnet import NetworkBackend, make_resolver

    return DomainChecker(NetworkBackend(make_resolver(nameserver, timeout, lifetime)))
