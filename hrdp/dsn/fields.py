"""Reading DSN fields: status codes (RFC 3463), addresses, field blocks (RFC 3464),
and the parallel lists of a DsnReport."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hrdp.dsn.reasons import decide
from hrdp.dsn.report import DsnKind, DsnReport

DIAGNOSTIC_SHOWN = 1000  # characters of a diagnostic kept in the row

# RFC 3463 enhanced status code: class.subject.detail. What may not precede the class
# digit is checked after it (as in status.py: the engine skips ahead to a 2, 4 or 5).
_STATUS = re.compile(r"([245])(?<![\d.][245])\.(\d{1,3})\.(\d{1,3})(?![\d])")
# RFC 5321 reply code at the start of a reply line ("550 ", "550-", "smtp; 550 ..."):
# after the start of the text, a space or one of ";:([".
_REPLY = re.compile(r"([245])(?<![^\s;:(\[][245])\d\d(?=[\s\-])")
# A field line, lenient about the space before the colon ("Status : 5.1.1").
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")
# An addr-spec as bounces print it (RFC 5321 4.5.3.1 limits: local part 64, domain 255);
# bounded so that scanning a long run of letters stays linear.
ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,253}[A-Za-z0-9])?"
)

# The same for one field value, where non-ASCII is an EAI address (RFC 6531, RFC 6533
# "utf-8" address type), not neighbouring prose.
_UNICODE_ADDRESS = re.compile(r"[\w!#$%&'*+/=?^`{|}~.-]{1,64}@\w(?:[\w.-]{0,253}\w)?")
_QUOTED_ADDRESS = re.compile(r'"[^"\\\r\n]{1,64}"@\w(?:[\w.-]{0,253}\w)?')
# RFC 6533 3.3 embedded-unicode-char in a utf-8-addr-xtext: \x{HHHH}.
_XTEXT_UNICODE = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")

SEVERITY: dict[str, int] = {"failed": 3, "delayed": 2, "delivered": 1, "relayed": 1, "expanded": 1}
_ACTIONS: dict[str, DsnKind] = {
    "failed": "failed",
    "failure": "failed",
    "error": "failed",  # OpenSMTPD
    "delayed": "delayed",
    "delay": "delayed",
    "delivered": "delivered",
    "relayed": "relayed",
    "expanded": "expanded",
}


def status_code(text: str) -> str:
    """The first RFC 3463 code in ``text`` as "X.Y.Z" ("" when none)."""
    match = _STATUS.search(text)
    if not match:
        return ""
    klass, subject, detail = match.groups()
    return f"{klass}.{int(subject)}.{int(detail)}"


def status_from_diagnostic(text: str, classes: str = "245") -> str:
    """A status for a recipient that has none: an RFC 3463 code inside the diagnostic,
    else the class of its SMTP reply code ("5.0.0", "4.0.0"); "" when neither.
    ``classes`` limits the classes accepted."""
    code = status_code(text)
    if code and code[0] in classes:
        return code
    for match in _REPLY.finditer(text):
        if match.group(1) in classes:
            return f"{match.group(1)}.0.0"
    return ""


def kind_from_action(action: str) -> DsnKind | None:
    """RFC 3464 2.3.3 action value (lenient: case, comments, OpenSMTPD's "error")."""
    word = action.strip().lower().split(" ", 1)[0].split("(", 1)[0].rstrip(";,.")
    return _ACTIONS.get(word)


_STATUS_CLASS: dict[str, DsnKind] = {"5": "failed", "4": "delayed", "2": "delivered"}


def kind_from_status(status: str) -> DsnKind | None:
    return _STATUS_CLASS.get(status[:1])


def clean_address(value: str) -> str:
    """The address of a recipient field or text: type prefix ("rfc822;"), angle
    brackets, quotes and trailing dots removed, lower-cased; "" when none."""
    text = value.strip()
    kind, semicolon, rest = text.partition(";")
    if semicolon and "@" not in kind:
        text = rest
    if "\\x{" in text:
        text = _XTEXT_UNICODE.sub(lambda m: chr(min(int(m.group(1), 16), 0x10FFFF)), text)
    # A quoted local part (RFC 5321 4.1.2 Quoted-string) is part of the address.
    match = _QUOTED_ADDRESS.search(text) or _UNICODE_ADDRESS.search(text)
    if not match:
        return ""
    address = match.group(0).strip(".").lower()
    if address.startswith('"') and '"@' in address:
        return address
    return address.lstrip("'\"")


def parse_fields(text: str) -> list[dict[str, str]]:
    """Blocks of "Name: value" fields (RFC 3464 2.1), names lower-cased, first value kept.

    Blank lines separate blocks; a repeated recipient field also starts a new block,
    for reports that forget the blank line between recipients. Lines that are not
    fields end the current field (no continuation into prose).
    """
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in text.split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
            current, last = {}, ""
            continue
        if line[0] in " \t":
            if last:
                current[last] = f"{current[last]} {line.strip()}"
            continue
        match = _FIELD.match(line)
        if not match:
            last = ""
            continue
        name, value = match.group(1).lower(), match.group(2).strip()
        if name in ("final-recipient", "original-recipient") and name in current:
            blocks.append(current)
            current = {}
        if name not in current:
            current[name] = value
        last = name
    if current:
        blocks.append(current)
    return blocks


def most_severe(kinds: Iterable[DsnKind]) -> DsnKind | None:
    ordered = sorted(kinds, key=lambda kind: SEVERITY[kind], reverse=True)
    return ordered[0] if ordered else None


def make_report(
    kind: DsnKind,
    detector: str,
    recipients: list[str],
    statuses: list[str] | None = None,
    diagnostics: list[str] | None = None,
    hint: str = "",
    commands: list[str] | None = None,
    hosts: list[str] | None = None,
    mta: str = "",
    hints: list[str] | None = None,
) -> DsnReport:
    """A DsnReport with parallel lists (duplicates dropped, order kept); status and
    reason per recipient decided by ``reasons.decide`` from the reported status and the
    diagnostic text (``hint``: the reason the detector's format states, if any;
    ``hints``: per recipient, the reason stated about it alone, which replaces ``hint``;
    ``hosts``: per recipient, the names of the hosts that handled it, space-separated;
    ``mta``: the plain-text format that wrote the notice, for its status conventions)."""
    statuses = statuses or [""] * len(recipients)
    diagnostics = diagnostics or [""] * len(recipients)
    commands = commands or [""] * len(recipients)
    hosts = hosts or [""] * len(recipients)
    hints = hints or [""] * len(recipients)
    report = DsnReport(kind=kind, detector=detector)
    seen: set[str] = set()
    # decide() per distinct question: a list's bounce gives many recipients of one
    # domain the same status and diagnostic.
    decided: dict[tuple[str, str, str, tuple[str, ...], str], tuple[str, str]] = {}
    rows = zip(recipients, statuses, diagnostics, commands, hosts, hints, strict=False)
    for address, status, diagnostic, command, host, own in rows:
        if not address or address in seen:
            continue
        seen.add(address)
        if kind in ("failed", "delayed"):
            # The receiving hosts and the recipient's domain name the provider.
            names = (*host.split(), address.rpartition("@")[2])
            stated = own or hint
            question = (status, diagnostic, command, names, stated)
            answer = decided.get(question)
            if answer is None:
                answer = decided[question] = decide(
                    status, diagnostic, delayed=kind == "delayed", hint=stated,
                    command=command, hosts=names, mta=mta,
                )  # fmt: skip
            status, reason = answer
        else:
            reason = "delivered"  # RFC 3464 delivered / relayed / expanded
        report.recipients.append(address)
        report.status.append(status)
        report.reason.append(reason)
        report.diagnostic.append(" ".join(diagnostic[:DIAGNOSTIC_SHOWN].split()))
    return report
