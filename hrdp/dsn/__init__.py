"""Bounce detection: is this message a DSN / NDR (rule 3), and what does it report?

``examine()`` asks the detectors in ``DETECTORS`` from the most to the least
authoritative and keeps the first answer, as flufl.bounce and Sisimai do:

1. reports that share multipart/report but are not bounces (ARF, MDN);
2. RFC 3464 structure (a delivery-status part), then its fields flattened into text;
3. machine-readable MTA cues: Amazon SES JSON, X-Failed-Recipients, Exchange headers;
4. MTA-specific plain-text wording (qmail, Postfix, sendmail, Exim, ...);
5. heuristics: a bounce-like sender with a bounce subject or phrase;
6. auto-replies, last, so that a bounce carrying Auto-Submitted stays a bounce.

A new MTA format is one more ``Detector`` (``base.py``) in this list, or one more
entry in ``mta_formats.FORMATS``; ``examine(message, detectors)`` runs any other list.
Detectors share the per-message facts of ``evidence.py`` (decoded at most once, capped).
"""

from __future__ import annotations

import logging

from hrdp.dsn.amazonses import AmazonSesDetector
from hrdp.dsn.autoreply import AutoReplyDetector
from hrdp.dsn.base import Detector
from hrdp.dsn.heuristics import BounceHeuristicDetector
from hrdp.dsn.mta_bodies import MtaBodyDetector
from hrdp.dsn.mta_headers import ExchangeHeaderDetector, FailedRecipientsHeaderDetector
from hrdp.dsn.notifications import FeedbackReportDetector, ReadReceiptDetector
from hrdp.dsn.report import DSN_KINDS, DsnKind, DsnReport, Finding, NotificationKind
from hrdp.dsn.rfc3464 import DeliveryStatusDetector, InlineDeliveryStatusDetector
from hrdp.dsn.screen import could_be_notice
from hrdp.message import ParsedMessage

__all__ = [
    "DETECTORS",
    "DSN_KINDS",
    "Detector",
    "DsnKind",
    "DsnReport",
    "Finding",
    "NotificationKind",
    "examine",
]

log = logging.getLogger(__name__)
# The answer for ordinary mail, shared: a Finding is frozen and holds no report.
_NOTHING = Finding()

DETECTORS: list[Detector] = [
    FeedbackReportDetector(),
    ReadReceiptDetector(),
    DeliveryStatusDetector(),
    InlineDeliveryStatusDetector(),
    AmazonSesDetector(),
    FailedRecipientsHeaderDetector(),
    ExchangeHeaderDetector(),
    MtaBodyDetector(),
    BounceHeuristicDetector(),
    AutoReplyDetector(),
]


def examine(message: ParsedMessage, detectors: list[Detector] | None = None) -> Finding:
    """The first Finding of ``detectors`` (default ``DETECTORS``); ``Finding()`` when
    none recognises the message. Never raises: a detector that fails on broken input
    is logged and skipped, and the next one is asked."""
    if detectors is None and not could_be_notice(message):
        return _NOTHING  # ordinary mail: no detector could answer (screen.py)
    for detector in DETECTORS if detectors is None else detectors:
        try:
            finding = detector.detect(message)
        except Exception:  # a detector bug must not stop a multi-GB run
            log.warning(
                "DSN detector %s failed", getattr(detector, "name", detector), exc_info=True
            )
            continue
        if finding is not None:
            return finding
    return _NOTHING
