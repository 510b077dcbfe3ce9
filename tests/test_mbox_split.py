"""split_mbox over chunks cut anywhere gives exactly what the plain line-by-line rule gives."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from itertools import pairwise

import pytest

from hrdp.mbox import split_mbox, unquote

BLANK = (b"\n", b"\r\n")


def reference(lines: Iterable[bytes]) -> Iterator[tuple[str | None, bytes]]:
    """The rule stated line by line, as RFC 4155 readers apply it (the first version of
    hrdp's splitter): a "From " line at the start or after an empty line separates."""
    sender: str | None = None
    body: list[bytes] = []
    started, blank = False, True
    for line in lines:
        if blank and line.startswith(b"From "):
            if body:
                body.pop()
                yield sender, unquote(b"".join(body))
            words = line.split(None, 2)
            sender = words[1].decode("utf-8", "replace") if len(words) > 1 else ""
            body, started, blank = [], True, False
            continue
        body.append(line)
        blank = line in BLANK
    if started:
        if body and body[-1] in BLANK:
            body.pop()
        yield sender, unquote(b"".join(body))
    elif body:
        yield None, b"".join(body)


def lines(data: bytes) -> list[bytes]:
    """Lines as a binary file yields them: cut after each "\\n" only."""
    return [piece + b"\n" for piece in data.split(b"\n")[:-1]] + (
        [data.rsplit(b"\n", 1)[-1]] if not data.endswith(b"\n") and data else [])


PIECES = [b"From a@b Thu Jan  1 00:00:00 2004", b"From ", b">From x", b">>From y", b"From",
          b"Subject: s", b"body", b"\n", b"\r\n", b"\n\n", b"\r\n\r\n", b"\r", b"x", b" "]


def random_mbox(rng: random.Random) -> bytes:
    return b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))


def chunked(data: bytes, rng: random.Random) -> list[bytes]:
    cuts = sorted(rng.sample(range(len(data) + 1), k=min(len(data), rng.randint(0, 8))))
    edges = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(edges)]


@pytest.mark.parametrize("seed", range(20))
def test_any_chunking_matches_the_line_rule(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        data = random_mbox(rng)
        expected = list(reference(lines(data)))
        assert list(split_mbox(chunked(data, rng))) == expected, data
        assert list(split_mbox([data])) == expected, data
        assert list(split_mbox(lines(data))) == expected, data


def test_big_archive_in_small_reads_compacts_its_buffer() -> None:
    message = b"From a@b Thu Jan  1 00:00:00 2004\nSubject: s\n\n" + b"line\n" * 200 + b"\n"
    data = message * 500
    reads = [data[i:i + 4096] for i in range(0, len(data), 4096)]
    got = list(split_mbox(reads))
    assert len(got) == 500
    assert got[0] == ("a@b", b"Subject: s\n\n" + b"line\n" * 200)


def test_quoted_first_line_at_a_read_boundary_is_unquoted() -> None:
    # The separator line ends a read: the next message's first line comes in the next.
    reads = [b"From a@b Thu\n", b">From x\nbody\n\nFrom c@d Fri\n", b">>From y\n"]
    assert list(split_mbox(reads)) == [("a@b", b"From x\nbody\n"), ("c@d", b">From y\n")]


def test_a_long_line_read_in_pieces_is_scanned_once_more_at_most() -> None:
    data = b"From a@b Thu\n" + b"x" * 5000 + b"\n\nFrom c@d Fri\n>From z\n"
    reads = [data[i:i + 7] for i in range(0, len(data), 7)]
    assert list(split_mbox(reads)) == list(reference(lines(data)))
