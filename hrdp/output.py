"""Row writers: tsv, csv, json and jsonl stream; table and tabulate styles collect.

The row itself (to_row, FLAT_COLUMNS) is hrdp.rows; the text of a streaming format is
hrdp.render's. A streaming writer takes a row (``write``) or a row already rendered
with its ``renderer`` (``write_text``: what --jobs workers prepare); a collecting writer
has no renderer and takes rows only.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, Protocol

from hrdp.atomic import AtomicFile
from hrdp.render import CsvRenderer, JsonRenderer, Renderer, TsvRenderer
from hrdp.rows import FLAT_COLUMNS, flat, to_row

__all__ = ["FLAT_COLUMNS", "FORMATS", "AtomicFile", "Writer", "flat", "make_writer", "to_row"]

FORMATS = ("table", "tsv", "csv", "json", "jsonl")


class Writer(Protocol):
    @property
    def renderer(self) -> Renderer | None: ...  # None: rows only (the writer collects them)

    def write(self, row: dict[str, Any]) -> None: ...
    def write_text(self, text: str) -> None: ...
    def close(self) -> None: ...


class _LineWriter:
    """One rendered row per line."""

    renderer: Renderer

    def __init__(self, out: IO[str]) -> None:
        self.out = out

    def write(self, row: dict[str, Any]) -> None:
        self.write_text(self.renderer.text(row))

    def write_text(self, text: str) -> None:
        self.out.write(text + "\n")

    def close(self) -> None:
        self.out.flush()


class TsvWriter(_LineWriter):
    def __init__(self, out: IO[str], headers: bool) -> None:
        super().__init__(out)
        self.renderer = TsvRenderer()
        if headers:
            out.write("\t".join(FLAT_COLUMNS) + "\n")


class CsvWriter(_LineWriter):
    def __init__(self, out: IO[str], headers: bool) -> None:
        super().__init__(out)
        self.renderer = CsvRenderer()
        if headers:
            csv.writer(out, lineterminator="\n").writerow(FLAT_COLUMNS)


class JsonlWriter(_LineWriter):
    def __init__(self, out: IO[str]) -> None:
        super().__init__(out)
        self.renderer = JsonRenderer()


class JsonWriter(_LineWriter):
    """A JSON array written row by row, so a huge batch never sits in memory."""

    def __init__(self, out: IO[str]) -> None:
        super().__init__(out)
        self.renderer = JsonRenderer()
        self.count = 0

    def write_text(self, text: str) -> None:
        self.out.write(("[\n" if self.count == 0 else ",\n") + text)
        self.count += 1

    def close(self) -> None:
        self.out.write("[]\n" if self.count == 0 else "\n]\n")
        self.out.flush()


class TabulateWriter:
    """Any tabulate style (--fmt); tabulate sizes columns, so rows are collected."""

    renderer = None

    def __init__(self, out: IO[str], style: str, headers: bool) -> None:
        self.out, self.style, self.headers = out, style, headers
        self.rows: list[list[str]] = []

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(list(flat(row).values()))

    def write_text(self, text: str) -> None:
        raise TypeError("a collecting writer takes rows, not rendered text")

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


@contextmanager
def opened(
    path: str | None, fmt: str | None, *, headers: bool, style: str | None,
    table: Callable[[IO[str], bool], Writer], stdout: IO[str],
) -> Iterator[Writer]:
    """The writer for ``fmt`` (else the one ``path``'s name asks for; else a table on a
    terminal and tsv elsewhere), on ``stdout`` or on ``path``, which appears whole, or
    not at all when the run fails (AtomicFile)."""
    fmt = fmt or (format_for_path(path) if path else None)
    target = AtomicFile(path) if path else None
    stream = target.file if target else stdout
    if fmt is None:
        fmt = "table" if target is None and stream.isatty() else "tsv"
    writer = make_writer(fmt, stream, headers=headers, style=style, table=table)
    try:
        yield writer
        writer.close()
    except BaseException:
        if target:
            target.abort()
        raise
    if target:
        target.commit()


def format_for_path(path: str) -> str | None:
    """The format a file name asks for (``-o rows.csv``), or None."""
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    return ext if ext in ("tsv", "csv", "json", "jsonl") else None
