"""Status code and reason of one failed recipient, decided as Sisimai decides them.

Sisimai (the reference bounce classifier) is followed in vocabulary and order, so that
hrdp's rows and Sisimai's agree:

1. the status: the report's Status field, or the RFC 3463 code in the diagnostic, the
   more specific winning (``prefer``); a report without either gets Sisimai's pseudo
   code for the reason (``X.0.9NN``, e.g. 5.0.911 userunknown) once the reason is known;
2. the reason: a status code that says it plainly (5.2.2 mailboxfull), then the
   diagnostic phrases of ``phrases.py`` in a fixed order of precedence (``_PROBED``, each
   reason with its own rule about codes and SMTP commands), then the phrases alone
   (``_PHRASED``), then the status class (X.6 contenterror, X.7 securityerror), then the
   kind (a delay is ``expired``); ``onhold`` when a diagnostic says nothing we know,
   ``undefined`` when there is none.

Detectors may pass a ``hint`` (the reason their format states, e.g. a give-up after
days is ``expired``); a hint that Sisimai treats as tentative (userunknown, expired, ...)
still loses to a more specific status or phrase.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from hrdp.dsn.phrases import says
from hrdp.dsn.rhost import Failure, hosts_in, provider_reason

DIAGNOSTIC_CAP = 4096  # characters of one recipient's diagnostic read for its reason

# RFC 3463 codes that name a reason on their own (Sisimai's standard table).
_STATUS_NAMES: dict[str, str] = {
    "2.1.5": "delivered",
    "4.1.6": "hasmoved", "4.1.7": "rejected", "4.1.8": "rejected", "4.1.9": "systemerror",
    "4.2.1": "blocked", "4.2.2": "mailboxfull", "4.2.3": "exceedlimit", "4.2.4": "filtered",
    "4.3.1": "systemfull", "4.3.2": "notaccept", "4.3.3": "systemerror",
    "4.3.5": "systemerror", "4.4.1": "expired", "4.4.2": "networkerror",
    "4.4.3": "systemerror", "4.4.4": "networkerror", "4.4.5": "systemfull",
    "4.4.6": "networkerror", "4.4.7": "expired", "4.4.8": "networkerror",
    "4.5.3": "systemerror", "4.5.5": "systemerror", "4.6.0": "contenterror",
    "4.6.2": "contenterror", "4.6.5": "contenterror", "4.7.1": "blocked", "4.7.2": "blocked",
    "4.7.5": "securityerror", "4.7.6": "securityerror", "4.7.7": "securityerror",
    "4.7.12": "securityerror", "4.7.15": "securityerror", "4.7.16": "mesgtoobig",
    "4.7.24": "authfailure", "4.7.25": "requireptr", "4.7.26": "authfailure",
    "5.1.0": "userunknown", "5.1.1": "userunknown", "5.1.2": "hostunknown",
    "5.1.3": "userunknown", "5.1.4": "filtered", "5.1.6": "hasmoved", "5.1.7": "rejected",
    "5.1.8": "rejected", "5.1.9": "systemerror", "5.1.10": "notaccept", "5.2.0": "filtered",
    "5.2.1": "filtered", "5.2.2": "mailboxfull", "5.2.3": "exceedlimit", "5.2.4": "filtered",
    "5.3.0": "systemerror", "5.3.1": "systemfull", "5.3.2": "notaccept",
    "5.3.3": "systemerror", "5.3.4": "mesgtoobig", "5.3.5": "systemerror",
    "5.4.0": "networkerror", "5.4.3": "systemerror", "5.4.4": "hostunknown",
    "5.5.2": "syntaxerror", "5.5.3": "toomanyconn", "5.5.4": "systemerror",
    "5.5.5": "systemerror", "5.5.6": "syntaxerror", "5.7.13": "suspend",
    "5.7.16": "mesgtoobig", "5.7.17": "hasmoved", "5.7.18": "hasmoved",
    "5.7.20": "authfailure", "5.7.21": "authfailure", "5.7.22": "authfailure",
    "5.7.23": "authfailure", "5.7.24": "authfailure", "5.7.25": "requireptr",
    "5.7.26": "authfailure", "5.7.27": "notaccept", "5.7.28": "spamdetected",
    "5.7.29": "authfailure", "5.7.30": "failedstarttls",
}  # fmt: skip
# The rest of 5.6.x are content errors and 5.7.x security errors (RFC 3463 3.7, 3.8).
for _detail in (0, 1, 2, 3, 5, 6, 7, 8, 9):
    _STATUS_NAMES.setdefault(f"5.6.{_detail}", "contenterror")
for _detail in (*range(0, 13), 14, 15, 19):
    _STATUS_NAMES.setdefault(f"5.7.{_detail}", "securityerror")

# Sisimai's pseudo status codes: "X.0.9NN" for a reason the report gave no code for.
_PSEUDO: dict[str, int] = {
    "undefined": 900, "onhold": 901, "syntaxerror": 902, "suppressed": 903,
    "norelaying": 909, "filtered": 910, "userunknown": 911, "hostunknown": 912,
    "hasmoved": 916, "rejected": 918, "suspend": 921, "mailboxfull": 922,
    "exceedlimit": 923, "authfailure": 926, "systemerror": 930, "systemfull": 931,
    "notaccept": 932, "mesgtoobig": 934, "mailererror": 939, "networkerror": 944,
    "toomanyconn": 945, "speeding": 946, "expired": 947, "contenterror": 960,
    "securityerror": 970, "blocked": 971, "policyviolation": 972, "requireptr": 973,
    "notcompliantrfc": 974, "badreputation": 975, "failedstarttls": 976,
    "spamdetected": 980, "virusdetected": 981,
}  # fmt: skip
# Reasons that only say the address is wrong for good: no temporary pseudo code.
_PERMANENT_ONLY = frozenset({"hasmoved", "hostunknown", "userunknown"})
# Reasons Sisimai takes as tentative: a status or phrase found later may replace them.
TENTATIVE = frozenset(
    {"", "undefined", "onhold", "systemerror", "securityerror", "expired", "networkerror",
     "hostunknown", "userunknown"}
)  # fmt: skip
# SMTP commands sent before DATA: content filters cannot have refused the message there.
_BEFORE_DATA = frozenset({"CONN", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT"})

# X.5.1, X.5.2, X.5.4, X.5.5: the protocol went wrong; the diagnostic says more.
_PROTOCOL = (".5.1", ".5.2", ".5.4", ".5.5")
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY = re.compile(r"(?:^|[\s;:(\[])([245]\d\d)(?=[\s\-]|$)")
# The SMTP command a reply answered, as Postfix, Exim, sendmail and qmail print it
# (lower case, searched in the lower-cased text). Every alternative opens with a
# literal, so the engine skips the positions that cannot start one.
_COMMAND = re.compile(
    r"in reply to (?:the )?(?:rcpt to|mail from|end of data|data|helo|ehlo|starttls)"
    r"|after (?:pipelined )?(?:rcpt(?: to)?|mail(?: from)?|end of data|data"
    r"|initial connection|helo|ehlo)|>>> (?:rcpt to|mail from|data|helo|ehlo)"
    r"|r(?<!\wr)cpt[ _]to\s*:|m(?<!\wm)ail[ _]from\s*:"  # "\b" after the first letter
    r"|rcpt to (?:command|response)|mail from (?:command|response)"
    r"|end of data (?:command|response)"
)
# Bare command names count only in capitals (sendmail and qmail logs, "[RCPT_TO]").
_BARE_COMMAND = re.compile(r"\b(?:RCPT[ _]TO|MAIL[ _]FROM|DATA|EHLO|HELO)\b")
_BARE_WORDS = ("RCPT", "MAIL", "DATA", "EHLO", "HELO")
# The command a match names, longest names first ("end of data" before "data").
_COMMAND_NAMES = (
    ("starttls", "STARTTLS"), ("initial connection", "CONN"), ("end of data", "DATA"),
    ("rcpt", "RCPT"), ("mail", "MAIL"), ("data", "DATA"), ("helo", "HELO"), ("ehlo", "EHLO"),
)  # fmt: skip


def status_name(status: str) -> str:
    return _STATUS_NAMES.get(status, "")


def pseudo_status(reason: str, temporary: bool) -> str:
    """Sisimai's internal code for ``reason`` ("" where none is defined)."""
    number = _PSEUDO.get(reason)
    if number is None or (temporary and reason in _PERMANENT_ONLY):
        return ""
    return f"{4 if temporary else 5}.0.{number}"


