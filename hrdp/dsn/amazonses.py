"""Amazon SES event notifications: JSON in a text/plain body, sent directly or through
Amazon SNS (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html)."""

from __future__ import annotations

import re

from hrdp.dsn.evidence import evidence
from hrdp.dsn.fields import clean_address, make_report, status_code
from hrdp.dsn.report import Finding
from hrdp.message import ParsedMessage
from hrdp.mime import Part

# Read with patterns, not json.loads: real notifications arrive wrapped at 998
# characters ("!\n " inserted mid-string) and SNS nests the event as an escaped string.
_TYPE = re.compile(r'"(?:notificationType|eventType)"\s*:\s*"(\w+)"')
_ARRAY = {
    "Bounce": re.compile(r'"bouncedRecipients"\s*:\s*\[(.*?)\]', re.DOTALL),
    "Delivery": re.compile(r'"delivery"\s*:\s*\{.*?"recipients"\s*:\s*\[(.*?)\]', re.DOTALL),
}
_OBJECT = re.compile(r"\{[^{}]*\}")
_FIELD = re.compile(r'"(emailAddress|status|diagnosticCode)"\s*:\s*"([^"]*)"')
_STRING = re.compile(r'"([^"]+)"')
_MTA = re.compile(r'"reportingMTA"\s*:\s*"(?:dsn;\s*)?([^"]+)"')
_MESSAGE_ID = re.compile(r'"mail"\s*:\s*\{.*?"messageId"\s*:\s*"([^"]+)"', re.DOTALL)
_SOURCE = re.compile(r'"mail"\s*:\s*\{.*?"source"\s*:\s*"([^"]+)"', re.DOTALL)


def looks_like_sns(sender: str, subject: str, msg: Part) -> bool:
    """Cheap: SNS's sender (From, lower-cased) or subject, or a body that opens with "{".
    ``msg`` is a text/* message: a leaf, whose body is read as written (asking for its
    children would build its header table only to learn it has none)."""
    if ".amazonaws.com" in sender or ".amazonses.com" in sender:
        return True
    if subject.startswith("AWS Notification"):
        return True
    return msg.body[:200].lstrip().startswith("{")


def _unwrap(text: str) -> str:
    return text.replace('\\"', '"').replace("!\n ", "").replace("\\n", "\n")


class AmazonSesDetector:
    """Amazon SES notifications (notificationType / eventType): Bounce is a failed
    DSN (Permanent and Transient alike: SES has stopped trying), Delivery a delivered
    one, Complaint a feedback report (SES forwards the ISP's ARF report as JSON)."""

    name = "amazonses"

    def detect(self, message: ParsedMessage) -> Finding | None:
        ev = evidence(message)
        if not ev.content_type.startswith("text/") or not looks_like_sns(
            message.header("From").lower(), ev.subject, message.msg
        ):
            return None
        text = _unwrap(ev.notice)
        match = _TYPE.search(text)
        if match is None or "{" not in text[: match.start()]:
            return None
        event = match.group(1)
        if event == "Complaint":
            return Finding(notification="feedback-report")
        if event not in _ARRAY:
            return None
        array = _ARRAY[event].search(text)
        body = array.group(1) if array else ""
        if event == "Delivery":
            recipients = [clean_address(a) for a in _STRING.findall(body)]
            report = make_report("delivered", self.name, recipients, ["2.0.0"] * len(recipients))
        else:
            rows = [dict(_FIELD.findall(item)) for item in _OBJECT.findall(body)]
            recipients = [clean_address(row.get("emailAddress", "")) for row in rows]
            statuses = [status_code(row.get("status", "")) for row in rows]
            diagnostics = [row.get("diagnosticCode", "") for row in rows]
            report = make_report("failed", self.name, recipients, statuses, diagnostics)
        mta = _MTA.search(text)
        report.reporting_mta = mta.group(1) if mta else ""
        message_id = _MESSAGE_ID.search(text)
        report.original_message_id = message_id.group(1) if message_id else ""
        source = _SOURCE.search(text)
        report.original_sender = clean_address(source.group(1)) if source else ""
        return Finding(dsn=report)
