"""The ``rspamd`` scorer against a real rspamd (tests/daemons.py, network modules off)."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from hrdp.errors import ScorerError
from hrdp.message import ParsedMessage
from hrdp.scoring.rspamd import RspamdScorer, envelope_headers, parse_reply
from tests.daemons import Daemon, free_tcp_port

# rspamd's GTUBE patterns (rspamd.com/doc/gtube_patterns.html): X forces reject; Y and Z
# (add header, rewrite subject) need enable_test_patterns, which tests/daemons.py sets.
GTUBE = "JS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HEAD = (
    "Return-Path: <alice@example.com>\n"
    "From: Alice <alice@example.com>\nTo: Bob <bob@example.org>\n"
    "Date: {date}\nMessage-ID: <hrdp-test-{n}@example.com>\nMIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=us-ascii\n"
)


def message(body: str, n: int = 1, date: str = "Thu, 2 Oct 2003 10:00:00 +0000") -> ParsedMessage:
    text = HEAD.format(n=n, date=date) + f"Subject: Lunch on Friday\n\n{body}\n"
    return ParsedMessage(text.encode())


def gtube(letter: str) -> ParsedMessage:
    return message(f"This is a GTUBE test.\n\n{letter}{GTUBE}\n")


HAM = message("Hi Bob,\n\nshall we meet at noon on Friday at the usual place?\n\nAlice")


def scorer(url: str, threshold: float | None = None, **options: str) -> RspamdScorer:
    return RspamdScorer({"url": url, **options}, threshold)


def test_gtube_reject_is_spam(rspamd_server: Daemon) -> None:
    result = scorer(rspamd_server.url).score(gtube("X"))
    assert result.spam
    assert result.detail[:2] == ["action: reject", "GTUBE(0.00)"]


@pytest.mark.parametrize(("letter", "action"), [("Y", "add header"), ("Z", "rewrite subject")])
def test_add_header_and_stronger_are_spam(rspamd_server: Daemon, letter: str, action: str) -> None:
    """Spam by the action, even where the score is under the threshold (Z scores 0)."""
    result = scorer(rspamd_server.url).score(gtube(letter))
    assert result.spam
    assert result.detail[0] == f"action: {action}"
    assert result.threshold == 6.0  # add_header, not required_score (reject, 15)


def test_ham_is_not_spam_and_detail_has_symbols(rspamd_server: Daemon) -> None:
    result = scorer(rspamd_server.url).score(HAM)
    assert not result.spam
    assert result.detail[0] == "action: no action"
    assert "DATE_IN_PAST(1.00)" in result.detail  # a 2003 date


def test_threshold_overrides_the_action(rspamd_server: Daemon) -> None:
    ham = scorer(rspamd_server.url, threshold=-50.0).score(HAM)
    assert (ham.threshold, ham.spam) == (-50.0, True)
    spam = scorer(rspamd_server.url, threshold=100.0).score(gtube("X"))
    assert (spam.threshold, spam.spam) == (100.0, False)


def test_envelope_sender_is_passed(rspamd_server: Daemon) -> None:
    client = scorer(rspamd_server.url)
    status, _reason, body = client.post(HAM.raw, envelope_headers(HAM))
    assert status == 200
    assert "FROM_EQ_ENVFROM" in json.loads(body)["symbols"]  # rspamd compared the two
    assert envelope_headers(HAM) == {"From": b"alice@example.com"}
    header_only = ParsedMessage(b"From: a@example.com\n\nhi\n")
    assert envelope_headers(header_only) == {}  # the header From is not an envelope


def test_rspamd_down_is_an_error_not_a_clean_message() -> None:
    port = free_tcp_port()
    start = time.monotonic()
    with pytest.raises(ScorerError, match=rf"rspamd at http://127.0.0.1:{port}: .*refused"):
        scorer(f"http://127.0.0.1:{port}").score(HAM)
    assert time.monotonic() - start < 1.0


def test_http_error(rspamd_server: Daemon) -> None:
    with pytest.raises(ScorerError, match=r"rspamd: HTTP 500 .*invalid command"):
        scorer(rspamd_server.url + "/nowhere").score(HAM)


def test_not_http_is_an_error(spamd_server: Daemon) -> None:
    """spamd answers in SPAMD, not HTTP: a clear error, never a verdict."""
    with pytest.raises(ScorerError, match=r"rspamd at http://127\.0\.0\.1:\d+: not an HTTP reply"):
        scorer(f"http://127.0.0.1:{spamd_server.port}").score(HAM)


def test_concurrent_batch(rspamd_server: Daemon) -> None:
    client = scorer(rspamd_server.url)
    batch = [gtube("X") if n % 2 else message("Notes.", n=n) for n in range(20)]
    with ThreadPoolExecutor(max_workers=client.concurrency) as pool:
        results = list(pool.map(client.score, batch))
    assert [r.spam for r in results] == [n % 2 == 1 for n in range(20)]


@pytest.fixture()
def connects(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ports of the TCP connections http.client opens, one entry per connect."""
    opened: list[int] = []
    real = http.client.HTTPConnection.connect

    def counting(self: http.client.HTTPConnection) -> None:
        opened.append(self.port)
        real(self)

    monkeypatch.setattr(http.client.HTTPConnection, "connect", counting)
    return opened


