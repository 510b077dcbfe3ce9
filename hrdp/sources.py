"""Iterate raw messages from every kind of input: message files, mbox archives, Maildirs,
directories, gzip/bzip2/xz files and standard input.

Inputs are recognised by content, never by extension. Everything streams: an mbox is split
in one pass over a (possibly decompressing) stream, holding only the current message.
I/O problems never end a batch: they become an ``on_error`` call for a path that holds no
message, or a row with ``data=None`` where a message (or the rest of an archive) was lost.
"""

from __future__ import annotations

import bz2
import gzip
import io
import logging
import lzma
import os
import re
import sys
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO, Protocol

from hrdp.mbox import is_mbox_start, split_mbox
from hrdp.message import looks_like_header_block

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

BUFFER_SIZE = 1 << 20  # large reads: this is the hot path of multi-GB archives
MAIL_EXTENSIONS = frozenset({".eml", ".mbox", ".mbx", ".mail"})
_HEAD_SIZE = 4096  # enough for the magic numbers and looks_like_header_block's 1000 bytes
_MAX_LAYERS = 2  # gzip inside gzip at most: a decompression quine must not recurse forever
_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)  # bz2 raises OSError
_LISTED_NAMES = 5
# Directory walks only: RFC 5322 allows any printable character in a field name, so a JSON
# line ('{"file": ...') passes looks_like_header_block. Registered field names (RFC 3864)
# are letters, digits and hyphens; X- headers add "_" and ".".
_FIRST_FIELD = re.compile(rb"[A-Za-z0-9][A-Za-z0-9_.-]*[ \t]*:")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawMessage:
    """One message as read from an input, before any parsing."""

    source: str  # path as given, joined with the path inside a directory; "-" for stdin
    index: int  # 0-based position inside its source (an mbox message's number)
    data: bytes | None  # None when the message could not be read
    mbox_from: str | None = None  # sender token of the mbox "From " line
    error: str | None = None  # one line for people when data is None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class _Codec:
    name: str
    magic: bytes
    open: Callable[[io.BufferedReader[_Replay]], _Readable]


_CODECS = (
    _Codec("gzip", b"\x1f\x8b", lambda f: gzip.GzipFile(fileobj=f, mode="rb")),
    _Codec("bzip2", b"BZh", bz2.BZ2File),
    _Codec("xz", b"\xfd7zXZ\x00", lzma.LZMAFile),
)


@dataclass
class _Skips:
    """Files a directory walk left out, reported once at the end."""

    not_mail: list[str] = field(default_factory=list)
    dir_links: list[str] = field(default_factory=list)
    special: list[str] = field(default_factory=list)

    def report(self, warn: Callable[[str], None]) -> None:
        if self.not_mail:
            what = _count(self.not_mail, "file that is", "files that are")
            warn(f"skipped {what} not mail: {_names(self.not_mail)}")
        if self.dir_links:
            what = _count(self.dir_links, "link to a directory", "links to directories")
            warn(f"did not follow {what}: {_names(self.dir_links)}")
        if self.special:
            what = _count(self.special, "special file", "special files")
            warn(f"skipped {what} (not regular files): {_names(self.special)}")


def _count(items: list[str], one: str, many: str) -> str:
    return f"{len(items)} {one if len(items) == 1 else many}"


def _names(items: list[str]) -> str:
    shown = ", ".join(items[:_LISTED_NAMES])
    rest = len(items) - _LISTED_NAMES
    return f"{shown} and {rest} more" if rest > 0 else shown


class _Replay(io.RawIOBase):
    """The sniffed head again, then the rest of the stream: sniffing needs no seek, so
    pipes, stdin and decompressing streams work and are never read whole first."""

    def __init__(self, head: bytes, rest: _Readable) -> None:
        super().__init__()
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            data, self._head = self._head[: len(view)], self._head[len(view) :]
        else:
            data = self._rest.read(len(view))
        view[: len(data)] = data
        return len(data)


