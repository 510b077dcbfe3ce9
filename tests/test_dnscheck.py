"""The sender-domain check against a real DNS server (unbound) and the zone-file backend.

One table (tests/dns_cases.zone) runs over both backends; decide() is tested directly for
the answer mixes a server cannot easily produce. Nothing here asks any address but
127.0.0.1, and no test measures time: concurrency is read from the checker's counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import wait
from pathlib import Path

import pytest

from hrdp.dnscheck import (
    Answer,
    DnsOutcome,
    DnsVerdict,
    DomainChecker,
    decide,
    make_checker,
)
from hrdp.dnsnet import parse_nameserver
from hrdp.errors import DnsError
from hrdp.message import Domain, normalise_domain

ZONE = Path(__file__).with_name("dns_cases.zone")
# Short, so a silent name costs about one second (MX, A and AAAA asked at once).
TIMEOUT, LIFETIME = 0.5, 1.0

# name, outcome, detail (None where the backends differ: SERVFAIL/timeout vs REFUSED)
CASES = [
    ("mx.hrdp.test", "ok", "MX mail.mx.hrdp.test"),
    ("mx-missing.hrdp.test", "ok", "MX nowhere.hrdp.test"),  # MX targets are not resolved
    ("a-only.hrdp.test", "ok", "A 192.0.2.1"),  # implicit MX, RFC 5321 5.1
    ("aaaa-only.hrdp.test", "ok", "AAAA 2001:db8::1"),
    ("cname-a.hrdp.test", "ok", "A 192.0.2.1"),
    ("cname-chain.hrdp.test", "ok", "A 192.0.2.1"),
    ("x.wild.hrdp.test", "ok", "A 192.0.2.7"),  # RFC 4592
    ("a.b.wild.hrdp.test", "ok", "A 192.0.2.7"),
    ("xn--bcher-kva.hrdp.test", "ok", "A 192.0.2.4"),
    ("null-mx.hrdp.test", "null-mx", "null MX (RFC 7505)"),
    ("null-mx-a.hrdp.test", "null-mx", "null MX (RFC 7505)"),
    ("txt-only.hrdp.test", "no-a-mx", "NODATA"),
    ("txt.wild.hrdp.test", "no-a-mx", "NODATA"),  # exists, so the wildcard does not apply
    ("wild.hrdp.test", "no-a-mx", "NODATA"),  # empty non-terminal above the wildcard
    ("ent.hrdp.test", "no-a-mx", "NODATA"),  # empty non-terminal
    ("cname-missing.hrdp.test", "no-a-mx", "NODATA"),  # unbound: NODATA, not NXDOMAIN
    ("hrdp.test", "no-a-mx", "NODATA"),  # the apex: SOA and NS only
    ("missing.hrdp.test", "no-a-mx", "NXDOMAIN"),
    ("deep.a-only.hrdp.test", "no-a-mx", "NXDOMAIN"),
    ("servfail.test", "tempfail", None),  # zone backend: outside the zone, REFUSED
    ("silent.test", "tempfail", None),
]


def network_checker(address: tuple[str, int]) -> DomainChecker:
    host, port = address
    return make_checker(nameserver=f"{host}:{port}", timeout=TIMEOUT, lifetime=LIFETIME)


@pytest.fixture(scope="module", params=["network", "zone"])
def checker(request: pytest.FixtureRequest) -> Iterator[DomainChecker]:
    if request.param == "network":
        made = network_checker(request.getfixturevalue("unbound_server"))
    else:
        made = make_checker(zone_files=[str(ZONE)])
    with made:
        yield made


@pytest.fixture
def fresh(unbound_server: tuple[str, int]) -> Iterator[DomainChecker]:
    """A network checker with an empty cache and zeroed counters."""
    with network_checker(unbound_server) as made:
        yield made


@pytest.mark.parametrize(("name", "outcome", "detail"), CASES, ids=[c[0] for c in CASES])
def test_decision_table(
    checker: DomainChecker, name: str, outcome: str, detail: str | None
) -> None:
    verdict = checker.check(normalise_domain(name))
    assert verdict.outcome == outcome, verdict.detail
    if detail is not None:
        assert verdict.detail == detail


def test_tempfail_details(fresh: DomainChecker) -> None:
    assert fresh.check(Domain("servfail.test")).detail == "SERVFAIL on MX, A, AAAA"
    assert fresh.check(Domain("silent.test")).detail == "timeout on MX, A, AAAA"


def test_zone_backend_refuses_names_outside_its_zones() -> None:
    with make_checker(zone_files=[str(ZONE)]) as checker:
        verdict = checker.check(Domain("example.test"))
    assert verdict == DnsVerdict("tempfail", "REFUSED on MX, A, AAAA")


def test_idn_sender_domain_resolves(checker: DomainChecker) -> None:
    domain = normalise_domain("Bücher.hrdp.test.")
    assert domain.name == "xn--bcher-kva.hrdp.test"
    assert checker.check(domain) == DnsVerdict("ok", "A 192.0.2.4")


NX, NODATA = Answer("nxdomain"), Answer("nodata")
SERVFAIL, TIMEOUT_ANSWER = Answer("servfail"), Answer("timeout")
A = Answer("records", ("192.0.2.1",))
DECISIONS = [
    ({"MX": SERVFAIL, "A": A, "AAAA": TIMEOUT_ANSWER}, "ok", "A 192.0.2.1"),
    ({"MX": TIMEOUT_ANSWER, "A": NODATA, "AAAA": NODATA}, "tempfail", "timeout on MX"),
    ({"MX": Answer("records", (".",)), "A": A, "AAAA": NODATA}, "null-mx", "null MX (RFC 7505)"),
    ({"MX": Answer("records", ("mx.x.test", ".")), "A": SERVFAIL}, "null-mx", "null MX (RFC 7505)"),
    ({"MX": Answer("records", ("mx.x.test",)), "A": NX, "AAAA": NX}, "ok", "MX mx.x.test"),
    ({"AAAA": Answer("records", ("2001:db8::1",)), "MX": NX}, "ok", "AAAA 2001:db8::1"),
    ({"MX": NX, "A": NX, "AAAA": NX}, "no-a-mx", "NXDOMAIN"),
    ({"MX": NX, "A": NODATA, "AAAA": NODATA}, "no-a-mx", "NXDOMAIN on MX; NODATA on A, AAAA"),
    (
        {"MX": Answer("refused"), "A": NX, "AAAA": SERVFAIL},
        "tempfail",
        "REFUSED on MX; SERVFAIL on AAAA",
    ),
    ({"MX": Answer("error"), "A": NX, "AAAA": NX}, "tempfail", "DNS error on MX"),
    ({"MX": Answer("records"), "A": NODATA, "AAAA": NODATA}, "no-a-mx", "NODATA"),
    ({}, "tempfail", "no answer"),
]


@pytest.mark.parametrize(("answers", "outcome", "detail"), DECISIONS)
def test_decide(answers: dict[str, Answer], outcome: DnsOutcome, detail: str) -> None:
    assert decide(answers) == DnsVerdict(outcome, detail)


def test_same_domain_same_future(checker: DomainChecker) -> None:
    first = checker.submit(Domain("a-only.hrdp.test"))
    assert checker.submit(Domain("a-only.hrdp.test")) is first


def test_tempfail_domain_is_asked_once(fresh: DomainChecker) -> None:
    first = fresh.submit(Domain("silent.test"))
    second = fresh.submit(Domain("silent.test"))
    assert second is first
    assert first.result().outcome == "tempfail"
    assert fresh.check(Domain("silent.test")).outcome == "tempfail"
    assert (fresh.stats.domains, fresh.stats.queries) == (1, 3)  # MX, A, AAAA once


def test_skipped_and_invalid_domains_make_no_query(fresh: DomainChecker) -> None:
    skipped = fresh.submit(Domain("", skip="null sender"))
    literal = fresh.submit(normalise_domain("[192.0.2.1]"))
    invalid = fresh.submit(normalise_domain("bad_name!.test"))
    address = fresh.submit(normalise_domain("192.0.2.1"))
    assert all(f.done() for f in (skipped, literal, invalid, address))
    assert skipped.result() == DnsVerdict("skipped", "null sender")
    assert literal.result() == DnsVerdict("skipped", "domain literal")
    assert invalid.result() == DnsVerdict("no-a-mx", "not a valid host name")
    assert address.result() == DnsVerdict("no-a-mx", "not a valid host name")
    assert (fresh.stats.domains, fresh.stats.queries) == (0, 0)


def test_domains_are_resolved_concurrently(fresh: DomainChecker) -> None:
    # Five silent names (deny covers names below silent.test): each would cost a whole
    # lifetime one after another; all five must be in flight at the same time.
    futures = [fresh.submit(Domain(f"s{i}.silent.test")) for i in range(5)]
    wait(futures, timeout=10 * LIFETIME)
    assert [f.result().outcome for f in futures] == ["tempfail"] * 5
    assert fresh.stats.peak_in_flight == 5
    assert fresh.stats.queries == 15


def test_close_cancels_pending_checks(unbound_server: tuple[str, int]) -> None:
    checker = network_checker(unbound_server)
    pending = checker.submit(Domain("silent.test"))
    checker.close()
    assert pending.cancelled()
    with pytest.raises(RuntimeError):
        checker.submit(Domain("other.silent.test"))


def zone_checker(tmp_path: Path, body: str) -> DomainChecker:
    path = tmp_path / "extra.zone"
    path.write_text("$ORIGIN extra.test.\n@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\n" + body)
    return make_checker(zone_files=[str(path), str(ZONE)])


def test_zone_backend_edge_cases(tmp_path: Path) -> None:
    loop = "loop1 300 CNAME loop2\nloop2 300 CNAME loop1\n"
    cut = "sub 300 NS ns.elsewhere.test.\n"
    outside = "out 300 CNAME a-only.hrdp.test.\nfar 300 CNAME example.test.\n"
    with zone_checker(tmp_path, loop + cut + outside) as checker:
        assert checker.check(Domain("loop1.extra.test")).outcome == "tempfail"
        assert checker.check(Domain("x.sub.extra.test")).outcome == "tempfail"  # delegated
        assert checker.check(Domain("out.extra.test")) == DnsVerdict("ok", "A 192.0.2.1")
        assert checker.check(Domain("far.extra.test")).outcome == "tempfail"
        assert checker.check(Domain("mx.hrdp.test")).outcome == "ok"  # the second file


def test_zone_origin_from_soa(tmp_path: Path) -> None:
    path = tmp_path / "soa.zone"
    path.write_text(
        "soa.test. 300 IN SOA ns.soa.test. h.soa.test. 1 2 3 4 5\n"
        "soa.test. 300 IN NS ns.soa.test.\nhost 300 IN A 192.0.2.9\n"
    )
    with make_checker(zone_files=[str(path)]) as checker:
        assert checker.check(Domain("host.soa.test")) == DnsVerdict("ok", "A 192.0.2.9")


BAD_ZONES = [
    ("$ORIGIN b.test.\n@ 300 SOA ns h 1 2 3 4 5\nfoo 300 BOGUS x\n", "bad.zone:3:"),
    ("$ORIGIN b.test.\n@ 300 SOA ns h 1 2 3 4 5\n@ 300 NS ns\nfoo 300 MX ten m\n", "bad.zone:4:"),
    ("host 300 IN A 192.0.2.1\n", "origin unknown"),
    ("$ORIGIN b.test.\nfoo 300 A 192.0.2.1\n", "no SOA"),
]


@pytest.mark.parametrize(("text", "message"), BAD_ZONES)
def test_bad_zone_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.zone"
    path.write_text(text)
    with pytest.raises(DnsError, match=message) as caught:
        make_checker(zone_files=[str(path)])
    assert "bad.zone" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_missing_or_duplicate_zone_file(tmp_path: Path) -> None:
    with pytest.raises(DnsError, match=r"cannot read zone file .*nothing\.zone"):
        make_checker(zone_files=[str(tmp_path / "nothing.zone")])
    with pytest.raises(DnsError, match="already loaded"):
        make_checker(zone_files=[str(ZONE), str(ZONE)])


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("127.0.0.1", ("127.0.0.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:5353", ("::1", 5353)),
        ("::1", ("::1", 53)),
        ("[::1]", ("::1", 53)),
    ],
)
def test_parse_nameserver(text: str, parsed: tuple[str, int]) -> None:
    assert parse_nameserver(text) == parsed


@pytest.mark.parametrize(
    "text", ["dns.example", "127.0.0.1:99999", "127.0.0.1:", "[::1", "[::1]5353", "", "1.2.3"]
)
def test_bad_nameserver(text: str) -> None:
    with pytest.raises(DnsError, match="bad nameserver"):
        make_checker(nameserver=text)
