"""The two engines of hrdp/dsn give the same answers: Hyperscan where its wheel installs
(x86-64), Python's regex elsewhere and for text that is not ASCII. Each test runs both
and compares; without Hyperscan the regex path is all there is (the other tests)."""

from __future__ import annotations

import re
import re._constants as c  # the regex parser's vocabulary, to write samples of phrases
import re._parser as parser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hrdp.dsn import examine, multiscan, phrases, status, textscan
from hrdp.dsn.decoding import lowered, top_level
from hrdp.message import ParsedMessage
from tests.conftest import REPO, corpus_dir
from tests.test_dsn_patterns import NOTICE_CASES

needs_hyperscan = pytest.mark.skipif(multiscan.hyperscan is None, reason="no Hyperscan")
# Every set of patterns scanned at once, with the kind of text each is given.
SETS = {"diagnostic": phrases.SCAN, "notice": textscan._NOTICE_SCAN, "command": status._COMMANDS}


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hyperscan answers from the first text (no warm-up on the regex)."""
    monkeypatch.setattr(multiscan, "WARM_UP", 0)


_CATEGORY_SAMPLES = {
    c.CATEGORY_DIGIT: "7", c.CATEGORY_SPACE: "\x1c", c.CATEGORY_WORD: "w", c.CATEGORY_NOT_WORD: "-",
}  # fmt: skip


def _samples(items: list[tuple[Any, Any]]) -> list[str]:
    """Strings matched by a parsed pattern (re._parser), so that every branch of every
    alternation is taken by at least one: a repeat as few times as it may (and once
    more when that is none), a class's first member."""
    pieces: list[list[str]] = []
    for op, av in items:
        if op is c.LITERAL:
            pieces.append([chr(av)])
        elif op in (c.ANY, c.NOT_LITERAL):
            pieces.append(["q" if av == ord("q") else "x"] if op is c.NOT_LITERAL else ["x"])
        elif op is c.IN:
            if av and av[0][0] is c.NEGATE:
                excluded = "".join(chr(v) for o, v in av[1:] if o is c.LITERAL)
                pieces.append(["x" if "x" not in excluded else "q"])
            else:
                first_op, first = av[0]
                if first_op is c.CATEGORY:
                    pieces.append([_CATEGORY_SAMPLES[first]])
                else:
                    pieces.append([chr(first if first_op is c.LITERAL else first[0])])
        elif op is c.BRANCH:
            pieces.append([s for branch in av[1] for s in _samples(list(branch))])
        elif op is c.SUBPATTERN:
            pieces.append(_samples(list(av[-1])))
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            low, _high, body = av
            inner = _samples(list(body))
            pieces.append(["".join([s] * low) for s in inner] if low else ["", *inner])
        elif op in (c.ASSERT_NOT, c.AT):
            pieces.append([""])  # a word start: the caller puts a blank before
        else:
            raise AssertionError(f"no sample for {op}")
    width = max((len(p) for p in pieces), default=1)
    return ["".join(p[i % len(p)] for p in pieces) for i in range(width)]


def _phrase_samples() -> Iterator[str]:
    for sources in (*phrases.SOURCES.values(), *(p.pattern for p in phrases.EXCEPT.values())):
        for phrase in (sources,) if isinstance(sources, str) else sources:
            for alternative in top_level(phrase):
                yield from _samples(list(parser.parse(alternative, re.DOTALL)))


def _all_samples() -> Iterator[str]:
    """Samples of every pattern the sets hold, alone, after a word and in a sentence."""
    sources = [
        *(alt for phrases_ in phrases.SOURCES.values() for p in phrases_ for alt in top_level(p)),
        *(alt for p in phrases.EXCEPT_SOURCES.values() for alt in top_level(p[0])),
        *top_level(phrases.DIRECTORY.pattern), *top_level(phrases.NO_MX.pattern),
        *top_level(status.COMMAND.pattern), *top_level(status._BARE_COMMAND.pattern),
        *(alt for p in (textscan._GAVE_UP, textscan.DELAY_TEXT, textscan.BOUNCE_PHRASE)
          for alt in top_level(lowered(p).pattern)),
    ]  # fmt: skip
    for alternative in sources:
        for sample in _samples(list(parser.parse(alternative, re.DOTALL))):
            yield from (
                sample,
                f"x{sample}",
                f"550 5.1.1 <a@b.test>: {sample}, sorry",
                f"x{sample}x",
            )


@needs_hyperscan
@pytest.mark.usefixtures("compiled")
@pytest.mark.parametrize("name", SETS)
def test_every_pattern_is_found_alike(name: str) -> None:
    """A sample of every branch of every pattern (the word starts, the relaxed gaps and
    the exceptions included): one scan finds the keys one search per key finds."""
    scan = SETS[name]
    checked = 0
    for text in _all_samples():
        assert scan.found(text) == scan.by_regex(text), text
        checked += 1
    assert checked > 3000