def code_in(text: str) -> str:
    """The RFC 3463 code a diagnostic reports: the first that says something, a
    catch-all (X.0.0, 4.4.7 "delivery time expired") only when no other is there. A
    relay's give-up wraps the remote reply ("554 4.4.7 Message expired ... <421 4.4.2
    Connection timed out>"), and the inner code is the cause (Sisimai's Status.find)."""
    fallback = ""
    for match in _STATUS.finditer(text):
        code = ".".join(str(int(g)) for g in match.groups())
        if not code.endswith(".0.0") and code != "4.4.7":
            return code
        fallback = fallback or code
    return fallback


def reply_in(text: str) -> str:
    match = _REPLY.search(text)
    return match.group(1) if match else ""


def smtp_command(text: str, lower: str | None = None) -> str:
    """The SMTP command the failing reply answered ("RCPT", "DATA", ...; "" unknown);
    ``lower``: ``text`` lower-cased, when already known."""
    match = _COMMAND.search(text.lower() if lower is None else lower)
    if match is None and any(word in text for word in _BARE_WORDS):
        match = _BARE_COMMAND.search(text)
    if match is None:
        return ""
    found = match.group(0).lower()
    return next((name for word, name in _COMMAND_NAMES if word in found), "")


def prefer(field: str, in_text: str, reply: str) -> str:
    """The Status field or the code in the diagnostic, whichever says more (Sisimai's
    rule): the class the reply code agrees with, else the one that is not X.0.0 / X.Y.0,
    else the diagnostic's where the field is a catch-all (4.4.7, 4.7.0, 5.3.x, X.5.x)."""
    if not field or not in_text or field == in_text:
        return field or in_text
    if reply and field[0] != in_text[0]:
        if reply[0] == field[0]:
            return field
        if reply[0] == in_text[0]:
            return in_text
    if field.endswith(".0.0"):
        return in_text if not in_text.endswith(".0.0") else field
    if (".0" in field[1:]) and ".0" not in in_text[1:]:
        return in_text
    if in_text.endswith(".0.0"):
        return field
    if field in ("4.4.7", "4.7.0") or field.startswith("5.3.") or field[1:4] in _PROTOCOL:
        return in_text
    if field == "5.1.1":
        return field if ".0" in in_text[1:] or in_text.startswith("5.5.") else in_text
    if field == "5.1.3" and in_text.startswith("5.7."):
        return in_text
    return field


