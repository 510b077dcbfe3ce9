"""What a plain-text format's own wording says about one recipient.

Some MTAs word each recipient's failure in a few fixed sentences, and Sisimai's module
for that MTA maps them to a reason (and the SMTP command that failed) before its generic
rules run: IMail's "Unknown user: addr", Gmail's "(state 14)", InterScan's "Unable to
deliver message to <addr>". The generic phrase tables cannot hold these: "Unknown user"
alone does not say which command failed, and "Unable to deliver" means nothing outside
InterScan. A ``Reading`` is such a table, asked about each recipient's own diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    """A format's (phrase, reason) and (phrase, command) tables, phrases in lower case,
    first found wins."""

    reasons: tuple[tuple[str, str], ...] = ()
    commands: tuple[tuple[str, str], ...] = ()

    def read(self, diagnostic: str) -> tuple[str, str]:
        """(reason, command) the tables give for one recipient's diagnostic ("" each
        when none); the reason is a hint for ``reasons.decide``."""
        lower = diagnostic.lower()
        reason = next((reason for phrase, reason in self.reasons if phrase in lower), "")
        command = next((command for phrase, command in self.commands if phrase in lower), "")
        return reason, command


# Ipswitch / Progress IMail Server (Sisimai's Lhost::IMailServer): "Unknown user: addr",
# "Delivery failed 3 attempts: addr", "User mailbox exceeds allowed size: addr".
IMAIL = Reading(
    reasons=(
        ("unknown host", "hostunknown"),
        ("unknown user", "userunknown"),
        ("invalid final delivery userid", "userunknown"),
        ("user mailbox exceeds allowed size", "mailboxfull"),
        ("requested action not taken: virus detected", "virusdetected"),
        ("blacklisted url in message", "spamdetected"),
        ("delivery failed ", "expired"),
    ),
)

# Trend Micro InterScan MSS (Sisimai's Lhost::InterScanMSS, TrendMicro): "Unable to
# deliver message to <addr>" is its answer for an address the next hop refused.
INTERSCAN = Reading(reasons=(("unable to deliver", "userunknown"),))
