"""hrdp.render: rows in two halves give the stdlib's json and csv text, byte for byte."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest

from hrdp.dnscheck import make_checker
from hrdp.engine import ScorerSpec
from hrdp.examine import Job, Result
from hrdp.pipeline import Settings, classify
from hrdp.pool import Decision
from hrdp.render import STAGE_TWO, renderer, runs
from hrdp.rows import FLAT_COLUMNS, ROW_KEYS, flat, to_row
from hrdp.sources import iter_messages
from tests.conftest import REPO

ZONE = str(REPO / "sample_mail" / "zone.db")
FORMATS = ("jsonl", "tsv", "csv")


def reference(fmt: str, row: dict[str, Any]) -> str:
    """The row as the stdlib writes it: what hrdp wrote before rows came in halves."""
    if fmt == "jsonl":
        return json.dumps(row, ensure_ascii=False)
    if fmt == "tsv":
        return "\t".join(flat(row).values())
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(flat(row).values())
    return out.getvalue()[:-1]


def check(fmt: str, row: dict[str, Any]) -> None:
    """text(row) is the stdlib's text, and so is every stage-two set finished into the
    row's prepared half."""
    render = renderer(fmt)
    assert render.text(row) == reference(fmt, row)
    pieces = render.prepare(row)
    for index, pool, reasons, dns, detail in STAGE_TWO_VALUES:
        finished = {**row, "index": index, "pool": pool, "reasons": reasons, "dns": dns,
                    "dns_detail": detail}
        assert render.finish(pieces, index, pool, reasons, dns, detail) == reference(
            fmt, finished)


STAGE_TWO_VALUES = [
    (0, "normal", [], "ok", "MX mx.acme.test"),
    (123456789, "high-risk", ["dsn", "no-a-mx", "spam"], "no-a-mx", "NXDOMAIN"),
    (7, "high-risk", ["dns-tempfail"], "tempfail", 'REFUSED on MX, "A"\tand\nAAAA'),
]


@pytest.fixture(scope="module")
def corpus_rows(corpus: Path) -> list[dict[str, Any]]:
    with make_checker(zone_files=[ZONE]) as checker:
        settings = Settings(Job(), checker, ScorerSpec("auto").load())
        raws = iter_messages([str(corpus)], stdin=None, on_error=lambda _e: None,
                             on_warning=lambda _w: None)
        return [to_row(result) for result in classify(raws, settings)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_corpus_row_renders_as_the_stdlib_writes_it(
    fmt: str, corpus_rows: list[dict[str, Any]]
) -> None:
    assert len(corpus_rows) > 4000
    assert any(row["dsn"] for row in corpus_rows) and any(row["score"] for row in corpus_rows)
    for row in corpus_rows:
        check(fmt, row)


def hostile_row() -> dict[str, Any]:
    return {
        "source": 'odd, "name"\twith\nbreaks\u2028é.eml',
        "index": 3,
        "message_id": "<\ue000\x00\x1f@x>",
        "pool": "normal",
        "reasons": [],
        "sender": '"quoted, name"@x.test',
        "sender_domain": "",
        "sender_source": "none",
        "dns": "skipped",
        "dns_detail": "",
        "dsn": {"kind": "failed", "recipients": ["a@x", "b,c@y"], "status": ["5.1.1", ""],
                "reason": ["userunknown"], "reporting_mta": "", "diagnostic": ["x\ty"],
                "original_message_id": None, "original_sender": "", "detector": "rfc3464"},
        "notification": None,
        "score": {"scorer": "spamd", "value": math.nan, "threshold": math.inf, "spam": True,
                  "detail": ["BAYES_99 3.5", "", "\u00e9\U0001f600"]},
        "error": "",
    }


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("change", [
    {},
    {"score": None, "dsn": None, "error": None},
    {"score": {"scorer": "x", "value": -0.0, "threshold": 1e300, "spam": False, "detail": []}},
    {"score": {"scorer": "x", "value": 5, "threshold": 5.0, "spam": None, "detail": ["a"]}},
    {"source": "", "sender": "", "message_id": "", "error": ",", "notification": '"'},
    {"source": " lead and trail ", "sender": "\r", "error": "x" * 5000},
])
def test_hostile_values_render_as_the_stdlib_writes_them(fmt: str, change: dict[str, Any]
                                                         ) -> None:
    check(fmt, {**hostile_row(), **change})


def test_the_layouts_place_every_column_once() -> None:
    for columns in (ROW_KEYS, FLAT_COLUMNS):
        placed = [c for run in runs(columns) for c in run]
        assert sorted(placed + [c for c in columns if c in STAGE_TWO]) == sorted(columns)
    assert set(STAGE_TWO) <= set(ROW_KEYS)
    assert runs(("a", "index", "pool", "b", "c", "dns")) == [("a",), ("b", "c")]


def test_rows_keep_the_contract_order() -> None:
    assert tuple(to_row(Result("a.eml", 0, Decision("normal")))) == ROW_KEYS


def test_json_and_jsonl_share_a_renderer_and_unknown_formats_fail() -> None:
    assert type(renderer("json")) is type(renderer("jsonl"))
    with pytest.raises(KeyError):
        renderer("table")
