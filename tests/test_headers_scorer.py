"""The ``headers`` scorer on hand-written messages and on the real corpora."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hrdp.errors import ScorerError
from hrdp.message import ParsedMessage
from hrdp.scoring.base import Score
from hrdp.scoring.headers import FIELDS, READERS, HeadersScorer


def message(*headers: str) -> ParsedMessage:
    """A small message with ``headers`` (top first) above the usual ones."""
    head = "".join(f"{line}\n" for line in headers)
    text = f"{head}From: a@example.com\nTo: b@example.net\nSubject: hi\n\nHello.\n"
    return ParsedMessage(text.encode())


def score(msg: ParsedMessage, trust: str | None = None, threshold: float | None = None) -> Score:
    result = HeadersScorer({} if trust is None else {"trust": trust}, threshold).score(msg)
    assert result is not None
    return result


def nums(result: Score) -> tuple[float, float, bool]:
    return result.value, result.threshold, result.spam


def no_opinion(msg: ParsedMessage, trust: str | None = None) -> bool:
    return HeadersScorer({} if trust is None else {"trust": trust}, None).score(msg) is None


# --- SpamAssassin ----------------------------------------------------------------------

SA_SPAM = "X-Spam-Status: Yes, score=9.4 required=5.0 tests=BAYES_99,URIBL_BLACK autolearn=no"
SA_HAM = "X-Spam-Status: No, score=-0.8 required=5.0 tests=BAYES_00,DKIM_SIGNED autolearn=ham"


def test_spamassassin_spam() -> None:
    result = score(message(SA_SPAM, "X-Spam-Level: *********"))
    assert nums(result) == (9.4, 5.0, True)
    assert result.detail == ["spamassassin: 9.4/5.0 yes (X-Spam-Status)"]


def test_spamassassin_ham() -> None:
    assert nums(score(message(SA_HAM))) == (-0.8, 5.0, False)


def test_spamassassin_2x_hits_and_lower_case_word() -> None:
    assert nums(score(message("X-Spam-Status: yes, hits=5.3 required=5.0"))) == (5.3, 5.0, True)
    assert nums(score(message("X-Spam-Status: no, hits=12 required=15"))) == (12.0, 15.0, False)


def test_spamassassin_folded_status() -> None:
    msg = message("X-Spam-Status: No, score=7.1 required=15.0 tests=AWL,BAYES_99,\n\tRDNS_NONE")
    assert nums(score(msg)) == (7.1, 15.0, False)


def test_spamassassin_flag_only() -> None:
    result = score(message("X-Spam-Flag: YES"))
    assert nums(result) == (1.0, 1.0, True)
    assert result.detail == ["spamassassin: flag yes (X-Spam-Flag)"]
    assert nums(score(message("X-Spam-Flag: NO"))) == (0.0, 1.0, False)


def test_spamassassin_level_is_only_a_fallback() -> None:
    assert nums(score(message("X-Spam-Level: *******"))) == (7.0, 5.0, True)
    assert nums(score(message("X-Spam-Level: **"))) == (2.0, 5.0, False)
    both = message("X-Spam-Status: No, score=3.2 required=5.0", "X-Spam-Level: *******")
    assert nums(score(both)) == (3.2, 5.0, False)
    assert no_opinion(message("X-Spam-Level: "))  # SpamAssassin's empty level alone


def test_spamassassin_status_without_required_uses_default_five() -> None:
    # rspamd's x-spam-status routine writes this form under SpamAssassin's name.
    assert nums(score(message("X-Spam-Status: Yes, score=17.00"))) == (17.0, 5.0, True)


def test_spamassassin_garbage_is_noted_not_raised() -> None:
    result = score(message("X-Spam-Status: Yes, score=abc required=5.0"))
    assert nums(result) == (1.0, 1.0, True)  # the word survives, the number does not
    assert result.detail[0] == "spamassassin: X-Spam-Status score 'abc' unreadable, ignored"
    assert no_opinion(message("X-Spam-Status: maybe later"))
    assert no_opinion(message("X-Spam-Level: 5"))
    assert no_opinion(message("X-Spam-Flag: perhaps"))
    odd = score(message("X-Spam-Status: No, score=nan required=inf", "X-Spam-Flag: YES"))
    assert nums(odd) == (1.0, 1.0, True)


def test_spamassassin_topmost_occurrence_wins() -> None:
    msg = message(
        "X-Spam-Status: No, score=1.0 required=5.0",
        "X-Spam-Status: Yes, score=20.0 required=5.0",  # older, lower hop
    )
    assert nums(score(msg)) == (1.0, 5.0, False)


# --- rspamd ------------------------------------------------------------------------------

RSPAMD_REJECT = (
    "X-Spamd-Result: default: True [17.00 / 15.00]; BAYES_SPAM(5.10)[99.9%]; R_SPF_FAIL(1.00)[-all]"
)
RSPAMD_LOW = "X-Spamd-Result: default: False [7.50 / 15.00]; MIME_GOOD(-0.10)[text/plain]"


def test_rspamd_reject() -> None:
    result = score(message(RSPAMD_REJECT))
    assert nums(result) == (17.0, 15.0, True)
    assert result.detail == ["rspamd: 17.0/15.0 yes (X-Spamd-Result)"]


def test_rspamd_below_reject_without_other_headers_is_not_spam() -> None:
    assert nums(score(message(RSPAMD_LOW))) == (7.5, 15.0, False)


def test_rspamd_x_spam_yes_below_the_bracket_threshold_is_spam() -> None:
    result = score(message("X-Spam: Yes", RSPAMD_LOW))
    assert nums(result) == (7.5, 15.0, True)
    assert result.detail == ["rspamd: 7.5/15.0 yes (X-Spamd-Result, X-Spam)"]


@pytest.mark.parametrize(
    ("action", "spam"),
    [
        ("no action", False),
        ("greylist", False),
        ("add header", True),
        ("rewrite subject", True),
        ("soft reject", True),
        ("Reject", True),
    ],
)
def test_rspamd_action(action: str, spam: bool) -> None:
    assert nums(score(message(f"X-Rspamd-Action: {action}", RSPAMD_LOW))) == (7.5, 15.0, spam)


def test_rspamd_flag_and_bare_score() -> None:
    assert nums(score(message("X-Spam: Yes"))) == (1.0, 1.0, True)
    assert nums(score(message("X-Rspamd-Score: 4.2"))) == (4.2, 15.0, False)
    acted = message("X-Rspamd-Score: 4.2", "X-Rspamd-Action: add header")
    assert nums(score(acted)) == (4.2, 15.0, True)


def test_rspamd_garbage_is_noted_not_raised() -> None:
    result = score(message("X-Spamd-Result: default: True [abc / 15.00]"))
    assert nums(result) == (1.0, 1.0, True)
    assert "unreadable, ignored" in result.detail[0]
    assert no_opinion(message("X-Spamd-Result: nonsense"))
    assert no_opinion(message("X-Rspamd-Score: lots"))
    assert no_opinion(message("X-Rspamd-Action: quarantine everything"))


def test_x_spam_from_other_filters_is_not_read_as_rspamd() -> None:
    # Old FastMail filter values found in the SpamAssassin ham corpus.
    assert no_opinion(message("X-Spam: high\n  GUARANTEE, FOR_FREE, CLICK_HERE_LINK"))
    assert no_opinion(message("X-Spam: spam"))
    assert no_opinion(message("X-spam: 100"))


def test_rspamd_topmost_occurrence_wins() -> None:
    msg = message(RSPAMD_LOW, RSPAMD_REJECT)
    assert nums(score(msg)) == (7.5, 15.0, False)


# --- Microsoft -----------------------------------------------------------------------------

FF = "X-Forefront-Antispam-Report: "
FF_HAM = (
    f"{FF}CIP:192.0.2.1;CTRY:FR;LANG:en;SCL:1;SRV:;IPV:NLI;SFV:NSPM;H:mx.example.com;"
    "PTR:mx.example.com;CAT:NONE;SFTY:;SFS:(13230040)(4636009);DIR:INB;"
)
FF_OUTBOUND_SPAM = (
    f"{FF}CIP:192.0.2.9;CTRY:;LANG:en;SCL:6;SRV:;IPV:NLI;SFV:SPM;H:host;PTR:;"
    "CAT:OSPM;SFTY:;DIR:OUT;"
)
SCL = "X-MS-Exchange-Organization-SCL: "


def test_microsoft_report_ham_and_spam() -> None:
    assert nums(score(message(FF_HAM))) == (1.0, 5.0, False)
    result = score(message(FF_OUTBOUND_SPAM))
    assert nums(result) == (6.0, 5.0, True)
    assert result.detail == ["microsoft: 6.0/5.0 yes (CAT=OSPM SFV=SPM SCL=6)"]


@pytest.mark.parametrize(
    ("scl", "expected"),
    [
        ("-1", (-1.0, 5.0, False)),  # filtering skipped
        ("0", (0.0, 5.0, False)),
        ("1", (1.0, 5.0, False)),
        ("5", (5.0, 5.0, True)),
        ("6", (6.0, 5.0, True)),
        ("9", (9.0, 5.0, True)),
        ("10", (9.0, 5.0, True)),  # clamped
    ],
)
def test_microsoft_scl_header(scl: str, expected: tuple[float, float, bool]) -> None:
    assert nums(score(message(f"X-MS-Exchange-Organization-SCL: {scl}"))) == expected


def test_microsoft_scl_out_of_range_or_garbage_is_ignored() -> None:
    assert no_opinion(message("X-MS-Exchange-Organization-SCL: 11"))
    assert no_opinion(message("X-MS-Exchange-Organization-SCL: -2"))
    assert no_opinion(message("X-MS-Exchange-Organization-SCL: high"))
    # A garbage header falls back to the report's SCL field, with a note.
    result = score(message(f"{SCL}x", f"{FF}SCL:7;"))
    assert nums(result) == (7.0, 5.0, True)
    assert result.detail[0] == "microsoft: X-MS-Exchange-Organization-SCL 'x' unreadable, ignored"


def test_microsoft_category_beats_scl() -> None:
    assert nums(score(message(f"{FF}SCL:1;SFV:NSPM;CAT:PHSH;"))) == (1.0, 5.0, True)
    assert nums(score(message(f"{FF}SCL:6;SFV:NSPM;CAT:NONE;"))) == (6.0, 5.0, False)
    org = message(f"{SCL}9", f"{FF}SFV:SKN;")  # a mail flow rule said "not spam"
    assert nums(score(org)) == (9.0, 5.0, False)


# SFV:SKS (mail flow rule) and SFV:SKB (blocked sender) are skips that mark the message spam.
SFV_VERDICTS = {"SPM": True, "SKS": True, "SKB": True, "BLK": True, "NSPM": False}
SFV_VERDICTS |= {"SKA": False, "SKN": False, "SFE": False, "SKQ": False}


@pytest.mark.parametrize(("sfv", "spam"), list(SFV_VERDICTS.items()))
def test_microsoft_sfv_only_is_a_flag(sfv: str, spam: bool) -> None:
    result = score(message(f"X-Forefront-Antispam-Report: CIP:192.0.2.1;SFV:{sfv};"))
    assert nums(result) == (1.0 if spam else 0.0, 1.0, spam)


def test_microsoft_without_verdict_is_no_opinion() -> None:
    assert no_opinion(message("X-Forefront-Antispam-Report: EFV:NLI;"))
    assert no_opinion(message("X-Microsoft-Antispam: BCL:8;PCL:0;"))  # BCL is not read
    bulk = score(message("X-Forefront-Antispam-Report: CAT:BULK;SCL:6;SFV:SPM;"))
    assert nums(bulk) == (6.0, 5.0, True)


def test_microsoft_topmost_occurrence_wins() -> None:
    msg = message(FF_HAM, FF_OUTBOUND_SPAM)
    assert nums(score(msg)) == (1.0, 5.0, False)


# --- combining vendors, trust and --threshold -----------------------------------------------


def test_no_vendor_header_is_no_opinion() -> None:
    assert no_opinion(message())


def test_trust_restricts_the_vendors_read() -> None:
    msg = message(RSPAMD_REJECT)
    assert no_opinion(msg, trust="spamassassin")
    assert no_opinion(msg, trust="spamassassin,microsoft")
    assert nums(score(msg, trust="rspamd")) == (17.0, 15.0, True)
    assert nums(score(msg, trust=" RSPAMD , rspamd ")) == (17.0, 15.0, True)


def test_any_trusted_vendor_saying_spam_wins_with_its_own_numbers() -> None:
    msg = message(SA_HAM, "X-Spam: Yes", RSPAMD_LOW)
    result = score(msg)
    assert nums(result) == (7.5, 15.0, True)
    assert result.detail == [
        "spamassassin: -0.8/5.0 no (X-Spam-Status)",
        "rspamd: 7.5/15.0 yes (X-Spamd-Result, X-Spam)",
    ]


def test_numbers_come_from_the_first_vendor_in_trust_order() -> None:
    msg = message(SA_HAM, RSPAMD_LOW)
    assert nums(score(msg)) == (-0.8, 5.0, False)
    assert nums(score(msg, trust="rspamd,spamassassin")) == (7.5, 15.0, False)


def test_threshold_override_re_decides_scores() -> None:
    assert nums(score(message(SA_SPAM), threshold=10.0)) == (9.4, 10.0, False)
    lowered = score(message("X-Spam-Status: No, score=7.1 required=15.0"), threshold=5.0)
    assert nums(lowered) == (7.1, 5.0, True)
    assert lowered.detail == ["spamassassin: 7.1/5.0 yes (X-Spam-Status, --threshold)"]
    assert nums(score(message("X-Spam: Yes", RSPAMD_LOW), threshold=8.0)) == (7.5, 8.0, False)
    assert nums(score(message(f"{SCL}6"), threshold=7)) == (6.0, 7.0, False)


def test_threshold_override_leaves_flags_and_categories_alone() -> None:
    assert nums(score(message("X-Spam-Flag: YES"), threshold=5.0)) == (1.0, 1.0, True)
    assert nums(score(message("X-Spam: Yes"), threshold=5.0)) == (1.0, 1.0, True)
    assert nums(score(message(FF_OUTBOUND_SPAM), threshold=7.0)) == (6.0, 5.0, True)


def test_bad_options() -> None:
    with pytest.raises(ScorerError, match="unknown vendor 'cloudmark'"):
        HeadersScorer({"trust": "cloudmark"}, None)
    with pytest.raises(ScorerError, match="trust is empty"):
        HeadersScorer({"trust": ""}, None)
    with pytest.raises(ScorerError, match="unknown option 'trusted'"):
        HeadersScorer({"trusted": "rspamd"}, None)
    with pytest.raises(ScorerError, match="not a number"):
        HeadersScorer({}, float("nan"))


class _Recorder:
    """A message that answers every field with ``value`` and notes the names asked for."""

    def __init__(self, value: str) -> None:
        self.value, self.asked = value, set[str]()

    def header(self, name: str) -> str:
        self.asked.add(name.lower())
        return self.value


@pytest.mark.parametrize("vendor", sorted(READERS))
def test_each_reader_reads_only_its_fields_and_says_nothing_without_them(vendor: str) -> None:
    """score() skips a reader none of whose FIELDS the message has: that must be what the
    reader itself would do (None, no note), and the reader must read no other field."""
    for value in ("", "Yes, score=9.0 required=5.0", "CAT:SPM;SFV:SPM;SCL:9", "7"):
        recorder, notes = _Recorder(value), list[str]()
        reading = READERS[vendor](recorder, notes)  # type: ignore[arg-type]
        assert recorder.asked <= FIELDS[vendor]
        if not value:
            assert reading is None and notes == []


@pytest.mark.parametrize("trust", [None, "microsoft", "rspamd,spamassassin"])
def test_only_the_trusted_vendors_fields_are_looked_for(trust: str | None) -> None:
    """A verdict under an untrusted vendor's fields alone gives no opinion."""
    untrusted = {"microsoft": SA_SPAM, "rspamd,spamassassin": FF_OUTBOUND_SPAM}
    if trust in untrusted:
        assert no_opinion(message(untrusted[trust]), trust)
    assert no_opinion(message("X-Spam-Checker-Version: SpamAssassin 3.4.6"), trust)


