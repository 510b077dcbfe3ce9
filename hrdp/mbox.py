"""Split an mbox archive in one streaming pass (RFC 4155 and the mboxrd description).

Python's ``mailbox`` module builds a table of contents of the whole file first and needs a
seekable file. This reads a binary stream line by line and holds only the current message,
so it works on pipes and decompressing streams of multi-GB archives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import BinaryIO

SEPARATOR = b"From "
_BLANK_LINES = (b"\n", b"\r\n")
# mboxrd (https://www.loc.gov/preservation/digital/formats/fdd/fdd000385.shtml): writers
# quote every body line matching ^>*From  with one more ">"; readers remove one. mboxo
# writers quote only "From " as ">From ", which the same rule restores.
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
# A separator candidate or a quoted line: split_mbox's one scan of the bytes.
_FROM_LINE = re.compile(rb"\n>*+From ")


def is_mbox_start(head: bytes) -> bool:
    """True when ``head`` opens with a ``From `` separator line (RFC 4155 section 2)."""
    return head.startswith(SEPARATOR)


def sender_token(line: bytes | bytearray) -> str:
    """The second word of a separator line: the envelope sender, "" when it has none.

    RFC 4155: ``From `` + sender address (often ``MAILER-DAEMON`` for bounces) + date.
    """
    words = line.split(None, 2)
    return words[1].decode("utf-8", "replace") if len(words) > 1 else ""


def unquote(data: bytes) -> bytes:
    """Remove one ``>`` from every line matching ``^>+From `` (mboxrd and mboxo)."""
    return _QUOTED_FROM.sub(rb"\1", data) if b">From " in data else data


def split_mbox(chunks: Iterable[bytes]) -> Iterator[tuple[str | None, bytes]]:
    """Yield ``(sender token, message bytes)`` for each message of an mbox stream.

    A separator is a ``From `` line at the start of the stream or after an empty line:
    mboxo writers leave ``From `` unquoted in bodies, and RFC 4155 section 2 notes that
    a blank line before the separator is what readers can rely on. The separator and the
    empty line that writers add before the next one (and at the end) are removed; CRLF
    files keep their CRLF. Lines before a first separator (when the stream does not start
    with one) form a message with sender None.

    ``chunks`` may be cut anywhere (lines, or 1 MiB reads): separators are found with
    bytes.find over a buffer that holds only the current message, not line by line in
    Python, which was the reading process's main cost on big archives.
    """
    splitter = _Splitter()
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.end()


class _Splitter:
    """The state of split_mbox between chunks. Positions are indices into ``buf``, which
    is compacted (consumed bytes dropped) once they outweigh what is left.

    One regex scan finds both the separator candidates ("\nFrom ") and the quoted
    ("\n>From ") lines, so the current message is known to need unquote() or not: the
    two are separate full scans of every byte otherwise, the reading's main cost."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.sender: str | None = None
        self.started = False
        self.body = 0  # where the current message starts in buf
        self.search = 0  # where to look for the next "\nFrom " or "\n>From "
        # The current message may hold a line unquote() changes. Bytes before a first
        # separator are not scanned from their first line: assume so.
        self.quoted = True

    def feed(self, chunk: bytes) -> Iterator[tuple[str | None, bytes]]:
        self.buf += chunk
        yield from self._messages(final=False)
        if self.body > len(self.buf) // 2:
            del self.buf[:self.body]
            self.search -= self.body
            self.body = 0

    def end(self) -> Iterator[tuple[str | None, bytes]]:
        yield from self._messages(final=True)
        body = bytes(self.buf[self.body:])
        if not self.started:
            if body:
                yield None, body
            return
        if body.endswith(b"\n"):
            cut = body.rfind(b"\n", 0, len(body) - 1) + 1
            if body[cut:] in _BLANK_LINES:
                body = body[:cut]  # writers end the last message with an empty line too
        yield self.sender, unquote(body) if self.quoted else body

    def _messages(self, final: bool) -> Iterator[tuple[str | None, bytes]]:
        buf = self.buf
        while (found := self._next(buf, final)) is not None:
            start, blank, end = found
            if self.started or start > self.body:
                data = bytes(buf[self.body:start - blank])
                yield self.sender, unquote(data) if self.quoted else data
            self.sender = sender_token(buf[start:end])
            self.started = True
            self.body = self.search = end
            # The scan finds lines after a line end: the first line is looked at here
            # (when its first byte is not read yet, unquote() will look).
            self.quoted = end >= len(buf) or buf[end] == 0x3E  # ">"

    def _next(self, buf: bytearray, final: bool) -> tuple[int, int, int] | None:
        """(separator start, length of the blank line before it, end of its line) of the
        next complete separator line, or None when more data is needed."""
        if not self.started and buf.startswith(SEPARATOR):
            start, blank = 0, 0  # the stream opens with a separator (buf is never compacted before)
        else:
            search, position = _FROM_LINE.search, self.search
            while True:
                match = search(buf, position)
                if match is None:
                    # A line cut by the end of buf is scanned again with more data.
                    last = buf.rfind(b"\n", position)
                    self.search = last if last >= 0 else len(buf)
                    return None
                newline, start = match.span()
                start -= 5  # where "From " starts
                if start - newline > 1:  # "\n>From ": the message holds a quoted line
                    self.quoted = True
                    position = start
                    continue
                # Length of the line that buf[newline] ends when that line is empty
                # ("\n" or "\r\n"), else 0. buf[0] always starts a line: the stream's
                # first byte, or the first byte after a separator line once compacted.
                if newline == 0 or buf[newline - 1] == 0x0A:
                    blank = 1
                elif buf[newline - 1] == 0x0D and (newline == 1 or buf[newline - 2] == 0x0A):
                    blank = 2
                else:
                    position = start
                    continue
                break
        end = buf.find(b"\n", start)
        if end < 0 and not final:
            self.search = max(start - 1, self.body)  # this line again, with more data
            return None
        return start, blank, (end + 1 if end >= 0 else len(buf))


