"""The ``auto`` scorer (the default): bayes with a model, else a trusted verdict, else rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrdp.errors import ScorerError
from hrdp.message import ParsedMessage
from hrdp.scoring.auto import AutoScorer
from hrdp.scoring.bayes_model import BayesModel
from hrdp.scoring.rules import DEFAULT_THRESHOLD as RULES_THRESHOLD
from tests.conftest import REPO

SAMPLES = REPO / "sample_mail"
SA_SPAM = "X-Spam-Status: Yes, score=9.4 required=5.0 tests=BAYES_99 autolearn=no\n"
RSPAMD_HAM = "X-Spamd-Result: default: False [1.20 / 15.00]; R_SPF_ALLOW(-0.20)\n"


def mail(extra: str = "", body: str = "See you tomorrow.") -> ParsedMessage:
    head = (f"{extra}From: Alice <alice@example.com>\nTo: bob@example.net\n"
            "Subject: lunch\nDate: Fri, 04 Dec 2026 09:12:00 +0000\nMessage-ID: <1@example.com>\n")
    return ParsedMessage(f"{head}\n{body}\n".encode())


@pytest.fixture
def model(tmp_path: Path) -> Path:
    learner = BayesModel()
    learner.learn(mail(body="Meeting notes attached, see you tomorrow."), spam=False)
    learner.learn(mail(body="Click here now!!! Cheap pills, act now!!!"), spam=True)
    path = tmp_path / "model.json"
    learner.save(path)
    return path


def test_trusted_upstream_verdict_decides() -> None:
    score = AutoScorer({}, None).score(mail(SA_SPAM))
    assert score.detail[0] == "auto: headers" and score.spam
    assert (score.value, score.threshold) == (9.4, 5.0)


def test_rules_when_no_verdict_is_trusted() -> None:
    untrusted = AutoScorer({"trust": "rspamd"}, None).score(mail(SA_SPAM))
    assert untrusted.detail[0] == "auto: rules" and untrusted.threshold == RULES_THRESHOLD
    assert AutoScorer({"trust": "rspamd"}, None).score(mail(RSPAMD_HAM)).detail[0] == (
        "auto: headers"
    )
    plain = AutoScorer({}, None).score(ParsedMessage((SAMPLES / "clean.eml").read_bytes()))
    assert plain.detail == ["auto: rules"] and not plain.spam


def test_rules_detail_follows_the_label() -> None:
    score = AutoScorer({}, None).score(mail(body="Dear friend, click here!!!"))
    assert score.detail[0] == "auto: rules"
    assert any(item.startswith("DEAR_FRIEND(") for item in score.detail[1:])


def test_bayes_when_a_model_is_given(model: Path) -> None:
    scorer = AutoScorer({"model": str(model)}, None)
    assert scorer.chosen == "bayes"
    spam = scorer.score(mail(SA_SPAM, body="Cheap pills!!! Click here now!!!"))
    assert spam.detail[0] == "auto: bayes" and spam.spam  # the model decides, not the header
    assert not scorer.score(mail(body="Meeting notes, see you tomorrow.")).spam


def test_threshold_goes_to_whoever_decides(model: Path) -> None:
    assert AutoScorer({}, 1.5).score(mail()).threshold == 1.5  # rules
    headers = AutoScorer({}, 10.0).score(mail(SA_SPAM))
    assert headers.threshold == 10.0 and not headers.spam  # headers re-decides 9.4
    assert AutoScorer({"model": str(model)}, 0.99).score(mail()).threshold == 0.99


def test_options_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ScorerError, match="unknown option 'modle'"):
        AutoScorer({"modle": "x"}, None)
    with pytest.raises(ScorerError, match="no such file"):
        AutoScorer({"model": str(tmp_path / "missing.json")}, None)
    with pytest.raises(ScorerError, match="unknown vendor"):
        AutoScorer({"trust": "nobody"}, None)
    with pytest.raises(ScorerError, match="rules file"):
        AutoScorer({"file": str(tmp_path / "missing.toml")}, None)
