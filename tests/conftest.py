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


@pytest.fixture(scope="session", autouse=True)
def hyperscan_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Compiled pattern databases (hrdp.hscache) go to a folder of this test run, for the
    processes the tests start too, not to the user's ~/.cache."""
    saved = os.environ.get("HRDP_CACHE_DIR")
    os.environ["HRDP_CACHE_DIR"] = str(tmp_path_factory.mktemp("hscache"))
    yield
    if saved is None:
        os.environ.pop("HRDP_CACHE_DIR", None)
    else:
        os.environ["HRDP_CACHE_DIR"] = saved


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


# Real spam daemons for the spamassassin and rspamd scorer tests (tests/daemons.py starts
# them on 127.0.0.1, offline, and stops them by PID). CI installs the Debian packages and
# never skips these tests.
SPAMD = "/usr/sbin/spamd"
RSPAMD = "/usr/bin/rspamd"


def _need_daemon(binary: str, package: str) -> None:
    if not os.access(binary, os.X_OK):
        message = f"{binary} is not installed (apt-get install {package})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must run the scorer daemon tests")
        pytest.skip(message)


def _daemons():  # the tests.daemons module, imported as unbound_server does
    try:
        from tests import daemons
    except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
        import daemons  # type: ignore[import-not-found,no-redef]  # same file
    return daemons


@pytest.fixture(scope="session")
def spamd_server() -> Iterator[object]:
    """A tests.daemons.Daemon: spamd with 2 children, local tests only, Bayes off."""
    _need_daemon(SPAMD, "spamassassin")
    with _daemons().running_spamd(children=2) as server:
        yield server


@pytest.fixture(scope="session")
def rspamd_server() -> Iterator[object]:
    """A tests.daemons.Daemon: rspamd with 1 scanner worker, network modules off."""
    _need_daemon(RSPAMD, "rspamd")
    with _daemons().running_rspamd(workers=1) as server:
        yield server
