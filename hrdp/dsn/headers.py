"""The header block of a returned message, read cheaply.

A bounce carries the message it returns as a message/rfc822 or text/rfc822-headers part
(RFC 6522 3), or as a copy after a separator line in a plain-text notice; its Message-ID,
From and To identify what bounced. Read without the stdlib's full parsers: only a few
fields are ever needed.
"""

from __future__ import annotations

import re
from email.utils import parseaddr

from hrdp.dsn.decoding import part_text
from hrdp.message import decode_text, looks_like_header_block
from hrdp.mime import Part

# Header fields of a returned message, names lower-cased, first raw value of each.
Headers = dict[str, str]
_FIELD_LINE = re.compile(r"([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)")
# The lines read_headers reads: a field, then fields and continuation lines. Found by
# one search, so that the body after them (a copy carries up to 16 KiB) is not split.
_BLOCK = re.compile(
    r"[\x21-\x39\x3b-\x7e]+[ \t]*:[^\n]*(?:\n(?:[ \t]|[\x21-\x39\x3b-\x7e]+[ \t]*:)[^\n]*)*"
)


def read_headers(text: str) -> Headers:
    """The fields of a header block (RFC 5322 2.2, folded lines joined), read up to the
    first line that is neither a field nor a continuation, as compat32's parser stops;
    an mbox "From " line first is skipped. Much cheaper than a HeaderParser."""
    fields: Headers = {}
    name = ""
    if text.startswith("From "):
        text = text.partition("\n")[2]
    block = _BLOCK.match(text)
    if block is None:
        return fields
    for line in text[: block.end()].split("\n"):
        if line[:1] in (" ", "\t") and name:
            fields[name] = f"{fields[name]} {line.strip()}" if name in fields else line
            continue
        match = _FIELD_LINE.match(line)
        if match is None:
            break
        name = match.group(1).lower()
        if name in fields:
            name = "\0"  # a repeated field: its continuation lines are not kept
            continue
        fields[name] = match.group(2).strip()
    fields.pop("\0", None)
    return fields


def attached_headers(part: Part) -> Headers | None:
    """The header block of a returned message (message/rfc822, text/rfc822-headers)."""
    children = part.children
    if children is not None:
        if not children:
            return None
        fields: Headers = {}
        for key, value in children[0].raw_items():
            fields.setdefault(key.lower(), value)
        return fields
    text = part_text(part, 16 * 1024)
    if not text.strip():
        return None
    return read_headers(text.lstrip("\n"))


def copied_headers(notice: str, start: int) -> Headers | None:
    """The header block of the copy a plain-text notice carries from ``start`` (its
    separator line, or the first header line)."""
    rest = notice[start : start + 16384]
    line = rest.partition("\n")[0]
    if not _opens_with_field(line):
        rest = rest[len(line) + 1 :].lstrip("\n")  # skip the separator line
    if not _opens_with_field(rest):
        return None
    return read_headers(rest)


def _opens_with_field(text: str) -> bool:
    """``looks_like_header_block`` of ``text`` in UTF-8, encoding only the part it reads
    (after leading line ends, at most 1,000 bytes: at most as many characters)."""
    return looks_like_header_block(text.lstrip("\r\n")[:1000].encode("utf-8", "replace"))


def header_value(headers: Headers, name: str) -> str:
    """A decoded header of an attached message ("" when absent)."""
    return decode_text(headers.get(name, ""))


# The shapes of a From that parseaddr() reads as written: an optional display name
# (a quoted string, or words), then <local@domain> or <>; or a bare local@domain.
# Characters that mean something to RFC 5322 (quotes inside, comments, brackets, a
# second address) are left to the full parser.
_NAMED_ADDRESS = re.compile(
    r'[ \t]*(?:"([^"\\\r\n]*)"|([A-Za-z0-9][A-Za-z0-9 \t._-]*?))?[ \t]*'
    r"<([A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)?>[ \t]*"
)
_BARE_ADDRESS = re.compile(r"[ \t]*([A-Za-z0-9._+-]+@[A-Za-z0-9.-]+)[ \t]*")


def parse_address(value: str) -> tuple[str, str]:
    """``email.utils.parseaddr(value)``: (display name, address). The common shapes
    are read by one pattern; the stdlib parser walks the value a character at a
    time in Python, and every bounce's From is read."""
    match = _NAMED_ADDRESS.fullmatch(value)
    if match is not None:
        quoted, words, address = match.groups()
        name = quoted if quoted is not None else " ".join((words or "").split())
        return name, address or ""
    match = _BARE_ADDRESS.fullmatch(value)
    if match is not None:
        return "", match.group(1)
    return parseaddr(value)
