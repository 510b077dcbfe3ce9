"""Throw-away spamd and rspamd on 127.0.0.1 for the scorer tests and bench/score_eval.py.

Both run offline, as /work/shared/notes/scorers.md describes: spamd with local tests only
(``-L``) and Bayes off; rspamd with its network modules disabled and DNS pointed at a
loopback port where nothing listens, so a lookup fails at once instead of timing out.
Each daemon runs in the foreground in its own session, with its pid file, logs and
config in a temporary folder; it is stopped by PID (SIGTERM to the process group, then
SIGKILL), so no spamd child or rspamd worker outlives the ``with`` block.

rspamd compiles its Hyperscan databases on the first start (about 30 s); they are kept
in ``RSPAMD_HS_CACHE`` so later starts take a few seconds.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SPAMD = "/usr/sbin/spamd"
RSPAMD = "/usr/bin/rspamd"
RSPAMD_CONF = "/etc/rspamd/rspamd.conf"
UNBOUND = "/usr/sbin/unbound"
RSPAMD_HS_CACHE = Path(os.environ.get("HRDP_RSPAMD_CACHE", "/tmp/hrdp-rspamd-cache"))
HOST = "127.0.0.1"
START_TIMEOUT = 120.0  # rspamd's first start compiles Hyperscan databases
# rspamd modules that query the network (DNS lists, SPF/DKIM/DMARC keys, fuzzy servers).
RSPAMD_NETWORK_MODULES = (
    "rbl",
    "spf",
    "dkim",
    "dmarc",
    "arc",
    "asn",
    "fuzzy_check",
    "hfilter",
    "phishing",
    "mx_check",
    "url_redirector",
)


@dataclass(frozen=True)
class Daemon:
    """A running daemon: where it listens, its PID and its folder (config, logs)."""

    host: str
    port: int  # 0 when it listens on a Unix socket only
    pid: int
    folder: Path
    socket: Path | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_tcp_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _run_as(name: str) -> str | None:
    """The account to drop to when running as root (both daemons refuse to stay root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(name)
    except KeyError:
        return "nobody"
    return name


def _give(path: Path, user: str | None) -> None:
    if user is not None:
        shutil.chown(path, user, user if user != "nobody" else None)


def _log(folder: Path) -> str:
    parts = [
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
        for p in sorted(folder.glob("*.log"))
    ]
    return "\n".join(parts).strip() or "(no log)"


def _group_runs(pgid: int) -> bool:
    """True while a process of the group ``pgid`` runs (is not a zombie)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the daemon, which stops and reaps its children (spamd's children,
    rspamd's workers); SIGKILL to its whole process group after 10 s or for stragglers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # until no child runs any more, not just signalled
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        if not _group_runs(process.pid):
            return  # zombies only: spamd's parent exits without reaping, init reaps them
        time.sleep(0.05)


def _wait(
    name: str, process: subprocess.Popen[bytes], folder: Path, ready: Callable[[], bool]
) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{_log(folder)}")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer within {START_TIMEOUT:.0f} s:\n{_log(folder)}")


def _launch(argv: list[str], folder: Path) -> subprocess.Popen[bytes]:
    with open(folder / "console.log", "ab") as console:
        return subprocess.Popen(
            argv,
            stdout=console,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=folder,
            start_new_session=True,  # its own process group, stopped as one
        )


# --- spamd ---------------------------------------------------------------------------------


def spamd_pings(address: tuple[str, int] | Path) -> bool:
    """True once spamd answers ``PING`` with ``PONG`` on a TCP address or Unix socket."""
    family = socket.AF_UNIX if isinstance(address, Path) else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            sock.connect(str(address) if isinstance(address, Path) else address)
            sock.sendall(b"PING SPAMC/1.5\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            return b" 0 PONG" in sock.recv(200)
    except OSError:
        return False


def spamd_argv(folder: Path, listen: str, children: int, user: str | None) -> list[str]:
    """spamd's command line as the notes give it; ``listen`` is ``-i HOST:PORT`` or
    ``--socketpath=PATH``."""
    argv = [
        SPAMD,
        "-r",
        str(folder / "spamd.pid"),
        "-s",
        str(folder / "spamd.log"),
        *listen.split(" ", 1),
        "-A",
        HOST,
        "-x",
        "-L",
        "-m",
        str(children),
        "--cf=use_bayes 0",
        "--cf=bayes_auto_learn 0",
    ]
    if user is not None:
        argv += ["-u", user, "-g", user if user != "nobody" else "nogroup"]
    return argv


@contextmanager
def running_spamd(
    children: int = 2, unix_socket: bool = False, binary: str = SPAMD
) -> Iterator[Daemon]:
    """spamd with ``children`` children on a free 127.0.0.1 port (or a Unix socket in its
    folder when ``unix_socket``), offline and without Bayes."""
    user = _run_as("debian-spamd")
    with tempfile.TemporaryDirectory(prefix="hrdp-spamd-") as tmp:
        folder = Path(tmp)
        _give(folder, user)
        port, path = (0, folder / "spamd.sock") if unix_socket else (free_tcp_port(), None)
        address: tuple[str, int] | Path = path or (HOST, port)
        listen = f"--socketpath={path}" if path else f"-i {HOST}:{port}"
        argv = spamd_argv(folder, listen, children, user)
        argv[0] = binary
        process = _launch(argv, folder)
        try:
            _wait("spamd", process, folder, lambda: spamd_pings(address))
            yield Daemon(HOST, port, process.pid, folder, path)
        finally:
            _stop(process)


# --- rspamd --------------------------------------------------------------------------------


def rspamd_pings(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ping", timeout=1) as reply:
            return bool(reply.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def write_rspamd_config(folder: Path, port: int, workers: int, dns: tuple[str, int]) -> Path:
    """``local/`` for rspamd's stock config: one loopback scanner, no network, no state
    shared with other instances except the Hyperscan cache."""
    local = folder / "local"
    (local / "local.d").mkdir(parents=True)
    (local / "override.d").mkdir()
    (local / "local.d" / "options.inc").write_text(
        f'dns {{ nameserver = ["{dns[0]}:{dns[1]}"]; timeout = 1s; retransmits = 1; }}\n'
        f'hs_cache_dir = "{RSPAMD_HS_CACHE}";\n'
        f'control_socket = "{folder}/rspamd.sock mode=0600";\n'
        # the add-header/rewrite-subject GTUBE variants, for the tests (rspamd >= 2.3 < 3.8)
        "enable_test_patterns = true;\n"
    )
    (local / "override.d" / "worker-normal.inc").write_text(
        f'bind_socket = "{HOST}:{port}";\ncount = {workers};\nmime = true;\n'
    )
    for worker in ("controller", "proxy", "fuzzy"):
        (local / "override.d" / f"worker-{worker}.inc").write_text("enabled = false;\n")
    for module in RSPAMD_NETWORK_MODULES:
        (local / "local.d" / f"{module}.conf").write_text("enabled = false;\n")
    return local


def rspamd_argv(folder: Path, local: Path, user: str | None) -> list[str]:
    argv = [
        RSPAMD,
        "-f",
        "-c",
        RSPAMD_CONF,
        f"--var=LOCAL_CONFDIR={local}",
        f"--var=RUNDIR={folder}",
        f"--var=DBDIR={folder / 'db'}",
        f"--var=LOGDIR={folder}",
    ]
    if user is not None:
        argv += ["-u", user, "-g", user if user != "nobody" else "nogroup"]
    return argv


def hyperscan_compiled(folder: Path) -> bool:
    """True once hs_helper has compiled (or found in the cache) the Hyperscan databases.
    The workers start on the slower PCRE fallback and switch one second after this line
    ("postpone loaded notification for 1 seconds"), so callers wait that second too."""
    log = folder / "rspamd.log"
    return log.exists() and "rspamd_rs_compile_cb: compiled" in log.read_text(errors="replace")


@contextmanager
def _resolver(dns: tuple[str, int] | None) -> Iterator[tuple[str, int]]:
    """The DNS server rspamd asks: ``dns``, else a throw-away unbound that refuses every
    query at once (tests/unbound.py), else a dead port. rspamd ignores ICMP "port
    unreachable", so with a dead port each lookup (once_received's reverse DNS of the
    Received IP) waits for the 1 s timeout: 10x slower on the corpus."""
    if dns is not None:
        yield dns
    elif os.access(UNBOUND, os.X_OK):
        try:
            from tests.unbound import running_unbound
        except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
            from unbound import running_unbound  # type: ignore[import-not-found,no-redef]
        with running_unbound({"hrdp.test.": None}) as address:
            yield address
    else:
        yield HOST, free_udp_port()


@contextmanager
def running_rspamd(
    workers: int = 1,
    binary: str = RSPAMD,
    wait_hyperscan: bool = False,
    dns: tuple[str, int] | None = None,
) -> Iterator[Daemon]:
    """rspamd with ``workers`` scanner workers on a free 127.0.0.1 port, network modules
    off, DNS at ``dns`` (see _resolver)."""
    with (
        _resolver(dns) as resolver,
        _running_rspamd(workers, binary, wait_hyperscan, resolver) as daemon,
    ):
        yield daemon


@contextmanager
def _running_rspamd(
    workers: int, binary: str, wait_hyperscan: bool, dns: tuple[str, int]
) -> Iterator[Daemon]:
    user = _run_as("_rspamd")
    RSPAMD_HS_CACHE.mkdir(parents=True, exist_ok=True)
    if user is not None and RSPAMD_HS_CACHE.stat().st_uid == 0:
        _give(RSPAMD_HS_CACHE, user)
    with tempfile.TemporaryDirectory(prefix="hrdp-rspamd-") as tmp:
        folder = Path(tmp)
        port = free_tcp_port()
        local = write_rspamd_config(folder, port, workers, dns)
        (folder / "db").mkdir()
        for path in (folder, folder / "db", local):
            _give(path, user)
        argv = rspamd_argv(folder, local, user)
        argv[0] = binary
        process = _launch(argv, folder)
        url = f"http://{HOST}:{port}"
        try:
            _wait("rspamd", process, folder, lambda: rspamd_pings(url))
            if wait_hyperscan:
                _wait("rspamd hyperscan", process, folder, lambda: hyperscan_compiled(folder))
                time.sleep(1.5)
            yield Daemon(HOST, port, process.pid, folder)
        finally:
            _stop(process)
