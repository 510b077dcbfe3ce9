"""RFC 3463 status codes of one failed recipient, read and derived as Sisimai does.

The code a report gives (its Status field, the code inside its diagnostic) is chosen by
``prefer``; a recipient left without one gets Sisimai's pseudo code for its reason
(``X.0.9NN``) from ``pseudo_status``, its class from the reply code. Which SMTP command
a reply answered (``smtp_command``) is read here too: the reasons need it, and the
Exim rules of ``status_for`` below do.
"""

from __future__ import annotations

import re

from hrdp.dsn.multiscan import Occurrences

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
# X.5.1, X.5.2, X.5.4, X.5.5: the protocol went wrong; the diagnostic says more.
_PROTOCOL = (".5.1", ".5.2", ".5.4", ".5.5")
# Both open with the class digit and check what precedes it in a look-behind after it
# ("(?<![\d.])2" written "2(?<![\d.]2)"): the engine then skips ahead to a 2, 4 or 5
# instead of trying every position. A reply code follows the start of the text, a
# space or one of ";:(["; a space, a hyphen, a comma (Zoho's "ResponseCode 421, ,
# Host not reachable") or the end follows it.
_STATUS = re.compile(r"([245])(?<![\d.][245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_REPLY = re.compile(r"([245](?<![^\s;:(\[][245])\d\d)(?=[\s\-,]|$)")
# The SMTP command a reply answered, as Postfix, Exim, sendmail and qmail print it
# (lower case, searched in the lower-cased text). Every alternative opens with a
# literal, so the engine skips the positions that cannot start one.
COMMAND = re.compile(
    r"in reply to (?:the )?(?:rcpt to|mail from|end of data|data|helo|ehlo|starttls)"
    r"|after (?:pipelined )?(?:rcpt(?: to)?|mail(?: from)?|end of data|data"
    r"|initial connection|helo|ehlo)|>>> (?:rcpt to|mail from|data|helo|ehlo)"
    r"|r(?<!\wr)cpt[ _]to\s*:|m(?<!\wm)ail[ _]from\s*:"  # "\b" after the first letter
    r"|rcpt to (?:command|response)|mail from (?:command|response)"
    r"|end of data (?:command|response)"
    r"|smtp:(?:rcpt|mail|data|helo|ehlo)\b"  # X3's "SMTP:RCPT host 192.0.2.8: 553 ..."
)
# Bare command names count only in capitals (sendmail and qmail logs, "[RCPT_TO]").
# "\bRCPT" is written "R(?<!\wR)CPT": the engine skips ahead to the capitals.
_BARE_COMMAND = re.compile(
    r"R(?<!\wR)CPT[ _]TO\b|M(?<!\wM)AIL[ _]FROM\b|D(?<!\wD)ATA\b|E(?<!\wE)HLO\b|H(?<!\wH)ELO\b"
)
_BARE_WORDS = ("RCPT", "MAIL", "DATA", "EHLO", "HELO")
# The command a match names, longest names first ("end of data" before "data").
_COMMAND_NAMES = (
    ("starttls", "STARTTLS"), ("initial connection", "CONN"), ("end of data", "DATA"),
    ("rcpt", "RCPT"), ("mail", "MAIL"), ("data", "DATA"), ("helo", "HELO"), ("ehlo", "EHLO"),
)  # fmt: skip


def status_name(status: str) -> str:
    return _STATUS_NAMES.get(status, "")


def pseudo_status(reason: str, temporary: bool) -> str:
    """Sisimai's internal code for ``reason`` ("" where none is defined). A temporary
    filter is 4.0.924, not 4.0.910: Sisimai numbers it after 4.2.4, the mailing-list
    expansion problem its status table files as filtered."""
    number = _PSEUDO.get(reason)
    if number is None or (temporary and reason in _PERMANENT_ONLY):
        return ""
    if temporary and reason == "filtered":
        number = 924
    return f"{4 if temporary else 5}.0.{number}"


def is_catch_all(code: str) -> bool:
    """X.0.0 (other or undefined status) and 4.4.7 (delivery time expired): codes that
    say a delivery failed but not why (RFC 3463 3.1, 3.5)."""
    return code.endswith(".0.0") or code == "4.4.7"


def code_in(text: str) -> str:
    """The RFC 3463 code a diagnostic reports: the first that says something, a
    catch-all (X.0.0, 4.4.7 "delivery time expired") only when no other is there. A
    relay's give-up wraps the remote reply ("554 4.4.7 Message expired ... <421 4.4.2
    Connection timed out>"), and the inner code is the cause (Sisimai's Status.find)."""
    fallback = ""
    for match in _STATUS.finditer(text):
        klass, subject, detail = match.groups()
        code = f"{klass}.{int(subject)}.{int(detail)}"
        if not is_catch_all(code):
            return code
        fallback = fallback or code
    return fallback


def reply_in(text: str) -> str:
    match = _REPLY.search(text)
    return match.group(1) if match else ""


# Both kinds of command in one scan of the text as written (multiscan.py): COMMAND
# ignoring case is COMMAND on the lower-cased text, on the ASCII text a scan reads.
_COMMANDS: Occurrences[str] = Occurrences(
    {"phrase": re.compile(COMMAND.pattern, re.IGNORECASE), "bare": _BARE_COMMAND}
)


def smtp_command(text: str, lower: str | None = None, phrased: bool | None = None) -> str:
    """The SMTP command the failing reply answered ("RCPT", "DATA", ...; "" unknown);
    ``lower``: ``text`` lower-cased, when already known; ``phrased``: whether COMMAND
    may be in it, when a scan already told (None: one scan here tells, where it runs)."""
    bare = True
    if phrased is None:
        kinds = _COMMANDS.found(text)
        phrased = kinds is None or "phrase" in kinds
        bare = kinds is None or "bare" in kinds
    match = COMMAND.search(text.lower() if lower is None else lower) if phrased else None
    if match is None and bare and any(word in text for word in _BARE_WORDS):
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


# Exim gives a recipient up without a code only when its retry rules ran out
# ("retry timeout exceeded") or the local mailbox stayed over quota: both end a run of
# temporary failures, so their pseudo code is temporary (Sisimai's Lhost::Exim).
_EXIM_SOFT = frozenset({"expired", "mailboxfull"})


def status_for(
    found: str, reason: str, reply: str, command: str, mta: str, delayed: bool = False
) -> str:
    """The code of one recipient: ``found`` (the report's, see ``prefer``), else the
    pseudo code of ``reason``. Exim's own conventions (Sisimai's Lhost::Exim): a
    reply to MAIL FROM is about the sender, not the recipient, so its code stays at
    ``onhold`` (X.0.901) whatever reason is found later; a give-up without any reply
    is temporary for an expiry or a full mailbox, permanent otherwise. Gmail writes
    "Technical details of temporary failure" under every delay, and Sisimai reads
    the word: a Gmail delay without a reply is temporary (4.0.947)."""
    if found:
        return found
    if mta == "exim":
        if reply and command == "MAIL":
            return pseudo_status("onhold", temporary=reply.startswith("4"))
        if not reply:
            return pseudo_status(reason, temporary=reason in _EXIM_SOFT)
    if mta == "gmail" and not reply:
        return pseudo_status(reason, temporary=delayed)
    return pseudo_status(reason, temporary=reply.startswith("4"))
