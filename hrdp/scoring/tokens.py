"""Read a message's words: tokens for ``bayes`` (as SpamBayes' tokenizer.py makes them)
and the decoded text views ``rules`` match (``MessageView``, as SpamAssassin's body,
rawbody and uri rules see a message).

The choices follow what SpamBayes measured (Tim Peters' notes in tokenizer.py):

- Body words are split on whitespace only and keep their punctuation ("free!!", "$99"):
  splitting on non-letters lost accuracy. Text is lower-cased; words of 3-12 characters
  are kept, longer ones become a ``skip:<first char> <length//10*10>`` token.
- URLs are cracked into their protocol, host labels and path pieces before the words.
- HTML tags are dropped (their words would only say "this is HTML", which the
  ``content-type:text/html`` token already says), after their URLs were read.
- Headers give prefixed tokens ("subject:", "from:", "header:Name", "content-type:")
  so "free" in a Subject and "free" in a body are different clues. Trace headers that
  receiving MTAs add (Received, Delivered-To, Return-Path, ...) and other filters'
  verdicts (X-Spam-*) are skipped: they describe the inbound path, not the message.

Each message gives a set (a token counts once per message, as in SpamBayes). Reading
stops after ``MAX_TEXT`` characters of decoded text so one huge message cannot stall a
batch (SpamAssassin's body_part_scan_size does the same); tokenising stays a few
regexes and C-level splits per part.
"""

from __future__ import annotations

import html
import re
from email.message import Message
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

TOKENIZER_VERSION = 1  # stored in the model: a model is only valid for the tokens it learnt
MAX_TEXT = 20_000  # decoded characters read per message (SpamBayes reads all; we cap)
MIN_WORD, MAX_WORD = 3, 12  # SpamBayes' word length window
MAX_TOKEN = 40  # header values are clipped so tokens stay short
MAX_HEADER = 4_000  # characters of one header value read (a megabyte Subject is no clue)

# Header names that are not the author's doing: trace fields added on the way in,
# other filters' verdicts, and the fields a list server adds (RFC 2369/2919) - spam
# relayed through a list carries them too, and they would outvote its words.
SKIPPED_HEADERS = frozenset(
    {"received", "delivered-to", "return-path", "x-original-to", "envelope-to", "status",
     "x-status", "x-keywords", "x-uid", "x-uidl", "lines", "content-length", "x-spam",
     "x-spam-status", "x-spam-level", "x-spam-flag", "x-spam-checker-version",
     "x-spamd-result", "x-rspamd-score", "x-rspamd-action", "x-virus-scanned",
     "list-id", "list-unsubscribe", "list-subscribe", "list-post", "list-help",
     "list-archive", "list-owner", "x-beenthere", "x-mailman-version", "precedence",
     "errors-to", "sender", "x-original-date"}
)
# Applied to lower-cased text: IGNORECASE would make the scan three times slower.
_URL = re.compile(r"(https?|ftp)://([^\s<>\"'/?#:]+)[^\s<>\"']*")
_URL_PIECES = re.compile(r"[/?=&.#%:;_+~-]+")
_TAG = re.compile(r"<[^<>]*>")  # tags and comments; stops at "<" so "<<<<..." stays linear
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+\Z")
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@([^<>@\s]+)>\Z")
_DATE_ZONE = re.compile(r"\s([+-]\d{4})\b")
# Local part, domain. The look-behind lets a match start only where a local part starts:
# without it a long run of letters with no "@" is rescanned from every position (O(n^2)).
ADDRESS = re.compile(r"(?<![\w.+=!%~-])([\w.+=!%~-]+)@([\w-]+(?:\.[\w-]+)+)")
# Both start with a literal, which re scans for in C; the scheme is checked afterwards.
_URI_REST = re.compile(r"://[^\s<>\"']+")
_MAILTO = re.compile(r"mailto:[^\s<>\"']+")
_SCHEMES = ("https", "http", "ftp")
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s\";]+)", re.IGNORECASE)
_FILENAME = re.compile(r"\bname\s*=\s*\"?([^\";]+)", re.IGNORECASE)


def _clip(value: str) -> str:
    return " ".join(value.lower().split())[:MAX_TOKEN]


