"""A message as scorers read it (``MessageView``): header values, the MIME structure,
and decoded text views, each read lazily and once per message.

``rules`` matches SpamAssassin's views of the text (``body``, ``rawbody``, ``uris``);
``tokens`` reads the ``structure`` (each part's type, encoding and decoded text). Text
parts are decoded until ``MAX_TEXT`` characters were read, so one huge message cannot
stall a batch (SpamAssassin's body_part_scan_size does the same).
"""

from __future__ import annotations

import codecs
import html
import re
from typing import TYPE_CHECKING, NamedTuple

from hrdp.lazy import cached_property

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage
    from hrdp.mime import Part

MAX_TEXT = 20_000  # decoded characters read per message (SpamBayes reads all; we cap)
MAX_HEADER = 4_000  # characters of one header value read (a megabyte Subject is no clue)

# Tags and comments; stops at "<" so "<<<<..." stays linear. [^<>] written as the ranges
# around "<" and ">", which re checks faster than a negated set (7 KB of HTML: 34 -> 24
# us), and possessive: the ">" that ends a tag is not in the class, so none backtracks.
TAG = re.compile(r"<[\x00-;=?-\U0010ffff]*+>")
# Local part, domain. The look-behind lets a match start only where a local part starts:
# without it a long run of letters with no "@" is rescanned from every position (O(n^2)).
ADDRESS = re.compile(r"(?<![\w.+=!%~-])([\w.+=!%~-]+)@([\w-]+(?:\.[\w-]+)+)")
SCHEMES = ("https", "http", "ftp")
# Both start with a literal, which re scans for in C. The scheme before "://" is captured
# by look-behinds after it (a scheme group first would try every "h" and "f"); an address
# with another scheme is matched all the same and skipped, so no URI inside it is taken.
_URI = re.compile(r"(://(?:(?<=(https)://)|(?<=(http)://)|(?<=(ftp)://))?[^\s<>\"']+)")
_MAILTO = re.compile(r"mailto:[^\s<>\"']+")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s\";]+)", re.IGNORECASE)



class PartInfo(NamedTuple):
    """What is read of one MIME part (``Part.walk()`` order)."""

    ctype: str  # as Part.get_content_type() gives it
    encoding: str  # the Content-Transfer-Encoding field as written ("" when absent)
    disposition: str  # the Content-Disposition field ("" when absent)
    charset: str | None  # the Content-Type charset parameter, lower-cased (None: none)
    text: str | None  # decoded text of a text part read within MAX_TEXT, else None


# Codecs that read every ASCII byte as the same character (the common charsets of mail,
# checked byte for byte in tests/test_rules_scorer.py): an ASCII body that is neither
# base64 nor quoted-printable is then its own decoded text, with no bytes in between.
_ASCII_CODECS = frozenset(codecs.lookup(name).name for name in (
    "ascii", "utf-8", "latin-1", *(f"iso-8859-{n}" for n in (*range(2, 12), *range(13, 17))),
    *(f"windows-{n}" for n in range(1250, 1259)), "koi8-r", "koi8-u", "gb2312", "gbk",
    "gb18030", "big5", "big5hkscs", "euc-kr", "cp949", "euc-jp", "shift_jis", "cp932",
    "mac-roman", "cp437", "cp850", "tis-620"))
_TRANSFER_ENCODED = frozenset({"base64", "quoted-printable"})  # what decode_transfer undoes
_ASCII_SAME: dict[str | None, bool] = {None: True}  # charset name: in _ASCII_CODECS
_ASCII_SAME_MAX = 256  # charset names remembered (a batch has a few dozen)


def _ascii_same(charset: str | None) -> bool:
    """``charset`` decodes ASCII bytes as themselves (None: latin-1, which does)."""
    same = _ASCII_SAME.get(charset)
    if same is None:
        try:
            same = codecs.lookup(charset or "").name in _ASCII_CODECS
        except Exception:  # unknown or odd name: _decoded's own path decides, not this
            same = False
        if len(_ASCII_SAME) < _ASCII_SAME_MAX:
            _ASCII_SAME[charset] = same
    return same


def _decoded(part: Part, charset: str | None, encoding: str = "") -> str:
    """A text part's payload, transfer- and charset-decoded (latin-1 when unknown).
    ``encoding`` is its Content-Transfer-Encoding field as written ("" when absent)."""
    body = part.body
    if (body.isascii() and encoding.strip().lower() not in _TRANSFER_ENCODED
            and _ascii_same(charset)):
        return body  # what the bytes would decode to: ASCII read as ASCII
    data = part.decoded()
    try:
        return data.decode(charset or "latin-1", "replace")
    except (LookupError, ValueError):  # unknown charset name: bytes as latin-1
        return data.decode("latin-1")


