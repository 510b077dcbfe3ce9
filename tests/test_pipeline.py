"""pipeline.classify: order, cheap rules first, scorer failures and concurrency."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from hrdp import examine as examine_module
from hrdp import pipeline
from hrdp.dnscheck import make_checker
from hrdp.engine import ScorerSpec
from hrdp.errors import ScorerError
from hrdp.examine import Examiner, Job
from hrdp.message import ParsedMessage
from hrdp.pipeline import Settings, classify
from hrdp.pool import Policy
from hrdp.render import renderer
from hrdp.scoring.base import Score
from hrdp.sources import RawMessage
from tests.conftest import REPO

ZONE = str(REPO / "sample_mail" / "zone.db")


def raw(i: int, sender: str = "a@acme.test", body: str = "hello") -> RawMessage:
    data = f"From: {sender}\nSubject: m{i}\nMessage-ID: <m{i}@x>\n\n{body}\n".encode()
    return RawMessage("t.mbox", i, data)


class LengthScorer:
    """Spam when the body is long; optionally slow and concurrent, to test the pool."""

    name = "length"

    def __init__(self, concurrency: int = 1, delay: float = 0.0) -> None:
        self.concurrency = concurrency
        self.delay = delay
        self.threads: set[str] = set()
        self.lock = threading.Lock()

    def score(self, message: ParsedMessage) -> Score | None:
        with self.lock:
            self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        size = float(len(message.raw))
        return Score(size, 100.0, size >= 100.0)


class FailingScorer:
    name = "down"

    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def score(self, message: ParsedMessage) -> Score | None:
        raise self.exc


def run(
    raws: list[RawMessage], scorer: object, policy: Policy | None = None
) -> list[pipeline.Result]:
    with make_checker(zone_files=[ZONE]) as checker:
        settings = Settings(Job(policy or Policy()), checker, scorer)  # type: ignore[arg-type]
        return list(classify(raws, settings))


def test_concurrent_scorer_keeps_input_order_and_matches_sequential() -> None:
    raws = [raw(i, body="x" * (i * 13 % 150)) for i in range(40)]
    slow = LengthScorer(concurrency=4, delay=0.01)
    parallel = run(raws, slow)
    sequential = run(raws, LengthScorer())
    assert [r.index for r in parallel] == list(range(40))
    assert [r.decision for r in parallel] == [r.decision for r in sequential]
    assert len(slow.threads) > 1  # really ran on several threads


@pytest.mark.parametrize("concurrency", [1, 2])  # scored in line, or from a thread pool
@pytest.mark.parametrize(("exc", "warning"), [
    (ScorerError("spamd: connection refused"), "scorer down failed: spamd: connection refused"),
    (ValueError("bug"), "scorer down failed: ValueError: bug"),
])
def test_scorer_failure_is_recorded_never_clean(
    exc: Exception, warning: str, concurrency: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HRDP_DEBUG", raising=False)
    scorer = FailingScorer(exc)
    scorer.concurrency = concurrency  # type: ignore[attr-defined]
    [result] = run([raw(0)], scorer)
    assert result.decision.pool == "normal"
    assert result.decision.reasons == ["scorer-error"]
    assert result.score is None
    assert result.warnings == [warning]
    [strict] = run([raw(0)], FailingScorer(exc), Policy(scorer_error_high_risk=True))
    assert strict.decision.pool == "high-risk"


def test_dsn_skips_dns_and_scoring(tmp_path: Path) -> None:
    data = (REPO / "sample_mail" / "dsn-rfc3464.eml").read_bytes()
    scorer = LengthScorer()
    [result] = run([RawMessage("d.eml", 0, data)], scorer)
    assert result.decision.reasons == ["dsn"]
    assert result.dns is None and result.score is None and scorer.threads == set()


def test_unreadable_and_empty_messages_get_error_rows() -> None:
    results = run([RawMessage("a", 0, None, error="corrupt gzip data"), RawMessage("b", 0, b""),
                   RawMessage("c", 0, b"\x00\x01\x02")], None)
    assert [r.error for r in results] == ["corrupt gzip data", "empty message",
                                          "no header fields: not an RFC 5322 message"]
    assert all(r.decision.reasons == ["malformed"] for r in results)


def test_a_bug_on_one_message_does_not_lose_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    real = examine_module.dsn.examine

    def examine(message: ParsedMessage):  # type: ignore[no-untyped-def]
        if message.header("Subject") == "m1":
            raise KeyError("boom")
        return real(message)

    monkeypatch.setattr(examine_module.dsn, "examine", examine)
    monkeypatch.delenv("HRDP_DEBUG", raising=False)
    results = run([raw(0), raw(1), raw(2)], None)
    assert [r.error is None for r in results] == [True, False, True]
    assert "internal error" in (results[1].error or "")


@pytest.mark.parametrize("concurrency", [1, 2])
def test_hrdp_debug_raises_a_scorer_bug(concurrency: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRDP_DEBUG", "1")
    scorer = FailingScorer(ValueError("bug"))
    scorer.concurrency = concurrency  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="bug"):
        run([raw(0)], scorer)


class KillerScorer:
    """Kills its worker process on a message whose subject is 'die' (a crash in C code,
    an OOM kill): the engine must retry, then give error rows, never lose a message."""

    name = "killer"

    def score(self, message: ParsedMessage) -> Score | None:
        if message.header("Subject") == "die":
            os._exit(9)
        return Score(0.0, 1.0, False)


def parallel_settings(checker: object, spec: ScorerSpec | None) -> Settings:
    return Settings(Job(), checker, spec.load() if spec else None,  # type: ignore[arg-type]
                    jobs=2, scorer_spec=spec, batch_size=8)


def test_worker_processes_give_the_same_rows_in_order() -> None:
    raws = [raw(i, sender=f"u@{d}") for i, d in
            enumerate(["acme.test", "ghost.test", "parked.test", "unreachable.example"] * 30)]
    with make_checker(zone_files=[ZONE]) as checker:
        parallel = list(classify(raws, parallel_settings(checker, ScorerSpec("headers"))))
        inline = list(classify(raws, Settings(Job(), checker, ScorerSpec("headers").load())))
    assert [r.index for r in parallel] == list(range(120))
    assert [(r.decision, r.dns) for r in parallel] == [(r.decision, r.dns) for r in inline]


def test_a_dying_worker_costs_only_its_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ScorerSpec, "load", lambda self: KillerScorer())  # inherited by fork
    raws = [raw(i) for i in range(40)]
    raws[21] = raw(21).__class__("t.mbox", 21, b"From: a@acme.test\nSubject: die\n\nx\n")
    with make_checker(zone_files=[ZONE]) as checker:
        results = list(classify(raws, parallel_settings(checker, ScorerSpec("killer"))))
    assert [r.index for r in results] == list(range(40))
    failed = [r.index for r in results if r.error]
    assert failed == list(range(16, 24))  # the batch of 8 that held message 21
    assert all("worker process died" in (r.error or "") for r in results if r.error)
    assert results[15].error is None and results[24].error is None


def test_a_dying_worker_that_renders_rows_costs_only_its_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As above, with workers that prepare rows (hrdp.render): the batch that died comes
    back as error rows made here, the others as prepared rows."""
    monkeypatch.setattr(ScorerSpec, "load", lambda self: KillerScorer())  # inherited by fork
    raws = [raw(i) for i in range(40)]
    raws[21] = raw(21).__class__("t.mbox", 21, b"From: a@acme.test\nSubject: die\n\nx\n")
    with make_checker(zone_files=[ZONE]) as checker:
        lines = list(classify(raws, parallel_settings(checker, ScorerSpec("killer")),
                              renderer("jsonl")))
    assert [line.index for line in lines] == list(range(40))
    assert [line.index for line in lines if line.error] == list(range(16, 24))
    rows = [json.loads(line.text or "") for line in lines]
    assert [row["index"] for row in rows] == list(range(40))
    assert rows[21]["pool"] == "high-risk" and "worker process died" in rows[21]["error"]
    assert rows[15]["pool"] == "normal" and rows[15]["dns"] == "ok"


