"""The ``spamassassin`` scorer against a real spamd (tests/daemons.py, offline, Bayes off)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hrdp.errors import ScorerError
from hrdp.message import ParsedMessage
from hrdp.scoring.spamd import SpamdScorer, build_request, parse_reply
from tests.daemons import Daemon, free_tcp_port, running_spamd

# SpamAssassin's GTUBE (spamassassin.apache.org/gtube): the GTUBE rule scores 1000.
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
HEAD = (
    "Return-Path: <alice@example.com>\n"
    "From: Alice <alice@example.com>\nTo: Bob <bob@example.org>\n"
    "Date: Thu, 2 Oct 2003 10:00:00 +0000\nMessage-ID: <hrdp-test-{n}@example.com>\n"
)


def message(body: str, subject: str = "Lunch on Friday", n: int = 1) -> ParsedMessage:
    text = HEAD.format(n=n) + f"Subject: {subject}\n\n{body}\n"
    return ParsedMessage(text.encode())


SPAM = message(f"This is the GTUBE test message.\n\n{GTUBE}\n", "Test spam mail (GTUBE)")
HAM = message("Hi Bob,\n\nshall we meet at noon on Friday at the usual place?\n\nAlice")


def scorer(server: Daemon, threshold: float | None = None, **options: str) -> SpamdScorer:
    return SpamdScorer({"port": str(server.port), **options}, threshold)


def test_gtube_is_spam_with_the_rules_that_hit(spamd_server: Daemon) -> None:
    result = scorer(spamd_server).score(SPAM)
    assert result.spam
    assert result.value >= 1000
    assert result.threshold == 5.0  # SpamAssassin's required_score
    assert "GTUBE" in result.detail


def test_ham_is_not_spam(spamd_server: Daemon) -> None:
    result = scorer(spamd_server).score(HAM)
    assert not result.spam
    assert result.value < 5.0
    assert all(rule.replace("_", "").isalnum() for rule in result.detail)


def test_threshold_overrides_required(spamd_server: Daemon) -> None:
    ham = scorer(spamd_server, threshold=-100.0).score(HAM)
    assert (ham.threshold, ham.spam) == (-100.0, True)
    spam = scorer(spamd_server, threshold=5000.0).score(SPAM)
    assert (spam.threshold, spam.spam) == (5000.0, False)


def test_user_header_is_accepted(spamd_server: Daemon) -> None:
    assert scorer(spamd_server, user="nobody").score(SPAM).spam


def test_unix_socket() -> None:
    with running_spamd(children=1, unix_socket=True) as server:
        assert server.socket is not None
        result = SpamdScorer({"socket": str(server.socket)}, None).score(SPAM)
    assert result.spam


def test_spamd_down_is_an_error_not_a_clean_message() -> None:
    port = free_tcp_port()  # nobody listens there
    start = time.monotonic()
    with pytest.raises(ScorerError, match=rf"spamd at 127.0.0.1:{port}: cannot connect"):
        SpamdScorer({"port": str(port)}, None).score(HAM)
    assert time.monotonic() - start < 1.0


def test_missing_unix_socket_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScorerError, match="cannot connect"):
        SpamdScorer({"socket": str(tmp_path / "none.sock")}, None).score(HAM)


@pytest.fixture()
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a hung spamd)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_timeout_is_an_error(silent_port: int) -> None:
    start = time.monotonic()
    with pytest.raises(ScorerError, match=r"no reply within 0\.3 s"):
        SpamdScorer({"port": str(silent_port), "timeout": "0.3"}, None).score(HAM)
    assert time.monotonic() - start < 2.0


def test_protocol_error_from_spamd(spamd_server: Daemon) -> None:
    """A request spamd rejects gets its sysexits status back as a ScorerError."""
    bad = scorer(spamd_server)
    reply = bad._exchange(b"SYMBOLS SPAMC/1.5\r\nContent-length: 99999\r\n\r\nshort\r\n")
    with pytest.raises(ScorerError, match=r"spamd: EX_PROTOCOL \(76\): Bad header line"):
        parse_reply(reply, None)


def test_concurrent_batch(spamd_server: Daemon) -> None:
    client = scorer(spamd_server)
    batch = [SPAM if n % 2 else message("Notes from the meeting.", n=n) for n in range(20)]
    with ThreadPoolExecutor(max_workers=client.concurrency) as pool:
        results = list(pool.map(client.score, batch))
    assert [r.spam for r in results] == [n % 2 == 1 for n in range(20)]


def test_real_corpus_messages(spamd_server: Daemon, corpus: Path) -> None:
    client = scorer(spamd_server)
    for label in ("ham", "spam"):
        for path in sorted((corpus / "spamassassin" / label).glob("*.eml"))[:3]:
            result = client.score(ParsedMessage(path.read_bytes()))
            assert result.threshold == 5.0, path.name


# --- the protocol without a daemon ------------------------------------------------------


def test_request_format() -> None:
    assert build_request(b"abc", "bob") == (
        b"SYMBOLS SPAMC/1.5\r\nContent-length: 3\r\nUser: bob\r\n\r\nabc"
    )
    assert build_request(b"", None) == b"SYMBOLS SPAMC/1.5\r\nContent-length: 0\r\n\r\n"


def test_parse_check_and_symbols_replies() -> None:
    check = parse_reply(b"SPAMD/1.1 0 EX_OK\r\nSpam: False ; -1.2 / 5.0\r\n\r\n", None)
    assert (check.value, check.threshold, check.spam, check.detail) == (-1.2, 5.0, False, [])
    symbols = parse_reply(
        b"SPAMD/1.1 0 EX_OK\r\nContent-length: 13\r\nSpam: True ; 9.4 / 5.0\r\n\r\nRULE_A,RULE_B",
        None,
    )
    assert (symbols.value, symbols.spam, symbols.detail) == (9.4, True, ["RULE_A", "RULE_B"])


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"", "not a SPAMD reply"),
        (b"HTTP/1.1 200 OK\r\n\r\n{}", "not a SPAMD reply"),
        (b"SPAMD/1.1 0 EX_OK\r\n\r\n", "no readable 'Spam:' header"),
        (b"SPAMD/1.1 0 EX_OK\r\nSpam: maybe\r\n\r\n", "no readable 'Spam:' header"),
        (b"SPAMD/1.0 75 EX_TEMPFAIL\r\n", r"EX_TEMPFAIL \(75\)"),
        (b"SPAMD/1.0 99 odd\r\n", r"status \(99\): odd"),
    ],
)
def test_bad_replies(reply: bytes, error: str) -> None:
    with pytest.raises(ScorerError, match=error):
        parse_reply(reply, None)


@pytest.mark.parametrize(
    "options",
    [
        {"port": "0"},
        {"port": "x"},
        {"timeout": "-1"},
        {"concurrency": "0"},
        {"hots": "a"},
        {"user": "two words"},
    ],
)
def test_bad_options(options: dict[str, str]) -> None:
    with pytest.raises(ScorerError, match="spamassassin scorer: "):
        SpamdScorer(options, None)