# Answers of a directory lookup: only a recipient lookup says them (Domino's directory,
# Exchange's resolver, Google's "address couldn't be found", mail.local's user table),
# so they tell the recipient was refused at RCPT / delivery, not by a filter after DATA.
_DIRECTORY = re.compile(
    r"not listed in (?:domino directory|public name & address book)|resolver\.adr\.recip"
    r"|because the address couldn.t be found|mail\.local: unknown user"
    r"|wasn.t found at the destination domain"
)  # lower case: searched in Facts.text


# The domain exists but names no mail exchanger (RFC 7505 null MX, or none found).
_NO_MX = re.compile(r"null mx|couldn.t find a mail exchanger|no mx (?:found|record found) for")


class Facts:
    """What one recipient's failure says: codes, command, lower-cased diagnostic."""

    def __init__(
        self, status: str, diagnostic: str, hint: str, command: str, hosts: tuple[str, ...] = ()
    ) -> None:
        text = " ".join(diagnostic[:DIAGNOSTIC_CAP].split())
        self.reply = reply_in(text)
        self.status = prefer(status, code_in(text), self.reply)
        self.name = status_name(self.status)
        self.text = text.lower()
        self.command = smtp_command(text, self.text) or command
        if not self.command and _DIRECTORY.search(self.text):
            self.command = "RCPT"
        self.hint = hint
        self.hosts = hosts
        self._said: dict[str, bool] = {}

    def provider(self) -> str:
        """The reason the receiving provider's own rules give (``rhost.py``), if any."""
        hosts = [*self.hosts, *hosts_in(self.text)]
        if not hosts:
            return ""
        return provider_reason(hosts, Failure(self.status, self.reply, self.command, self.text))

    def says(self, reason: str) -> bool:
        """``phrases.says`` for this diagnostic, each reason asked once."""
        found = self._said.get(reason)
        if found is None:
            found = self._said[reason] = says(reason, self.text)
        return found


def _name_or_says(reason: str) -> Callable[[Facts], bool]:
    return lambda f: f.name == reason or f.says(reason)


def _userunknown(f: Facts) -> bool:
    if f.name == "userunknown":
        others = ("norelaying", "blocked", "mailboxfull", "hasmoved", "rejected", "notaccept")
        return not any(f.says(other) for other in others)
    # Sisimai asks for a rejection at RCPT; a notice that does not say which command
    # failed leaves the filter after DATA possible ("filtered").
    return f.command == "RCPT" and f.says("userunknown")


def _filtered(f: Facts) -> bool:
    if f.name != "filtered" and f.command in _BEFORE_DATA:
        return False
    return f.says("filtered") or f.says("userunknown")


def _rejected(f: Facts) -> bool:
    if f.name == "rejected":
        return True
    if f.command == "MAIL" or (f.command == "DATA" and f.name != "userunknown"):
        return f.says("rejected")
    if f.name in ("", "undefined", "onhold", "securityerror", "systemerror"):
        return f.says("rejected")
    return False


def _spamdetected(f: Facts) -> bool:
    if not f.status:
        return False
    if f.name == "spamdetected":
        return True
    return f.command not in _BEFORE_DATA and f.says("spamdetected")


