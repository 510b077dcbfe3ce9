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

from hrdp.dsn import examine, phrases
from hrdp.dsn.decoding import top_level
from hrdp.message import ParsedMessage
from tests.conftest import REPO, corpus_dir

try:
    from hrdp.dsn.phrases_hyperscan import hyperscan_source
except ImportError:  # no Hyperscan wheel on this machine
    hyperscan_source = None

needs_hyperscan = pytest.mark.skipif(phrases.SCANNER is None, reason="Hyperscan not installed")


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
            members = av
            if members and members[0][0] is c.NEGATE:
                excluded = "".join(chr(v) for o, v in members[1:] if o is c.LITERAL)
                pieces.append(["x" if "x" not in excluded else "q"])
            else:
                first_op, first = members[0]
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


@needs_hyperscan
def test_every_phrase_is_found_alike() -> None:
    """A sample of every branch of every phrase, alone, after a word and in a sentence:
    Hyperscan finds the reasons the regex finds (the word starts included)."""
    assert phrases.SCANNER is not None
    checked = 0
    for sample in _phrase_samples():
        assert phrases.said_by_regex(f" {sample}") or any(
            pattern.search(sample) for pattern in phrases.EXCEPT.values()
        ), sample  # the sample is one
        for text in (sample, f"x{sample}", f"550 5.1.1 <a@b.test>: {sample}, sorry", f"x{sample}x"):
            assert phrases.SCANNER.said(text) == phrases.said_by_regex(text), text
            checked += 1
    assert checked > 2000


@needs_hyperscan
@pytest.mark.parametrize(
    "text",
    [
        "", "nothing at all", "550 5.1.1 user unknown", "bad recipient", "xbad recipient",
        "no such person in name directory", "ano x in name directory",
        "rate limit exceeded; connection rate limit", "550 5.1.0 address rejected, mailbox full",
        "#5.1.1 bad address (in reply to rcpt to command) spam detected; virus found",
        "mailbox " + "x" * 199 + "does not exist", "mailbox " + "x" * 201 + "does not exist",
        "a\x00b user unknown\x7f", "<" + "a" * 254 + "> not found", "<" + "a" * 255 + "> not found",
    ],
)  # fmt: skip
def test_written_texts_are_found_alike(text: str) -> None:
    assert phrases.SCANNER is not None
    assert phrases.SCANNER.said(text) == phrases.said_by_regex(text)


@needs_hyperscan
def test_text_that_is_not_ascii_goes_to_the_regex() -> None:
    assert phrases.SCANNER is not None
    assert phrases.SCANNER.said("utilisateur inconnu é") is None
    assert phrases.said("utilisateur inconnu é") == frozenset({"userunknown"})


@pytest.mark.skipif(hyperscan_source is None, reason="Hyperscan not installed")
def test_constructs_the_engines_could_read_differently_are_refused() -> None:
    assert hyperscan_source(r"b(?<!\wb)ad.{0,200}?recipient") == rb"\bbad.{0,200}?recipient"
    assert hyperscan_source(r"[^>]{1,254}> not found\.") == rb"[^>]{1,254}> not found\."
    for bad in (r"a(?=b)", r"a(?<=b)", r"\d+ users", r"a\sb", r"^user", r"user$", r"(?i)user",
                r"(a)\1", "usuário"):  # fmt: skip
        with pytest.raises(ValueError):
            hyperscan_source(bad)


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
    monkeypatch.setattr(phrases, "SCANNER", None)
    assert _rows(paths) == with_hyperscan
