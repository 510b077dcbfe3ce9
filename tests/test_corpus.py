"""The whole pipeline on every real message of ../shared/corpus: no crash, one row each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hrdp.cli import cli
from tests.conftest import REPO

ZONE = str(REPO / "sample_mail" / "zone.db")  # no network: corpus domains are refused


def classify(*paths: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["classify", "-q", "--dns-zone", ZONE, "--format", "jsonl",
                                      *paths])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def messages_in(path: Path) -> int:
    """Messages a file holds, counted independently of hrdp: an mbox (a few corpus files
    are one, rfc3464-28.eml holds two) has one per separator after a blank line."""
    data = path.read_bytes().replace(b"\r\n", b"\n")
    if not data.startswith(b"From "):
        return 1
    return 1 + data.count(b"\n\nFrom ")


@pytest.mark.parametrize("folder", ["bounces", "bounces_flufl", "nonbounces", "spamassassin"])
def test_one_row_per_message(corpus: Path, folder: str) -> None:
    files = sorted(p for p in (corpus / folder).rglob("*") if p.is_file()
                   and p.name != "labels.jsonl")
    rows = classify(str(corpus / folder))
    expected = sorted((str(p), i) for p in files for i in range(messages_in(p)))
    assert sorted((str(r["source"]), r["index"]) for r in rows) == expected
    internal = [r for r in rows if "internal error" in str(r["error"] or "")]
    assert internal == []


def test_spamassassin_as_one_mbox(corpus: Path, tmp_path: Path) -> None:
    files = sorted((corpus / "spamassassin").rglob("*.eml"))
    mbox = tmp_path / "spamassassin.mbox"
    with mbox.open("wb") as out:
        for path in files:
            body = path.read_bytes().replace(b"\r\n", b"\n")
            lines = [b">" + line if line.lstrip(b">").startswith(b"From ") else line
                     for line in body.split(b"\n")]
            out.write(b"From corpus@example.test Thu Jan  1 00:00:00 2004\n")
            out.write(b"\n".join(lines).rstrip(b"\n") + b"\n\n")
    rows = classify(str(mbox))
    assert [r["index"] for r in rows] == list(range(len(files)))
    assert all(r["error"] is None for r in rows)