# --- real messages (HRDP_CORPUS) --------------------------------------------------------------

# Read off the files by hand: (value, threshold, spam) of the top-level X-Spam-Status.
REAL_SPAMASSASSIN = {
    # SpamAssassin 2.20 "hits=" form with X-Spam-Flag: YES and five stars; labelled ham.
    "spamassassin/ham/hard_ham_2.0141.82c48bdf90cb29370a2783a3523f3b04.eml": (5.3, 5.0, True),
    "spamassassin/ham/hard_ham_2.0195.cc05aaf538fa33658a78098cebfbcc25.eml": (-0.1, 5.0, False),
    # Score over 5 but under this site's required=15, with seven stars below it.
    "bounces/lhost-messagingserver-12.eml": (7.1, 15.0, False),
    "bounces/lhost-ezweb-08.eml": (-99.1, 15.0, False),
    "bounces/rfc3464-65.eml": (-0.8, 5.0, False),
    "bounces_flufl/dsn_11.txt": (-4.0, 5.0, False),
}
# Written by other filters under rspamd's or Microsoft's header names, with no verdict.
REAL_NO_OPINION = [
    "spamassassin/ham/hard_ham.00192.660d3367a86966f1a2a38d328215c905.eml",  # X-Spam: high ...
    "spamassassin/ham/hard_ham.00205.bd40fad9d7f6867e5567ee7ac1452de5.eml",  # X-Spam: spam
    "spamassassin/spam/spam_2.00917.8b2f6c25f3f70a6ef94d5f7f9a505c90.eml",  # X-spam: 100
    "nonbounces/sa__hard-ham-1__00192.660d3367a86966f1a2a38d328215c905.eml",
    "bounces/lhost-office365-06.eml",  # X-Forefront-Antispam-Report: EFV:NLI;
    "spamassassin/spam/spam_2.00752.c0892cd4ffff618e689dec28f2f4695e.eml",  # empty level
]
VENDOR_HEADER = re.compile(
    rb"^(X-Spam-Status|X-Spam-Flag|X-Spam-Level|X-Spamd-Result|X-Spam|X-Rspamd-Score|"
    rb"X-Rspamd-Action|X-MS-Exchange-Organization-SCL|X-Forefront-Antispam-Report):",
    re.MULTILINE | re.IGNORECASE,
)
SA_STATUS = re.compile(
    rb"^X-Spam-Status: (Yes|No), (?:score|hits)=(-?\d+\.\d+) required=(\d+\.\d+)",
    re.MULTILINE | re.IGNORECASE,
)