def _bucket(count: int) -> str:
    """SpamBayes' log2 count buckets ("2**3"): 5 and 6 recipients are one clue."""
    return f"2**{max(count, 1).bit_length() - 1}"


def _address_tokens(prefix: str, value: str, tokens: set[str], *, full: bool) -> int:
    """Domain tokens of the addresses in a header (a regex, not getaddresses(): 10x
    cheaper, and a malformed list still gives its domains); with ``full``, the first
    address and its display-name words as well (SpamBayes' "from:addr:"/"from:name:")."""
    found = ADDRESS.findall(value[:MAX_HEADER])
    tokens.update(f"{prefix}dom:{domain.lower()[:MAX_TOKEN]}" for _local, domain in found[:10])
    if value and not found:
        tokens.add(f"{prefix}dom:none")
    if full and found:
        local, domain = found[0]
        tokens.add(f"{prefix}addr:{local.lower()}@{domain.lower()}"[: len(prefix) + 5 + MAX_TOKEN])
        name = value.partition("<")[0] if "<" in value else ""
        words = name.replace('"', " ").lower().split()
        tokens.update(f"{prefix}name:{w[:MAX_TOKEN]}" for w in words)
        if not words:
            tokens.add(f"{prefix}noname")
    return len(found)


def header_tokens(message: ParsedMessage, tokens: set[str]) -> None:
    """Tokens from the header: names present, subject words, addresses, mailer, ids."""
    for name in message.msg:  # header names, in order
        if name.lower() not in SKIPPED_HEADERS:
            tokens.add(f"header:{name[:MAX_TOKEN]}")  # case kept: spamware spells oddly
    subject = message.header("Subject")[:MAX_HEADER]
    tokens.update(f"subject:{w[:MAX_TOKEN]}" for w in subject.split())  # case kept
    if not subject:
        tokens.add("subject:none")
    _address_tokens("from:", message.header("From"), tokens, full=True)
    _address_tokens("reply-to:", message.header("Reply-To"), tokens, full=False)
    count = _address_tokens("to:", message.header("To"), tokens, full=False)
    count += _address_tokens("cc:", message.header("Cc"), tokens, full=False)
    tokens.add(f"rcpts:{_bucket(count)}" if count else "rcpts:none")
    mailer = message.header("X-Mailer") or message.header("User-Agent")
    tokens.add(f"mailer:{_clip(mailer)}" if mailer else "mailer:none")
    found = _MESSAGE_ID.match(message.header("Message-ID").strip())
    tokens.add(f"message-id:@{found.group(1).lower()[:MAX_TOKEN]}" if found else "message-id:bad")
    zone = _DATE_ZONE.search(message.header("Date"))
    tokens.add(f"date-zone:{zone.group(1)}" if zone else "date-zone:none")


def _crack_url(match: re.Match[str], tokens: set[str]) -> str:
    """SpamBayes' crack_urls: "proto:http", host labels, path pieces; the URL is removed."""
    tokens.add(f"proto:{match.group(1).lower()}")
    host = match.group(2).lower()
    if _IP.match(host):
        tokens.add("url:ip-address")
    else:
        labels = host.split(".")
        tokens.update(f"url:{label[:MAX_TOKEN]}" for label in labels)
        tokens.add(f"url-host:{'.'.join(labels[-2:])[:MAX_TOKEN]}")
    rest = match.group(0)[len(match.group(1)) + 3 + len(host) :]
    tokens.update(f"url:{piece[:MAX_TOKEN]}" for piece in _URL_PIECES.split(rest) if piece)
    return " "


def text_tokens(text: str, is_html: bool, tokens: set[str]) -> None:
    """Tokens from one decoded text part (lower-cased, URLs cracked, tags dropped)."""
    text = text.lower()
    if "://" in text:
        text = _URL.sub(lambda m: _crack_url(m, tokens), text)
    if is_html or "</" in text:
        text = _TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    for word in set(text.split()):
        size = len(word)
        if MIN_WORD <= size <= MAX_WORD:
            tokens.add(word)
        elif size > MAX_WORD:
            if "@" in word:  # an address glued to text: its domain is the clue
                tokens.add(f"email:{word.rpartition('@')[2][:MAX_TOKEN]}")
            else:
                tokens.add(f"skip:{word[0]} {size // 10 * 10}")


