"""A lean, lazy MIME reader: the structure hrdp reads, at a fraction of the stdlib's cost.

The stdlib's ``email.feedparser`` reads a message line by line in Python, and builds
every part before anything is asked of it: two thirds of the time spent on a bounce.
This reader follows the same rules (compat32's, which real mail has been parsed with
for twenty years) but works on whole strings with a few C-level searches, and parses a
part's body only when its children are asked for: a message whose headers already say
it is ordinary is never walked.

Rules kept from ``email.feedparser``:

- Bytes are read as ASCII with surrogate escapes: 8-bit bytes survive and are recovered
  with ``.encode("ascii", "surrogateescape")``.
- CRLF, LF and CR alone all end a line (so CR CR LF is two line ends).
- The header block ends at the first blank line, or at the first line that is not a
  header field (``Status : 5.1.1`` ends it: no space is allowed before the colon), which
  then opens the body. A ``From `` line and a continuation with no field before it are
  skipped; values keep their continuation lines.
- A multipart body is cut at ``--boundary`` lines (trailing blanks allowed); the line
  end before a boundary belongs to it. No boundary parameter, or no boundary line,
  leaves the whole body as text; a missing close boundary ends the last part at the end.
- Parts of multipart/digest default to message/rfc822, others to text/plain.
- message/rfc822 (and message/global) hold one message. Other message/* types
  (delivery-status, disposition-notification, feedback-report, ...) are read as text:
  their readers want the field text, which is what they are.

Differences, on purpose: a transfer-encoded message/rfc822 is decoded before it is
parsed (compat32 parses the encoded text); nesting is bounded (``MAX_DEPTH``,
``MAX_PARTS``) so a hostile message cannot recurse without end.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator

MAX_DEPTH = 40  # nested containers parsed; deeper ones are read as text
MAX_PARTS = 1000  # parts parsed per message; the rest are read as text

# A line that is not a header field (feedparser's headerRE: a continuation, a "From "
# line or "name:"), searched in a header block whose line ends are "\n".
_NOT_FIELD = re.compile(r"\n(?![ \t]|From |[\x21-\x39\x3b-\x7e]*+:)")
_FIRST_FIELD = re.compile(r"[ \t]|From |[\x21-\x39\x3b-\x7e]*+:")
_LINE_END = re.compile(r"\r\n|\r|\n")
# A header block of such lines (the first one included) and the blank line after it.
_HEAD_LF = re.compile(r"(?:(?:[\x21-\x39\x3b-\x7e]*+:|From |[ \t])[^\n]*+\n)++\n")
# One field with its continuation lines, in a block whose line ends are "\n".
# (Possessive: nothing here backtracks, and re runs it faster so.)
_FIELD = re.compile(r"^([\x21-\x39\x3b-\x7e]++):[ \t]*+(.*+(?:\n[ \t].*+)*+)", re.MULTILINE)
# Content-Type parameters: name=value or name="quoted value" (RFC 2045 5.1).
_PARAM = re.compile(r';\s*([^\s=;"]+)\s*=\s*("(?:[^"\\]|\\.)*+"?|[^;]*)', re.DOTALL)

# Field names as code asks for them ("Content-Type"), lower-cased (field_key).
FIELD_KEYS: dict[str, str] = {}

_CONTAINED = frozenset({"message/rfc822", "message/global", "message/news"})
_OPAQUE_ENCODINGS = frozenset({"", "7bit", "8bit", "binary"})


class Budget:
    """Parts parsed so far in one message, shared by all its parts."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts = 0


def _split_head(text: str) -> tuple[str, str]:
    """(header block with "\\n" line ends, body) as feedparser would cut them."""
    # Most mail: LF line ends and only header lines before the blank line. One match
    # finds the blank line and checks every line; anything else takes the long way.
    whole = _HEAD_LF.match(text)
    if whole is not None:
        end = whole.end()
        head = text[: end - 2]
        if "\r" not in head:
            return head, text[end:]
    if text[:1] in ("\n", "\r"):  # a blank first line: no header fields at all
        return "", text[2:] if text.startswith("\r\n") else text[1:]
    # The blank line: two line ends in a row, "\n\n", "\n\r" or "\r\r" whatever the
    # mix of CR LF, LF and CR (CR LF LF holds "\n\n", CR CR LF holds "\r\r").
    # Searched in growing windows: a CR LF message has no "\n\n" to find, and a search
    # for it must not read a whole multi-megabyte attachment.
    size, window, end = len(text), 4096, -1
    while end < 0:
        for pair in ("\n\n", "\n\r", "\r\r"):
            found = text.find(pair, 0, window if end < 0 else end)
            if found >= 0:
                end = found
        if window >= size:
            break
        window *= 8
    if end < 0:
        end = size
    if end < len(text):
        start = end + 3 if text.startswith("\r\n", end + 1) else end + 2
        body = text[start:]
        crlf = text[end] == "\n" and end and text[end - 1] == "\r"
        head = text[: end - 1] if crlf else text[:end]
    else:
        head, body = text, ""
    if "\r" in head:
        head = head.replace("\r\n", "\n").replace("\r", "\n")
    if not _FIRST_FIELD.match(head):
        return "", text
    bad = _NOT_FIELD.search(head)
    if bad is None:
        return head, body
    # A line that is not a header field opens the body (compat32's defect): find
    # where that line starts in the text, whose line ends may be CR LF or CR.
    lines = head.count("\n", 0, bad.start()) + 1
    stop = 0
    for stop_match in _LINE_END.finditer(text):
        lines -= 1
        if not lines:
            stop = stop_match.end()
            break
    return head[: bad.start()], text[stop:]


