"""A throw-away unbound (Debian's /usr/sbin/unbound, 1.17) on 127.0.0.1 for DNS tests.

unbound serves every case of the decision table from auth-zones, including SERVFAIL (an
auth-zone whose zone file is empty) and silence (``local-zone: ... deny`` drops queries).
It never recurses (``local-zone: "." refuse``), and ``test.`` is made transparent because
unbound answers NXDOMAIN for the whole reserved ``test.`` TLD by default (RFC 6761).
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import dns.exception
import dns.message
import dns.query

UNBOUND = "/usr/sbin/unbound"
START_TIMEOUT = 10.0
HOST = "127.0.0.1"


def free_port() -> int:
    """A UDP port nobody uses now (unbound binds UDP and TCP on it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def write_config(
    folder: Path, port: int, zones: Mapping[str, Path | None], silent: Sequence[str]
) -> Path:
    """unbound.conf for ``zones`` (origin -> zone file; None = empty file, SERVFAIL)."""
    server = [
        f"interface: {HOST}",
        f"port: {port}",
        "do-daemonize: no",
        'username: ""',  # no privilege drop: works as root and as an ordinary user
        'chroot: ""',
        f'directory: "{folder}"',
        "use-syslog: no",
        f'logfile: "{folder / "unbound.log"}"',
        f'pidfile: "{folder / "unbound.pid"}"',
        'module-config: "iterator"',  # no DNSSEC validator, no trust anchor to read
        "num-threads: 1",
        "do-ip6: no",
        "verbosity: 1",
        'local-zone: "." refuse',
        'local-zone: "test." transparent',
    ]
    server += [f'local-zone: "{name}" deny' for name in silent]
    lines = ["server:", *(f"    {line}" for line in server)]
    for origin, path in zones.items():
        if path is None:
            path = folder / f"{origin.strip('.')}.empty.zone"
            path.write_text("")
        lines += [
            "auth-zone:",
            f'    name: "{origin}"',
            f'    zonefile: "{path}"',
            "    for-downstream: yes",
            "    for-upstream: no",
        ]
    config = folder / "unbound.conf"
    config.write_text("\n".join(lines) + "\n")
    return config


def answers(port: int, origin: str) -> bool:
    """True once the server answers an SOA query for ``origin``."""
    query = dns.message.make_query(origin, "SOA")
    try:
        dns.query.udp(query, HOST, port=port, timeout=0.2)
    except (dns.exception.Timeout, OSError):
        return False
    return True


def _log(folder: Path) -> str:
    parts = [p.read_text(errors="replace") for p in sorted(folder.glob("*.log"))]
    return "\n".join(parts).strip() or "(no log)"


def _wait_ready(process: subprocess.Popen[bytes], folder: Path, port: int, origin: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"unbound exited with {process.returncode}:\n{_log(folder)}")
        if answers(port, origin):
            return
        time.sleep(0.02)
    raise RuntimeError(f"unbound did not answer within {START_TIMEOUT} s:\n{_log(folder)}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start(
    binary: str, folder: Path, zones: Mapping[str, Path | None], silent: Sequence[str]
) -> tuple[subprocess.Popen[bytes], int]:
    """Start unbound; tries 3 ports, in case another process took the free one meanwhile."""
    for attempt in range(3):
        port = free_port()
        config = write_config(folder, port, zones, silent)
        with open(folder / "console.log", "ab") as console:
            process = subprocess.Popen(
                [binary, "-d", "-c", str(config)], stdout=console, stderr=subprocess.STDOUT
            )
        try:
            _wait_ready(process, folder, port, next(iter(zones)))
        except RuntimeError:
            _stop(process)
            if attempt == 2:
                raise
        else:
            return process, port
    raise AssertionError("unreachable")


@contextmanager
def running_unbound(
    zones: Mapping[str, Path | None], silent: Sequence[str] = (), binary: str = UNBOUND
) -> Iterator[tuple[str, int]]:
    """Run unbound for ``zones`` and ``silent`` names; yields (host, port)."""
    with tempfile.TemporaryDirectory(prefix="hrdp-unbound-") as tmp:
        process, port = _start(binary, Path(tmp), zones, silent)
        try:
            yield HOST, port
        finally:
            _stop(process)
