"""Standard delivery status notifications: RFC 3464 inside RFC 6522 multipart/report,
and their internationalised form (RFC 6533 message/global-delivery-status)."""

from __future__ import annotations

import re

from hrdp.dsn.decoding import at_line_start, field_text, lowered
from hrdp.dsn.evidence import Evidence, evidence
from hrdp.dsn.fields import (
    clean_address,
    kind_from_action,
    kind_from_status,
    make_report,
    most_severe,
    parse_fields,
    status_code,
    status_from_diagnostic,
)
from hrdp.dsn.report import DsnKind, DsnReport, Finding
from hrdp.dsn.status import code_in, is_catch_all, prefer, reply_in, smtp_command
from hrdp.dsn.textscan import (
    DELAY_SUBJECT,
    add_original,
    bounce_context,
    text_report,
    windows_near,
)
from hrdp.dsn.xfields import stated_reason
from hrdp.message import ParsedMessage

STATUS_TYPES = ("message/delivery-status", "message/global-delivery-status")
FIELDS_SCAN = 64 * 1024  # characters of fields searched for an X-Unix diagnostic type


def _value(field: str) -> str:
    """A typed field value without its type: "dns; mx.example.jp" -> "mx.example.jp"."""
    return field.partition(";")[2].strip() if ";" in field else field.strip()


def recipient_of(block: dict[str, str]) -> str:
    """The address the sender gave: Original-Recipient when the report carries it
    (RFC 3464 2.3.1, the ORCPT of RFC 3461), else Final-Recipient (2.3.2).

    After aliasing or forwarding, Final-Recipient is an address the sender never used
    (a forward target, a postmaster alias); a list manager that acts on the bounce can
    only unsubscribe the address it sent to. Final-Recipient is also useless when it is
    a file path (Exim pipes), a bare "@host", or a source route ("@relay:user@host")."""
    final = block.get("final-recipient", "")
    original = clean_address(block.get("original-recipient", ""))
    if original:
        # The same mailbox, but quoted in Final-Recipient ("neko..nyaan"@host, whose
        # local part is no dot-atom): the quoted spelling is the valid address.
        quoted = clean_address(final)
        return quoted if quoted.replace('"', "") == original else original
    if final.partition(";")[2].strip().lstrip("<").startswith("@"):
        return ""
    return clean_address(final)


def _fallback_kind(ev: Evidence) -> DsnKind:
    return "delayed" if DELAY_SUBJECT.search(ev.subject) else "failed"


# One recipient block: kind, address, status, diagnostic, remote MTA, stated reason.
_Row = tuple[DsnKind | None, str, str, str, str, str]
_ROW_FIELDS = frozenset({"final-recipient", "original-recipient", "action", "status"})


def _rows(blocks: list[dict[str, str]], read_status: bool) -> list[_Row]:
    """The blocks that are about a recipient (a recipient, an Action or a Status)."""
    rows: list[_Row] = []
    for block in blocks:
        if _ROW_FIELDS.isdisjoint(block):
            continue
        diagnostic = _value(block.get("diagnostic-code", ""))
        status = status_code(block.get("status", ""))
        kind = kind_from_action(block.get("action", "")) or kind_from_status(
            status or status_from_diagnostic(diagnostic)
        )
        remote = _value(block.get("remote-mta", "")).partition(" ")[0].lower()
        status = status if read_status else ""
        rows.append((kind, recipient_of(block), status, diagnostic, remote, stated_reason(block)))
    return rows


def report_from_fields(
    text: str, ev: Evidence, detector: str, read_status: bool = True
) -> DsnReport | None:
    """A DsnReport from RFC 3464 field blocks; None when no block names a recipient
    and none carries an Action or Status (not a delivery-status text at all).
    ``read_status`` False: the Status fields decide the kind only, the code comes
    from the diagnostic (a status part outside multipart/report, see ``_in_report``)."""
    blocks = parse_fields(text)
    rows = _rows(blocks, read_status)
    if not rows:
        return None
    kind = most_severe(row[0] for row in rows if row[0]) or _fallback_kind(ev)
    chosen = [row for row in rows if (row[0] or kind) == kind]
    recipients = [row[1] for row in chosen]
    reporting_mta = _value(_first_value(blocks, "reporting-mta"))
    windows = windows_near(ev.section, recipients, ev.section_lower)
    default = "RCPT" if _checks_at_rcpt(reporting_mta + " " + chosen[0][3]) else ""
    report = make_report(
        kind,
        detector,
        recipients,
        [sharpen(row[2], row[3], window) for row, window in zip(chosen, windows, strict=True)],
        # Without a Diagnostic-Code, what the notice says about the recipient.
        [row[3] or window for row, window in zip(chosen, windows, strict=True)],
        # RFC 3464 2.3.6 "X-Unix" diagnostics come from a local program (exit status).
        hint="mailererror" if "x-unix" in text[:FIELDS_SCAN].lower() else "",
        commands=[smtp_command(window) or default for window in windows],
        hosts=[f"{row[4]} {reporting_mta.partition(' ')[0].lower()}" for row in chosen],
        hints=[row[5] for row in chosen],
    )
    report.reporting_mta = reporting_mta
    report.original_message_id = _first_value(blocks, "x-original-message-id")
    return report


def _first_value(blocks: list[dict[str, str]], name: str) -> str:
    """A per-message field: its value in the first block that has it ("" if none)."""
    return next((block[name] for block in blocks if name in block), "")