SCAN_SIZE = 1 << 16  # bytes per read while looking for a separator


def next_separator(stream: BinaryIO, offset: int) -> int | None:
    """The position of the first separator line that starts at or after ``offset`` in a
    seekable mbox, or None when there is none: split_mbox's rule, read from the middle.

    A separator is ``From `` at the start of a line that follows an empty line ("\\n" or
    "\\r\\n"); position 0 is one when the stream opens with ``From ``. Lines are found by
    searching blocks for ``\\nFrom `` (a line-by-line loop cost 2 ms a boundary: a boundary
    lands in a big message more often than in a small one). The last 8 bytes of a block
    are searched again with the next one, so a match across blocks is not missed.
    """
    stream.seek(offset)
    if offset == 0 and stream.read(len(SEPARATOR)) == SEPARATOR:
        return 0
    base = max(offset - 3, 0)  # the 3 bytes before offset tell whether a line starts there
    stream.seek(base)
    buf = stream.read(SCAN_SIZE)
    start = 0
    while True:
        found = buf.find(b"\n" + SEPARATOR, start)
        while found >= 0:
            line = base + found + 1  # where the "From " line starts
            if line >= offset and _after_blank_line(buf, found, base == 0):
                return line
            found = buf.find(b"\n" + SEPARATOR, found + 1)
        more = stream.read(SCAN_SIZE)
        if not more:
            return None
        keep = min(len(buf), 8)
        base += len(buf) - keep
        start = max(keep - len(SEPARATOR), 0)  # a match wholly in the kept bytes was seen
        buf = buf[len(buf) - keep:] + more


def _after_blank_line(buf: bytes, newline: int, at_stream_start: bool) -> bool:
    """Whether the line that ``buf[newline]`` ends is empty ("\\n" or "\\r\\n"). A line
    that begins before buf is never empty: buf keeps at least 2 bytes before any match
    that can count, unless buf starts the stream."""
    if newline == 0:
        return at_stream_start
    if buf[newline - 1] == 0x0A:
        return True
    if buf[newline - 1] == 0x0D:
        return (newline == 1 and at_stream_start) or (newline >= 2 and buf[newline - 2] == 0x0A)
    return False


READ_SIZE = 1 << 20  # bytes per read of a range


def range_chunks(stream: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    """The bytes of ``stream`` from ``start`` to ``end`` (None: to the end), in chunks of
    at most READ_SIZE (split_mbox does not care where a chunk ends)."""
    stream.seek(start)
    left = None if end is None else end - start
    while left is None or left > 0:
        chunk = stream.read(READ_SIZE if left is None else min(READ_SIZE, left))
        if not chunk:
            return
        if left is not None:
            left -= len(chunk)
        yield chunk
