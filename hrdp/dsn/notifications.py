"""Machine-written reports that share multipart/report with DSNs but are not bounces:
abuse / feedback-loop reports and message disposition notifications. They are checked
before RFC 3464 so that their report parts are never read as delivery status."""

from __future__ import annotations

import re

from hrdp.dsn.decoding import field_text
from hrdp.dsn.evidence import evidence
from hrdp.dsn.fields import clean_address, make_report, parse_fields
from hrdp.dsn.report import Finding
from hrdp.message import ParsedMessage

_JMRP_SUBJECT = re.compile(r"^complaint about message from ", re.IGNORECASE)


class FeedbackReportDetector:
    """RFC 5965 Abuse Reporting Format: report-type=feedback-report or a
    message/feedback-report part; also the pre-ARF Microsoft JMRP complaint
    (staff@hotmail.com, "complaint about message from ...") and Apple Mail's
    one-click unsubscribe request (X-Apple-Unsubscribe), which Sisimai files as feedback."""

    name = "arf"

    def detect(self, message: ParsedMessage) -> Finding | None:
        ev = evidence(message)
        report = Finding(notification="feedback-report")
        if ev.report_type == "feedback-report":
            return report
        if message.header("X-Apple-Unsubscribe").lower() == "true":
            return report
        if _JMRP_SUBJECT.match(ev.subject) and ev.from_pair[1] == "staff@hotmail.com":
            return report
        if ev.content_type.startswith("multipart/") and "message/feedback-report" in ev.part_types:
            return report
        return None


class ReadReceiptDetector:
    """RFC 8098 message disposition notifications (read receipts): report-type=
    disposition-notification or a message/disposition-notification part.

    One exception is a bounce: RFC 5429 section 2.2.2 has Sieve "reject" (Dovecot LDA,
    Cyrus) refuse a message with an MDN whose disposition is
    "automatic-action/...; deleted"; that is a failed delivery for its Final-Recipient.
    """

    name = "mdn"

    def detect(self, message: ParsedMessage) -> Finding | None:
        ev = evidence(message)
        if ev.report_type != "disposition-notification":
            if not ev.content_type.startswith("multipart/"):
                return None
            if "message/disposition-notification" not in ev.part_types:
                return None
        for part, ctype in ev.typed_parts:
            if ctype != "message/disposition-notification":
                continue
            for block in parse_fields(field_text(part)):
                disposition = block.get("disposition", "").lower()
                if "automatic-action" in disposition and "deleted" in disposition:
                    address = clean_address(block.get("final-recipient", ""))
                    return Finding(dsn=make_report("failed", "sieve-reject", [address]))
        return Finding(notification="read-receipt")
