"""Decoding notice text: transfer encodings, charsets, line ends, HTML; capped and
never raising (8-bit bytes under a wrong label are read as UTF-8)."""

from __future__ import annotations

import binascii
import html
import quopri
import re

from hrdp.mime import Part

TEXT_CAP = 64 * 1024  # characters of notice text scanned per message
FIELDS_CAP = 1024 * 1024  # characters of delivery-status fields read per report

_TAG = re.compile(r"<[^<>]{0,2000}>")  # bounded: unclosed "<" runs stay linear
# Runs of two spaces or more, which strip_html turns into one space once tabs are spaces
# (every run of blanks, and a lone tab, becomes one space). A pattern that opens with a
# literal lets the engine skip ahead to it; one that opens with a class ("[ \t]") tries
# every blank of the text, and HTML has many.
_SPACE_RUNS = re.compile(r"  +")


def normalise_newlines(text: str) -> str:
    """``\\n`` line ends whatever the file used (CRLF, CR only, or DragonFly's CRCRLF)."""
    if "\r" not in text:
        return text  # the common case: no scan per line-end form
    return text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")


def _charset_decode(data: bytes, charset: str | None) -> str:
    name = (charset or "utf-8").lower()
    if name in ("us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        name = "utf-8"  # 8-bit bytes under a 7-bit label are UTF-8 more often than not
    try:
        return data.decode(name, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")


def decode_body(payload: str, encoding: str, charset: str | None, cap: int = TEXT_CAP) -> str:
    """At most about ``cap`` characters of a transfer-encoded body, decoded.

    The parser keeps 8-bit bytes as surrogate escapes, so encoding back with
    ``surrogateescape`` recovers the original bytes.
    """
    encoding = encoding.strip().lower()
    if encoding == "base64":
        chunk = "".join(payload[: cap * 2].split())
        chunk = chunk[: len(chunk) - len(chunk) % 4]
        try:
            data = binascii.a2b_base64(chunk.encode("ascii", "ignore"))
        except binascii.Error:
            data = b""
    elif encoding == "quoted-printable":
        data = quopri.decodestring(payload[: cap * 3].encode("utf-8", "surrogateescape"))
    else:
        data = payload[:cap].encode("utf-8", "surrogateescape")
    return normalise_newlines(_charset_decode(data[:cap], charset))


def raw_payload(part: Part) -> str | None:
    """A leaf part's body as written, 8-bit bytes still surrogate escapes (None for
    containers); decode_body decodes it once."""
    return part.body if part.children is None else None


def part_text(part: Part, cap: int = TEXT_CAP) -> str:
    """The decoded text of a leaf part ("" for containers); never raises."""
    payload = raw_payload(part)
    if payload is None:
        return ""
    return decode_body(payload, part.transfer_encoding, part.get_content_charset(), cap)


def field_text(part: Part) -> str:
    """The field text of a delivery-status (or disposition-notification) part:
    ``hrdp.mime`` reads these as text, blocks and odd lines ("Status : 5.1.1") as
    written. Reports for big lists name thousands of recipients: a larger cap than prose."""
    return part_text(part, FIELDS_CAP)


def strip_html(text: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", text)
    return collapse_blanks(html.unescape(_TAG.sub(" ", text)))


def collapse_blanks(text: str) -> str:
    """Each run of spaces and tabs one space (newlines kept)."""
    return _SPACE_RUNS.sub(" ", text.replace("\t", " "))


def lowered(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` for lower-cased text: its literals lower-cased (escapes such as
    ``\\S`` kept) and IGNORECASE dropped. Python's engine cannot skip ahead on a literal
    when case is ignored, so searching a lower-cased copy runs several times faster;
    ``evidence.lower_same_length`` keeps match offsets valid in the original."""
    out: list[str] = []
    escaped = False
    for char in pattern.pattern:
        out.append(char if escaped else char.lower())
        escaped = not escaped and char == "\\"
    return re.compile("".join(out), pattern.flags & ~re.IGNORECASE)


def top_level(source: str) -> list[str]:
    """The alternatives of a pattern source, split at its top-level "|"."""
    found: list[str] = []
    depth, start, index, in_class = 0, 0, 0, False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            found.append(source[start:index])
            start = index + 1
        index += 1
    found.append(source[start:])
    return found


def at_line_start(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """A MULTILINE pattern whose every alternative opens with "^", rewritten to open
    with a newline: searched in "\\n" + text, it starts only where a line starts, and
    the engine finds candidates with a fast literal search instead of trying every
    position. A match's start is then the offset of its line in the text."""
    alternatives = top_level(pattern.pattern)
    if not all(alt.startswith("^") for alt in alternatives):
        raise ValueError(f"not anchored at line starts: {pattern.pattern!r}")
    body = "|".join(alt[1:] for alt in alternatives)
    return re.compile(f"\\n(?:{body})", pattern.flags)


_PLAIN = re.compile(r"[a-z0-9 #<'\"_/-]")  # a character that stands for itself


def factor(alternatives: list[str], depth: int) -> str:
    """``a|b|...`` with alternatives that open with the same plain character grouped
    behind it, ``depth`` characters deep: "u(?:ser unknown|nknown user)|m(?:ailbox full)"."""
    grouped: dict[str, list[str]] = {}
    others: list[str] = []
    for alternative in alternatives:
        first, after = alternative[:1], alternative[1:2]
        if depth and _PLAIN.fullmatch(first) and after not in ("?", "*", "+", "{"):
            grouped.setdefault(first, []).append(alternative[1:])
        else:
            others.append(alternative)
    branches = [
        re.escape(char) + (f"(?:{factor(rest, depth - 1)})" if len(rest) > 1 else rest[0])
        for char, rest in grouped.items()
    ]
    return "|".join(f"(?:{b})" if "|" in b else b for b in (*branches, *others))


_AT_LEAST_ONCE = re.compile(r"\+|\{0*[1-9]\d*(?:,\d*)?\}")  # "+", "{2,}", "{1,3}", "{5}"


def opening(alternative: str) -> str:
    """The character every match of ``alternative`` starts with: its first character,
    when that is a literal (plain, or escaped punctuation such as ``\\#``) that is not
    optional ("-+" and "-{5,}" open with "-"); "" otherwise (a class, a group, an
    assertion, an optional first character)."""
    if alternative[:1] == "\\":
        char, rest = alternative[1:2], alternative[2:]
        if not char or char.isalnum():
            return ""
    else:
        char, rest = alternative[:1], alternative[1:]
        if not char or char in ".^$*+?{}[]|()":
            return ""
    if rest[:1] in ("?", "*", "{", "+") and not _AT_LEAST_ONCE.match(rest):
        return ""
    return char


def factored(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """``pattern`` with its top-level alternatives grouped by opening (``factor``):
    the same language, searched several times faster when it lists many phrases."""
    return re.compile(factor(top_level(pattern.pattern), 3), pattern.flags)


def any_of(*phrases: str) -> re.Pattern[str]:
    """One pattern for phrases written as regular expressions (already lower-case).

    Alternatives that open alike are grouped (``decoding.factor``): Python's engine skips a
    branch whose first character differs at the cost of one comparison, so a text
    position costs a test per distinct opening instead of one per phrase."""
    alternatives = [alt for phrase in phrases for alt in top_level(phrase)]
    return re.compile(factor(alternatives, 3), re.DOTALL)


GAP = r".{0,200}?"  # "a ... b": b follows a within a sentence or two
