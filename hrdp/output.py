"""Rows and their writers: tsv, csv, json, jsonl stream; table and tabulate styles collect.

The row (to_row) is the contract every script reads (docs/output.md): keys are only
ever added, never renamed or removed. Flat formats (tsv, csv, table) carry the
columns of FLAT_COLUMNS, in that order.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from typing import IO, Any, Protocol

from hrdp.atomic import AtomicFile
from hrdp.pipeline import Result

__all__ = ["FLAT_COLUMNS", "FORMATS", "AtomicFile", "Writer", "flat", "make_writer", "to_row"]

FORMATS = ("table", "tsv", "csv", "json", "jsonl")
FLAT_COLUMNS = (
    "source",
    "index",
    "pool",
    "reasons",
    "sender",
    "sender_domain",
    "sender_source",
    "dns",
    "dsn",
    "notification",
    "score",
    "message_id",
    "error",
)


def to_row(result: Result) -> dict[str, Any]:
    """The JSON row of the contract in HOUSE_STYLE.md, plus ``dns_detail`` and ``scorer``
    details that only ever extend it."""
    sender = result.sender
    score = result.score
    return {
        "source": result.source,
        "index": result.index,
        "message_id": result.message_id,
        "pool": result.decision.pool,
        "reasons": result.decision.reasons,
        "sender": sender.address if sender else "",
        "sender_domain": sender.domain.name if sender else "",
        "sender_source": sender.source if sender else "none",
        "dns": result.dns.outcome if result.dns else "skipped",
        "dns_detail": result.dns.detail if result.dns else "",
        "dsn": result.finding.dsn.as_dict() if result.finding.dsn else None,
        "notification": result.finding.notification,
        "score": None
        if score is None
        else {
            "scorer": result.scorer,
            "value": score.value,
            "threshold": score.threshold,
            "spam": score.spam,
            "detail": score.detail,
        },
        "error": result.error,
    }


def flat(row: dict[str, Any]) -> dict[str, str]:
    """One line of text per field, for tsv, csv and tables."""
    dsn = row["dsn"]
    score = row["score"]
    values: dict[str, Any] = dict(row)
    values["reasons"] = ",".join(row["reasons"])
    values["dsn"] = dsn["kind"] if dsn else ""
    values["score"] = f"{score['value']:g}/{score['threshold']:g}" if score else ""
    return {c: _one_line(values[c]) for c in FLAT_COLUMNS}


def _one_line(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # A tab or newline inside a field would break the TSV row: fold them to spaces.
    return " ".join(text.split()) if any(c in text for c in "\t\r\n") else text


class Writer(Protocol):
    def write(self, row: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class TsvWriter:
    def __init__(self, out: IO[str], headers: bool) -> None:
        self.out = out
        if headers:
            out.write("\t".join(FLAT_COLUMNS) + "\n")

    def write(self, row: dict[str, Any]) -> None:
        self.out.write("\t".join(flat(row).values()) + "\n")

    def close(self) -> None:
        self.out.flush()


class CsvWriter:
    def __init__(self, out: IO[str], headers: bool) -> None:
        self.out = out
        self.csv = csv.writer(out, lineterminator="\n")
        if headers:
            self.csv.writerow(FLAT_COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        self.csv.writerow(flat(row).values())

    def close(self) -> None:
        self.out.flush()


# One encoder for every row: json.dumps(row, ensure_ascii=False) builds a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False)


class JsonlWriter:
    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, row: dict[str, Any]) -> None:
        self.out.write(_JSON.encode(row) + "\n")

    def close(self) -> None:
        self.out.flush()


class JsonWriter:
    """A JSON array written row by row, so a huge batch never sits in memory."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0

    def write(self, row: dict[str, Any]) -> None:
        self.out.write(("[\n" if self.count == 0 else ",\n") + _JSON.encode(row))
        self.count += 1

    def close(self) -> None:
        self.out.write("[]\n" if self.count == 0 else "\n]\n")
        self.out.flush()


class TabulateWriter:
    """Any tabulate style (--fmt); tabulate sizes columns, so rows are collected."""

    def __init__(self, out: IO[str], style: str, headers: bool) -> None:
        self.out, self.style, self.headers = out, style, headers
        self.rows: list[list[str]] = []

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(list(flat(row).values()))

    def close(self) -> None:
        from tabulate import tabulate  # only --fmt needs it: keep start-up quick

        heads: Any = list(FLAT_COLUMNS) if self.headers else ()
        self.out.write(tabulate(self.rows, headers=heads, tablefmt=self.style) + "\n")
        self.out.flush()


def make_writer(
    fmt: str, out: IO[str], *, headers: bool, style: str | None,
    table: Callable[[IO[str], bool], Writer],
) -> Writer:
    """The writer for a format; ``table`` builds the terminal table (rich lives in cli)."""
    if style:
        return TabulateWriter(out, style, headers)
    if fmt == "tsv":
        return TsvWriter(out, headers)
    if fmt == "csv":
        return CsvWriter(out, headers)
    if fmt == "json":
        return JsonWriter(out)
    if fmt == "jsonl":
        return JsonlWriter(out)
    return table(out, headers)


def format_for_path(path: str) -> str | None:
    """The format a file name asks for (``-o rows.csv``), or None."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    return ext if ext in ("tsv", "csv", "json", "jsonl") else None
