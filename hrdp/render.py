"""A row as one line of a streaming format (jsonl, json, tsv, csv), made in two halves.

Most of a row is known when stage one ends, in the process that parsed the message; only
the fields stage two decides (STAGE_TWO: the run's index, the pool and its reasons, the
DNS verdict) are known in the main process. ``prepare`` encodes the rest as text pieces
where the message was parsed; ``finish`` puts the stage-two fields between them. With
--jobs N the workers prepare and the main process only finishes: a few strings cross
the pipe instead of a Result tree to pickle, rebuild and encode, so the one main
process keeps up with more workers (docs/performance.md has the figures).

``text(row)`` renders a whole row at once (what a --jobs 1 run and the writers in
output.py use); it gives what ``finish(prepare(row), ...)`` gives, byte for byte.
tests/test_render.py checks both against the stdlib json and csv modules on every
corpus row and on hostile values.

Each format's ``finish`` is written out for speed; the layout check below fails at
import when hrdp.rows gains a column the code does not place.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Sequence
from json import encoder as _json_encoder
from typing import Any, Protocol

from hrdp.rows import FLAT_COLUMNS, ROW_KEYS, flat_value

STAGE_TWO = ("index", "pool", "reasons", "dns", "dns_detail")
Pieces = tuple[str, ...]
_CACHE_LIMIT = 4096  # stage-two texts remembered per renderer (a run has a handful)


class Renderer(Protocol):
    fmt: str

    def prepare(self, row: dict[str, Any]) -> Pieces: ...

    def finish(self, pieces: Pieces, index: int, pool: str, reasons: list[str], dns: str,
               dns_detail: str) -> str: ...

    def text(self, row: dict[str, Any]) -> str: ...


def runs(columns: Sequence[str]) -> list[tuple[str, ...]]:
    """The stage-one columns between (and around) the stage-two ones, in order; a layout
    reads as runs[0], stage-two columns, runs[1], ..."""
    found: list[tuple[str, ...]] = []
    run: list[str] = []
    for column in columns:
        if column in STAGE_TWO:
            if run:
                found.append(tuple(run))
            run = []
        else:
            run.append(column)
    if run:
        found.append(tuple(run))
    return found


# The layouts each finish() below is written for.
_JSON_RUNS = [("source",), ("message_id",), ("sender", "sender_domain", "sender_source"),
              ("dsn", "notification", "score", "error")]
_FLAT_RUNS = [("source",), ("sender", "sender_domain", "sender_source"),
              ("dsn", "notification", "score", "message_id", "error")]
if runs(ROW_KEYS) != _JSON_RUNS or runs(FLAT_COLUMNS) != _FLAT_RUNS:
    raise ImportError("hrdp.rows changed its columns: place them in hrdp.render too")


class _Remembered:
    """Stage-two texts by value: a run has a few pools, reasons and DNS details."""

    def __init__(self, make: Callable[..., str]) -> None:
        self.make = make
        self.known: dict[tuple[Any, ...], str] = {}

    def __call__(self, *key: Any) -> str:
        found = self.known.get(key)
        if found is None:
            if len(self.known) >= _CACHE_LIMIT:
                self.known.clear()
            found = self.known[key] = self.make(*key)
        return found


class _Renderer:
    fmt = ""

    def prepare(self, row: dict[str, Any]) -> Pieces:
        raise NotImplementedError

    def finish(self, pieces: Pieces, index: int, pool: str, reasons: list[str], dns: str,
               dns_detail: str) -> str:
        raise NotImplementedError

    def text(self, row: dict[str, Any]) -> str:
        return self.finish(self.prepare(row), row["index"], row["pool"], row["reasons"],
                           row["dns"], row["dns_detail"])


def _json_value_encoder() -> Callable[[Any], str]:
    """What json.JSONEncoder(ensure_ascii=False).encode gives for one value. The C
    encoder is made once (encode() makes one a call: a third of a row's cost) and
    without the circular-reference check, which a row of plain values cannot need."""
    make = getattr(_json_encoder, "c_make_encoder", None)  # the stdlib's, not in its stubs
    if make is None:  # an interpreter without the _json accelerator
        return json.JSONEncoder(ensure_ascii=False).encode

    def refuse(value: Any) -> Any:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    encode = make(None, refuse, _json_encoder.encode_basestring, None, ": ", ", ",
                  False, False, True)
    return lambda value: "".join(encode(value, 0))


class JsonRenderer(_Renderer):
    """One JSON object per row, keys in ROW_KEYS order, as json.dumps(row,
    ensure_ascii=False) writes it."""

    fmt = "jsonl"

    def __init__(self) -> None:
        encode, string = _json_value_encoder(), _json_encoder.encode_basestring

        def value(v: Any) -> str:
            return string(v) if v.__class__ is str else "null" if v is None else encode(v)

        self._value = value
        self._encode = encode
        self._decision = _Remembered(
            lambda pool, *reasons: f'"pool": {value(pool)}, "reasons": {encode(list(reasons))}')
        self._verdict = _Remembered(
            lambda dns, detail: f'"dns": {value(dns)}, "dns_detail": {value(detail)}')

    def prepare(self, row: dict[str, Any]) -> Pieces:
        v = self._value
        return (
            '"source": ' + v(row["source"]),
            '"message_id": ' + v(row["message_id"]),
            f'"sender": {v(row["sender"])}, "sender_domain": {v(row["sender_domain"])}, '
            f'"sender_source": {v(row["sender_source"])}',
            f'"dsn": {v(row["dsn"])}, "notification": {v(row["notification"])}, '
            f'"score": {v(row["score"])}, "error": {v(row["error"])}',
        )

    def text(self, row: dict[str, Any]) -> str:
        return self._encode(row)

    def finish(self, pieces: Pieces, index: int, pool: str, reasons: list[str], dns: str,
               dns_detail: str) -> str:
        return (f'{{{pieces[0]}, "index": {index:d}, {pieces[1]}, '
                f'{self._decision(pool, *reasons)}, {pieces[2]}, '
                f'{self._verdict(dns, dns_detail)}, {pieces[3]}}}')


class TsvRenderer(_Renderer):
    """FLAT_COLUMNS joined by tabs, each cell on one line (rows.flat_value)."""

    fmt = "tsv"
    separator = "\t"

    def __init__(self) -> None:
        sep = self.separator
        self._decision = _Remembered(lambda pool, *reasons: sep.join(
            [self._cell("pool", pool), self._cell("reasons", list(reasons))]))
        self._dns = _Remembered(lambda dns: self._cell("dns", dns))

    def _cell(self, column: str, value: Any) -> str:
        return flat_value(column, value)

    def prepare(self, row: dict[str, Any]) -> Pieces:
        sep, cell = self.separator, self._cell
        return tuple(sep.join([cell(c, row[c]) for c in run]) for run in _FLAT_RUNS)

    def text(self, row: dict[str, Any]) -> str:
        cell = self._cell
        return self.separator.join([cell(c, row[c]) for c in FLAT_COLUMNS])

    def finish(self, pieces: Pieces, index: int, pool: str, reasons: list[str], dns: str,
               dns_detail: str) -> str:
        sep = self.separator
        return (pieces[0] + sep + str(index) + sep + self._decision(pool, *reasons) + sep
                + pieces[1] + sep + self._dns(dns) + sep + pieces[2])


_CSV_SPECIAL = re.compile(r'[,"\r\n]').search  # what makes QUOTE_MINIMAL quote a cell


class CsvRenderer(TsvRenderer):
    """FLAT_COLUMNS as csv.writer (the excel dialect, QUOTE_MINIMAL) writes them. A
    cell with nothing to quote is itself; any other goes through csv.writer."""

    fmt = "csv"
    separator = ","

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\n")
        super().__init__()

    def _cell(self, column: str, value: Any) -> str:
        text = flat_value(column, value)
        if not _CSV_SPECIAL(text):
            return text
        buffer = self._buffer
        buffer.seek(0)
        buffer.truncate()
        self._writer.writerow([text, ""])  # never one cell alone: that is written as ""
        return buffer.getvalue()[:-2]  # less the empty cell's comma and the newline


_RENDERERS: dict[str, type[_Renderer]] = {
    "jsonl": JsonRenderer, "json": JsonRenderer, "tsv": TsvRenderer, "csv": CsvRenderer,
}


def renderer(fmt: str) -> Renderer:
    """The renderer of a streaming format (json and jsonl share one: the array's
    brackets and commas are the writer's)."""
    return _RENDERERS[fmt]()
