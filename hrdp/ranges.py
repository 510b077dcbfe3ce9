"""Cut the inputs of a run into units of work that other machines can read on their own.

An uncompressed mbox larger than ``chunk_bytes`` becomes byte ranges whose boundaries are
moved forward to real separators (hrdp.mbox.next_separator: split_mbox's own rule), so
each range splits into exactly the messages, and the bytes, of a local run. Anything else
is one unit per file: compressed files (a stream cannot be entered in the middle), single
messages, the files of a Maildir or of a directory walk — walked in the order and with
the skipping of hrdp.sources, whose functions read each file. Indices are relative to a
unit; ``Numbering`` turns them back into those of a local run.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import BinaryIO, Literal

from hrdp.errors import InputError
from hrdp.mbox import is_mbox_start, next_separator, range_chunks, split_mbox
from hrdp.sources import (
    _HEAD_SIZE,
    BUFFER_SIZE,
    MAIL_EXTENSIONS,
    RawMessage,
    _codec,
    _describe,
    _guard,
    _list,
    _looks_like_mail,
    _read_file,
    _Skips,
)

# Private helpers of hrdp.sources are imported on purpose: the walk, the sniffing and the
# reading of a file must stay the ones a local run uses, not copies that drift.

CHUNK_BYTES = 64 << 20
FILES_PER_TASK = 128  # small files grouped into one task: a Maildir is not a task per file
UnitKind = Literal["file", "range", "error", "skipped"]
_log = logging.getLogger(__name__)


class MissingInput(InputError):
    """A unit's file does not exist where it is read (a worker without the shared files)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)  # the only argument, so the exception pickles back intact
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: no such file here"


@dataclass(frozen=True)
class Unit:
    """One piece of work: a whole file, a byte range of an mbox, or a row known already."""

    source: str  # the file to read, named as a local run names it
    kind: UnitKind = "file"
    start: int = 0  # range: the byte offset of its first separator
    end: int | None = None  # range: where the next range starts; None: to the end
    size: int = 0  # bytes to read, for grouping small files into one task
    sniff: bool = False  # file of a directory walk: left out when it is clearly not mail
    error: str | None = None  # error: the text of its one error row

    @property
    def continues(self) -> bool:
        """A range after the first of its file: its indices follow the previous range's."""
        return self.kind == "range" and self.start > 0

    def describe(self) -> str:
        if self.kind == "range":
            end = "the end" if self.end is None else str(self.end)
            return f"bytes {self.start} to {end} of {self.source}"
        return self.source


def check_paths(paths: Sequence[str]) -> None:
    """Raise InputError for an input that only this process can read: standard input, or
    a pipe such as ``<(zcat archive.gz)``. A missing path is reported where it is read."""
    for path in paths:
        if path == "-":
            raise InputError("standard input (-) cannot be split into units: "
                             "classify it locally, or save it to a file")
        with suppress(OSError):
            mode = os.stat(path).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise InputError(f"{path} is not a regular file (a pipe?): it cannot be "
                                 "split into units; classify it locally, or save it to a file")