def field_key(name: str) -> str:
    """``name.lower()``, the key of tables by field name, remembered for the few names
    code asks for (a bounded cache). Hot paths write ``FIELD_KEYS.get(name) or
    field_key(name)``: a lookup with a cached hash beats a new string per call."""
    key = FIELD_KEYS.get(name)
    if key is None:
        key = name.lower()
        if len(FIELD_KEYS) < 1024:
            FIELD_KEYS[name] = key
    return key


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace("\\\\", "\\").replace('\\"', '"')
    if value.startswith('"'):  # an unclosed quote: compat32 keeps what follows
        return value[1:]
    return value


def param(value: str, name: str) -> str | None:
    """A parameter of a structured field value (``boundary``, ``charset``...), unquoted;
    RFC 2231 ``name*`` forms are read as the plain value (charset prefix dropped)."""
    if ";" not in value:
        return None
    wanted = name.lower()
    for key, raw in _PARAM.findall(value):
        key = key.lower()
        if key == wanted:
            return _unquote(raw)
        if key in (wanted + "*", wanted + "*0", wanted + "*0*"):
            text = _unquote(raw)
            return text.split("'", 2)[2] if key.endswith("*") and text.count("'") >= 2 else text
    return None


def content_type_of(value: str | None, default: str = "text/plain") -> str:
    """compat32's get_content_type() of a raw Content-Type value."""
    if value is None:
        return default
    ctype = value.partition(";")[0].strip().lower()
    return ctype if ctype.count("/") == 1 else "text/plain"


def decode_transfer(body: str, encoding: str) -> bytes:
    """A body's bytes with its Content-Transfer-Encoding undone; never raises (what
    cannot be decoded is returned as it was written, as compat32 does)."""
    encoding = encoding.strip().lower()
    if encoding == "base64":
        packed = "".join(body.split())  # \s+ removed, ten times faster than re.sub
        try:
            return binascii.a2b_base64(packed + "=" * (-len(packed) % 4))
        except (binascii.Error, ValueError):
            packed = packed[: len(packed) - len(packed) % 4]
            try:
                return binascii.a2b_base64(packed)
            except (binascii.Error, ValueError):
                return body.encode("ascii", "surrogateescape")
    data = body.encode("ascii", "surrogateescape")
    if encoding == "quoted-printable":
        return binascii.a2b_qp(data)
    return data


def _boundary_lines(body: str, boundary: str) -> list[tuple[int, int, bool]]:
    """(line start, start of the next line, closing) for each boundary line."""
    sep = "--" + boundary
    size = len(body)
    found: list[tuple[int, int, bool]] = []
    at = body.find(sep)
    while at >= 0:
        if at == 0 or body[at - 1] in "\r\n":
            end = at + len(sep)
            closing = body.startswith("--", end)
            if closing:
                end += 2
            while end < size and body[end] in " \t":
                end += 1
            if end == size or body[end] in "\r\n":
                if body.startswith("\r\n", end):
                    end += 2
                elif end < size:
                    end += 1
                found.append((at, end, closing))
                if closing:
                    break
        at = body.find(sep, at + len(sep))
    return found


def _line_end_before(body: str, at: int) -> int:
    """``at`` less the line end just before it (it belongs to the boundary line)."""
    if body.endswith("\r\n", 0, at):
        return at - 2
    if at and body[at - 1] in "\r\n":
        return at - 1
    return at


