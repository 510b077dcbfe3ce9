"""Reasons as particular receiving providers mean them (Sisimai's Rhost rules).

Some providers word their replies in their own way, or use one wording for several
causes, so the generic phrase tables of ``phrases.py`` misread them. When the host that
refused the message (Remote-MTA, the reporting MTA, a host named in the diagnostic) or
the recipient's domain belongs to one of the providers below, its own table is asked
first; an empty answer falls through to the generic rules of ``reasons.py``.

Each provider is matched by host-name suffixes, as Sisimai matches them; its rules are
tried in the order written, first match wins (deterministic). Sources: each provider's
published error-code pages, as cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

# Host names as bounces print them: "host mx3.qq.com[...] said", "while talking to
# mfsmax.docomo.ne.jp.:", "Remote-MTA: dns; mx.example.jp".
_HOST_IN_TEXT = re.compile(r"(?:host|talking to|remote-mta: dns;)\s+([a-z0-9][a-z0-9.-]{2,253})")


class Failure(NamedTuple):
    """What a provider rule reads: status, reply code, SMTP command, lower-cased text
    (a tuple: one is made for every failed recipient whose hosts have a provider)."""

    status: str
    reply: str
    command: str
    text: str


Rule = Callable[[Failure], str]


def _phrases(table: tuple[tuple[str, tuple[str, ...]], ...]) -> Rule:
    """A rule from (reason, phrases) pairs: the first reason with a phrase in the text."""

    def rule(f: Failure) -> str:
        for reason, phrases in table:
            if any(phrase in f.text for phrase in phrases):
                return reason
        return ""

    return rule


# AOL (Yahoo Inc.) MX hosts.
_AOL = _phrases((
    ("hostunknown", ("host or domain name not found",)),
    ("notaccept", ("type=mx: malformed or unexpected name server reply",)),
))  # fmt: skip

# Yahoo Inc. (*.yahoodns.net): https://senders.yahooinc.com/smtp-error-codes
_YAHOO = _phrases((
    ("authfailure", ("yahoo requires all senders to authenticate with either spf or dkim",)),
    ("blocked", (" because the ip is in spamhaus's list;",
                 "not accepted from ip addresses on spamhaus xbl")),
    ("norelaying", ("relaying denied for ",)),
    ("notcompliantrfc", ("headers are not rfc compliant",)),
    ("policyviolation", ("not accepted for policy reasons",)),
    ("rejected", ("temporarily deferred due to unexpected volume or user complaints",
                  "due to unresolvable rfc.5321 domain", " will be permanently deferred")),
    ("speeding", ("user is receiving mail too quickly",)),
    ("suspend", (" is no longer valid.", "this mailbox is disabled")),
    ("syntaxerror", ("syntax error in parameters or arguments",)),
    ("toomanyconn", ("max message per connection reached",)),
    ("userunknown", ("dd this user doesn't have a ", "mailbox not found")),
))  # fmt: skip

# Tencent / QQ Mail (*.qq.com): https://service.mail.qq.com/detail/122
_TENCENT = _phrases((
    ("authfailure", ("spf check failed", "dmarc check failed")),
    ("blocked", ("suspected bounce attacks", "suspected spam ip", "connection denied")),
    ("mesgtoobig", ("message too large",)),
    ("rejected", ("suspected spam", "mail is rejected by recipients")),
    ("spamdetected", ("spam is embedded in the email", "mail content denied")),
    ("suspend", ("is a deactivated mailbox",)),
    ("syntaxerror", ("bad address syntax",)),
    ("toomanyconn", ("ip frequency limited", "domain frequency limited",
                     "sender frequency limited", "connection frequency limited")),
    ("userunknown", ("mailbox not found",)),
))  # fmt: skip

# Broadcom Email Security.cloud (MessageLabs), knowledge.broadcom.com articles 169652 ff.
_MESSAGELABS = _phrases((
    ("authfailure", ("domain authentication fail",)),
    ("badreputation", ("connection rejected by policy",)),
    ("blocked", ("mail rejected because your ip is in the pbl", "your ip address has been ")),
    ("contenterror", ("stray linefeeds in message",)),
    ("failedstarttls", ("tls/sslv3 connection required",)),
    ("norelaying", (" as a relay, ",)),
    ("notcompliantrfc", ("550 requested action aborted [4]",
                         "has detected that this message is not rfc 5322")),
    ("rejected", ("sender envelope domain not allowed for sender ip address",
                  "your domain has been blocked", "your email address has been blocked",
                  "your envelope sender is in my badmailfrom list",
                  "your email address has been blacklisted", "your domain has been blacklisted")),
    ("securityerror", ("please turn on smtp authentication in your mail client",)),
    ("spamdetected", ("message filtered", "filtered by outbound scanning")),
    ("toomanyconn", ("too many recipients received this hour", "too many messages")),
    ("userunknown", ("no such user", "invalid recipient", "mailbox is not allowed")),
))  # fmt: skip

# Google Workspace relaying a failure it met elsewhere (Reporting-MTA googlemail.com).
_GSUITE_TEXT = _phrases((
    ("notaccept", ("null mx",)),
    ("userunknown", ("because the address couldn't be found. check for typos",)),
))  # fmt: skip


def _gsuite(f: Failure) -> str:
    found = _GSUITE_TEXT(f)
    if found:
        return found
    if " responded with code nxdomain" in f.text or "domain name not found" in f.text:
        permanent = "5" in (f.status[:1], f.reply[:1])
        return "hostunknown" if permanent else "networkerror"
    if " had no relevant answers." in f.text and "5" not in (f.status[:1], f.reply[:1]):
        return "networkerror"
    return ""


# au / KDDI (ezweb.ne.jp, au.com): "550 : User unknown" (no address) is the sender
# filter of the handset; "550 <addr>: User unknown" is an unknown address.
_KDDI = _phrases((("filtered", ("550 : user unknown",)), ("userunknown", (">: user unknown",))))


def _docomo(f: Failure) -> str:
    """NTT docomo (mfsmax.docomo.ne.jp) answers "550 Unknown user" both to an unknown
    address (at RCPT) and to a sender its user filters out (after DATA)."""
    if f.status in ("5.1.1", "5.0.911"):
        return "userunknown"
    if f.status == "5.2.0":
        return "filtered"
    for reason, pattern in (
        ("mailboxfull", "552 too much mail data"),
        ("toomanyconn", "552 too many recipients"),
        ("syntaxerror", "503 bad sequence of commands"),
        ("syntaxerror", "504 command parameter not implemented"),
    ):
        if pattern in f.text:
            return reason
    if f.status == "5.0.0" and f.command in ("RCPT", "DATA"):
        return "userunknown" if f.command == "RCPT" else "rejected"
    return ""


# Cox: https://www.cox.com/residential/support/email-error-codes.html ("AUP#CODE").
_COX_CODES = {
    "cxbl": "blocked", "cxdns": "requireptr", "cxsndr": "authfailure", "cxsmtp": "rejected",
    "cxcnct": "toomanyconn", "cxmxrt": "toomanyconn", "cdrbl": "blocked",
    "cxthrt": "securityerror", "cxmj": "securityerror",
}  # fmt: skip
_COX_TEXT = _phrases((
    ("blocked", ("cox too many bad commands from", "too many invalid recipients")),
    ("requireptr", ("dns check failure - try again later", "rejected - no rdns")),
    ("policyviolation", ("esmtp no data before greeting", "attachment extension is forbidden")),
    ("rejected", ("sender rejected",)),
    ("systemerror", ("esmtp server temporarily not available",)),
    ("toomanyconn", ("too many sessions from", "requested action aborted: try again later",
                     "message threshold exceeded")),
    ("userunknown", ("recipient rejected",)),
))  # fmt: skip
_AUP = re.compile(r"aup#([0-9a-z]+)")


def _cox(f: Failure) -> str:
    match = _AUP.search(f.text)
    code = match.group(1) if match else ""
    if code in _COX_CODES:
        return _COX_CODES[code]
    if code.startswith("ipbl"):
        return "blocked"
    if code.startswith("urlbl"):
        return "spamdetected"
    return _COX_TEXT(f)


# Spectrum / Charter: "AUP#In-1310", "AUP#O-1000" (spectrum.net email error codes).
_SPECTRUM = (
    (1000, 1000, "blocked"), (1010, 1010, "rejected"), (1020, 1080, "rejected"),
    (1090, 1090, "systemerror"), (1100, 1150, "requireptr"), (1160, 1190, "policyviolation"),
    (1200, 1250, "blocked"), (1260, 1260, "networkerror"), (1300, 1340, "toomanyconn"),
    (1350, 1490, "speeding"), (1500, 1520, "rejected"), (1530, 1530, "mesgtoobig"),
    (1540, 1550, "speeding"), (1560, 1560, "policyviolation"), (1580, 1580, "speeding"),
)  # fmt: skip
_SPECTRUM_CODE = re.compile(r"aup#[a-z-]*(\d{4})")


def _spectrum(f: Failure) -> str:
    match = _SPECTRUM_CODE.search(f.text)
    if match is None:
        return ""
    number = int(match.group(1))
    return next((reason for low, high, reason in _SPECTRUM if low <= number <= high), "")


# Outlook.com / Hotmail consumer mailboxes: "550 Requested action not taken: mailbox
# unavailable" answers an address that does not exist (Sisimai's Outlook rule).
_HOTMAIL = _phrases((("userunknown", ("requested action not taken: mailbox unavailable",)),))

# La Poste and Orange (France PTT): "Adresse destinataire invalide. Invalid recipient.
# LPN007_416", "OFR_416" — the 416 family of their codes is an unknown recipient.
_FRANCEPTT = _phrases((("userunknown", ("invalid recipient", "destinataire invalide")),))

# Facebook (*.facebook.com): "550 5.1.1 RCP-P2 http://postmaster.facebook.com/...", a code
# of https://www.facebook.com/postmaster/response_codes (Sisimai's Rhost::Facebook). The
# code, not the status, says why: RCP-P2 is the recipient's preferences under 5.1.1.
_FACEBOOK_CODES = {
    "authfailure": ("pol-p7",),
    "blocked": ("pol-p1", "pol-p2", "pol-p3", "pol-p4", "pol-t1", "pol-t2", "pol-t3"),
    "contenterror": ("msg-p2",),
    "filtered": ("rcp-p2", "rcp-p3"),
    "mesgtoobig": ("msg-p1", "int-p2"),
    "notcompliantrfc": ("msg-p3",),
    "rejected": ("dns-p1", "dns-p2", "dns-t1"),
    "requireptr": ("dns-p3", "dns-t2"),
    "spamdetected": ("pol-p6",),
    "suspend": ("rcp-t4",),
    "systemerror": ("rcp-t1",),
    "toomanyconn": ("con-t1", "con-t2", "con-t3", "con-t4", "msg-t1"),
    "userunknown": ("rcp-p1", "int-p1", "int-p3", "int-p4"),
    "virusdetected": ("pol-p5",),
}
_FACEBOOK_REASON = {code: reason for reason, codes in _FACEBOOK_CODES.items() for code in codes}
_FACEBOOK_CODE = re.compile(r"\b([a-z]{3}-[pt]\d)\b")


def _facebook(f: Failure) -> str:
    match = _FACEBOOK_CODE.search(f.text)
    return _FACEBOOK_REASON.get(match.group(1), "") if match else ""


# Domain suffixes per provider (whole labels: "mx3.qq.com" ends in ".qq.com", and
# "qq.com" itself counts), tried in this order.
PROVIDERS: tuple[tuple[tuple[str, ...], Rule], ...] = (
    ((".mx.aol.com", ".mail.aol.com"), _AOL),
    ((".yahoodns.net",), _YAHOO),
    ((".qq.com",), _TENCENT),
    ((".messagelabs.com",), _MESSAGELABS),
    (("googlemail.com",), _gsuite),
    ((".ezweb.ne.jp", "msmx.au.com"), _KDDI),
    (("mfsmax.docomo.ne.jp",), _docomo),
    (("cox.net",), _cox),
    (("charter.net",), _spectrum),
    ((".hotmail.com", ".outlook.com"), _HOTMAIL),
    ((".laposte.net", ".orange.fr", ".wanadoo.fr"), _FRANCEPTT),
    ((".facebook.com",), _facebook),
)


# Domain suffix (whole labels, no leading dot) -> the PROVIDERS rows it selects.
_BY_SUFFIX: dict[str, list[int]] = {}
for _index, (_suffixes, _rule) in enumerate(PROVIDERS):
    for _suffix in _suffixes:
        _BY_SUFFIX.setdefault(_suffix.lstrip("."), []).append(_index)


# The most labels a suffix of the table has: longer endings of a host cannot match.
_MOST_LABELS = max(suffix.count(".") + 1 for suffix in _BY_SUFFIX)


@lru_cache(maxsize=4096)
def _rows_of(host: str) -> frozenset[int]:
    """The PROVIDERS rows whose suffix ends ``host`` (label by label: one dict lookup per
    ending of at most ``_MOST_LABELS`` labels, whatever the number of providers).
    Cached: bounces name the same few receiving hosts and domains again and again."""
    found: set[int] = set()
    labels = host.strip().rstrip(".").split(".")
    for start in range(max(0, len(labels) - _MOST_LABELS), len(labels) - 1):
        found.update(_BY_SUFFIX.get(".".join(labels[start:]), ()))
    return frozenset(found)


def _providers_of(hosts: list[str]) -> list[int]:
    """The PROVIDERS rows whose suffix ends one of ``hosts``, in table order."""
    found: frozenset[int] = frozenset()
    for host in hosts:
        rows = _rows_of(host)
        if rows:
            found = found | rows
    return sorted(found)


def has_provider(hosts: list[str]) -> bool:
    """Whether a provider's rules are asked about one of ``hosts`` at all."""
    return any(_rows_of(host) for host in hosts)


def hosts_in(text: str) -> list[str]:
    """Host names a diagnostic names as the one that answered (lower-cased text)."""
    return _HOST_IN_TEXT.findall(text)


def provider_reason(hosts: list[str], failure: Failure) -> str:
    """The reason the first provider whose host is in ``hosts`` gives ("" for none):
    a relay (Google Workspace) and the final host (au) may both be named."""
    for index in _providers_of(hosts):
        found = PROVIDERS[index][1](failure)
        if found:
            return found
    return ""
