"""The ``command`` scorer, running a small Python program written for each test."""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hrdp.errors import ScorerError
from hrdp.message import ParsedMessage
from hrdp.scoring.command import CommandScorer, parse_output

MESSAGE = ParsedMessage(b"From: a@example.com\nTo: b@example.org\nSubject: hi\n\nHello.\n")

# The program: its first argument says how to behave; it always reads the whole message.
PROGRAM = """\
import json, subprocess, sys, time
mode, args = sys.argv[1], sys.argv[2:]
data = sys.stdin.buffer.read()
if mode == "size":
    print(len(data))
elif mode == "print":
    print(args[0])
elif mode == "exit":
    sys.stderr.write("boom: no model\\nsecond line\\n")
    sys.exit(int(args[0]))
elif mode == "sleep":
    if args[1:]:
        subprocess.Popen(["sleep", "60"])  # a grandchild holding our pipes
    time.sleep(float(args[0]))
    print(1)
elif mode == "argv":
    print(json.dumps({"score": len(data), "threshold": 1e9, "detail": args}))
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("command") / "fake scorer.py"  # a space in the path
    path.write_text(f"#!{sys.executable}\n{PROGRAM}")
    path.chmod(0o755)
    return path


def scorer(argv: list[str], flag: float | None = None, **options: str) -> CommandScorer:
    """The scorer for ``argv``; ``flag`` is --threshold, ``options`` the --scorer-opt."""
    return CommandScorer({"argv": json.dumps(argv), **options}, flag)


def test_number_from_stdin(program: Path) -> None:
    result = scorer([str(program), "size"], threshold="10").score(MESSAGE)
    assert (result.value, result.threshold, result.spam) == (len(MESSAGE.raw), 10.0, True)


def test_threshold_flag_overrides_the_option(program: Path) -> None:
    result = scorer([str(program), "print", "7.5"], 8.0, threshold="5").score(MESSAGE)
    assert (result.value, result.threshold, result.spam) == (7.5, 8.0, False)


def test_ratio_like_spamc(program: Path) -> None:
    result = scorer([str(program), "print", "9.4/5.0"]).score(MESSAGE)
    assert (result.value, result.threshold, result.spam) == (9.4, 5.0, True)


def test_json_with_verdict_and_detail(program: Path) -> None:
    reply = json.dumps({"score": 0.2, "threshold": 0.9, "spam": True, "detail": "list hit"})
    result = scorer([str(program), "print", reply], format="json").score(MESSAGE)
    assert (result.value, result.threshold, result.spam) == (0.2, 0.9, True)
    assert result.detail == ["list hit"]
    overridden = scorer([str(program), "print", reply], 0.5).score(MESSAGE)
    assert (overridden.threshold, overridden.spam) == (0.5, False)


def test_argv_is_never_given_to_a_shell(program: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    args = ["a b", f"$(touch {marker})", "; touch x", "*", "'\"", ""]
    result = scorer([str(program), "argv", *args]).score(MESSAGE)
    assert result.detail == args
    assert not marker.exists()


def test_cmd_is_split_like_words(program: Path) -> None:
    options = {"cmd": f"'{program}' argv 'two words' \"$HOME\""}
    result = CommandScorer(options, None).score(MESSAGE)
    assert result.detail == ["two words", "$HOME"]


def test_exit_status_is_an_error_with_the_first_stderr_line(program: Path) -> None:
    with pytest.raises(ScorerError, match=r"fake scorer.py: exit status 2: boom: no model$"):
        scorer([str(program), "exit", "2"]).score(MESSAGE)


def test_exit_ok_allows_a_status(program: Path) -> None:
    with pytest.raises(ScorerError, match="unreadable output: expected a number, got ''"):
        scorer([str(program), "exit", "1"], exit_ok="0,1", threshold="1").score(MESSAGE)


@pytest.mark.parametrize("grandchild", [False, True])
def test_timeout_kills_the_program(program: Path, grandchild: bool) -> None:
    argv = [str(program), "sleep", "30", *(["fork"] if grandchild else [])]
    start = time.monotonic()
    with pytest.raises(ScorerError, match=r"no answer within 0\.5 s \(killed\)"):
        scorer(argv, timeout="0.5", threshold="1").score(MESSAGE)
    assert time.monotonic() - start < 3.0


@pytest.mark.parametrize("output", ["spam", "1.5/", "{not json", '{"score": "x"}', "nan"])
def test_unreadable_output_is_an_error(program: Path, output: str) -> None:
    with pytest.raises(ScorerError, match="unreadable output"):
        scorer([str(program), "print", output], threshold="1").score(MESSAGE)


def test_no_threshold_anywhere_is_an_error(program: Path) -> None:
    with pytest.raises(ScorerError, match="printed no threshold"):
        scorer([str(program), "print", "3"]).score(MESSAGE)


def test_concurrent_batch(program: Path) -> None:
    client = scorer([str(program), "size"], threshold="1")
    assert client.concurrency >= 1
    with ThreadPoolExecutor(max_workers=client.concurrency) as pool:
        results = list(pool.map(client.score, [MESSAGE] * 20))
    assert {r.value for r in results} == {float(len(MESSAGE.raw))}


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({}, "give the program"),
        ({"argv": '["x"]', "cmd": "x"}, "give the program"),
        ({"argv": "/bin/true"}, "not a JSON list"),
        ({"argv": "[]"}, "non-empty list"),
        ({"argv": '["/nonexistent/prog"]'}, "not an executable"),
        ({"cmd": "no-such-program-hrdp"}, "not an executable"),
        ({"cmd": "'unclosed"}, "No closing quotation"),
        ({"cmd": "true", "format": "xml"}, "format='xml'"),
        ({"cmd": "true", "format": "number"}, "needs threshold"),
        ({"cmd": "true", "timeout": "0"}, "timeout"),
        ({"cmd": "true", "exit_ok": "0,x"}, "exit_ok"),
        ({"cmd": "true", "shell": "1"}, "unknown option 'shell'"),
    ],
)
def test_bad_options(options: dict[str, str], error: str) -> None:
    with pytest.raises(ScorerError, match=error):
        CommandScorer(options, None)


def test_parse_output_formats() -> None:
    assert parse_output("\n 7.5 \n", "auto").value == 7.5
    assert parse_output("9.4/5.0\n", "auto").threshold == 5.0
    assert parse_output('{"score": 1, "spam": false}', "auto").spam is False
    assert parse_output("-1e-3", "number").value == -0.001
    with pytest.raises(ValueError, match="expected value/threshold"):
        parse_output("7.5", "ratio")