def test_rspamd_closes_every_connection(rspamd_server: Daemon, connects: list[int]) -> None:
    """rspamd's workers answer "Connection: close": one connection per request, handled
    without an error or a retry."""
    client = scorer(rspamd_server.url)
    for _ in range(5):
        client.score(HAM)
    assert len(connects) == 5


class KeepAliveFront(ThreadingHTTPServer):
    """A keep-alive HTTP/1.1 front for rspamd (as nginx would be): forwards /checkv2 to
    the real rspamd; with ``drop``, closes each connection after one reply without a word,
    as an idle timeout does."""

    daemon_threads = True

    def __init__(self, backend: str, drop: bool) -> None:
        self.backend, self.drop, self.connections = backend, drop, 0
        super().__init__(("127.0.0.1", 0), FrontHandler)


class FrontHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: KeepAliveFront

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        host, port = self.server.backend.removeprefix("http://").split(":")
        upstream = http.client.HTTPConnection(host, int(port), timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() in ("from", "rcpt")}
        upstream.request("POST", self.path, body=body, headers=headers)
        reply = upstream.getresponse()
        data = reply.read()
        upstream.close()
        self.send_response(reply.status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = self.server.drop

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def front(rspamd_server: Daemon, request: pytest.FixtureRequest) -> Iterator[KeepAliveFront]:
    server = KeepAliveFront(rspamd_server.url, drop=bool(getattr(request, "param", False)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_keep_alive_reuses_the_connection(front: KeepAliveFront, connects: list[int]) -> None:
    client = scorer(f"http://127.0.0.1:{front.server_address[1]}")
    results = [client.score(HAM) for _ in range(10)]
    assert not any(r.spam for r in results)
    assert (connects.count(front.server_address[1]), front.connections) == (1, 1)


def test_keep_alive_one_connection_per_thread(front: KeepAliveFront) -> None:
    client = scorer(f"http://127.0.0.1:{front.server_address[1]}", concurrency="3")
    with ThreadPoolExecutor(max_workers=client.concurrency) as pool:
        list(pool.map(client.score, [HAM] * 30))
    assert front.connections <= 3


@pytest.mark.parametrize("front", [True], indirect=True)
def test_dropped_keep_alive_connection_is_reopened_once(
    front: KeepAliveFront, connects: list[int]
) -> None:
    client = scorer(f"http://127.0.0.1:{front.server_address[1]}")
    results = [client.score(HAM) for _ in range(5)]
    assert len(results) == 5
    assert front.connections == connects.count(front.server_address[1]) == 5


def test_real_corpus_messages(rspamd_server: Daemon, corpus: Path) -> None:
    client = scorer(rspamd_server.url)
    for label in ("ham", "spam"):
        for path in sorted((corpus / "spamassassin" / label).glob("*.eml"))[:5]:
            result = client.score(ParsedMessage(path.read_bytes()))
            assert result.detail[0].startswith("action: "), path.name


# --- the reply without a daemon -----------------------------------------------------------


def test_parse_reply_shapes() -> None:
    reply = {
        "score": 7.5,
        "required_score": 15,
        "action": "add header",
        "symbols": {"A": {"score": 5.0}, "B": {"score": -0.5}, "C": {"score": 0}},
    }
    result = parse_reply(json.dumps(reply).encode(), None)
    assert (result.value, result.threshold, result.spam) == (7.5, 6.0, True)
    assert result.detail == ["action: add header", "A(5.00)", "B(-0.50)"]
    greylist = parse_reply(b'{"score": 4.5, "action": "greylist"}', None)
    assert not greylist.spam  # greylisting is a delay, not a spam verdict
    custom = parse_reply(b'{"score": 7, "action": "quarantine"}', None, add_header=8.0)
    assert (custom.threshold, custom.spam) == (8.0, False)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"<html>", "not JSON"),
        (b"[1]", "not a JSON object"),
        (b'{"error": "bad message"}', "rspamd: bad message"),
        (b'{"score": "high"}', "no score"),
        (b'{"score": true}', "no score"),
    ],
)
def test_bad_replies(data: bytes, error: str) -> None:
    with pytest.raises(ScorerError, match=error):
        parse_reply(data, None)


@pytest.mark.parametrize(
    "options",
    [
        {"url": "ftp://x"},
        {"url": "http://"},
        {"url": "http://h:99999"},
        {"timeout": "0"},
        {"concurrency": "many"},
        {"add_header": "x"},
        {"port": "1"},
    ],
)
def test_bad_options(options: dict[str, str]) -> None:
    with pytest.raises(ScorerError, match="rspamd scorer: "):
        RspamdScorer(options, None)
