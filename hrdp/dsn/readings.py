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

from hrdp.dsn.status import code_in, status_name


@dataclass(frozen=True)
class Reading:
    """A format's (phrase, reason) and (phrase, command) tables, phrases in lower case,
    first found wins. ``code_first``: a code in the diagnostic that names a reason of its
    own (no ".0" in it, e.g. 4.2.2) replaces the table's reason (Sisimai's Gmail rule:
    "450 4.2.2 Mailbox full (state 14)" is a full mailbox, not an unknown user)."""

    reasons: tuple[tuple[str, str], ...] = ()
    commands: tuple[tuple[str, str], ...] = ()
    code_first: bool = False

    def read(self, diagnostic: str) -> tuple[str, str]:
        """(reason, command) the tables give for one recipient's diagnostic ("" each
        when none); the reason is a hint for ``reasons.decide``."""
        lower = diagnostic.lower()
        reason = next((reason for phrase, reason in self.reasons if phrase in lower), "")
        command = next((command for phrase, command in self.commands if phrase in lower), "")
        if reason and self.code_first:
            code = code_in(diagnostic)
            if code and ".0" not in code:
                reason = status_name(code)
        return reason, command


# Gmail's notices (Sisimai's Lhost::Gmail): the SMTP state in which the remote server
# refused ("... (state 14)."), else Gmail's own sentence for a failure without a reply.
GMAIL = Reading(
    reasons=(
        ("(state 6)", "failedstarttls"),
        ("(state 8)", "systemerror"),
        ("(state 9)", "failedstarttls"),
        ("(state 12)", "norelaying"),
        ("(state 13)", "blocked"),
        ("(state 14)", "userunknown"),
        ("(state 15)", "filtered"),
        ("(state 17)", "filtered"),
        ("(state 18)", "filtered"),
        ("dns error: could not contact dns servers", "expired"),
        ("delivery to the following recipient has been delayed", "expired"),
        ("the recipient server did not accept our requests to connect", "expired"),
        ("dns error: domain name not found", "hostunknown"),
        ("dns error: dns server returned answer with no data", "hostunknown"),
    ),
    commands=(
        ("(state 6)", "MAIL"),
        ("(state 8)", "AUTH"),
        ("(state 9)", "AUTH"),
        ("(state 12)", "AUTH"),
        ("(state 13)", "EHLO"),
        ("(state 14)", "RCPT"),
        ("(state 15)", "DATA"),
        ("(state 17)", "DATA"),
        ("(state 18)", "DATA"),
    ),
    code_first=True,
)

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

# Lotus Notes (Sisimai's Lhost::Notes), English and Japanese builds.
NOTES = Reading(
    reasons=(
        ("user not listed in public name & address book", "userunknown"),
        ("ディレクトリのリストにありません", "userunknown"),
        ("message has exceeded maximum hop count", "networkerror"),
    ),
)

# Zoho Mail (Sisimai's Lhost::Zoho): "[Status: Error, ..., Host not reachable.]".
ZOHO = Reading(reasons=(("host not reachable", "expired"),))
