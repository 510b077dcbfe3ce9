"""The ``headers`` scorer: believe a spam verdict an upstream filter already stamped.

Reads SpamAssassin, rspamd and Microsoft 365 (EOP) headers, always the first (topmost,
most recent) occurrence, and nothing else: a few look-ups and precompiled regexes per
message. Headers from outside the trust boundary can be forged, so the ``trust`` option
(``--scorer-opt trust=spamassassin,rspamd``) names the vendors to believe (default: all).

- Spam when any trusted vendor says spam. Value and threshold are the native numbers of
  the first vendor in ``trust`` order that says spam, else of the first with a verdict;
  a flag without numbers gives 1.0 (spam) or 0.0 over 1.0.
- Headers with no verdict (Microsoft's ``EFV:NLI;`` alone, an ``X-Spam: high`` from some
  other filter, an empty ``X-Spam-Level``) give no opinion; no opinion at all -> None.
  Unreadable values are skipped with a note in ``detail``, never an exception.
- ``threshold`` (``--threshold``) re-decides every verdict that came from a native score
  (SpamAssassin, rspamd, a Microsoft SCL without CAT/SFV): spam when value >= threshold.
  Flags and Microsoft's CAT/SFV verdicts keep their own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

VENDORS = ("spamassassin", "rspamd", "microsoft")


@dataclass(frozen=True)
class Reading:
    """One vendor's verdict as read from its headers."""

    value: float
    threshold: float
    spam: bool
    scored: bool  # the verdict is value >= threshold, so --threshold may re-decide it
    sources: tuple[str, ...]  # header names, or Microsoft's "CAT=.. SFV=.. SCL=.."
    flag_only: bool = False

    def summary(self) -> str:
        verdict = "yes" if self.spam else "no"
        if self.flag_only:
            return f"flag {verdict} ({', '.join(self.sources)})"
        return f"{self.value}/{self.threshold} {verdict} ({', '.join(self.sources)})"


def _flag(spam: bool, sources: list[str]) -> Reading:
    return Reading(1.0 if spam else 0.0, 1.0, spam, False, tuple(sources), flag_only=True)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _clip(text: str) -> str:
    return repr(text[:24] + ("..." if len(text) > 24 else ""))


def _field(pattern: re.Pattern[str], text: str, label: str, notes: list[str]) -> float | None:
    match = pattern.search(text)
    if match is None:
        return None
    value = _number(match.group(1))
    if value is None:
        notes.append(f"{label} {_clip(match.group(1))} unreadable, ignored")
    return value


def _yes_no(text: str, label: str, notes: list[str]) -> bool | None:
    word = text.strip().lower()
    if word in ("yes", "true"):
        return True
    if word in ("no", "false"):
        return False
    notes.append(f"{label} {_clip(text)} is not yes/no, ignored")
    return None


# --- SpamAssassin -------------------------------------------------------------------
# Mail::SpamAssassin::Conf, add_header defaults: "X-Spam-Status: _YESNO_, score=_SCORE_
# required=_REQD_ tests=_TESTS_ autolearn=_AUTOLEARN_ version=_VERSION_" (2.x wrote
# "hits=" for score), "X-Spam-Flag: YES" on spam only, "X-Spam-Level: _STARS(*)_" (one
# star per whole point, int(score), at most 50; empty below 1). rspamd's milter_headers
# x-spam-status routine writes "Yes, score=17.00" (no required=) under the same name.
_SA_WORD = re.compile(r"\s*(yes|no)\b", re.IGNORECASE)
_SA_SCORE = re.compile(r"\b(?:score|hits)=([^\s,;]+)", re.IGNORECASE)
_SA_REQUIRED = re.compile(r"\brequired=([^\s,;]+)", re.IGNORECASE)
_STARS = re.compile(r"\**")
_WHOLE = re.compile(r"\s*(\S.*)")  # a header whose whole value is one number
SA_DEFAULT_REQUIRED = 5.0  # SpamAssassin's required_score default


