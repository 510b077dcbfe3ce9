"""The facts every detector reads, taken from one message once and cheaply.

Detectors run one after another on the same message; the header facts, the part
list and the decoded notice text are computed on first use and cached for that
message (weakly, so nothing outlives the message). Text is capped: a bounce says
what it has to say in its first few kilobytes, and archives hold multi-megabyte
attachments that must never be decoded whole.
"""

from __future__ import annotations

import binascii
import html
import quopri
import re
import threading
import weakref
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import parseaddr
from functools import cached_property

from hrdp.message import ParsedMessage, decode_text

TEXT_CAP = 64 * 1024  # characters of notice text scanned per message
FIELDS_CAP = 1024 * 1024  # characters of delivery-status fields read per report
MAX_PARTS = 200  # MIME parts visited per message (flanker's "enclosed-endless" nests forever)
MAX_DEPTH = 8

# Local parts and display names that bounce senders use (RFC 5321 4.5.5 postmaster,
# MAILER-DAEMON by convention since sendmail; display names of Postfix, sendmail, Exim,
# Exchange, PMDF and Lotus Notes).
_DAEMON_LOCAL = re.compile(
    r"^(?:mailer[-_.]?daemon|post[-_]?master|mail[-_.]?delivery[-_.]?(?:sub)?system"
    r"|mdaemon|ndr)$"
)
_DAEMON_NAME = re.compile(
    r"^(?:the )?(?:mailer[- ]?daemon|mail deliver(?:y)? (?:sub)?system|mail delivery service"
    r"|(?:mail )?delivery subsystem|mail administrator|postmaster|internet mail delivery"
    r"|system administrator|mmsc ndr administrator|mail system)\b",
    re.IGNORECASE,
)
# Substrings one of the two patterns above needs; checked before any parsing.
_DAEMON_TOKENS = ("daemon", "master", "deliver", "system", "administrator", "ndr", "<>")
_TAG = re.compile(r"<[^<>]{0,2000}>")  # bounded: unclosed "<" runs stay linear
_SPACE_RUNS = re.compile(r"[ \t]+")


def normalise_newlines(text: str) -> str:
    """``\\n`` line ends whatever the file used (CRLF, CR only, or DragonFly's CRCRLF)."""
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

    compat32 keeps 8-bit bytes as surrogate escapes, so encoding back with
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


def raw_payload(part: Message) -> str | None:
    """A leaf part's body as parsed, 8-bit bytes still surrogate escapes (None for
    containers). ``get_payload()`` would already have decoded them with the declared
    charset (ASCII when none) and replaced what did not fit; decode_body decodes once."""
    payload = vars(part).get("_payload")
    return payload if isinstance(payload, str) else None


def part_text(part: Message, cap: int = TEXT_CAP) -> str:
    """The decoded text of a leaf part ("" for containers); never raises."""
    payload = raw_payload(part)
    if payload is None:
        return ""
    encoding = str(part.get("Content-Transfer-Encoding", ""))
    return decode_body(payload, encoding, part.get_content_charset(), cap)


def field_text(part: Message) -> str:
    """The field text of a delivery-status (or disposition-notification) part,
    however compat32 stored it.

    compat32 parses message/delivery-status into one Message per block and
    message/global-delivery-status into one Message (first block as headers); a line
    it cannot read as a header ("Status : 5.1.1") ends the headers and lands in the body.
    """
    payload = part.get_payload()
    if isinstance(payload, str):
        return part_text(part, FIELDS_CAP)
    chunks: list[str] = []
    for block in payload:
        if not isinstance(block, Message):
            continue
        chunk = "\n".join(f"{name}: {value}" for name, value in block.raw_items())
        body = raw_payload(block)
        if body is not None and body.strip():
            # After a clean header block the parser ate the blank line; after a
            # defect the body starts at the line it could not read.
            chunk += ("\n" if block.defects else "\n\n") + body
        chunks.append(chunk)
    text = "\n\n".join(chunks)
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding not in ("base64", "quoted-printable"):
        encoding = "8bit"
    # Reports for big lists name thousands of recipients: a larger cap than prose.
    return decode_body(text, encoding, part.get_content_charset() or "utf-8", FIELDS_CAP)