def sharpen(status: str, diagnostic: str, window: str) -> str:
    """The Status field, or where it and the Diagnostic-Code give only a catch-all
    (X.0.0, 4.4.7), the specific code of the same class that the notice's own text
    about the recipient gives: sendmail's transcript ("554 5.3.0 unknown mailer
    error" under "Diagnostic-Code: X-Unix; 255"), Exchange's list of attempts ("441
    4.4.1 ... Failed to connect" under "550 4.4.7 QUEUE.Expired"). Sisimai reads these
    notices by their text, and its Status.find passes over catch-alls the same way."""
    if not window:
        return status
    reported = prefer(status, code_in(diagnostic), reply_in(diagnostic))
    if reported and not is_catch_all(reported):
        return status
    in_text = code_in(window)
    if in_text and not is_catch_all(in_text) and in_text[0] == (reported or in_text)[0]:
        return in_text
    return status


# Providers whose front doors check recipients against their directory at RCPT TO
# (Exchange Online's directory-based edge blocking, Yahoo), whatever their notice says.
_RCPT_CHECKERS = re.compile(
    r"outlook\.com|exchangelabs\.com|resolver\.adr\.|\.yahoo\.com", re.IGNORECASE
)
_RCPT_CHECKERS_LOWER = lowered(_RCPT_CHECKERS)


def _checks_at_rcpt(text: str) -> bool:
    """``_RCPT_CHECKERS`` found in ``text``. ASCII text is lower-cased and searched
    without IGNORECASE (the engine then skips ahead by first characters); elsewhere
    case folding differs from lower() ("\u017f" matches "s"), so the pattern decides."""
    if text.isascii():
        return _RCPT_CHECKERS_LOWER.search(text.lower()) is not None
    return _RCPT_CHECKERS.search(text) is not None


def _in_report(ev: Evidence) -> bool:
    """A status part belongs to an RFC 3464 report only inside a multipart/report
    (RFC 6522 3; a forwarding wrapper may hold the report). OpenSMTPD sends
    multipart/mixed whose Status is a catch-all (4.4.7, 4.0.0, 5.0.0) whatever the
    cause; Sisimai reads those notices by their text, so the code comes from the
    diagnostic, else the reason's pseudo status."""
    return "multipart/report" in ev.part_types


class DeliveryStatusDetector:
    """RFC 3464 / RFC 6522 / RFC 6533: a message/delivery-status or
    message/global-delivery-status part anywhere in the MIME tree. Lenient where real
    MTAs deviate: report-type missing or mis-cased, "Field : value" spacing, blocks not
    separated, Action missing (the Status class decides), OpenSMTPD's "Action: error"."""

    name = "rfc3464"

    def detect(self, message: ParsedMessage) -> Finding | None:
        ev = evidence(message)
        if not ev.content_type.startswith("multipart/"):
            return None
        if not ev.part_types & set(STATUS_TYPES):
            if ev.report_type in ("delivery-status", "global-delivery-status"):
                # Declared a DSN (RFC 6522) but its status part is mislabelled or lost
                # (a broken boundary leaves the fields in the text).
                found = inline_report(ev, self.name) or text_report(ev, self.name)
                return Finding(dsn=found)
            return None
        report: DsnReport | None = None
        text = ""
        for part, ctype in ev.typed_parts:
            if ctype in STATUS_TYPES:
                text = field_text(part)
                report = report_from_fields(text, ev, self.name, _in_report(ev))
                if report is not None:
                    break
        if report is None:
            # A delivery-status part without recipient blocks (empty, stripped, or
            # per-message only) is still a DSN: read the notice like a plain bounce.
            return Finding(dsn=text_report(ev, self.name))
        if not report.recipients:
            fallback = _unaddressed(ev, report, text, self.name)
            if fallback.recipients:
                return Finding(dsn=fallback)
        return Finding(dsn=add_original(report, ev))


def _unaddressed(ev: Evidence, report: DsnReport, text: str, detector: str) -> DsnReport:
    """Blocks whose recipient is no address (file path, "@host"): the notice names it
    ("Final-Recipient: rfc822;/var/spool/..." from Exim pipes). Their Status fields
    still hold, one per block, when the notice names as many recipients."""
    statuses = [status_code(block.get("status", "")) for block in parse_fields(text)]
    fallback = text_report(ev, detector, statuses=[code for code in statuses if code])
    fallback.kind, fallback.reporting_mta = report.kind, report.reporting_mta
    return fallback


_INLINE_FIELDS = re.compile(
    r"^[ \t]*(?:final|original)-recipient[ \t]*:.*\n(?:[^\n]*\n){0,8}?"
    r"[ \t]*(?:action|status)[ \t]*:"
    r"|^[ \t]*(?:action|status)[ \t]*:.*\n(?:[^\n]*\n){0,8}?"
    r"[ \t]*(?:final|original)-recipient[ \t]*:",
    re.MULTILINE,
)  # written in lower case: searched in Evidence.lines_lower
_INLINE_LINES = at_line_start(_INLINE_FIELDS)


def inline_report(ev: Evidence, detector: str) -> DsnReport | None:
    """RFC 3464 fields found in the notice text, read from the block that holds the
    first of them (earlier text is prose)."""
    match = _INLINE_LINES.search(ev.lines_lower)  # starts where its line starts
    if match is None:
        return None
    start = ev.notice.rfind("\n\n", 0, match.start()) + 1
    report = report_from_fields(ev.notice[start:], ev, detector)
    return None if report is None else add_original(report, ev)


class InlineDeliveryStatusDetector:
    """RFC 3464 fields outside a message/delivery-status part: gateways that flatten
    the report to text/plain or multipart/mixed (Amazon WorkMail, some Exchange and
    qmail-ldap builds). Only from a message that could be a bounce."""

    name = "rfc3464-inline"

    def detect(self, message: ParsedMessage) -> Finding | None:
        ev = evidence(message)
        if not bounce_context(ev):
            return None
        report = inline_report(ev, self.name)
        return None if report is None else Finding(dsn=report)