def read_parts(msg: Part) -> list[PartInfo]:
    """Every part of ``msg``; text parts decoded until MAX_TEXT characters were read."""
    parts: list[PartInfo] = []
    budget = MAX_TEXT
    for part in msg.walk():
        get = part.get
        content_type = get("content-type")
        encoding = get("content-transfer-encoding") or ""
        disposition = get("content-disposition") or ""
        ctype = part.get_content_type()
        # _CHARSET opens with ";": a value without one (the most common) has no charset.
        found = _CHARSET.search(content_type) if content_type and ";" in content_type else None
        charset = found.group(1).lower() if found else None
        text = None
        if budget > 0 and ctype.startswith("text/") and part.children is None:
            text = _decoded(part, charset, encoding)[:budget]
            budget -= len(text)
        parts.append(PartInfo(ctype, encoding, disposition, charset, text))
    return parts


class MessageView:
    """A message as scorers read it, each piece decoded lazily and once: header values,
    MIME ``structure``, and SpamAssassin's views of the text: ``body`` (rendered text),
    ``rawbody`` (HTML kept) and ``uris``. Built per message and never shared, so scorers
    that use it stay thread-safe."""

    def __init__(self, message: ParsedMessage) -> None:
        self.message = message
        self._headers: dict[str, list[str]] = {}

    def headers(self, name: str) -> list[str]:
        """Every occurrence of a header, decoded (ParsedMessage.headers), read once. A field
        written once is ParsedMessage.header's value: decoded once for the checks, the
        rules and the rest of hrdp (the raw table counts them, as hrdp.dsn.screen reads it)."""
        key = name.lower()
        values = self._headers.get(key)
        if values is None:
            raw = self.message._raw_headers.get(key, ())
            values = [self.message.header(key)] if len(raw) == 1 else self.message.headers(key)
            self._headers[key] = values
        return values

    def header(self, name: str) -> str:
        """The first occurrence of a header, decoded ("" when absent; cached by the message)."""
        return self.message.header(name)

    @cached_property
    def structure(self) -> list[PartInfo]:
        return read_parts(self.message.msg)

    @cached_property
    def parts(self) -> list[tuple[str, str, str]]:
        """(content type, transfer encoding, decoded text) of every text part read."""
        return [(part.ctype, part.encoding.strip().lower(), part.text)
                for part in self.structure if part.text is not None]

    @cached_property
    def rendered(self) -> list[str]:
        """Each text part as a reader sees it: HTML tags dropped, entities decoded."""
        return [render_html(text) if ctype == "text/html" else text
                for ctype, _cte, text in self.parts]

    @cached_property
    def rawbody(self) -> str:
        return "\n".join(text for _ctype, _cte, text in self.parts)

    @cached_property
    def body(self) -> str:
        if not self.has_html:
            return self.rawbody  # the same text: one string, so lowered is rawbody_lowered
        return "\n".join(self.rendered)

    @cached_property
    def has_html(self) -> bool:
        return any(ctype == "text/html" for ctype, _cte, _text in self.parts)

    @cached_property
    def lowered(self) -> str:
        return self.rawbody_lowered if self.body is self.rawbody else self.body.lower()

    @cached_property
    def folded(self) -> str:
        """The body lower-cased, whitespace runs folded to one space (Rule.hits' phrases)."""
        return " ".join(self.lowered.split())

    @cached_property
    def rawbody_lowered(self) -> str:
        return self.rawbody.lower()

    @cached_property
    def uris(self) -> list[str]:
        """URIs of the raw body, lower-cased (a case-blind scan is 5x slower)."""
        text = self.rawbody_lowered
        # Both regexes open with a literal that a str search finds faster than they do;
        # a body without it (most have no mailto:, a fifth no "://") has no match.
        uris = [https + http + ftp + rest for rest, https, http, ftp in _URI.findall(text)
                if https or http or ftp] if "://" in text else []
        return uris + _MAILTO.findall(text) if "mailto:" in text else uris


# html.unescape's own regex: what it replaces is a function of the matched text alone.
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
_ENTITIES: dict[str, str] = {}  # "&nbsp;": "\xa0", as html.unescape reads each
_ENTITIES_MAX = 4096  # entities remembered (a few dozen make most of mail)


def _entity(match: re.Match[str]) -> str:
    text = match.group()
    found = _ENTITIES.get(text)
    if found is None:
        found = html.unescape(text)  # the same match, alone: the same replacement
        if len(_ENTITIES) < _ENTITIES_MAX:
            _ENTITIES[text] = found
    return found


def unescape(text: str) -> str:
    """html.unescape(text), each distinct reference decoded once (its per-reference
    Python work was a fifth of rendering HTML)."""
    return _CHARREF.sub(_entity, text) if "&" in text else text


def render_html(html_text: str) -> str:
    """HTML as text: tags dropped, entities decoded."""
    return unescape(TAG.sub(" ", html_text))
