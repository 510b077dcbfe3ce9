"""Plain-text bounces recognised by the wording their MTA writes (no RFC 3464 part).

The formats themselves (markers, headers, recipient lines, readings, cause blocks) are
the table of ``mta_formats``; this module finds which of them a notice holds, with one
search for all their markers, and reads the notice as the first one found says.
"""

from __future__ import annotations

import re

from hrdp.dsn.decoding import factor, opening
from hrdp.dsn.evidence import Evidence, evidence
from hrdp.dsn.fields import ADDRESS
from hrdp.dsn.mta_formats import FORMATS, LINE_START, BodyFormat, marker_phrases
from hrdp.dsn.report import Finding
from hrdp.dsn.textscan import bounce_context, text_report
from hrdp.message import ParsedMessage

__all__ = ["FORMATS", "BodyFormat", "MtaBodyDetector", "error_block", "format_of", "formats_in"]


class MtaBodyDetector:
    """MTA-specific plain-text bounces (Zoho, Gmail, InterScan, qmail, Postfix,
    sendmail, Exim, Exchange, Domino, DragonFly, OpenSMTPD, Mimecast, KDDI, m-FILTER,
    IMail, Courier, fml, EZweb, Notes, MailMarshal): a format's marker sentence in the
    notice, from a message that could be a bounce (see ``textscan.bounce_context``)."""

    name = "mta-body"

    def detect(self, message: ParsedMessage) -> Finding | None:
        ev = evidence(message)
        if bounce_context(ev):
            found = formats_in(ev.lines_lower)
        else:  # only a format's own header stands in for the bounce context
            found = [
                form
                for form in FORMATS
                if _has_header(message, form) and form.markers.search(ev.lines_lower)
            ]
        found = [form for form in found if _needs_met(message, form)]
        if not found:
            return None
        form, recipients = found[0], None
        if form.recipient is not None:
            addresses = form.recipient.findall(ev.section)
            recipients = [address.lower() for address in addresses] or None
        hint = form.hint(ev.notice_lower) if form.reasons else ""
        shared = error_block(ev, *form.block) if form.block else ""
        report = text_report(ev, form.name, recipients, hint, reading=form.reading, shared=shared)
        return Finding(dsn=report)


_BARE_ADDRESS = re.compile(rf"[ \t]*<?{ADDRESS.pattern}>?[ \t]*")


def error_block(ev: Evidence, opening: re.Pattern[str], closing: re.Pattern[str] | None) -> str:
    """The cause a format prints once before its list of addresses (Notes' "Failure
    Reasons", MailMarshal's "Could not be delivered because of"): its lines from the
    opening line to the closing one (else the end of the notice), without separator
    lines ("-------") and bare addresses; "" when the opening line is not there."""
    lines = "\n" + ev.section_lower  # offsets: lines[i + 1] is section[i]
    opened = opening.search(lines)
    if opened is None:
        return ""
    closed = closing.search(lines, opened.end()) if closing is not None else None
    text = ev.section[opened.start() : closed.start() if closed else len(ev.section)]
    kept = [
        line.strip()
        for line in text.split("\n")
        if line.strip() and not line.lstrip().startswith("-") and not _BARE_ADDRESS.fullmatch(line)
    ]
    return "\n".join(kept)


def _by_opening() -> tuple[dict[str, tuple[int, ...]], tuple[int, ...]]:
    """Opening character -> the formats (indexes into FORMATS) with a marker phrase
    that opens with it; and the formats with a phrase of no known opening, always
    asked. A phrase opening with a blank would make the first character after the
    indentation the wrong key: it counts as of no known opening."""
    keyed: dict[str, set[int]] = {}
    always: set[int] = set()
    for index, form in enumerate(FORMATS):
        for phrase in marker_phrases(form):
            char = opening(phrase)
            if char and char not in " \t":
                keyed.setdefault(char, set()).add(index)
            else:
                always.add(index)
    table = {char: tuple(sorted(found | always)) for char, found in keyed.items()}
    return table, tuple(sorted(always))


# One pattern for the markers of every format (a line start, then any phrase, grouped
# by opening as phrase tables are), and who to ask where it matches.
_ANY_MARKER = re.compile(
    LINE_START + "(?:" + factor([p for form in FORMATS for p in marker_phrases(form)], 3) + ")",
    re.MULTILINE,
)
_OPENING, _ALWAYS = _by_opening()
_INDENT = re.compile(r"[ \t]*")


def formats_in(lines_lower: str) -> list[BodyFormat]:
    """The formats whose markers the notice holds (``Evidence.lines_lower``), in table
    order. One search for all markers instead of one per format: a format's markers
    match somewhere if and only if they match at a line where the markers of all do;
    there, only the formats with a phrase opening with the line's first character
    (after its indentation) are asked."""
    found: set[int] = set()
    start = 0
    while (match := _ANY_MARKER.search(lines_lower, start)) is not None:
        start = match.start()
        indent = _INDENT.match(lines_lower, start + 1)  # always matches, maybe empty
        first = indent.end() if indent else start + 1
        for index in _OPENING.get(lines_lower[first : first + 1], _ALWAYS):
            if index not in found and FORMATS[index].markers.match(lines_lower, start):
                found.add(index)
        start += 1
    return [FORMATS[index] for index in sorted(found)]


def format_of(ev: Evidence) -> str:
    """The name of the first format whose markers the notice holds ("" when none):
    for detectors that find the recipients elsewhere but follow a format's rules."""
    found = [form for form in formats_in(ev.lines_lower) if _needs_met(ev.message, form)]
    return found[0].name if found else ""


def _has_header(message: ParsedMessage, form: BodyFormat) -> bool:
    if form.header is None:
        return False
    name, pattern = form.header
    return bool(pattern.search(message.header(name)))


def _needs_met(message: ParsedMessage, form: BodyFormat) -> bool:
    """A format without ``needs``, or one of its headers there and matching."""
    if not form.needs:
        return True
    return any(pattern.search(message.header(name)) for name, pattern in form.needs)