def _stars(msg: ParsedMessage, notes: list[str]) -> float | None:
    level = msg.header("X-Spam-Level").strip()
    if not level:  # absent, or SpamAssassin's empty level: too weak to call it clean
        return None
    if not _STARS.fullmatch(level):
        notes.append(f"X-Spam-Level {_clip(level)} is not stars, ignored")
        return None
    return float(len(level))


def read_spamassassin(msg: ParsedMessage, notes: list[str]) -> Reading | None:
    status = msg.header("X-Spam-Status")
    word_match = _SA_WORD.match(status)
    word = word_match.group(1).lower() == "yes" if word_match else None
    score = _field(_SA_SCORE, status, "X-Spam-Status score", notes)
    required = _field(_SA_REQUIRED, status, "X-Spam-Status required", notes)
    if status and word is None and score is None:
        notes.append(f"X-Spam-Status {_clip(status)} unreadable, ignored")
    flag_text = msg.header("X-Spam-Flag")
    flag = _yes_no(flag_text, "X-Spam-Flag", notes) if flag_text else None
    sources = ["X-Spam-Status"] if word is not None or score is not None else []
    sources += ["X-Spam-Flag"] if flag is not None else []
    if score is None:
        score = _stars(msg, notes)  # X-Spam-Level: only when the status gave no score
        sources += ["X-Spam-Level"] if score is not None else []
    if not sources:
        return None
    said_spam = bool(word) or bool(flag)
    if score is None:
        return _flag(said_spam, sources)
    threshold = required if required is not None else SA_DEFAULT_REQUIRED
    return Reading(score, threshold, said_spam or score >= threshold, True, tuple(sources))


# --- rspamd ---------------------------------------------------------------------------
# rspamd's milter_headers module (rspamd.com/doc/modules/milter_headers.html and
# src/plugins/lua/milter_headers.lua): "X-Spamd-Result: default: True [17.00 / 15.00];
# SYMBOL(1.00)[opts] ..." where True means action == reject and the bracket holds the
# score over the *reject* threshold (required_score, 15 by default), not add-header (6).
# "X-Spam: Yes" and X-Spam-Status "Yes" are written for add header and above. So a
# message is spam when X-Spam says Yes or X-Rspamd-Action is add header or worse, even
# when its score is under the bracket threshold: the milter acted on it as spam.
_RSPAMD_RESULT = re.compile(
    r"\s*[\w.-]+:\s*(true|false)\s*\[\s*([^\s/\]]+)\s*/\s*([^\s\]]+)\s*\]", re.IGNORECASE
)
RSPAMD_SPAM_ACTIONS = frozenset({"add header", "rewrite subject", "soft reject", "reject"})
RSPAMD_ACTIONS = RSPAMD_SPAM_ACTIONS | {"no action", "greylist"}
RSPAMD_DEFAULT_REJECT = 15.0  # rspamd's default reject threshold, for a bare score


def _spamd_result(
    text: str, says: list[bool], notes: list[str]
) -> tuple[float | None, float | None]:
    match = _RSPAMD_RESULT.match(text)
    if match is None:
        notes.append(f"X-Spamd-Result {_clip(text)} unreadable, ignored")
        return None, None
    says.append(match.group(1).lower() == "true")
    score, threshold = _number(match.group(2)), _number(match.group(3))
    if score is None or threshold is None:
        notes.append(f"X-Spamd-Result numbers {_clip(match.group(0))} unreadable, ignored")
        return None, None
    return score, threshold


def _rspamd_action(text: str, says: list[bool], notes: list[str]) -> bool:
    action = " ".join(text.lower().split())
    if action not in RSPAMD_ACTIONS:
        notes.append(f"X-Rspamd-Action {_clip(text)} unknown, ignored")
        return False
    says.append(action in RSPAMD_SPAM_ACTIONS)
    return True


