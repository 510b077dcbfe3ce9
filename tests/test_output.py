"""output.py: the row contract and every writer."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from hrdp.dsn.report import DsnReport, Finding
from hrdp.message import Domain, Sender
from hrdp.output import (
    FLAT_COLUMNS,
    AtomicFile,
    CsvWriter,
    JsonlWriter,
    JsonWriter,
    TabulateWriter,
    TsvWriter,
    flat,
    format_for_path,
    to_row,
)
from hrdp.pipeline import Result
from hrdp.pool import Decision
from hrdp.scoring.base import Score

CONTRACT_KEYS = {
    "source", "index", "message_id", "pool", "reasons", "sender", "sender_domain",
    "sender_source", "dns", "dsn", "notification", "score", "error",
}


def sample_rows() -> list[dict[str, object]]:
    dsn = DsnReport(kind="failed", detector="rfc3464", recipients=["a@x.test"],
                    status=["5.1.1"], reason=["userunknown"])
    bounce = Result("in.mbox", 0, Decision("high-risk", ["dsn"]), message_id="<b@x>",
                    sender=Sender("", "envelope", Domain("", skip="null sender")),
                    finding=Finding(dsn=dsn))
    spam = Result("in.mbox", 1, Decision("high-risk", ["spam"]), message_id="<s@x>",
                  sender=Sender("a@acme.test", "header", Domain("acme.test")),
                  score=Score(9.5, 5.0, True, ["spamassassin: 9.5/5.0"]), scorer="headers")
    broken = Result("bad\tname.eml", 0, Decision("high-risk", ["malformed"]),
                    error="no header fields")
    return [to_row(r) for r in (bounce, spam, broken)]


def test_row_has_contract_keys() -> None:
    rows = sample_rows()
    for row in rows:
        assert set(row) >= CONTRACT_KEYS
    assert rows[0]["dsn"]["recipients"] == ["a@x.test"]  # type: ignore[index]
    assert rows[1]["score"] == {"scorer": "headers", "value": 9.5, "threshold": 5.0,
                                "spam": True, "detail": ["spamassassin: 9.5/5.0"]}
    assert rows[2]["sender_source"] == "none" and rows[2]["dns"] == "skipped"


def test_flat_folds_tabs_and_newlines() -> None:
    cells = flat(sample_rows()[2])  # type: ignore[arg-type]
    assert cells["source"] == "bad name.eml"
    assert cells["reasons"] == "malformed"
    assert list(cells) == list(FLAT_COLUMNS)


def write_all(writer_cls: type, **kwargs: object) -> str:
    out = io.StringIO()
    writer = writer_cls(out, **kwargs)
    for row in sample_rows():
        writer.write(row)
    writer.close()
    return out.getvalue()


def test_tsv_and_csv_round_trip() -> None:
    tsv = write_all(TsvWriter, headers=True).splitlines()
    assert tsv[0].split("\t") == list(FLAT_COLUMNS)
    assert all(len(line.split("\t")) == len(FLAT_COLUMNS) for line in tsv)
    parsed = list(csv.DictReader(io.StringIO(write_all(CsvWriter, headers=True))))
    assert [r["pool"] for r in parsed] == ["high-risk"] * 3
    assert parsed[1]["score"] == "9.5/5"
    assert write_all(TsvWriter, headers=False).count("\n") == 3


def test_json_array_and_jsonl() -> None:
    assert [r["index"] for r in json.loads(write_all(JsonWriter))] == [0, 1, 0]
    empty = io.StringIO()
    JsonWriter(empty).close()
    assert json.loads(empty.getvalue()) == []
    lines = write_all(JsonlWriter).splitlines()
    assert [json.loads(line)["reasons"] for line in lines] == [["dsn"], ["spam"], ["malformed"]]


def test_tabulate_style() -> None:
    text = write_all(TabulateWriter, style="github", headers=True)
    assert text.splitlines()[0].startswith("| source")


@pytest.mark.parametrize(("name", "fmt"), [("a.csv", "csv"), ("b.JSONL", "jsonl"), ("c.txt", None)])
def test_format_for_path(name: str, fmt: str | None) -> None:
    assert format_for_path(name) == fmt


def test_atomic_file(tmp_path: Path) -> None:
    target = tmp_path / "rows.tsv"
    target.write_text("old\n")
    aborted = AtomicFile(str(target))
    aborted.file.write("half")
    aborted.abort()
    assert target.read_text() == "old\n"
    done = AtomicFile(str(target))
    done.file.write("new\n")
    assert target.read_text() == "old\n"  # nothing visible before the rename
    done.commit()
    assert target.read_text() == "new\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows.tsv"]


def test_atomic_writes_get_the_umask_mode(tmp_path: Path) -> None:
    """mkstemp makes 0600 files; a written result must look like any new file (0644 under
    umask 022): -o rows and bayes models are read by other users and tools."""
    from hrdp.atomic import replace_bytes

    old = os.umask(0o022)
    try:
        rows = AtomicFile(tmp_path / "rows.tsv")
        rows.file.write("x\n")
        rows.commit()
        replace_bytes(tmp_path / "model.json", b"{}")
    finally:
        os.umask(old)
    for name in ("rows.tsv", "model.json"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "model.json").read_bytes() == b"{}"