def header_block(raw: bytes) -> bytes:
    return re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]


def corpus_files(corpus: Path) -> list[Path]:
    return sorted(path for path in corpus.rglob("*") if path.is_file())


@pytest.mark.parametrize("name", sorted(REAL_SPAMASSASSIN))
def test_real_spamassassin_numbers(corpus: Path, name: str) -> None:
    raw = (corpus / name).read_bytes()
    found = SA_STATUS.search(header_block(raw))
    assert found is not None
    written = (float(found.group(2)), float(found.group(3)), found.group(1).lower() == b"yes")
    assert written == REAL_SPAMASSASSIN[name]
    assert nums(score(ParsedMessage(raw))) == written


@pytest.mark.parametrize("name", REAL_NO_OPINION)
def test_real_headers_without_a_verdict(corpus: Path, name: str) -> None:
    assert no_opinion(ParsedMessage((corpus / name).read_bytes()))


def test_every_corpus_file_scores_without_raising(corpus: Path) -> None:
    scorer, strict = HeadersScorer({}, None), HeadersScorer({}, 5.0)
    sa_only = HeadersScorer({"trust": "spamassassin"}, None)
    scored = 0
    for path in corpus_files(corpus):
        raw = path.read_bytes()
        msg = ParsedMessage(raw)
        result, _ = scorer.score(msg), strict.score(msg)
        block = header_block(raw)
        if not VENDOR_HEADER.search(block):
            assert result is None, path
        status = SA_STATUS.search(block)
        if status is not None:
            result = sa_only.score(msg)
            assert result is not None, path
            assert (result.value, result.threshold) == (
                float(status.group(2)),
                float(status.group(3)),
            ), path
            scored += 1
    assert scored >= len(REAL_SPAMASSASSIN)
