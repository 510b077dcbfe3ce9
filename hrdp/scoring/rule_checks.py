"""The ``check`` tests of the ``rules`` scorer: what a regex cannot say, each named
after the SpamAssassin rule it follows. A rule file names one with ``check = "NAME"``
(rules_builtin.toml); CHECKS maps those names to the functions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.utils import parsedate_tz

from hrdp.scoring.message_view import ADDRESS, MAX_HEADER, MessageView

_FREEMAIL = frozenset({"yahoo.com", "hotmail.com", "aol.com", "msn.com", "gmail.com",
                       "mail.com", "outlook.com", "excite.com", "juno.com", "lycos.com",
                       "netscape.net", "mail.ru", "yandex.ru", "gmx.net", "web.de"})


def _domain(view: MessageView, header: str) -> str:
    value = view.message.header(header)
    found = ADDRESS.search(value) if "@" in value else None  # most have none: found in C
    return found[2].lower() if found else ""


def html_only(view: MessageView) -> bool:
    """MIME_HTML_ONLY: HTML text and no plain-text alternative."""
    types = {ctype for ctype, _cte, _text in view.parts}
    return "text/html" in types and "text/plain" not in types


def html_image_only(view: MessageView) -> bool:
    """HTML_IMAGE_ONLY_*: images with hardly any text (the text is in the picture)."""
    if "<img" not in view.rawbody_lowered:  # no part has one: the common answer, in C
        return False
    html = [(text, shown) for (ctype, _cte, text), shown
            in zip(view.parts, view.rendered, strict=True) if ctype == "text/html"]
    # Words counted up to 61 a part (split stops there): the sum is below 60 all the same.
    if sum(len(shown.split(None, 60)) for _text, shown in html) >= 60:
        return False  # the cheaper half first (HTML spam with images has words too)
    if len(view.parts) == 1:  # that one part is the raw body: "<img" is in it, seen above
        return bool(html)
    return any("<img" in text.lower() for text, _shown in html)


def mime_base64_text(view: MessageView) -> bool:
    """MIME_BASE64_TEXT: text sent base64-encoded, which hides words from filters."""
    return any(cte == "base64" for _ctype, cte, _text in view.parts)


def from_name_other_domain(view: MessageView) -> bool:
    """The From display name shows an address of another domain (a spoof of the sender)."""
    name, _lt, address = view.message.header("From").rpartition("<")
    if "@" not in name:  # no address shown: the common answer, in C
        return False
    shown, actual = ADDRESS.search(name), ADDRESS.search(address)
    return shown is not None and actual is not None and shown[2].lower() != actual[2].lower()


def subject_all_caps(view: MessageView) -> bool:
    """SUBJ_ALL_CAPS: a subject of several words in capitals only."""
    subject = view.message.header("Subject")[:MAX_HEADER]
    if subject.isascii() and not subject.isupper():
        return False  # the common case, in C: no capital letter, or a small one
    letters = [c for c in subject if c.isalpha()]
    return len(letters) >= 10 and all(c.isupper() for c in letters) and " " in subject.strip()


# SUBJ_HAS_UNIQ_ID's r"\S\s{5,}[\w#-]{3,}\s*\Z" read backwards: matched once at the
# start of the reversed Subject instead of searched for from every place of it.
_UNIQUE_ID_REVERSED = re.compile(r"\s*[\w#-]{3,}\s{5,}\S")


def subject_unique_id(view: MessageView) -> bool:
    """SUBJ_HAS_UNIQ_ID: a tracking code after a run of spaces at the end of the Subject."""
    raw = (view.message.msg.get("Subject") or "")[-MAX_HEADER:]
    return _UNIQUE_ID_REVERSED.match(raw[::-1]) is not None


# Dates parsedate_tz() surely reads (day name, day, month, year, time, numeric zone):
# most of them, answered without its Python-level parse.
_PLAIN_DATE = re.compile(r"(?:[A-Za-z]+, )?[0-9]{1,2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|"
                         r"Oct|Nov|Dec) [0-9]{4} [0-9]{2}:[0-9]{2}(?::[0-9]{2})? [+-][0-9]{4}"
                         r"(?: .*)?\Z")


def invalid_date(view: MessageView) -> bool:
    """INVALID_DATE: a Date field that RFC 5322 readers cannot parse."""
    date = view.message.header("Date")
    return bool(date) and not _PLAIN_DATE.match(date) and parsedate_tz(date) is None


def thread_reply(view: MessageView) -> bool:
    """In-Reply-To or References (RFC 5322 3.6.4): the message answers an earlier one."""
    message, table = view.message, view.message._raw_headers  # unwritten: nothing to decode
    return bool(("in-reply-to" in table and message.header("In-Reply-To"))
                or ("references" in table and message.header("References")))


# Every byte but the ASCII capitals, and every byte but the small ASCII letters: what
# bytes.translate deletes to leave the ones counted (in C).
_NOT_CAPITALS = bytes(c for c in range(256) if not 65 <= c <= 90)
_NOT_SMALL = bytes(c for c in range(256) if not 97 <= c <= 122)


def body_mostly_caps(view: MessageView) -> bool:
    """UPPERCASE_50_75 / _75_100: half the (ASCII) letters of a real body are capitals."""
    data = view.body[:5000].encode("utf-8", "surrogatepass")
    upper = len(data.translate(None, _NOT_CAPITALS))
    if upper <= 100:  # a hit needs 101: most have fewer
        return False
    lower = len(data.translate(None, _NOT_SMALL))
    return upper + lower >= 200 and upper > lower


def freemail_reply_to(view: MessageView) -> bool:
    """FREEMAIL_FORGED_REPLYTO: answers go to a freemail box the sender does not use."""
    if "reply-to" not in view.message._raw_headers:  # most mail: its domain would be ""
        return False
    reply_to = _domain(view, "Reply-To")
    return reply_to in _FREEMAIL and reply_to != _domain(view, "From")


CHECKS: dict[str, Callable[[MessageView], bool]] = {
    check.__name__: check
    for check in (html_only, html_image_only, mime_base64_text, from_name_other_domain,
                  subject_all_caps, subject_unique_id, invalid_date, thread_reply,
                  body_mostly_caps, freemail_reply_to)
}
