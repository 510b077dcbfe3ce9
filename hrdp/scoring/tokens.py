"""A message's tokens for ``bayes``, as SpamBayes' tokenizer.py makes them, read from its
``MessageView`` (message_view.py: the MIME walk and the decoded text).

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

Each message gives a set (a token counts once per message, as in SpamBayes). Only the
first ``MAX_TEXT`` characters of decoded text are read (MessageView stops there);
tokenising stays a few regexes and C-level splits per part.
"""

from __future__ import annotations

import re
from itertools import compress
from typing import TYPE_CHECKING

from hrdp.scoring.message_view import (
    ADDRESS,
    MAX_HEADER,
    MAX_TEXT,
    SCHEMES,
    TAG,
    MessageView,
    PartInfo,
    read_parts,
    render_html,
    unescape,
)

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

__all__ = [  # MessageView and its helpers were defined here first: still importable here
    "ADDRESS",
    "MAX_HEADER",
    "MAX_TEXT",
    "MAX_TOKEN",
    "MAX_WORD",
    "MIN_WORD",
    "SKIPPED_HEADERS",
    "TOKENIZER_VERSION",
    "MessageView",
    "PartInfo",
    "header_tokens",
    "long_words",
    "read_parts",
    "read_tokens",
    "render_html",
    "text_tokens",
    "tokenize",
]

TOKENIZER_VERSION = 1  # stored in the model: a model is only valid for the tokens it learnt
MIN_WORD, MAX_WORD = 3, 12  # SpamBayes' word length window
MAX_TOKEN = 40  # header values are clipped so tokens stay short

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
_IP = re.compile(r"\d+\.\d+\.\d+\.\d+\Z")
_MESSAGE_ID = re.compile(r"<[^<>@\s]+@([^<>@\s]+)>\Z")
_DATE_ZONE = re.compile(r"\s([+-]\d{4})\b")
_URL_TAIL = re.compile(r"://([^\s<>\"'/?#:]+)([^\s<>\"']*)")  # _URL after the scheme
_FILENAME = re.compile(r"\bname\s*=\s*\"?([^\";]+)", re.IGNORECASE)

_KEPT_SIZES = frozenset(range(MIN_WORD, MAX_WORD + 1))


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


def header_tokens(view: MessageView, tokens: set[str]) -> None:
    """Tokens from the header: names present, subject words, addresses, mailer, ids."""
    names = view.message.msg.keys()  # a list: faster than iterating the Message
    tokens.update(["header:" + name[:MAX_TOKEN] for name in names
                   if name.lower() not in SKIPPED_HEADERS])  # case kept: spamware spells oddly
    header = view.header
    subject = header("Subject")[:MAX_HEADER]
    tokens.update(f"subject:{w[:MAX_TOKEN]}" for w in subject.split())  # case kept
    if not subject:
        tokens.add("subject:none")
    _address_tokens("from:", header("From"), tokens, full=True)
    _address_tokens("reply-to:", header("Reply-To"), tokens, full=False)
    count = _address_tokens("to:", header("To"), tokens, full=False)
    count += _address_tokens("cc:", header("Cc"), tokens, full=False)
    tokens.add(f"rcpts:{_bucket(count)}" if count else "rcpts:none")
    mailer = header("X-Mailer") or header("User-Agent")
    tokens.add(f"mailer:{_clip(mailer)}" if mailer else "mailer:none")
    found = _MESSAGE_ID.match(header("Message-ID").strip())
    tokens.add(f"message-id:@{found.group(1).lower()[:MAX_TOKEN]}" if found else "message-id:bad")
    zone = _DATE_ZONE.search(header("Date"))
    tokens.add(f"date-zone:{zone.group(1)}" if zone else "date-zone:none")


