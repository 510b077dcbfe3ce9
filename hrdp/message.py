"""Parse one message once and read the facts hrdp needs from it.

Parsing uses ``hrdp.mime``: compat32's rules (it never raises on the odd headers real
mail carries: ``Message-ID: <>``, unknown charsets, 8-bit bytes) at a fraction of the
stdlib parser's cost, and a part's body is split only when it is read. Facts are read
lazily so a DSN needs no sender parsing and a sender check needs no body walk.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from collections.abc import Set
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from functools import lru_cache
from typing import Literal

import idna

from hrdp import mime
from hrdp.lazy import cached_property
from hrdp.mime import FIELD_KEYS, field_key

SenderSource = Literal["envelope", "header", "none"]

# RFC 5322 field name: printable US-ASCII except colon. Used to tell a header block
# from junk without a full parse.
_FIELD_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
# A host name label (RFC 1123) after IDNA encoding.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4ISH = re.compile(r"^[0-9.]+$")
# A bare addr-spec, or a display name without quotes, commas or comments before <addr>.
_SIMPLE_ADDRESS = re.compile(
    r"^\s*(?:([^\s<>@\",;:()\[\]]+@[^\s<>@\",;:()\[\]]+)"
    r"|[^<>@\",;:()\[\]\\]*<([^\s<>@\",;:()\[\]]+@[^\s<>@\",;:()\[\]]+)>)\s*$"
)


def looks_like_header_block(data: bytes) -> bool:
    """True when ``data`` opens with an RFC 5322 header field (blank lines allowed first)."""
    head = data.lstrip(b"\r\n")[:1000]
    return bool(_FIELD_LINE.match(head))


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(\?=)\s+(=\?)")


def _decode_word(match: re.Match[str]) -> str:
    charset, encoding, payload = match.group(1), match.group(2).upper(), match.group(3)
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
    try:
        if encoding == "B":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4))
        else:
            data = quopri.decodestring(payload.replace("_", " "), header=True)
        return data.decode(charset, "replace")
    except (LookupError, ValueError, binascii.Error):
        return match.group(0)


def decode_text(value: str | None) -> str:
    """An RFC 2047-decoded, one-line header value; never raises on broken encodings.

    compat32 keeps undecodable 8-bit bytes as surrogate escapes; they are read as UTF-8
    (RFC 6532) and replaced where they are not. The stdlib decode_header() mangles such
    values, so encoded words are decoded here.
    """
    if not value:
        return ""
    # The common case, nothing to decode or unfold: printable ASCII (no tab or line end)
    # with no run of spaces. Four C scans: a regex for the same costs several times more.
    if value.isascii() and value.isprintable() and "=?" not in value and "  " not in value:
        return value.strip()
    text = str(value).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if "=?" in text:
        text = _ENCODED_WORD.sub(_decode_word, _BETWEEN_WORDS.sub(r"\1\2", text))
    return " ".join(text.split())


@dataclass(frozen=True)
class Domain:
    """The sender domain as DNS will be asked about it, or why it will not be asked."""

    name: str  # lower-case A-label without trailing dot ("" when none)
    skip: str = ""  # non-empty: why no query is made ("domain literal", "null sender", ...)
    invalid: bool = False  # not a valid host name: "not found" without a query (Postfix)


@lru_cache(maxsize=4096)  # a few senders' domains make most of an archive
def normalise_domain(domain: str) -> Domain:
    """Lower-case, strip one trailing dot, convert to the IDNA A-label (RFC 5890).

    Follows Postfix's reject_unknown_sender_domain: domain literals are skipped, and a
    name that is an IP address or not a valid host name is "not found" with no query.
    """
    name = domain.strip().lower()
    if name.startswith("[") and name.endswith("]"):
        return Domain(name, skip="domain literal")
    if name.endswith("."):
        name = name[:-1]
    if not name:
        return Domain("", skip="no domain")
    if not name.isascii():
        try:
            name = idna.encode(name, uts46=True).decode("ascii")
        except idna.IDNAError:
            return Domain(name, invalid=True)
    labels = name.split(".")
    valid = (
        len(name) <= 253
        and len(labels) >= 1
        and all(_LABEL.match(label) for label in labels)
        and not _IPV4ISH.match(name)
    )
    return Domain(name, invalid=not valid)


def _address(value: str) -> str:
    """The bare address in an address header value (first one), lower-cased domain kept."""
    simple = _SIMPLE_ADDRESS.match(value)
    if simple:  # "addr" or "Name <addr>": most headers; getaddresses() costs 10x more
        return simple.group(1) or simple.group(2)
    pairs = getaddresses([value])
    for _name, addr in pairs:
        if addr:
            return addr.strip()
    return parseaddr(value)[1].strip()


def address_domain(address: str) -> str:
    """The part after the last ``@`` (``""`` when there is none)."""
    _local, at, domain = address.rpartition("@")
    return domain if at else ""


@dataclass(frozen=True)
class Sender:
    address: str  # "" for the null sender or when unknown
    source: SenderSource
    domain: Domain


def _envelope_address(value: str) -> str | None:
    """Address inside a Return-Path value or an mbox ``From `` line sender.

    Returns "" for the null reverse path and None when the value says nothing usable.
    """
    text = value.strip()
    if text in ("<>", ""):
        return "" if text == "<>" else None
    if text.upper() == "MAILER-DAEMON":
        # mbox From_ lines of bounces written by local delivery agents.
        return ""
    addr = _address(text) if "<" in text else text.strip("<> ")
    if "@" not in addr or addr.startswith("???@"):
        return None
    return addr


# The same few senders make most of an archive: each value is read once, and the
# messages that share it share one (immutable) Sender, pickled once per batch.
@lru_cache(maxsize=2048)
def _envelope_sender(value: str) -> Sender | None:
    """The Sender an envelope value gives (see _envelope_address), None when none."""
    addr = _envelope_address(value)
    if addr is None:
        return None
    if addr == "":
        return Sender("", "envelope", Domain("", skip="null sender"))
    return Sender(addr, "envelope", normalise_domain(address_domain(addr)))


@lru_cache(maxsize=2048)
def _header_sender(value: str) -> Sender:
    """The Sender a decoded From header value gives."""
    addr = _address(value)
    if not addr:
        return Sender("", "none", Domain("", skip="no sender"))
    domain = address_domain(addr)
    if not domain:
        return Sender(addr, "header", Domain("", skip="no domain"))
    return Sender(addr, "header", normalise_domain(domain))


class ParsedMessage:
    """One message: raw bytes, its MIME tree (``hrdp.mime``), and lazily read facts."""

    def __init__(
        self, raw: bytes, mbox_from: str | None = None, envelope_from: str | None = None
    ) -> None:
        self.raw = raw
        # mbox_from: sender on the mbox ``From `` separator line ("MAILER-DAEMON" = null).
        self.mbox_from = mbox_from
        # envelope_from: given by the MTA (--envelope-from); beats what the message says.
        self.envelope_from = envelope_from
        self.msg: mime.Part = mime.parse(raw)
        self._decoded: dict[str, str] = {}

    @cached_property
    def _raw_headers(self) -> dict[str, list[str]]:
        """Values as written by lower-cased name (hrdp.mime's table of the message: built
        once, shared with ``msg.get``); 8-bit bytes are surrogate escapes until decode_text()."""
        return self.msg.table

    def header(self, name: str) -> str:
        """The first occurrence of a header, decoded and unfolded ("" when absent).
        Cached under the name as asked (and lower-cased, for a field that is there):
        detectors and scorers ask for the same few headers, most of them absent."""
        decoded = self._decoded
        cached = decoded.get(name)
        if cached is None:
            key = FIELD_KEYS.get(name) or field_key(name)
            values = self._raw_headers.get(key)
            if values is None:
                cached = decoded[name] = ""
            else:
                cached = decoded.get(key)
                if cached is None:
                    cached = decoded[key] = decode_text(values[0])
                decoded[name] = cached
        return cached

    def has_any(self, names: Set[str]) -> bool:
        """True when a field of one of ``names`` (lower-case) is there, even empty: a
        reader whose fields are all absent can answer without asking header() for each."""
        return not self._raw_headers.keys().isdisjoint(names)

    def headers(self, name: str) -> list[str]:
        """Every occurrence of a header, top first, decoded and unfolded."""
        return [decode_text(v) for v in self._raw_headers.get(name.lower(), ())]

    @cached_property
    def email(self) -> Message:
        """The stdlib's compat32 Message of the same bytes, parsed on first use: for
        plugins that want the whole ``email.message`` API (hrdp itself reads ``msg``)."""
        return message_from_bytes(self.raw, policy=compat32)

    @property
    def has_headers(self) -> bool:
        return bool(self.msg.raw_items())

    @property
    def message_id(self) -> str:
        return self.header("Message-ID").strip()

    @cached_property
    def sender(self) -> Sender:
        """Envelope sender when known (--envelope-from, then Return-Path, then the mbox
        From_ line), else the header From. A null envelope sender is known: DNS is
        skipped for it, as Postfix skips ``<>``."""
        for candidate in (self.envelope_from, self._return_path(), self.mbox_from):
            if candidate is not None:
                sender = _envelope_sender(candidate)
                if sender is not None:
                    return sender
        return _header_sender(self.header("From"))

    def _return_path(self) -> str | None:
        # The topmost Return-Path is the one added at final delivery (RFC 5321 4.4).
        values = self._raw_headers.get("return-path")
        return decode_text(values[0]) if values else None