class Part:
    """One message or MIME part: its header fields as written, its body as text, and
    its children (parsed on first use). Method names follow ``email.message.Message``
    where they mean the same, so readers written for the stdlib read this too."""

    __slots__ = ("_budget", "_children", "_ctype", "_default", "_depth", "_fields", "_read",
                 "_table", "body")

    def __init__(self, text: str, default: str = "text/plain", depth: int = 0,
                 budget: Budget | None = None) -> None:
        head, self.body = _split_head(text)
        self._fields = _FIELD.findall(head) if head else []
        self._table: dict[str, list[str]] | None = None
        self._default = default
        self._depth = depth
        self._budget = budget = budget or Budget()
        budget.parts += 1
        self._children: list[Part] | None = None
        self._read = False  # children parsed yet
        self._ctype: str | None = None

    # Header fields -----------------------------------------------------------------

    def raw_items(self) -> list[tuple[str, str]]:
        """(name, value) of every field in order, values as written (folded)."""
        return self._fields

    def keys(self) -> list[str]:
        return [name for name, _value in self._fields]

    @property
    def table(self) -> dict[str, list[str]]:
        """Every field's values in order, by lower-cased name, as written (built once;
        read it, never change it: get() and hrdp.message read the same dict)."""
        table = self._table
        if table is None:
            table = self._table = {}
            for name, value in self._fields:
                key = name.lower()
                if key in table:
                    table[key].append(value)
                else:
                    table[key] = [value]
        return table

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of a field (as written), or ``default``."""
        table = self._table
        if table is None:
            table = self.table
        values = table.get(FIELD_KEYS.get(name) or field_key(name))
        return values[0] if values else default

    def get_default_type(self) -> str:
        return self._default

    def get_content_type(self) -> str:
        ctype = self._ctype
        if ctype is None:
            ctype = self._ctype = content_type_of(self.get("content-type"), self._default)
        return ctype

    def get_param(self, name: str) -> str | None:
        value = self.get("content-type")
        return param(value, name) if value else None

    def get_content_charset(self) -> str | None:
        charset = self.get_param("charset")
        return charset.strip().lower() if charset else None

    @property
    def transfer_encoding(self) -> str:
        return (self.get("content-transfer-encoding") or "").strip().lower()

    # Body ------------------------------------------------------------------------------

    @property
    def children(self) -> list[Part] | None:
        """The parts of a multipart, the message inside message/rfc822; None for a leaf
        (and for a multipart whose boundary is missing: its body is plain text)."""
        if not self._read:
            self._children, self._read = self._parse_children(), True
        return self._children

    def _parse_children(self) -> list[Part] | None:
        ctype = self._ctype or self.get_content_type()
        container = ctype in _CONTAINED
        if not container and not ctype.startswith("multipart/"):
            return None  # a leaf: most parts
        if self._depth >= MAX_DEPTH or self._budget.parts >= MAX_PARTS:
            return None
        if container:
            body = self.body
            if self.transfer_encoding not in _OPAQUE_ENCODINGS:
                body = decode_transfer(body, self.transfer_encoding).decode(
                    "ascii", "surrogateescape")
            return [Part(body, "text/plain", self._depth + 1, self._budget)]
        boundary = self.get_param("boundary")
        if not boundary or not boundary.rstrip():
            return None
        lines = _boundary_lines(self.body, boundary.rstrip())
        if not lines or lines[0][2]:  # no boundary line, or only a closing one
            return None
        default = "message/rfc822" if ctype == "multipart/digest" else "text/plain"
        body = self.body
        children: list[Part] = []
        for (_start, after, closing), following in zip(lines, [*lines[1:], None], strict=True):
            if closing:
                break
            end = _line_end_before(body, following[0]) if following else len(body)
            children.append(Part(body[after:end], default, self._depth + 1, self._budget))
            if self._budget.parts >= MAX_PARTS:
                break
        return children

    def is_multipart(self) -> bool:
        return self.children is not None

    def get_payload(self, decode: bool = False) -> list[Part] | str | bytes | None:
        """compat32's get_payload: the children, or the body text; with ``decode`` the
        leaf's bytes, transfer encoding undone (None for a container)."""
        children = self.children
        if decode:
            return None if children is not None else self.decoded()
        return children if children is not None else self.body

    def decoded(self) -> bytes:
        """The body's bytes, transfer encoding undone (a container's raw body)."""
        return decode_transfer(self.body, self.transfer_encoding)

    def walk(self) -> Iterator[Part]:
        """This part and every part inside it, depth first (Message.walk's order); a
        part's children are parsed when the walk reaches them, as the nested walk did."""
        stack = [self]
        while stack:
            part = stack.pop()
            yield part
            children = part.children
            if children:
                stack.extend(reversed(children))


def parse(raw: bytes) -> Part:
    """The message in ``raw``; never raises (anything is some message)."""
    return Part(raw.decode("ascii", "surrogateescape"))