def read_rspamd(msg: ParsedMessage, notes: list[str]) -> Reading | None:
    says: list[bool] = []
    sources: list[str] = []
    score = threshold = None
    if text := msg.header("X-Spamd-Result"):
        score, threshold = _spamd_result(text, says, notes)
        sources += ["X-Spamd-Result"] if says else []
    if score is None:
        score = _field(_WHOLE, msg.header("X-Rspamd-Score").strip(), "X-Rspamd-Score", notes)
        sources += ["X-Rspamd-Score"] if score is not None else []
    if (text := msg.header("X-Spam")) and (said := _yes_no(text, "X-Spam", notes)) is not None:
        says.append(said)
        sources.append("X-Spam")
    if (text := msg.header("X-Rspamd-Action")) and _rspamd_action(text, says, notes):
        sources.append("X-Rspamd-Action")
    if not sources:
        return None
    if score is None:
        return _flag(any(says), sources)
    threshold = threshold if threshold is not None else RSPAMD_DEFAULT_REJECT
    return Reading(score, threshold, any(says) or score >= threshold, True, tuple(sources))


# --- Microsoft 365 / EOP ---------------------------------------------------------------
# learn.microsoft.com/defender-office-365/message-headers-eop-mdo and
# .../anti-spam-spam-confidence-level-scl-about: SCL -1 = filtering skipped, 0-1 not spam,
# 5-6 spam, 7-9 high confidence spam (2-4 are never stamped); spam at SCL >= 5. CAT and
# SFV are the filter's verdict and beat SCL when present. SFV:SKS and SFV:SKB are skip
# codes that *mark the message as spam* (mail flow rule, blocked sender), as does BLK.
# CAT:BULK alone is not a verdict (bulk mail over the BCL threshold gets SFV:SPM/SCL 6),
# so X-Microsoft-Antispam's BCL is not read.
SCL_SPAM = 5.0
MS_CAT_SPAM = frozenset({"SPM", "HSPM", "OSPM", "PHSH", "HPHSH", "HPHISH", "MALW", "AMP"})
MS_CAT_SPAM |= {"FTBP", "SAP", "SPOOF", "DIMP", "UIMP", "GIMP", "BIMP", "INTOS"}
MS_SFV_SPAM = frozenset({"SPM", "SKS", "SKB", "BLK"})
MS_SFV_HAM = frozenset({"NSPM", "SFE", "SKA", "SKN", "SKQ", "SKI"})


