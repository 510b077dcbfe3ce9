"""Status code and reason of one failed recipient, decided as Sisimai decides them.

Sisimai (the reference bounce classifier) is followed in vocabulary and order, so that
hrdp's rows and Sisimai's agree:

1. the status (``status.py``): the report's Status field, or the RFC 3463 code in the
   diagnostic, the more specific winning (``prefer``); a report without either gets
   Sisimai's pseudo code for the reason (``X.0.9NN``, e.g. 5.0.911 userunknown) once the
   reason is known (``status_for``);
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

from hrdp.dsn.phrases import DIRECTORY, NO_MX, SCAN, said_by_regex, said_in
from hrdp.dsn.rhost import Failure, has_provider, hosts_in, provider_reason
from hrdp.dsn.status import (
    code_in,
    prefer,
    pseudo_status,
    reply_in,
    smtp_command,
    status_for,
    status_name,
)

__all__ = ["code_in", "decide", "prefer", "pseudo_status", "reason_of", "smtp_command"]

DIAGNOSTIC_CAP = 4096  # characters of one recipient's diagnostic read for its reason

# Reasons Sisimai takes as tentative: a status or phrase found later may replace them.
TENTATIVE = frozenset(
    {"", "undefined", "onhold", "systemerror", "securityerror", "expired", "networkerror",
     "hostunknown", "userunknown"}
)  # fmt: skip
# SMTP commands sent before DATA: content filters cannot have refused the message there.
_BEFORE_DATA = frozenset({"CONN", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT"})


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
        # One scan for the phrases of every reason, the command, a directory's answer
        # and a missing MX (phrases.SCAN); None: the regex answers each question.
        self._found = SCAN.found(self.text)
        phrased = self._found is None or "command" in self._found
        self.command = smtp_command(text, self.text, phrased) or command
        if not self.command and self._holds("directory", DIRECTORY):
            self.command = "RCPT"
        self.hint = hint
        self.hosts = hosts
        self._said = None if self._found is None else said_in(self._found)

    def _holds(self, key: str, pattern: re.Pattern[str]) -> bool:
        """``pattern`` (the one ``phrases.SCAN`` has under ``key``) found in the text."""
        if self._found is None:
            return pattern.search(self.text) is not None
        return key in self._found

    def no_mx(self) -> bool:
        """The domain exists but names no mail exchanger (null MX, none found)."""
        return self._holds("no-mx", NO_MX)

    def provider(self) -> str:
        """The reason the receiving provider's own rules give (``rhost.py``), if any."""
        hosts = [*self.hosts, *hosts_in(self.text)]
        if not has_provider(hosts):
            return ""
        return provider_reason(hosts, Failure(self.status, self.reply, self.command, self.text))

    def says(self, reason: str) -> bool:
        """``phrases.says`` for this diagnostic: every reason, found by the scan in
        ``__init__``, else by the regex on the first question (a diagnostic is asked
        about a dozen on average)."""
        if self._said is None:
            self._said = said_by_regex(self.text)
        return reason in self._said


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
    ("hostunknown", lambda f: not (f.says("networkerror") or f.no_mx())
        if f.name == "hostunknown" else f.says("hostunknown") and not f.no_mx()),
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
    mta: str = "",
) -> tuple[str, str]:
    """(status, reason) of one recipient: ``status`` from the report ("" if none),
    ``diagnostic`` its text (Diagnostic-Code or the notice lines about it), ``delayed``
    for a delay warning, ``hint`` the reason the detector's format states, ``command``
    the SMTP command that failed when the detector read it elsewhere than the diagnostic,
    ``hosts`` the receiving hosts and the recipient's domain (for ``rhost.py``), ``mta``
    the plain-text format that wrote the notice (its status conventions, ``status_for``)."""
    facts = Facts(status, diagnostic, hint, command, hosts)
    reason = reason_of(facts, delayed)
    code = status_for(facts.status, reason, facts.reply, facts.command, mta, delayed)
    return code, reason
