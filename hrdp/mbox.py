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


def is_mbox_start(head: bytes) -> bool:
    """True when ``head`` opens with a ``From `` separator line (RFC 4155 section 2)."""
    return head.startswith(SEPARATOR)


def sender_token(line: bytes) -> str:
    """The second word of a separator line: the envelope sender, "" when it has none.

    RFC 4155: ``From `` + sender address (often ``MAILER-DAEMON`` for bounces) + date.
    """
    words = line.split(None, 2)
    return words[1].decode("utf-8", "replace") if len(words) > 1 else ""


def unquote(data: bytes) -> bytes:
    """Remove one ``>`` from every line matching ``^>+From `` (mboxrd and mboxo)."""
    return _QUOTED_FROM.sub(rb"\1", data) if b">From " in data else data


def split_mbox(lines: Iterable[bytes]) -> Iterator[tuple[str | None, bytes]]:
    """Yield ``(sender token, message bytes)`` for each message of an mbox stream.

    A separator is a ``From `` line at the start of the stream or after an empty line:
    mboxo writers leave ``From `` unquoted in bodies, and RFC 4155 section 2 notes that
    a blank line before the separator is what readers can rely on. The separator and the
    empty line that writers add before the next one (and at the end) are removed; CRLF
    files keep their CRLF. Lines before a first separator (when the stream does not start
    with one) form a message with sender None.
    """
    sender: str | None = None
    body: list[bytes] = []
    started = False
    blank = True  # the start of the stream counts as "after an empty line"
    for line in lines:
        if blank and line.startswith(SEPARATOR):
            if body:
                body.pop()  # the empty line a writer puts before each separator
                yield sender, unquote(b"".join(body))
            sender, body, started, blank = sender_token(line), [], True, False
            continue
        body.append(line)
        blank = line in _BLANK_LINES
    if started:
        if body and body[-1] in _BLANK_LINES:
            body.pop()  # writers end the last message with an empty line too
        yield sender, unquote(b"".join(body))
    elif body:
        yield None, b"".join(body)


def next_separator(stream: BinaryIO, offset: int) -> int | None:
    """The position of the first separator line that starts at or after ``offset`` in a
    seekable mbox, or None when there is none: split_mbox's rule, read from the middle.

    Reading starts three bytes early: a blank line ("\\n" or "\\r\\n") is at most two
    bytes, so a partial first line long enough to end at or after ``offset`` is never
    mistaken for one. Position 0 is a separator when the stream opens with ``From ``.
    """
    position = max(offset - 3, 0)
    stream.seek(position)
    previous = b"\n"  # the start of the stream counts as "after an empty line"
    for line in stream:
        if position >= offset and previous in _BLANK_LINES and line.startswith(SEPARATOR):
            return position
        previous = line
        position += len(line)
    return None


def range_lines(stream: BinaryIO, start: int, end: int | None) -> Iterator[bytes]:
    """The lines of ``stream`` from byte ``start`` to ``end`` (None: to the end). Both are
    line starts (separator positions), so no line is cut."""
    stream.seek(start)
    if end is None:
        yield from stream
        return
    left = end - start
    for line in stream:
        if left <= 0:
            return
        left -= len(line)
        yield line