def _url_tokens(proto: str, host: str, rest: str, tokens: set[str]) -> None:
    """SpamBayes' crack_urls: "proto:http", host labels, path pieces (of lower-cased text)."""
    if _IP.match(host):
        found = ["url:ip-address"]
    else:
        labels = host.split(".")
        found = ["url:" + label[:MAX_TOKEN] for label in labels]
        found.append("url-host:" + ".".join(labels[-2:])[:MAX_TOKEN])
    found.append("proto:" + proto)
    found += ["url:" + piece[:MAX_TOKEN] for piece in _URL_PIECES.split(rest) if piece]
    tokens.update(found)


def _cut_urls(text: str, tokens: set[str]) -> str:
    """``_URL.sub(" ", text)``, each URL cracked into ``tokens`` on the way (a URL seen
    before in the text adds nothing new, so it is not cracked again).

    "://" is found first (a literal, which re scans for in C; the scheme alternation made
    re try a match at every "h" and "f") and its scheme read backwards. A "://" without a
    scheme is passed by one character, so a URL inside it is still found, as _URL finds it.
    """
    kept: list[str] = []
    seen: set[str] = set()
    pos = last = 0
    while (found := _URL_TAIL.search(text, pos)) is not None:
        start = found.start()
        for proto in SCHEMES:
            if text.endswith(proto, last, start):
                url = proto + found.group()
                if url not in seen:
                    seen.add(url)
                    _url_tokens(proto, found.group(1), found.group(2), tokens)
                kept += (text[last : start - len(proto)], " ")
                pos = last = found.end()
                break
        else:
            pos = start + 1
    kept.append(text[last:])
    return "".join(kept)


def text_tokens(text: str, is_html: bool, tokens: set[str], words: set[str]) -> None:
    """One decoded text part: URL tokens into ``tokens`` and then the whitespace-split words
    of the rest (lower-cased, tags dropped, entities decoded) into ``words``, unfiltered:
    word_tokens() makes tokens of them once all parts were read."""
    text = text.lower()
    if "://" in text:
        text = _cut_urls(text, tokens)
    if is_html or "</" in text:
        text = TAG.sub(" ", text)
    text = unescape(text)  # html.unescape's text
    words.update(text.split())


def long_words(words: set[str], tokens: set[str]) -> list[str]:
    """The words longer than MAX_WORD, each as a token in ``tokens``: the domain of an
    address glued to text, else ``skip:<first char> <length//10*10>``."""
    found = [word for word in words if len(word) > MAX_WORD]
    for word in found:
        if "@" in word:
            tokens.add(f"email:{word.rpartition('@')[2][:MAX_TOKEN]}")
        else:
            tokens.add(f"skip:{word[0]} {len(word) // 10 * 10}")
    return found


def _structure_tokens(part: PartInfo, tokens: set[str]) -> None:
    tokens.add(f"content-type:{part.ctype[:MAX_TOKEN]}")
    if part.charset is not None:
        tokens.add(f"charset:{part.charset[:MAX_TOKEN]}")
    if part.encoding:
        tokens.add(f"encoding:{_clip(part.encoding)}")
    found = _FILENAME.search(part.disposition)
    if found:
        tokens.add(f"filename-ext:{_clip(found.group(1).rpartition('.')[2])}")


def read_tokens(view: MessageView) -> tuple[set[str], set[str], list[str]]:
    """(tokens but the body words, every body word unfiltered, the words too long to be a
    token): what tokenize() joins, and what BayesScorer looks up without joining."""
    tokens: set[str] = set()
    words: set[str] = set()
    header_tokens(view, tokens)
    for part in view.structure:
        _structure_tokens(part, tokens)
        if part.text:
            text_tokens(part.text, part.ctype == "text/html", tokens, words)
    return tokens, words, long_words(words, tokens)


def tokenize(message: ParsedMessage, view: MessageView | None = None) -> set[str]:
    """Every token of ``message``: header tokens, MIME structure, URL pieces, and the
    words of MIN_WORD..MAX_WORD characters of its text parts. Pass the message's ``view``
    when one exists: its text is then decoded only once."""
    tokens, words, _long = read_tokens(MessageView(message) if view is None else view)
    tokens.update(compress(words, map(_KEPT_SIZES.__contains__, map(len, words))))
    return tokens