class SlowOnBigScorer(LengthScorer):
    """Works a second on a message over 1 MB (parsing is lazy and takes no time to speak
    of now, so the slowness is the scorer's), at once on the others."""

    def score(self, message: ParsedMessage) -> Score | None:
        self.delay = 1.0 if len(message.raw) > 1_000_000 else 0.0
        return super().score(message)


def test_time_budget_turns_a_slow_message_into_an_error_row() -> None:
    big = raw(1, body="word " * 400_000 + "\n")
    with make_checker(zone_files=[ZONE]) as checker:
        settings = Settings(Job(time_budget=0.05), checker, SlowOnBigScorer())  # type: ignore[arg-type]
        slow, fast = list(classify([big, raw(2)], settings))
    assert slow.error is not None and "--message-timeout" in slow.error
    assert slow.decision.reasons == ["malformed"]
    assert fast.error is None  # the timer was disarmed after the slow one


def test_size_budget_checks_the_head_and_says_so() -> None:
    with make_checker(zone_files=[ZONE]) as checker:
        [result] = classify([raw(0, body="x" * 5000)], Settings(Job(max_size=1024), checker))
    assert result.error is None and result.decision.pool == "normal"
    assert "--max-message-size" in result.warnings[0]


def test_a_concurrent_scorer_shortens_the_gil_switch_only_while_it_runs() -> None:
    before = sys.getswitchinterval()
    examiner = Examiner(Job(), LengthScorer(concurrency=2))  # type: ignore[arg-type]
    assert sys.getswitchinterval() <= 0.0005
    examiner.close()
    assert sys.getswitchinterval() == before
