"""The row: the contract every script reads (docs/output.md, HOUSE_STYLE.md).

Keys are only ever added, never renamed or removed; ROW_KEYS is their order in JSON.
Flat formats (tsv, csv, tables) carry FLAT_COLUMNS, in that order, one line per cell.
"""

from __future__ import annotations

import re
from typing import Any

from hrdp.examine import Result

ROW_KEYS = (
    "source",
    "index",
    "message_id",
    "pool",
    "reasons",
    "sender",
    "sender_domain",
    "sender_source",
    "dns",
    "dns_detail",
    "dsn",
    "notification",
    "score",
    "error",
)
FLAT_COLUMNS = (
    "source",
    "index",
    "pool",
    "reasons",
    "sender",
    "sender_domain",
    "sender_source",
    "dns",
    "dsn",
    "notification",
    "score",
    "message_id",
    "error",
)


def to_row(result: Result) -> dict[str, Any]:
    """The JSON row of the contract in HOUSE_STYLE.md, plus ``dns_detail`` and ``scorer``
    details that only ever extend it. Keys in ROW_KEYS order."""
    sender = result.sender
    score = result.score
    return {
        "source": result.source,
        "index": result.index,
        "message_id": result.message_id,
        "pool": result.decision.pool,
        "reasons": result.decision.reasons,
        "sender": sender.address if sender else "",
        "sender_domain": sender.domain.name if sender else "",
        "sender_source": sender.source if sender else "none",
        "dns": result.dns.outcome if result.dns else "skipped",
        "dns_detail": result.dns.detail if result.dns else "",
        "dsn": result.finding.dsn.as_dict() if result.finding.dsn else None,
        "notification": result.finding.notification,
        "score": None
        if score is None
        else {
            "scorer": result.scorer,
            "value": score.value,
            "threshold": score.threshold,
            "spam": score.spam,
            "detail": score.detail,
        },
        "error": result.error,
    }


def flat(row: dict[str, Any]) -> dict[str, str]:
    """One line of text per field, for tsv, csv and tables."""
    return {c: flat_value(c, row[c]) for c in FLAT_COLUMNS}


def flat_value(column: str, value: Any) -> str:
    """The one-line text of one column's value."""
    if column == "reasons":
        value = ",".join(value)
    elif column == "dsn":
        value = value["kind"] if value else ""
    elif column == "score":
        value = f"{value['value']:g}/{value['threshold']:g}" if value else ""
    return _one_line(value)


def _one_line(value: Any) -> str:
    if value is None:
        return ""
    text = value if value.__class__ is str else str(value)
    # A tab or newline inside a field would break the TSV row: fold them to spaces.
    return " ".join(text.split()) if _BREAK(text) else text


_BREAK = re.compile("[\t\r\n]").search
