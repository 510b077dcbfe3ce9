"""The ``rspamd`` scorer: POST the message to rspamd's ``/checkv2`` and read its JSON.

rspamd's HTTP protocol (rspamd.com/doc/developers/protocol.html): the raw message is the
body; envelope facts travel as request headers (``From``, ``Rcpt``, ``Ip``, ...). The
reply carries ``score``, ``required_score`` and ``action``. ``required_score`` is the
*reject* threshold (15 by default), not the add-header one (6), so "spam" here means
what a postmaster expects: the action is ``add header`` or stronger, as milter_headers
stamps ``X-Spam: Yes`` (see headers.py). ``--threshold`` replaces that with a plain
``score >= threshold``.

Each thread keeps one HTTP/1.1 connection (threading.local) and reconnects once when
a kept-alive connection turns out to be dropped. rspamd's own workers (3.4 and later
releases alike) answer ``Connection: close``, so against a bare rspamd every request
opens a connection (cheap on loopback); keep-alive pays off behind a proxy that keeps
connections open (nginx, haproxy).
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.parse
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score
from hrdp.scoring.headers import RSPAMD_ACTIONS, RSPAMD_SPAM_ACTIONS
from hrdp.scoring.options import check_options, check_threshold, option_float, option_int

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

DEFAULT_URL = "http://127.0.0.1:11333"
DEFAULT_TIMEOUT = 10.0  # rspamc's default; offline rspamd answers in milliseconds
# rspamd workers are event loops that overlap requests, so in-flight requests need not
# match the workers; 4 kept 2 workers on 2 cores as busy as 8 did (about 600 msg/s),
# 1-2 left them waiting on the client.
DEFAULT_CONCURRENCY = 4
ADD_HEADER = 6.0  # rspamd's stock actions.conf: add_header = 6
OPTIONS = ("url", "timeout", "concurrency", "add_header")
TOP_SYMBOLS = 12
# Errors that mean a kept-alive connection was closed by the server while idle.
_STALE = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)


def parse_url(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, path of /checkv2) from the ``url`` option."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ScorerError(f"rspamd scorer: url={url!r} is not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ScorerError(f"rspamd scorer: url={url!r} must look like {DEFAULT_URL}")
    default_port = 443 if parts.scheme == "https" else 80
    return parts.scheme, parts.hostname, port or default_port, parts.path.rstrip("/") + "/checkv2"


def _symbols(reply: dict[str, Any]) -> list[str]:
    """The symbols that moved the score most, as rspamd writes them (``NAME(2.50)``);
    when none did (GTUBE forces an action at score 0), the ones that matched."""
    table = reply.get("symbols")
    if not isinstance(table, dict):
        return []
    scored: list[tuple[float, str]] = []
    for name, entry in table.items():
        value = entry.get("score") if isinstance(entry, dict) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            scored.append((float(value), str(name)))
    scored.sort(key=lambda item: (-abs(item[0]), item[1]))
    moved = [item for item in scored if item[0] != 0] or scored
    return [f"{name}({value:.2f})" for value, name in moved[:TOP_SYMBOLS]]


def _verdict(
    value: float, action: str, threshold: float | None, add_header: float
) -> tuple[float, bool]:
    if threshold is not None:
        return threshold, value >= threshold
    if action in RSPAMD_ACTIONS:
        return add_header, action in RSPAMD_SPAM_ACTIONS
    return add_header, value >= add_header  # a custom action: the number decides


def parse_reply(data: bytes, threshold: float | None, add_header: float = ADD_HEADER) -> Score:
    """A Score from a ``/checkv2`` JSON reply."""
    try:
        reply = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScorerError(f"rspamd: the reply is not JSON: {data[:60]!r}") from exc
    if not isinstance(reply, dict):
        raise ScorerError(f"rspamd: the reply is not a JSON object: {data[:60]!r}")
    value = reply.get("score")
    if isinstance(value, bool) or not isinstance(value, int | float):
        error = reply.get("error")
        raise ScorerError(f"rspamd: {error}" if error else "rspamd: the reply has no score")
    action = " ".join(str(reply.get("action", "")).lower().split())
    limit, spam = _verdict(float(value), action, threshold, add_header)
    return Score(float(value), limit, spam, [f"action: {action or 'none'}", *_symbols(reply)])


def _http_error(status: int, reason: str, body: bytes) -> ScorerError:
    try:
        message = str(json.loads(body).get("error", ""))
    except (ValueError, AttributeError, UnicodeDecodeError):
        message = body[:120].decode("utf-8", "replace")
    message = " ".join(message.split())
    return ScorerError(f"rspamd: HTTP {status} {reason}{': ' + message if message else ''}")


def envelope_headers(message: ParsedMessage) -> dict[str, bytes]:
    """rspamd's envelope headers from what hrdp knows: the envelope sender (``<>`` for
    the null sender), only when it came from the envelope, never the header From."""
    sender = message.sender
    if sender.source != "envelope":
        return {}
    return {"From": (sender.address or "<>").encode("utf-8")}


class RspamdScorer:
    """Ask rspamd over HTTP (/checkv2 of a normal worker).

    Options (``--scorer-opt KEY=VALUE``):

    - ``url`` (http://127.0.0.1:11333): the normal worker (or a proxy in front of it);
    - ``timeout`` (10): seconds allowed to connect and for each read of the reply;
    - ``concurrency`` (4): messages in flight at once (rspamd workers overlap requests);
    - ``add_header`` (6): the server's ``actions { add_header }`` score, reported as the
      threshold next to the action-based verdict (the reply does not carry it).

    Spam when rspamd's action is ``add header``, ``rewrite subject``, ``soft reject`` or
    ``reject``; with ``--threshold``, spam when the score reaches it. The envelope sender
    goes along as the ``From`` header when hrdp has one. ``detail`` names the action and
    the symbols that weighed most.
    """

    name: str = "rspamd"

    def __init__(self, options: Mapping[str, str], threshold: float | None) -> None:
        check_options("rspamd", options, OPTIONS)
        self.threshold = check_threshold("rspamd", threshold)
        self.url = options.get("url", DEFAULT_URL)
        self.scheme, self.host, self.port, self.path = parse_url(self.url)
        timeout = options.get("timeout", str(DEFAULT_TIMEOUT))
        self.timeout = option_float("timeout", "rspamd", timeout)
        self.concurrency = option_int(
            "concurrency", "rspamd", options.get("concurrency", str(DEFAULT_CONCURRENCY)), 1, 256
        )
        self.add_header = option_float(
            "add_header", "rspamd", options.get("add_header", str(ADD_HEADER)), positive=False
        )
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            https = self.scheme == "https"
            kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
            conn = kind(self.host, self.port, timeout=self.timeout)
            self._local.conn = conn
        return conn

    def _fail(self, exc: BaseException) -> ScorerError:
        if isinstance(exc, TimeoutError):
            return ScorerError(f"rspamd at {self.url}: no reply within {self.timeout:g} s")
        if isinstance(exc, http.client.BadStatusLine) and not isinstance(exc, _STALE):
            line = " ".join(str(exc).split())[:80]
            return ScorerError(f"rspamd at {self.url}: not an HTTP reply: {line}")
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return ScorerError(f"rspamd at {self.url}: {' '.join(reason.split())}")

    def post(self, body: bytes, headers: Mapping[str, bytes]) -> tuple[int, str, bytes]:
        """POST to /checkv2 on this thread's connection: (status, reason, body)."""
        conn = self._connection()
        for attempt in (1, 2):
            reused = conn.sock is not None  # None: closed after "Connection: close"
            try:
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.reason, response.read()
            except _STALE as exc:
                conn.close()
                if not reused or attempt == 2:  # a fresh connection failed: no retry
                    raise self._fail(exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise self._fail(exc) from exc
        raise AssertionError("unreachable")

    def score(self, message: ParsedMessage) -> Score:
        """rspamd's verdict on the message; thread-safe (one connection per thread)."""
        status, reason, body = self.post(message.raw, envelope_headers(message))
        if status != 200:
            raise _http_error(status, reason, body)
        return parse_reply(body, self.threshold, self.add_header)
