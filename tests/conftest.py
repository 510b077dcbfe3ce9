"""Shared fixtures. The real-corpus tests find ../shared/corpus through HRDP_CORPUS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path | None:
    value = os.environ.get("HRDP_CORPUS")
    if not value:
        return None
    path = Path(value)
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    if path is None:
        pytest.skip("HRDP_CORPUS is not set (real mail corpora are not in the repository)")
    return path


# Real DNS server for tests/test_dnscheck.py (tests/unbound.py starts it).
UNBOUND = "/usr/sbin/unbound"
DNS_CASES_ZONE = REPO / "tests" / "dns_cases.zone"


@pytest.fixture(scope="session")
def unbound_server() -> Iterator[tuple[str, int]]:
    """(host, port) of an unbound serving tests/dns_cases.zone, servfail.test, silent.test."""
    if not os.access(UNBOUND, os.X_OK):
        message = f"{UNBOUND} is not installed (apt-get install unbound)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must run the DNS tests")
        pytest.skip(message)
    try:
        from tests.unbound import running_unbound
    except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
        from unbound import running_unbound  # type: ignore[no-redef,import-not-found]  # same file

    zones = {"hrdp.test.": DNS_CASES_ZONE, "servfail.test.": None}
    with running_unbound(zones, silent=["silent.test."]) as address:
        yield address