def strip_html(text: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</tr>", "\n", text)
    return _SPACE_RUNS.sub(" ", html.unescape(_TAG.sub(" ", text)))


def walk(msg: Message) -> list[Message]:
    """The parts of the report itself, depth first; returned messages are not entered."""
    found: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack and len(found) < MAX_PARTS:
        part, depth = stack.pop()
        found.append(part)
        payload = part.get_payload()
        if not isinstance(payload, list) or depth >= MAX_DEPTH:
            continue
        if part.get_content_maintype() == "multipart":
            children = [child for child in payload if isinstance(child, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))
    return found


def attached_headers(part: Message) -> Message | None:
    """The header block of a returned message (message/rfc822, text/rfc822-headers)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        first = payload[0] if payload else None
        return first if isinstance(first, Message) else None
    text = part_text(part, 16 * 1024)
    if not text.strip():
        return None
    return HeaderParser(policy=compat32).parsestr(text.lstrip("\n"), headersonly=True)


def _is_plain(part: Message) -> bool:
    """text/plain, or a multipart whose boundary was lost (broken MIME: its body is
    text we can still read)."""
    ctype = part.get_content_type()
    if ctype == "text/plain":
        return True
    return ctype.startswith("multipart/") and isinstance(part.get_payload(), str)


class Evidence:
    """Cheap facts first (headers), then the part list, then decoded text.

    It holds its message weakly: ``_CACHE`` maps message -> Evidence weakly, and a
    strong reference back would keep every message of a run alive (and slow the
    garbage collector down with them)."""

    def __init__(self, message: ParsedMessage) -> None:
        self._message = weakref.ref(message)

    @property
    def message(self) -> ParsedMessage:
        message = self._message()
        if message is None:  # only if a caller kept the Evidence but not the message
            raise ReferenceError("the message of this Evidence is gone")
        return message

    @cached_property
    def content_type(self) -> str:
        return self.message.msg.get_content_type()

    @cached_property
    def report_type(self) -> str:
        """RFC 6522 report-type of a top-level multipart/report ("" otherwise)."""
        if self.content_type != "multipart/report":
            return ""
        value = self.message.msg.get_param("report-type", header="content-type")
        return value.strip().lower() if isinstance(value, str) else ""

    @cached_property
    def subject(self) -> str:
        return self.message.header("Subject")

    @cached_property
    def from_pair(self) -> tuple[str, str]:
        name, address = parseaddr(self.message.header("From"))
        return name, address.lower()

    @cached_property
    def _envelope_text(self) -> str:
        """Every place the envelope sender can come from, raw and lower-cased: read
        before ``message.sender`` is parsed, which most mail never needs here."""
        message = self.message
        parts = (message.envelope_from, message.mbox_from, message.header("Return-Path"))
        return " ".join(part for part in parts if part is not None).lower()

    @cached_property
    def null_sender(self) -> bool:
        """``MAIL FROM:<>`` as recorded in Return-Path or the mbox line (RFC 5321 4.5.5)."""
        text = self._envelope_text
        if text and "<>" not in text and "mailer-daemon" not in text:
            return False  # cheap: a real address, no parsing needed
        sender = self.message.sender
        return sender.source == "envelope" and not sender.address

    @cached_property
    def daemon_sender(self) -> bool:
        """From (or the envelope sender) is MAILER-DAEMON, postmaster or their kin."""
        raw_from = self.message.header("From").lower()
        raw_envelope = self._envelope_text
        if not any(token in raw_from or token in raw_envelope for token in _DAEMON_TOKENS):
            return False  # cheap: most mail is from people, no address parsing needed
        envelope = self.message.sender.address.lower()
        name, address = self.from_pair
        if not address and "<>" in raw_from:
            return True  # From: "Jetmail System" <>: only mail software writes a null From
        for addr in (address, envelope):
            local = addr.rpartition("@")[0] if "@" in addr else addr
            if local and _DAEMON_LOCAL.match(local.strip('"')):
                return True
        return bool(name and _DAEMON_NAME.match(name.strip("\"' ")))

    @cached_property
    def parts(self) -> list[Message]:
        return walk(self.message.msg)

    @cached_property
    def part_types(self) -> frozenset[str]:
        return frozenset(part.get_content_type() for part in self.parts)

    @cached_property
    def notice(self) -> str:
        """The human-readable text of the report (plain text, else HTML without tags),
        capped at TEXT_CAP characters; returned messages inside message/rfc822 are left out.
        A one-part message's whole body counts, returned copy included."""
        plain = [p for p in self.parts if _is_plain(p)]
        chosen = plain or [p for p in self.parts if p.get_content_type() == "text/html"]
        chunks: list[str] = []
        left = TEXT_CAP
        for part in chosen:
            if left <= 0:
                break
            text = part_text(part, left)
            if part.get_content_type() == "text/html":
                text = strip_html(text)
            chunks.append(text)
            left -= len(text)
        return "\n".join(chunks)

    def returned_headers(self) -> Message | None:
        """Headers of the returned original message, when the report carries them."""
        for part in self.parts:
            ctype = part.get_content_type()
            if ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
                return attached_headers(part)
        return None


def header_value(headers: Message, name: str) -> str:
    """A decoded header of an attached message ("" when absent)."""
    for key, value in headers.raw_items():
        if key.strip().lower() == name:
            return decode_text(value)
    return ""


_CACHE: weakref.WeakKeyDictionary[ParsedMessage, Evidence] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def evidence(message: ParsedMessage) -> Evidence:
    """The cached Evidence of ``message`` (one per message, shared by all detectors)."""
    with _LOCK:
        found = _CACHE.get(message)
        if found is None:
            found = _CACHE[message] = Evidence(message)
        return found
