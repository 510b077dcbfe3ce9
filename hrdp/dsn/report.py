"""What a bounce says: the parsed DSN report and the non-bounce notifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DsnKind = Literal["failed", "delayed", "delivered", "relayed", "expanded"]
NotificationKind = Literal["autoreply", "feedback-report", "read-receipt"]
DSN_KINDS: tuple[DsnKind, ...] = ("failed", "delayed", "delivered", "relayed", "expanded")


@dataclass
class DsnReport:
    """One delivery status notification (RFC 3464) or a non-standard NDR.

    ``recipients``, ``status`` and ``reason`` are parallel lists, one entry per failed
    (or delayed, delivered, ...) recipient; ``status`` holds RFC 3463 codes ("" if none),
    ``reason`` Sisimai's vocabulary ("undefined" if unknown).
    """

    kind: DsnKind
    detector: str  # which detector recognised it (for `hrdp inspect` and debugging)
    recipients: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    reason: list[str] = field(default_factory=list)
    diagnostic: list[str] = field(default_factory=list)
    reporting_mta: str = ""
    original_message_id: str = ""
    original_sender: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "recipients": self.recipients,
            "status": self.status,
            "reason": self.reason,
            "reporting_mta": self.reporting_mta,
            "diagnostic": self.diagnostic,
            "original_message_id": self.original_message_id,
            "original_sender": self.original_sender,
            "detector": self.detector,
        }


@dataclass(frozen=True)
class Finding:
    """What the bounce detectors concluded about one message: a DSN, a notification
    that is not a DSN (auto-reply, ARF report, read receipt), or neither."""

    dsn: DsnReport | None = None
    notification: NotificationKind | None = None
