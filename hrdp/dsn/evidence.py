"""The facts every detector reads, taken from one message once and cheaply.

Detectors run one after another on the same message; the header facts, the part
list and the decoded notice text are computed on first use and cached for that
message (weakly, so nothing outlives the message). Text is capped: a bounce says
what it has to say in its first few kilobytes, and archives hold multi-megabyte
attachments that must never be decoded whole.
"""

from __future__ import annotations

import re
import threading
import weakref

from hrdp.dsn.decoding import TEXT_CAP, at_line_start, lowered, part_text, strip_html
from hrdp.dsn.headers import Headers, attached_headers, copied_headers, parse_address
from hrdp.lazy import cached_property
from hrdp.message import ParsedMessage
from hrdp.mime import Part

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
# Substrings one of the two patterns above needs (or a null address), searched in
# lower-cased text before any parsing: one search for all of them.
DAEMON_TOKEN = re.compile(r"daemon|master|deliver|system|administrator|ndr|<>")

# Where the returned message starts: the separators MTAs write before the copy
# (qmail "--- Below this line is a copy of the message.", Exim "------ This is a copy
# of the message, including all the headers. ------", sendmail "----- Unsent message
# follows -----", Google "----- Original message -----", DragonFly "Message headers
# follow.", OpenSMTPD "Below is a copy of the original message:"), or a header block
# (Zoho writes its first line without the space: "Received:from mail.zoho.com ...").
# Quantifiers are possessive or bounded: a 64 KiB line of dashes must stay linear.
BOUNDARY = re.compile(
    r"^[ \t]*\|?(?:-{2,}+|={2,}+|\*{2,}+)[^\n]{0,80}?(?:original message|copy of the message|"
    r"unsent message|message follows|returned message|message header|original mail|"
    r"headers of the|original headers|rfc822|message text|returned mail)"
    r"|^[ \t]*(?:message headers follow|below is a copy of|included is a copy of|"
    r"original message headers?:|original message follows)"
    r"|^(?:Received|Return-Path|Message-I[Dd]|DKIM-Signature|Delivered-To|ARC-Seal|"
    r"X-Received|Authentication-Results):[ ]?\S",
    re.IGNORECASE | re.MULTILINE,
)
_BOUNDARY_LINES = at_line_start(lowered(BOUNDARY))
# RFC 6522 report-type parameter, quoted or not (read without get_param's full parse).
_REPORT_TYPE = re.compile(r"(?i);\s*report-type\s*=\s*\"?\s*([\w.-]+)")


def walk(msg: Part) -> list[tuple[Part, str]]:
    """The parts of the report itself with their content types, depth first; returned
    messages are not entered."""
    found: list[tuple[Part, str]] = []
    stack: list[tuple[Part, int]] = [(msg, 0)]
    while stack and len(found) < MAX_PARTS:
        part, depth = stack.pop()
        ctype = part.get_content_type()
        found.append((part, ctype))
        if depth < MAX_DEPTH and ctype.startswith("multipart/"):
            children = part.children
            if children:
                stack.extend((child, depth + 1) for child in reversed(children))
    return found


def lower_same_length(text: str) -> str:
    """``text.lower()``, position for position: match offsets in it hold in ``text``
    (a few characters, such as U+0130, lower-case to two and are kept as they are)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _is_plain(part: Part, ctype: str) -> bool:
    """text/plain, or a multipart whose boundary was lost (broken MIME: its body is
    text we can still read)."""
    if ctype == "text/plain":
        return True
    return ctype.startswith("multipart/") and part.children is None


_RETURNED_TYPES = ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")


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
        value = self.message.msg.get("Content-Type") or ""
        if not value.isascii() or "=?" in value:
            value = self.message.header("Content-Type")
        # Otherwise read as written: decoding would only unfold it, and the pattern
        # allows any white space where folding can be.
        match = _REPORT_TYPE.search(value)
        return match.group(1).lower() if match else ""

    @cached_property
    def subject(self) -> str:
        return self.message.header("Subject")

    @cached_property
    def from_pair(self) -> tuple[str, str]:
        name, address = parse_address(self.message.header("From"))
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
        if DAEMON_TOKEN.search(raw_from) is None and DAEMON_TOKEN.search(raw_envelope) is None:
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
    def typed_parts(self) -> list[tuple[Part, str]]:
        """(part, content type) of every part ``walk`` visits."""
        return walk(self.message.msg)

    @cached_property
    def parts(self) -> list[Part]:
        return [part for part, _ctype in self.typed_parts]

    @cached_property
    def part_types(self) -> frozenset[str]:
        return frozenset(ctype for _part, ctype in self.typed_parts)

    @cached_property
    def notice(self) -> str:
        """The human-readable text of the report (plain text, else HTML without tags),
        capped at TEXT_CAP characters; returned messages inside message/rfc822 are left out.
        A one-part message's whole body counts, returned copy included."""
        plain = [part for part, ctype in self.typed_parts if _is_plain(part, ctype)]
        html_only = not plain
        chosen = plain or [part for part, ctype in self.typed_parts if ctype == "text/html"]
        chunks: list[str] = []
        left = TEXT_CAP
        for part in chosen:
            if left <= 0:
                break
            text = part_text(part, left)
            chunks.append(strip_html(text) if html_only else text)
            left -= len(text)
        return "\n".join(chunks)

    @cached_property
    def notice_lower(self) -> str:
        return lower_same_length(self.notice)

    @cached_property
    def lines_lower(self) -> str:
        """ "\\n" + notice_lower, for patterns made by ``decoding.at_line_start``."""
        return "\n" + self.notice_lower

    @cached_property
    def _boundary(self) -> int:
        """Where the copy of the returned message starts in the notice (-1: none)."""
        match = _BOUNDARY_LINES.search(self.lines_lower)
        return match.start() if match else -1

    @cached_property
    def section(self) -> str:
        """The notice before the copy of the returned message."""
        return self.notice[: self._boundary] if self._boundary >= 0 else self.notice

    @cached_property
    def section_lower(self) -> str:
        return self.notice_lower[: len(self.section)]

    @cached_property
    def returned(self) -> Headers | None:
        """The header block of the returned message: a message/rfc822 or
        text/rfc822-headers part (RFC 6522 section 3), else the copy a plain-text notice
        carries after its separator line."""
        for part, ctype in self.typed_parts:
            if ctype in _RETURNED_TYPES:
                found = attached_headers(part)
                if found is not None:
                    return found
                break
        if self._boundary < 0:
            return None
        return copied_headers(self.notice, self._boundary)


_CACHE: weakref.WeakKeyDictionary[ParsedMessage, Evidence] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()
# The message asked about last (weakly) and its Evidence: every detector asks again for
# the same message, and this answers without the lock and the weak dictionary's lookup.
_last: tuple[weakref.ref[ParsedMessage], Evidence] | None = None


def evidence(message: ParsedMessage) -> Evidence:
    """The cached Evidence of ``message`` (one per message, shared by all detectors)."""
    global _last
    last = _last  # one read: another thread may replace it meanwhile
    if last is not None and last[0]() is message:
        return last[1]
    with _LOCK:
        found = _CACHE.get(message)
        if found is None:
            found = _CACHE[message] = Evidence(message)
    _last = (weakref.ref(message), found)
    return found