def iter_messages(
    paths: Sequence[str],
    *,
    stdin: BinaryIO | None = None,
    on_error: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[RawMessage]:
    """Yield every message of ``paths`` in order; ``"-"`` reads ``stdin``.

    ``on_error`` hears about a path that holds no readable message (it does not exist or
    cannot be opened); ``on_warning`` hears once, at the end, about files a directory walk
    skipped. Both default to this module's logger.
    """
    error = on_error or _log.error
    skips = _Skips()
    for path in paths:
        if path == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            yield from _guard("-", _sniffed("-", stream, None))
        else:
            yield from _read_path(path, skips, error)
    skips.report(on_warning or _log.warning)


def _read_path(path: str, skips: _Skips, error: Callable[[str], None]) -> Iterator[RawMessage]:
    """A path named by the user: a file is always mail; a directory is walked."""
    try:
        if os.path.isdir(path):
            rows = _read_dir(path, skips)
        else:
            stream = open(path, "rb")  # noqa: SIM115 -- closed by _read_open below
            rows = _read_open(path, stream, None)
    except OSError as exc:
        error(f"{path}: {_describe(exc)}")
        return
    yield from rows


def _read_dir(path: str, skips: _Skips) -> Iterator[RawMessage]:
    """Rows of a Maildir or a plain directory; lists eagerly so listing errors raise here."""
    if os.path.isdir(os.path.join(path, "cur")) and os.path.isdir(os.path.join(path, "new")):
        # Maildir: new/ then cur/ (delivery order), tmp/ holds unfinished deliveries.
        names = [os.path.join(sub, e.name) for sub in ("new", "cur") for e in _list(path, sub)]
        return _read_maildir(path, [n for n in names if not os.path.isdir(os.path.join(path, n))])
    return _walk(path, _list(path, ""), skips)


def _list(path: str, sub: str) -> list[os.DirEntry[str]]:
    """Visible entries of a directory, sorted by name (hidden names are skipped)."""
    with os.scandir(os.path.join(path, sub)) as entries:
        return sorted((e for e in entries if not e.name.startswith(".")), key=lambda e: e.name)


def _read_maildir(path: str, entries: list[str]) -> Iterator[RawMessage]:
    for name in entries:
        yield from _read_file(os.path.join(path, name), None)


def _walk(path: str, entries: list[os.DirEntry[str]], skips: _Skips) -> Iterator[RawMessage]:
    for entry in entries:
        source = os.path.join(path, entry.name)
        if entry.is_dir(follow_symlinks=False):
            try:
                rows = _read_dir(source, skips)
            except OSError as exc:  # a folder that may hold messages: say so in a row
                yield RawMessage(source, 0, None, error=f"cannot list: {_describe(exc)}")
                continue
            yield from rows
        elif entry.is_symlink() and entry.is_dir():
            skips.dir_links.append(source)  # links are not followed: no loops, no surprises
        elif entry.is_file() or entry.is_symlink():  # a dangling link becomes an error row
            yield from _read_file(source, skips)
        else:
            skips.special.append(source)  # a FIFO would block, a device never ends


def _read_file(source: str, skips: _Skips | None) -> Iterator[RawMessage]:
    try:
        stream = open(source, "rb")  # noqa: SIM115 -- closed by _read_open
    except OSError as exc:
        yield RawMessage(source, 0, None, error=f"cannot read: {_describe(exc)}")
        return
    yield from _read_open(source, stream, skips)


def _read_open(source: str, stream: BinaryIO, skips: _Skips | None) -> Iterator[RawMessage]:
    with stream:
        yield from _guard(source, _sniffed(source, stream, skips))


def _sniffed(source: str, stream: _Readable, skips: _Skips | None) -> Iterator[RawMessage]:
    """Rows of one opened input; ``skips`` is set inside directory walks only, where a file
    that is clearly not mail is left out unless its extension says it is mail."""
    head = stream.read(_HEAD_SIZE)
    mail_name = os.path.splitext(source)[1].lower() in MAIL_EXTENSIONS
    if skips is not None and not mail_name and not _looks_like_mail(head):
        skips.not_mail.append(source)
        return
    yield from _messages(source, stream, head, 0)


def _looks_like_mail(head: bytes) -> bool:
    if not head:
        return True  # an empty file is a (malformed) message, not a file to hide
    if _codec(head) is not None or is_mbox_start(head):
        return True
    return looks_like_header_block(head) and bool(_FIRST_FIELD.match(head.lstrip(b"\r\n")))


def _codec(head: bytes) -> _Codec | None:
    return next((c for c in _CODECS if head.startswith(c.magic)), None)


def _messages(source: str, stream: _Readable, head: bytes, layers: int) -> Iterator[RawMessage]:
    reader = io.BufferedReader(_Replay(head, stream), BUFFER_SIZE)
    codec = _codec(head) if layers < _MAX_LAYERS else None
    if codec is not None:
        yield from _guard(source, _decompressed(source, reader, codec, layers), codec.name)
    elif is_mbox_start(head):
        chunks = iter(lambda: reader.read(BUFFER_SIZE), b"")
        for index, (sender, data) in enumerate(split_mbox(chunks)):
            yield RawMessage(source, index, data, mbox_from=sender)
    else:
        yield RawMessage(source, 0, reader.read())


def _decompressed(
    source: str, reader: io.BufferedReader[_Replay], codec: _Codec, layers: int
) -> Iterator[RawMessage]:
    """A compressed file is decompressed as a stream, then sniffed again."""
    inner = codec.open(reader)
    yield from _messages(source, inner, inner.read(_HEAD_SIZE), layers + 1)


def _guard(source: str, rows: Iterator[RawMessage], codec: str = "") -> Iterator[RawMessage]:
    """Pass rows on; on a read or decompression error, end with one error row.

    The rows already yielded stay good: a truncated archive loses only its tail.
    """
    count = 0
    try:
        for row in rows:
            yield row
            count += 1
    except _READ_ERRORS as exc:
        yield RawMessage(source, count, None, error=_failure(codec, count, exc))


def _failure(codec: str, count: int, exc: BaseException) -> str:
    text = _describe(exc)
    if codec and not (isinstance(exc, OSError) and exc.errno is not None):
        what = f"corrupt {codec} data"
    elif count == 0:
        return f"cannot read: {text}"
    else:
        what = "read error"
    return f"{what} after {count} message{'' if count == 1 else 's'}: {text}"


def _describe(exc: BaseException) -> str:
    """One lower-case line: the OS reason without errno and path, else the exception text."""
    text = (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__
    text = " ".join(text.split())
    return text[:1].lower() + text[1:]
