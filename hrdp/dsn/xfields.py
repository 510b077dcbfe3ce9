"""Reasons an MTA states in its own fields of an RFC 3464 report.

RFC 3464 2.4 lets an MTA add "X-" fields to a recipient's block. PowerMTA writes the
category its bounce classifier chose (X-PowerMTA-BounceCategory); Sisimai takes that
category as the reason rather than reading the status or the diagnostic, because a
remote "550 5.2.1 ... User Unknown" is filed by the status alone as a filter.
"""

from __future__ import annotations

# Field name (lower case) -> its values (lower case) -> reason (Sisimai's vocabulary).
STATED: dict[str, dict[str, str]] = {
    # PowerMTA User's Guide, "bounce categories"; "inactive-mailbox" is Sisimai's
    # "disabled", filed as suspend.
    "x-powermta-bouncecategory": {
        "bad-domain": "hostunknown",
        "bad-mailbox": "userunknown",
        "inactive-mailbox": "suspend",
        "message-expired": "expired",
        "no-answer-from-host": "networkerror",
        "policy-related": "policyviolation",
        "quota-issues": "mailboxfull",
        "routing-errors": "systemerror",
        "spam-related": "spamdetected",
    },
}


def stated_reason(block: dict[str, str]) -> str:
    """The reason a recipient block's own MTA field states ("" when none does)."""
    for name, reasons in STATED.items():
        value = block.get(name)
        if value:
            return reasons.get(value.strip().lower(), "")
    return ""