def _report_fields(text: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for part in text.split(";"):
        name, colon, value = part.partition(":")
        if colon:
            fields.setdefault(name.strip().upper(), value.strip())
    return fields


def _scl(texts: tuple[str, str], notes: list[str]) -> int | None:
    """The first readable SCL: X-MS-Exchange-Organization-SCL (the one Exchange acts on,
    which mail flow rules set), then the report's SCL field; -1..10, clamped to 9."""
    for source, text in zip(("X-MS-Exchange-Organization-SCL", "SCL field"), texts, strict=True):
        if not text.strip():
            continue
        try:
            level = int(text.strip())
        except ValueError:
            level = -2
        if -1 <= level <= 10:
            return min(level, 9)
        notes.append(f"{source} {_clip(text)} unreadable, ignored")
    return None


def _ms_verdict(cat: str, sfv: str, notes: list[str]) -> bool | None:
    if cat in MS_CAT_SPAM or sfv in MS_SFV_SPAM:
        return True
    if cat == "NONE" or sfv in MS_SFV_HAM:
        return False
    for name, value in (("CAT", cat), ("SFV", sfv)):
        if value and value != "BULK":
            notes.append(f"{name} {_clip(value)} unknown, ignored")
    return None


def read_microsoft(msg: ParsedMessage, notes: list[str]) -> Reading | None:
    fields = _report_fields(msg.header("X-Forefront-Antispam-Report"))
    cat, sfv = fields.get("CAT", "").upper(), fields.get("SFV", "").upper()
    scl = _scl((msg.header("X-MS-Exchange-Organization-SCL"), fields.get("SCL", "")), notes)
    verdict = _ms_verdict(cat, sfv, notes)
    shown = (("CAT", cat), ("SFV", sfv), ("SCL", "" if scl is None else str(scl)))
    label = (" ".join(f"{name}={value}" for name, value in shown if value),)
    if verdict is None:
        if scl is None:
            return None
        return Reading(float(scl), SCL_SPAM, scl >= SCL_SPAM, True, label)
    if scl is None:
        return replace(_flag(verdict, []), sources=label)
    return Reading(float(scl), SCL_SPAM, verdict, False, label)


Reader = Callable[["ParsedMessage", list[str]], Reading | None]
READERS: dict[str, Reader] = {
    "spamassassin": read_spamassassin,
    "rspamd": read_rspamd,
    "microsoft": read_microsoft,
}
# The fields each reader reads (lower-cased). A reader whose fields are all absent says
# nothing (None, no note): most mail carries none, and is passed by a few dict look-ups
# (tests/test_headers_scorer.py checks that each reader reads no other field).
FIELDS: dict[str, frozenset[str]] = {
    "spamassassin": frozenset({"x-spam-status", "x-spam-flag", "x-spam-level"}),
    "rspamd": frozenset({"x-spamd-result", "x-rspamd-score", "x-spam", "x-rspamd-action"}),
    "microsoft": frozenset({"x-forefront-antispam-report", "x-ms-exchange-organization-scl"}),
}


def parse_trust(text: str | None) -> tuple[str, ...]:
    """The ``trust`` option: a comma list of vendors, in order of preference."""
    if text is None:
        return VENDORS
    vendors = [word.strip().lower() for word in text.split(",") if word.strip()]
    for vendor in vendors:
        if vendor not in READERS:
            choices = ", ".join(VENDORS)
            raise ScorerError(f"headers scorer: unknown vendor {vendor!r} in trust ({choices})")
    if not vendors:
        raise ScorerError(f"headers scorer: trust is empty; name some of {', '.join(VENDORS)}")
    return tuple(dict.fromkeys(vendors))


class HeadersScorer:
    """Believe a spam verdict already stamped by SpamAssassin, rspamd or Microsoft 365."""

    name: str = "headers"

    def __init__(self, options: Mapping[str, str], threshold: float | None) -> None:
        unknown = sorted(set(options) - {"trust"})
        if unknown:
            raise ScorerError(f"headers scorer: unknown option {unknown[0]!r} (known: trust)")
        if threshold is not None and not math.isfinite(threshold):
            raise ScorerError(f"headers scorer: threshold {threshold} is not a number")
        self.trust = parse_trust(options.get("trust"))
        self.threshold = threshold
        self._readers = [(vendor, READERS[vendor], FIELDS[vendor]) for vendor in self.trust]
        self._fields = frozenset().union(*(FIELDS[vendor] for vendor in self.trust))

    def _rethreshold(self, reading: Reading) -> Reading:
        if self.threshold is None or not reading.scored:
            return reading
        limit, sources = self.threshold, (*reading.sources, "--threshold")
        return replace(reading, threshold=limit, spam=reading.value >= limit, sources=sources)

    def score(self, message: ParsedMessage) -> Score | None:
        present = message._raw_headers.keys() & self._fields  # most mail: none of them
        if not present:
            return None
        detail: list[str] = []
        readings: list[Reading] = []
        for vendor, reader, fields in self._readers:
            if fields.isdisjoint(present):
                continue  # none of its fields: the reader would say nothing
            notes: list[str] = []
            reading = reader(message, notes)
            detail.extend(f"{vendor}: {note}" for note in notes)
            if reading is None:
                continue
            reading = self._rethreshold(reading)
            detail.append(f"{vendor}: {reading.summary()}")
            readings.append(reading)
        if not readings:
            return None
        chosen = next((r for r in readings if r.spam), readings[0])
        return Score(chosen.value, chosen.threshold, chosen.spam, detail)
