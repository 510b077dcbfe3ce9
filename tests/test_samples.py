"""sample_mail/expected.tsv: every bundled message's pool and reasons, checked row by row."""

from __future__ import annotations

import csv
import json
import os
from functools import cache

import pytest
from click.testing import CliRunner

from hrdp.cli import cli
from tests.conftest import REPO

EXPECTED = REPO / "sample_mail" / "expected.tsv"
COLUMNS = ("pool", "reasons", "dns", "dsn", "notification")


def expected_rows() -> list[dict[str, str]]:
    with EXPECTED.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


@cache
def actual_rows() -> tuple[dict[str, dict[str, str]], int]:
    """One run over the whole folder, as the README demo runs it (from the repo root)."""
    runner = CliRunner()
    old = os.getcwd()
    os.chdir(REPO)
    try:
        result = runner.invoke(cli, ["classify", "--dns-zone", "sample_mail/zone.db",
                                     "--format", "jsonl", "sample_mail/"])
    finally:
        os.chdir(old)
    rows = {}
    for line in result.stdout.splitlines():
        row = json.loads(line)
        rows[f"{row['source']}#{row['index']}"] = {
            "pool": row["pool"],
            "reasons": ",".join(row["reasons"]),
            "dns": row["dns"],
            "dsn": row["dsn"]["kind"] if row["dsn"] else "",
            "notification": row["notification"] or "",
        }
    return rows, result.exit_code


def test_every_message_is_listed_once() -> None:
    rows, code = actual_rows()
    keys = [f"{r['source']}#{r['index']}" for r in expected_rows()]
    assert sorted(rows) == sorted(keys)
    assert code == 3  # the malformed sample and the DNS tempfail sample


@pytest.mark.parametrize("expected", expected_rows(), ids=lambda r: f"{r['source']}#{r['index']}")
def test_sample_row(expected: dict[str, str]) -> None:
    rows, _code = actual_rows()
    actual = rows[f"{expected['source']}#{expected['index']}"]
    assert actual == {c: expected[c] for c in COLUMNS}