def decoded_text(part: Message, charset: str | None = None) -> str:
    """A text part's payload, transfer- and charset-decoded (latin-1 when unknown)."""
    if charset is None:
        found = _CHARSET.search(str(part.get("Content-Type", "")))
        charset = found.group(1).lower() if found else "latin-1"
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    try:
        return data.decode(charset, "replace")
    except (LookupError, ValueError):  # unknown charset name: bytes as latin-1
        return data.decode("latin-1")


def _part_tokens(part: Message, tokens: set[str]) -> str | None:
    """Structure tokens of one MIME part; its text when it is a text part to read.

    Header parameters are read with two regexes instead of get_param(), which parses
    every parameter of the field on each call (a third of the tokenising time)."""
    ctype = part.get_content_type()
    tokens.add(f"content-type:{ctype[:MAX_TOKEN]}")
    found = _CHARSET.search(str(part.get("Content-Type", "")))
    charset = found.group(1).lower()[:MAX_TOKEN] if found else "latin-1"
    if found:
        tokens.add(f"charset:{charset}")
    encoding = part.get("Content-Transfer-Encoding")
    if encoding:
        tokens.add(f"encoding:{_clip(str(encoding))}")
    found = _FILENAME.search(str(part.get("Content-Disposition", "")))
    if found:
        tokens.add(f"filename-ext:{_clip(found.group(1).rpartition('.')[2])}")
    if not ctype.startswith("text/") or part.is_multipart():
        return None
    return decoded_text(part, charset)


def tokenize(message: ParsedMessage) -> set[str]:
    """Every token of ``message``: header tokens, then the words of its text parts."""
    tokens: set[str] = set()
    header_tokens(message, tokens)
    budget = MAX_TEXT
    for part in message.msg.walk():
        text = _part_tokens(part, tokens)
        if not text or budget <= 0:
            continue
        text_tokens(text[:budget], part.get_content_subtype() == "html", tokens)
        budget -= len(text)
    return tokens


class MessageView:
    """A message's text as SpamAssassin's rules read it: ``body`` (rendered text),
    ``rawbody`` (HTML kept) and ``uris``; decoded lazily, once. Built per message and
    never shared, so scorers that use it stay thread-safe."""

    def __init__(self, message: ParsedMessage) -> None:
        self.message = message

    @cached_property
    def parts(self) -> list[tuple[str, str, str]]:
        """(content type, transfer encoding, decoded text) of every text part."""
        found: list[tuple[str, str, str]] = []
        budget = MAX_TEXT
        for part in self.message.msg.walk():
            ctype = part.get_content_type()
            if not ctype.startswith("text/") or part.is_multipart() or budget <= 0:
                continue
            text = decoded_text(part)[:budget]
            budget -= len(text)
            found.append((ctype, str(part.get("Content-Transfer-Encoding", "")).strip().lower(),
                          text))
        return found

    @cached_property
    def rawbody(self) -> str:
        return "\n".join(text for _ctype, _cte, text in self.parts)

    @cached_property
    def body(self) -> str:
        """Text as a reader sees it: HTML tags dropped, entities decoded."""
        html_type = "text/html"
        return "\n".join(render_html(t) if c == html_type else t for c, _cte, t in self.parts)

    @cached_property
    def folded(self) -> str:
        """The body lower-cased, whitespace runs folded to one space: what phrases match."""
        return " ".join(self.body.lower().split())

    @cached_property
    def uris(self) -> list[str]:
        """URIs of the raw body, lower-cased (a case-blind scan is 5x slower)."""
        text = self.rawbody.lower()
        uris = []
        for match in _URI_REST.finditer(text):
            before = text[max(0, match.start() - 5) : match.start()]
            scheme = next((s for s in _SCHEMES if before.endswith(s)), None)
            if scheme is not None:
                uris.append(scheme + match.group(0))
        return uris + _MAILTO.findall(text)


def render_html(html_text: str) -> str:
    """HTML as text: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub(" ", html_text))
