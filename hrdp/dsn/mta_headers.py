"""Bounces recognised by a header their MTA adds, without RFC 3464 structure."""

from __future__ import annotations

from hrdp.dsn.evidence import evidence
from hrdp.dsn.fields import ADDRESS
from hrdp.dsn.mta_bodies import format_of
from hrdp.dsn.report import Finding
from hrdp.dsn.textscan import bounce_context, text_report
from hrdp.message import ParsedMessage

# Headers that list the failed recipients: Exim and Google Groups write
# X-Failed-Recipients (Exim spec, "Bounce messages"); mail.ru writes
# X-Mailer-Daemon-Recipients.
_RECIPIENT_HEADERS = ("X-Failed-Recipients", "X-Mailer-Daemon-Recipients")
# Headers only Exchange puts on its NDRs: X-MS-Exchange-Message-Is-Ndr (Exchange
# Server 2010 and later, Exchange Online), X-DSNContext (Exchange 2000/2003, IIS SMTP).
_EXCHANGE_HEADERS = ("X-MS-Exchange-Message-Is-Ndr", "X-DSNContext")


class FailedRecipientsHeaderDetector:
    """Exim and Google Groups (X-Failed-Recipients), mail.ru
    (X-Mailer-Daemon-Recipients): the header itself lists the failed recipients."""

    name = "x-failed-recipients"

    def detect(self, message: ParsedMessage) -> Finding | None:
        for header in _RECIPIENT_HEADERS:
            values = message.headers(header)
            recipients = [a.lower() for v in values for a in ADDRESS.findall(v)]
            if recipients:
                # Google Groups refuses a post from a non-member or to a missing group:
                # the sender was refused, whatever the wording (Sisimai: "rejected").
                groups = all(a.endswith("@googlegroups.com") for a in recipients)
                hint = "rejected" if groups else ""
                ev = evidence(message)
                # The notice's own format (Exim's, mostly) sets its status conventions.
                report = text_report(ev, self.name, recipients, hint, mta=format_of(ev))
                return Finding(dsn=report)
        return None


class ExchangeHeaderDetector:
    """Microsoft Exchange NDR headers (X-MS-Exchange-Message-Is-Ndr, X-DSNContext) on a
    report that is not RFC 3464 (Exchange 2003 plain-text NDRs, Office 365 HTML NDRs)."""

    name = "exchange"

    def detect(self, message: ParsedMessage) -> Finding | None:
        if not any(message.headers(header) for header in _EXCHANGE_HEADERS):
            return None
        ev = evidence(message)
        if not bounce_context(ev):
            return None
        return Finding(dsn=text_report(ev, self.name))
