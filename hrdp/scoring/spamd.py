"""The ``spamassassin`` scorer: ask SpamAssassin's spamd over its SPAMD protocol.

One request per connection, as the protocol has it (spamd closes after each reply):
``SYMBOLS SPAMC/1.5`` with ``Content-length`` (and ``User`` when set), the message, a
half-close, then the reply read to EOF (SpamAssassin's spamd/PROTOCOL and spamc's
libspamc.c). SYMBOLS rather than CHECK, so the rules that hit come back for ``detail``;
PROCESS/HEADERS would return a rewritten report message instead of a verdict.

Unlike ``spamc -c``, which prints ``0/0`` and exits 0 when spamd is down, every outage
(refused, timed out, closed without a reply, a non-zero SPAMD status, a reply that does
not parse) raises ScorerError: an outage is never a clean message.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score
from hrdp.scoring.options import check_options, check_threshold, option_float, option_int

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

DEFAULT_PORT = 783
DEFAULT_TIMEOUT = 30.0  # a big message under the full rule set can take seconds
# One message in flight per spamd child: spamd -m (max children) defaults to 5. Fewer
# leaves children idle (2 children on 2 cores: 12 msg/s at 1 in flight, 18 at 2); more
# only wait in spamd's listen backlog, which costs latency, not throughput.
DEFAULT_CONCURRENCY = 5
OPTIONS = ("host", "port", "socket", "timeout", "user", "concurrency")
MAX_REPLY = 1 << 20  # a SYMBOLS reply is a few hundred bytes; more is not spamd

# sysexits.h names for the status codes spamd sends (spamd/PROTOCOL, "SPAMD/1.1 76 ...").
SYSEXITS = {
    64: "EX_USAGE",
    65: "EX_DATAERR",
    66: "EX_NOINPUT",
    67: "EX_NOUSER",
    68: "EX_NOHOST",
    69: "EX_UNAVAILABLE",
    70: "EX_SOFTWARE",
    71: "EX_OSERR",
    72: "EX_OSFILE",
    73: "EX_CANTCREAT",
    74: "EX_IOERR",
    75: "EX_TEMPFAIL",
    76: "EX_PROTOCOL",
    77: "EX_NOPERM",
    78: "EX_CONFIG",
}
_STATUS = re.compile(rb"SPAMD/(\d+\.\d+) +(\d+) *([^\r\n]*)")
# "Spam: True ; 9.4 / 5.0" (spamd's spam header; "Yes"/"No" in very old versions)
_SPAM = re.compile(r"(true|false|yes|no)\s*;\s*(-?[\d.]+)\s*/\s*(-?[\d.]+)\s*$", re.IGNORECASE)


def build_request(raw: bytes, user: str | None) -> bytes:
    head = f"SYMBOLS SPAMC/1.5\r\nContent-length: {len(raw)}\r\n"
    if user:
        head += f"User: {user}\r\n"
    return head.encode("ascii") + b"\r\n" + raw


def _status_error(code: int, text: str) -> ScorerError:
    name = SYSEXITS.get(code, "status")
    detail = " ".join(text.split())[:200]
    return ScorerError(f"spamd: {name} ({code}){': ' + detail if detail else ''}")


def parse_reply(reply: bytes, threshold: float | None) -> Score:
    """A Score from a SPAMD reply to SYMBOLS (or CHECK: no symbols then)."""
    head, _blank, body = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = _STATUS.fullmatch(lines[0])
    if status is None:
        raise ScorerError(f"spamd: not a SPAMD reply: {lines[0][:60]!r}")
    code = int(status.group(2))
    if code != 0:
        raise _status_error(code, status.group(3).decode("latin-1"))
    verdict = None
    for line in lines[1:]:
        name, _colon, text = line.decode("latin-1").partition(":")
        if name.strip().lower() == "spam":
            verdict = _SPAM.search(text.strip())
    if verdict is None:
        raise ScorerError("spamd: the reply has no readable 'Spam:' header")
    said_spam = verdict.group(1).lower() in ("true", "yes")
    value, required = float(verdict.group(2)), float(verdict.group(3))
    symbols = [s.strip() for s in body.decode("latin-1").split(",") if s.strip()]
    if threshold is None:
        return Score(value, required, said_spam, symbols)
    return Score(value, threshold, value >= threshold, symbols)


class SpamdScorer:
    """Ask SpamAssassin's spamd (SPAMD protocol over TCP or a Unix socket).

    Options (``--scorer-opt KEY=VALUE``):

    - ``host`` (127.0.0.1), ``port`` (783): spamd's TCP address;
    - ``socket``: a Unix socket path, used instead of host and port (spamd --socketpath);
    - ``timeout`` (30): seconds allowed to connect and for each read of the reply;
    - ``user``: the ``User:`` sent to spamd, for per-user preferences (none by default);
    - ``concurrency`` (5): messages in flight at once. spamd scans one message per child
      (``spamd -m``, 5 by default), so match it to the children spamd runs.

    The verdict is spamd's own (``Spam: True ; 9.4 / 5.0``) unless ``--threshold`` is
    given: then spam when the score reaches it. ``detail`` lists the rules that hit.
    """

    name: str = "spamassassin"

    def __init__(self, options: Mapping[str, str], threshold: float | None) -> None:
        check_options("spamassassin", options, OPTIONS)
        self.threshold = check_threshold("spamassassin", threshold)
        self.host = options.get("host", "127.0.0.1")
        self.port = option_int("port", "spamassassin", options.get("port", "783"), 1, 65535)
        self.socket_path = options.get("socket") or None
        self.timeout = option_float(
            "timeout", "spamassassin", options.get("timeout", str(DEFAULT_TIMEOUT))
        )
        self.user = options.get("user") or None
        if self.user is not None and not re.fullmatch(r"[\x21-\x7e]+", self.user):
            raise ScorerError(f"spamassassin scorer: user={self.user!r} is not a plain name")
        self.concurrency = option_int(
            "concurrency",
            "spamassassin",
            options.get("concurrency", str(DEFAULT_CONCURRENCY)),
            1,
            256,
        )

    @property
    def address(self) -> str:
        return self.socket_path or f"{self.host}:{self.port}"

    def _open(self) -> socket.socket:
        if self.socket_path is None:
            return socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        return sock

    def _failure(self, exc: OSError, waiting_for: str, failed: str) -> ScorerError:
        """One line for a socket error: a timeout says what was awaited, anything else
        what failed and why."""
        if isinstance(exc, TimeoutError):
            return ScorerError(f"spamd at {self.address}: no {waiting_for} within "
                               f"{self.timeout:g} s")
        reason = exc.strerror or str(exc) or type(exc).__name__
        return ScorerError(f"spamd at {self.address}: {failed}: {reason}")

    def _connect(self) -> socket.socket:
        try:
            return self._open()
        except OSError as exc:
            raise self._failure(exc, "connection", "cannot connect") from exc

    def _exchange(self, request: bytes) -> bytes:
        with self._connect() as sock:
            try:
                sock.sendall(request)
                sock.shutdown(socket.SHUT_WR)
                chunks: list[bytes] = []
                size = 0
                while chunk := sock.recv(65536):
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > MAX_REPLY:
                        raise ScorerError(f"spamd at {self.address}: reply too long")
            except OSError as exc:
                raise self._failure(exc, "reply", "connection failed") from exc
        if not chunks:
            raise ScorerError(
                f"spamd at {self.address} closed the connection without a reply "
                "(is this client allowed by spamd -A?)"
            )
        return b"".join(chunks)

    def score(self, message: ParsedMessage) -> Score:
        """spamd's verdict on the message; thread-safe (one connection per call)."""
        reply = self._exchange(build_request(message.raw, self.user))
        return parse_reply(reply, self.threshold)
