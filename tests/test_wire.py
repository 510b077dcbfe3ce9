"""hrdp.wire: a worker's results cross the pipe as flat tuples and come back whole."""

from __future__ import annotations

import pickle
from concurrent.futures import Future
from dataclasses import fields
from pathlib import Path

import pytest

from hrdp import wire
from hrdp.dnscheck import DnsVerdict
from hrdp.dsn.report import DsnReport, Finding
from hrdp.engine import Done, ScorerSpec
from hrdp.examine import Examiner, Job, Partial, Result, error_partial
from hrdp.message import Domain, Sender
from hrdp.pool import Decision, Facts
from hrdp.ranges import Unit
from hrdp.scoring.base import Score
from hrdp.sources import RawMessage


def _through_pipe(done: Done) -> Done:
    back = pickle.loads(pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL))
    assert isinstance(back, Done)
    return back


def test_every_field_is_carried() -> None:
    """A field added to Result or Partial must be added to the wire too."""
    assert tuple(f.name for f in fields(Result)) == wire.RESULT_FIELDS
    assert tuple(f.name for f in fields(Partial)) == wire.PARTIAL_FIELDS


def test_unusual_values_come_back_equal() -> None:
    report = DsnReport("failed", "rfc3464", ["a@b.test"], ["5.1.1"], ["userunknown"],
                       ["550 no such user"], "mx.b.test", "<id@b.test>", "x@a.test")
    sender = Sender("x@a.test", "header", Domain("a.test"))
    result = Result("box.mbox", 7, Decision("high-risk", ["dsn"]), "<m@a.test>", sender,
                    Finding(report, None), DnsVerdict("ok", "MX mx.a.test"),
                    Score(6.5, 5.0, True, ["RULE_A(3.5)", "RULE_B(3)"]), "rules", None,
                    ["only the first 10 bytes checked"])
    other_domain = Domain("elsewhere.test", skip="", invalid=True)
    partial = Partial(result, Facts(False, report, "ok", True, True), other_domain)
    unit = Unit("box.mbox", "range", 0, 100, 100)
    back = _through_pipe(Done([partial], unit, ["notes.txt"]))
    assert back.unit == unit and back.not_mail == ["notes.txt"]
    (got,) = back.partials
    assert got.result == result and got.facts == partial.facts
    assert got.domain == other_domain and got.score is None
    assert got.result.finding.dsn is got.facts.dsn  # one report, as in the worker


def test_error_rows_and_rows_without_sender() -> None:
    raw = RawMessage("dir/bad.eml", 0, None, error="unreadable: permission denied")
    partial = error_partial(raw, "unreadable: permission denied")
    no_sender = Partial(Result("x.eml", 1, Decision("normal")), Facts())
    back = _through_pipe(Done([partial, no_sender]))
    assert [p.result for p in back.partials] == [partial.result, no_sender.result]
    assert [p.facts for p in back.partials] == [partial.facts, no_sender.facts]
    assert [p.domain for p in back.partials] == [None, None]


def test_a_score_in_flight_does_not_leave() -> None:
    partial = Partial(Result("x.eml", 0, Decision("normal")), Facts(), score=Future())
    with pytest.raises(ValueError, match="in flight"):
        pickle.dumps(Done([partial]))


def test_real_messages_come_back_equal(corpus: Path) -> None:
    """Every corpus message examined as a worker would: the partials that come back
    equal the ones that left, field for field, and share equal senders and facts."""
    files = sorted(p for p in corpus.rglob("*") if p.is_file() and p.name != "labels.jsonl")
    examiner = Examiner(Job(), ScorerSpec("auto").load())
    raws = [RawMessage(str(p), 0, p.read_bytes()) for p in files]
    partials = examiner.batch(raws)
    back = _through_pipe(Done(partials)).partials
    assert len(back) == len(partials) == len(files)
    for sent, got in zip(partials, back, strict=True):
        assert got.result == sent.result
        assert got.facts == sent.facts
        assert got.domain == sent.domain
        if sent.domain is not None and sent.result.sender is not None:
            assert (got.domain is got.result.sender.domain) == (
                sent.domain is sent.result.sender.domain)
    assert sum(p.result.finding.dsn is not None for p in back) > 400  # the bounces came too
    assert len({id(p.facts) for p in back}) < len(back) // 2  # equal facts shared