def _contenterror(f: Facts) -> bool:
    return not _spamdetected(f) and _name_or_says("contenterror")(f)


_PROBED: tuple[tuple[str, Callable[[Facts], bool]], ...] = (
    ("mailboxfull", _name_or_says("mailboxfull")),
    ("mesgtoobig", lambda f: f.name == "mesgtoobig"
        or (f.name != "exceedlimit" and f.says("mesgtoobig"))),
    ("exceedlimit", _name_or_says("exceedlimit")),
    ("suspend", lambda f: f.reply == "525" or f.says("suspend")),
    ("hasmoved", lambda f: f.says("hasmoved")),
    ("norelaying", lambda f: f.command not in ("CONN", "EHLO", "HELO")
        and f.says("norelaying")),
    ("authfailure", _name_or_says("authfailure")),
    ("userunknown", _userunknown),
    ("filtered", _filtered),
    ("requireptr", _name_or_says("requireptr")),
    ("notcompliantrfc", lambda f: f.says("notcompliantrfc")),
    ("badreputation", _name_or_says("badreputation")),
    ("contenterror", _contenterror),
    ("rejected", _rejected),
    # A domain without a usable MX (RFC 7505 null MX, none found) accepts no mail:
    # notaccept, as Sisimai files it, though the status says X.4.4 / X.1.2.
    ("hostunknown", lambda f: not (f.says("networkerror") or _NO_MX.search(f.text))
        if f.name == "hostunknown" else f.says("hostunknown") and not _NO_MX.search(f.text)),
    ("spamdetected", _spamdetected),
    ("speeding", _name_or_says("speeding")),
    ("toomanyconn", _name_or_says("toomanyconn")),
    ("blocked", _name_or_says("blocked")),
)  # fmt: skip
_PHRASED = (
    "mailboxfull", "authfailure", "badreputation", "speeding", "spamdetected",
    "virusdetected", "policyviolation", "norelaying", "systemerror", "networkerror",
    "suspend", "contenterror", "systemfull", "notaccept", "expired", "failedstarttls",
    "securityerror", "suppressed", "mailererror",
)  # fmt: skip


def _fallback(f: Facts, delayed: bool) -> str:
    """Sisimai's second pass: phrases alone, then what the status class implies."""
    if f.hint not in TENTATIVE:
        return f.hint
    if f.hint and f.hint not in ("undefined", "onhold"):
        return f.hint
    if f.name in TENTATIVE:
        found = next((reason for reason in _PHRASED if f.says(reason)), "")
        if found:
            return found
    if f.name:
        return f.name
    if f.status[:3] in ("5.6", "4.6"):
        return "contenterror"
    if f.status[:3] in ("5.7", "4.7"):
        return "securityerror"
    if f.reply in ("501", "502", "503", "504") or f.says("syntaxerror"):
        return "syntaxerror" if f.reply[:1] == "5" else ""
    if delayed:
        return "expired"
    return "blocked" if f.command in ("EHLO", "HELO") else ""


def _local_program(f: Facts) -> str:
    """A failure of a local delivery program (RFC 3464 "X-Unix" diagnostic): what
    its message says (a full disk, a system error), else the status's own name, else
    ``mailererror`` (Sisimai's order for non-SMTP diagnostics)."""
    found = next((reason for reason in _PHRASED if f.says(reason)), "")
    return found or f.name or "mailererror"


def reason_of(f: Facts, delayed: bool = False) -> str:
    if f.hint == "mailererror":
        return _local_program(f)
    if f.hint and f.hint not in TENTATIVE:
        return f.hint
    if f.status.startswith("2."):
        return "delivered"
    found = f.provider()
    if found:
        return found
    for reason, probe in _PROBED:
        if f.hint == reason or probe(f):
            return reason
    found = _fallback(f, delayed)
    if found:
        return found
    return "onhold" if f.text else "undefined"


def decide(
    status: str,
    diagnostic: str,
    *,
    delayed: bool = False,
    hint: str = "",
    command: str = "",
    hosts: tuple[str, ...] = (),
) -> tuple[str, str]:
    """(status, reason) of one recipient: ``status`` from the report ("" if none),
    ``diagnostic`` its text (Diagnostic-Code or the notice lines about it), ``delayed``
    for a delay warning, ``hint`` the reason the detector's format states, ``command``
    the SMTP command that failed when the detector read it elsewhere than the diagnostic,
    ``hosts`` the receiving hosts and the recipient's domain (for ``rhost.py``)."""
    facts = Facts(status, diagnostic, hint, command, hosts)
    reason = reason_of(facts, delayed)
    code = facts.status
    if not code:
        code = pseudo_status(reason, temporary=facts.reply.startswith("4"))
    return code, reason