class Planner:
    """The units of ``paths`` in input order, as ``sources.iter_messages`` would read them.

    ``on_error`` hears about a path that does not exist or cannot be opened; ``report``
    gives the files a directory walk left out, once, at the end.
    """

    def __init__(
        self, chunk_bytes: int = CHUNK_BYTES, on_error: Callable[[str], None] | None = None
    ) -> None:
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be positive")
        self.chunk_bytes = chunk_bytes
        self.on_error = on_error or _log.error
        self.skips = _Skips()

    def units(self, paths: Sequence[str]) -> Iterator[Unit]:
        check_paths(paths)
        for path in paths:
            yield from self._path(path)

    def skipped(self, not_mail: Sequence[str]) -> None:
        """Files a unit's reader left out (read elsewhere), in the order of the units."""
        self.skips.not_mail.extend(not_mail)

    def report(self, on_warning: Callable[[str], None] | None = None) -> None:
        self.skips.report(on_warning or _log.warning)

    def _path(self, path: str) -> Iterator[Unit]:
        """A path named by the user, as sources._read_path: a file is always mail."""
        try:
            if os.path.isdir(path):
                units = self._dir(path)
            else:
                with open(path, "rb", buffering=BUFFER_SIZE) as stream:
                    units = self._opened(path, stream, sniff=False)
        except OSError as exc:
            self.on_error(f"{path}: {_describe(exc)}")
            return
        yield from units

    def _dir(self, path: str) -> Iterator[Unit]:
        """As sources._read_dir; lists eagerly so that listing errors raise here."""
        if os.path.isdir(os.path.join(path, "cur")) and os.path.isdir(os.path.join(path, "new")):
            names = [os.path.join(sub, e.name) for sub in ("new", "cur") for e in _list(path, sub)]
            files = [os.path.join(path, n) for n in names]
            return (unit for f in files if not os.path.isdir(f) for unit in self._file(f, False))
        return self._walk(path, _list(path, ""))

    def _walk(self, path: str, entries: list[os.DirEntry[str]]) -> Iterator[Unit]:
        """As sources._walk, entry by entry."""
        for entry in entries:
            source = os.path.join(path, entry.name)
            if entry.is_dir(follow_symlinks=False):
                try:
                    units = self._dir(source)
                except OSError as exc:
                    yield Unit(source, "error", error=f"cannot list: {_describe(exc)}")
                    continue
                yield from units
            elif entry.is_symlink() and entry.is_dir():
                self.skips.dir_links.append(source)
            elif entry.is_file() or entry.is_symlink():
                yield from self._file(source, True)
            else:
                self.skips.special.append(source)

    def _file(self, source: str, sniff: bool) -> Iterator[Unit]:
        """A file met in a folder. A small one is read whole where it is classified, and
        any failure to read it becomes the row sources._read_file makes."""
        try:
            size = os.stat(source).st_size
            if size > self.chunk_bytes:
                with open(source, "rb", buffering=BUFFER_SIZE) as stream:
                    units = self._opened(source, stream, sniff)
                yield from units
                return
        except OSError:
            size = 0
        yield Unit(source, size=size, sniff=sniff)

    def _opened(self, source: str, stream: BinaryIO, sniff: bool) -> Iterator[Unit]:
        """What the file is, decided now (errors reach the caller here); an mbox's
        ranges are planned as they are asked for."""
        size = os.fstat(stream.fileno()).st_size
        if size <= self.chunk_bytes:
            return iter([Unit(source, size=size, sniff=sniff)])
        head = stream.read(_HEAD_SIZE)
        mail_name = os.path.splitext(source)[1].lower() in MAIL_EXTENSIONS
        if sniff and not mail_name and not _looks_like_mail(head):  # as sources._sniffed
            return iter([Unit(source, "skipped")])
        if _codec(head) is None and is_mbox_start(head):
            return self._ranges(source, size)
        return iter([Unit(source, size=size, sniff=sniff)])

    def _ranges(self, source: str, size: int) -> Iterator[Unit]:
        """Byte ranges of an mbox, each found when the one before is handed out: the
        first units run while the rest of a big archive is planned (planning a 1.2 GB
        mbox whole took 0.1 s before any work, and a table of every range). A read error
        while planning ends the plan with one range to the end, whose reader meets the
        error and says so in a row, after the messages before it, as a local read does."""
        start = 0
        try:
            with open(source, "rb", buffering=BUFFER_SIZE) as stream:
                while (end := next_separator(stream, start + self.chunk_bytes)) is not None:
                    yield Unit(source, "range", start, end, size=end - start)
                    start = end
        except OSError:
            pass
        yield Unit(source, "range", start, None, size=size - start)


def read_unit(unit: Unit, not_mail: list[str]) -> Iterator[RawMessage]:
    """The messages of one unit, indexed from 0; files a walk leaves out go to ``not_mail``.

    Raises MissingInput when the unit's file is not there at all (where a local run met
    it): on a cluster, the sign of a worker that does not share the client's files.
    """
    if unit.kind == "error":
        yield RawMessage(unit.source, 0, None, error=unit.error)
        return
    if unit.kind == "skipped":
        not_mail.append(unit.source)
        return
    if not os.path.lexists(unit.source):
        raise MissingInput(unit.source)
    if unit.kind == "file":
        skips = _Skips() if unit.sniff else None
        yield from _read_file(unit.source, skips)
        not_mail.extend(skips.not_mail if skips else ())
        return
    with open(unit.source, "rb", buffering=BUFFER_SIZE) as stream:
        pairs = split_mbox(range_chunks(stream, unit.start, unit.end))
        rows = (RawMessage(unit.source, i, data, mbox_from=s) for i, (s, data) in enumerate(pairs))
        yield from _guard(unit.source, rows)


def tasks(units: Iterator[Unit], chunk_bytes: int) -> Iterator[list[Unit]]:
    """Consecutive units, grouped up to about ``chunk_bytes`` or FILES_PER_TASK files."""
    group: list[Unit] = []
    size = 0
    for unit in units:
        group.append(unit)
        size += unit.size
        if size >= chunk_bytes or len(group) >= FILES_PER_TASK:
            yield group
            group, size = [], 0
    if group:
        yield group


def read_here(unit: Unit, not_mail: list[str]) -> list[RawMessage]:
    """read_unit on the machine that planned ``unit``: a file gone since gives the error
    row a local read gives, never MissingInput."""
    try:
        return list(read_unit(unit, not_mail))
    except MissingInput:
        return list(_read_file(unit.source, None))


class Numbering:
    """Gives back the indices of a local run: the ranges of one mbox count on."""

    def __init__(self) -> None:
        self._next = 0

    def first_index(self, unit: Unit, count: int) -> int:
        """The index of ``unit``'s first message, given the units before it in order."""
        first = self._next if unit.continues else 0
        self._next = first + count
        return first


def iter_unit_messages(
    paths: Sequence[str],
    *,
    chunk_bytes: int = CHUNK_BYTES,
    on_error: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[RawMessage]:
    """``sources.iter_messages`` through units, all read here: what a cluster computes,
    in one process (tests compare the two)."""
    planner = Planner(chunk_bytes, on_error)
    numbering = Numbering()
    for unit in planner.units(paths):
        not_mail: list[str] = []
        raws = list(read_unit(unit, not_mail))
        first = numbering.first_index(unit, len(raws))
        for raw in raws:
            yield RawMessage(raw.source, first + raw.index, raw.data, raw.mbox_from, raw.error)
        planner.skipped(not_mail)
    planner.report(on_warning)