@needs_hyperscan
@pytest.mark.usefixtures("compiled")
@pytest.mark.parametrize(
    "text",
    [
        "", "nothing at all", "550 5.1.1 user unknown", "bad recipient", "xbad recipient",
        "no such person in name directory", "ano x in name directory",
        "rate limit exceeded; connection rate limit", "550 5.1.0 address rejected, mailbox full",
        "#5.1.1 bad address (in reply to rcpt to command) spam detected; virus found",
        "mailbox " + "x" * 199 + "does not exist", "mailbox " + "x" * 201 + "does not exist",
        "a\x00b user unknown\x7f", "<" + "a" * 254 + "> not found", "<" + "a" * 255 + "> not found",
        "rcpt to\x1c:", "rcpt to\x0b\x0c:", "rcpt_to :", "xrcpt to:", "5550 5.1.1", "550 5.1.1",
        *(f"not been able to deliver{gap}yet" for gap in ("x" * 80, "x" * 81, "." * 80)),
    ],
)  # fmt: skip
def test_written_texts_are_found_alike(text: str) -> None:
    assert phrases.said(text) == phrases.said_by_regex(text)
    for scan in SETS.values():
        assert scan.found(text) == scan.by_regex(text)


@needs_hyperscan
@pytest.mark.usefixtures("compiled")
@pytest.mark.parametrize(
    ("subject", "notice"),
    [*NOTICE_CASES,
     ("", "user unknown"), ("", "550 5.1.1 x"), ("Delayed Mail", "delivery has failed")],
)
def test_notice_phrases_decide_alike(subject: str, notice: str) -> None:
    """is_delay and says_bounce from one scan: what the searches of the regex path say
    (a give-up anywhere wins, else a delay phrase, else the subject)."""
    gave_up = textscan._GAVE_UP.search(subject) or textscan._GAVE_UP_LOWER.search(notice)
    delay = textscan.DELAY_SUBJECT.search(subject) or textscan.DELAY_TEXT.search(notice)
    assert textscan._NOTICE_SCAN.found(notice) is not None
    assert textscan.is_delay(subject, notice) == bool(not gave_up and delay)
    bounce = textscan.BOUNCE_PHRASE.search(notice) or textscan.DELAY_TEXT.search(notice)
    assert textscan.says_bounce(notice) == bool(bounce)


@needs_hyperscan
@pytest.mark.usefixtures("compiled")
def test_text_that_is_not_ascii_goes_to_the_regex() -> None:
    assert phrases.SCAN.found("utilisateur inconnu é") is None
    assert phrases.said("utilisateur inconnu é") == frozenset({"userunknown"})


def test_a_set_answers_by_regex_until_it_is_warm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compiling pays only on a long run: until WARM_UP characters were asked, None."""
    monkeypatch.setattr(multiscan, "WARM_UP", 30)
    scan = multiscan.Occurrences({"a": re.compile("user unknown")})
    assert scan.found("user unknown") is None  # 12 characters asked
    assert scan.found("user unknown") is None  # 24
    expected = None if multiscan.hyperscan is None else frozenset({"a"})
    assert scan.found("user unknown") == expected


def test_constructs_the_engines_could_read_differently_are_refused() -> None:
    source = multiscan.hyperscan_source
    assert source(r"b(?<!\wb)ad.{0,200}?recipient") == (rb"\bbad.{0,}?recipient", True)
    assert source(r"[^>]{1,16}> n\.") == (rb"[^>]{1,16}> n\.", False)
    assert source(r"a\s*b\d[\s\d]") == (
        rb"a[\t\n\x0b\x0c\r\x1c-\x1f ]*b[0-9][\t\n\x0b\x0c\r\x1c-\x1f 0-9]",
        False,
    )
    refused = (
        r"a(?=b)", r"a(?<=b)", r"^user", r"user$", r"user\s*$", r"(?i)user", r"(a)\1", "usuário",
        r"-{2,}+", r"a++", r"x{,5}", r"a{b", r"\A", r"\v", r"[^\S]",
    )  # fmt: skip
    for bad in refused:
        with pytest.raises(ValueError):
            source(bad)


def _messages() -> Iterator[Path]:
    yield from sorted((REPO / "tests" / "bounces").glob("*.eml"))
    yield from sorted((REPO / "sample_mail").glob("*.eml"))


def _rows(paths: list[Path]) -> list[object]:
    found = []
    for path in paths:
        finding = examine(ParsedMessage(path.read_bytes()))
        found.append((finding.dsn.as_dict() if finding.dsn else None, finding.notification))
    return found


@needs_hyperscan
@pytest.mark.usefixtures("compiled")
def test_examine_is_the_same_with_either_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every written sample (and, with HRDP_CORPUS, every corpus message) gives the same
    row with Hyperscan and with the regex alone."""
    paths = list(_messages())
    corpus = corpus_dir()
    if corpus is not None:
        paths += [
            path
            for folder in ("bounces", "bounces_flufl", "nonbounces")
            for path in sorted((corpus / folder).iterdir())
            if path.name != "labels.jsonl"
        ]
    with_hyperscan = _rows(paths)
    monkeypatch.setattr(multiscan.Occurrences, "found", lambda _self, _text: None)
    assert _rows(paths) == with_hyperscan
