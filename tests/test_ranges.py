"""hrdp.ranges: units of work read back into exactly the messages of a local run."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import pytest

from hrdp import mbox
from hrdp.errors import InputError
from hrdp.mbox import next_separator, range_chunks, split_mbox
from hrdp.ranges import (
    MissingInput,
    Planner,
    Unit,
    check_paths,
    iter_unit_messages,
    read_unit,
)
from hrdp.sources import RawMessage, iter_messages
from tests.conftest import REPO, corpus_dir
from tests.test_sources import (
    MESSAGES,
    MSG_A,
    MSG_B,
    MSG_C,
    crlf,
    deny_a_and_sub,
    mboxo,
    mboxrd,
    write,
)

# Every case the separator rule has: ">From " and ">>From " lines (un-escaped on reading),
# "From here" after a text line (not a separator), an empty body, a message that ends in
# blank lines of its own, and a last message without its trailing blank line.
TRICKY = [*MESSAGES, b"Subject: empty body\n\n", b"Subject: blank tail\n\nx\n\n\n", MSG_B]
LAST_WITHOUT_BLANK = mboxrd(TRICKY) + b"From y@z Fri Jan  2 00:00:00 2004\nSubject: end\n\nno nl"
ARCHIVES = {
    "mboxrd": mboxrd(TRICKY, ["MAILER-DAEMON", "b@x", "c@x", "", "e@x", "f@x"]),
    "mboxo": mboxo(TRICKY),
    "crlf": crlf(mboxrd(TRICKY)),
    "last-without-blank": LAST_WITHOUT_BLANK,
    "crlf-last-without-blank": crlf(LAST_WITHOUT_BLANK),
}


def units(paths: Sequence[str | Path], chunk_bytes: int) -> list[Unit]:
    return list(Planner(chunk_bytes).units([str(p) for p in paths]))


def local(paths: Sequence[str | Path]) -> tuple[list[RawMessage], list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    names = [str(p) for p in paths]
    rows = list(iter_messages(names, on_error=errors.append, on_warning=warnings.append))
    return rows, errors, warnings


def by_units(
    paths: Sequence[str | Path], chunk_bytes: int
) -> tuple[list[RawMessage], list[str], list[str]]:
    errors: list[str] = []
    warnings: list[str] = []
    names = [str(p) for p in paths]
    rows = iter_unit_messages(names, chunk_bytes=chunk_bytes, on_error=errors.append,
                              on_warning=warnings.append)
    return list(rows), errors, warnings


@pytest.mark.parametrize("name", sorted(ARCHIVES))
@pytest.mark.parametrize("chunk_bytes", [1, 60, 200, 1000, 1 << 20])
def test_ranges_give_the_messages_of_a_local_run(
    tmp_path: Path, name: str, chunk_bytes: int
) -> None:
    path = write(tmp_path / "archive", ARCHIVES[name])
    expected = local([path])
    assert len(expected[0]) >= 6
    assert by_units([path], chunk_bytes) == expected
    planned = units([path], chunk_bytes)
    if chunk_bytes < len(ARCHIVES[name]):
        assert len(planned) > 1 and {u.kind for u in planned} == {"range"}
    else:
        assert planned == [Unit(str(path), size=len(ARCHIVES[name]))]


@pytest.mark.parametrize("name", sorted(ARCHIVES))
@pytest.mark.parametrize("scan_size", [1, 2, 3, 7, 64, mbox.SCAN_SIZE])
def test_a_boundary_anywhere_splits_at_the_next_separator(
    name: str, scan_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every offset, inside a header, a body, a separator line or a CRLF pair: the two
    sides split into the messages of the whole, and the separator found is the first,
    whichever block size the search reads (a separator across two blocks is found)."""
    monkeypatch.setattr(mbox, "SCAN_SIZE", scan_size)
    data = ARCHIVES[name]
    whole = list(split_mbox(io.BytesIO(data)))
    starts = _separator_offsets(data)
    stream = io.BytesIO(data)
    for offset in range(1, len(data) + 1):
        found = next_separator(stream, offset)
        assert found == next((s for s in starts if s >= offset), None), offset
        if found is None:
            continue
        parts = [split_mbox(range_chunks(stream, *r)) for r in ((0, found), (found, None))]
        assert [m for part in parts for m in list(part)] == whole, offset


def _separator_offsets(data: bytes) -> list[int]:
    """Where each message's separator starts, by reading every prefix whole."""
    offsets = []
    for offset in range(len(data)):
        before = list(split_mbox(io.BytesIO(data[:offset])))
        after = list(split_mbox(io.BytesIO(data[offset:])))
        if data[offset:].startswith(b"From ") and before + after == list(
            split_mbox(io.BytesIO(data))
        ) and (offset == 0 or data[:offset].endswith((b"\n\n", b"\n\r\n"))):
            offsets.append(offset)
    return offsets


def test_boundaries_land_on_separators_about_chunk_bytes_apart(tmp_path: Path) -> None:
    messages = [b"Subject: %02d\n\n" % i + b"x" * 90 + b"\n" for i in range(50)]
    data = mboxrd(messages)
    size = len(data) // 50  # every message, separator included, is this long
    path = write(tmp_path / "box", data)
    planned = units([path], 1000)
    assert [u.start for u in planned] == list(range(0, len(data), size * (1000 // size + 1)))
    assert all(data[u.start:].startswith(b"From ") for u in planned)
    assert planned[-1].end is None and all(a.end == b.start for a, b in pairwise(planned))


@pytest.mark.parametrize("folder", [False, True])  # named by the user, or met in a walk
def test_a_big_mbox_is_planned_as_its_ranges_are_asked_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folder: bool
) -> None:
    """The first unit comes before the rest of the archive is searched for boundaries,
    and the file is not held open by an unfinished plan once it is done."""
    messages = [b"Subject: %02d\n\n" % i + b"x" * 90 + b"\n" for i in range(50)]
    path = write(tmp_path / "box.mbox", mboxrd(messages))
    searches: list[int] = []

    def counted(stream: io.BufferedReader, offset: int) -> int | None:
        searches.append(offset)
        return next_separator(stream, offset)

    monkeypatch.setattr("hrdp.ranges.next_separator", counted)
    plan = Planner(500).units([str(tmp_path if folder else path)])
    first = next(plan)
    assert (first.kind, first.start) == ("range", 0) and len(searches) == 1
    rest = list(plan)
    assert len(rest) > 5 and len(searches) == len(rest) + 1 and rest[-1].end is None


def test_a_read_error_while_planning_loses_no_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plan ends with one range to the end of the file; its reader reads (or fails
    to read, with an error row) what the plan could not cut."""
    messages = [b"Subject: %02d\n\n" % i + b"x" * 90 + b"\n" for i in range(50)]
    path = write(tmp_path / "box", mboxrd(messages))

    def failing(stream: io.BufferedReader, offset: int) -> int | None:
        if offset > 1000:  # the second boundary on
            raise OSError(5, "Input/output error")
        return next_separator(stream, offset)

    monkeypatch.setattr("hrdp.ranges.next_separator", failing)
    planned = units([path], 500)
    assert len(planned) == 2 and planned[0].end == planned[1].start and planned[1].end is None
    assert by_units([path], 500) == local([path])


def test_corpus_mbox_in_many_ranges(tmp_path: Path) -> None:
    """Real messages (SpamAssassin corpus when HRDP_CORPUS is set), mboxrd and CRLF."""
    messages = _corpus_messages(300) or TRICKY * 50
    for name, data in (("rd", mboxrd(messages)), ("crlf", crlf(mboxrd(messages)))):
        path = write(tmp_path / name, data)
        assert by_units([path], 2048) == local([path])
        assert len(units([path], 2048)) > 10


def _corpus_messages(count: int) -> list[bytes]:
    corpus = corpus_dir()
    if corpus is None:
        return []
    folder = corpus / "spamassassin" / "ham"
    return [p.read_bytes() for p in sorted(folder.iterdir())[:count] if p.is_file()]


def test_directories_compressed_and_maildir_are_one_unit_per_file(tmp_path: Path) -> None:
    top = tmp_path / "mail"
    big = mboxrd(TRICKY * 4)
    write(top / "a" / "archive", big)
    write(top / "a" / "archive.gz", gzip.compress(big))  # compressed: one unit however big
    write(top / "b.eml", MSG_B)
    write(top / "c" / "Maildir" / "new" / "1.host", MSG_A)
    write(top / "c" / "Maildir" / "cur" / "0.host:2,S", MSG_C)
    (top / "c" / "Maildir" / "tmp").mkdir()
    write(top / "notes.txt", b"just some notes\n" * 100)  # big and not mail: skipped
    write(top / "data.csv", b"a,b\n")  # small and not mail: skipped where it is read
    write(top / ".hidden.eml", MSG_A)
    os.symlink(top / "c", top / "link-to-dir")
    os.symlink(top / "nowhere", top / "dangling.eml")
    os.mkfifo(top / "fifo")
    assert by_units([top], 200) == local([top])
    assert by_units([top, top / "b.eml", tmp_path / "missing"], 200) == local(
        [top, top / "b.eml", tmp_path / "missing"]
    )
    kinds = [(os.path.relpath(u.source, top), u.kind) for u in units([top], 200)]
    assert kinds[0] == ("a/archive", "range") and kinds.count(("a/archive", "range")) > 3
    assert [k for k in kinds if k[0] != "a/archive"] == [
        ("a/archive.gz", "file"), ("b.eml", "file"),
        ("c/Maildir/new/1.host", "file"), ("c/Maildir/cur/0.host:2,S", "file"),
        ("dangling.eml", "file"), ("data.csv", "file"), ("notes.txt", "skipped"),
    ]


def test_sample_mail_at_every_chunk_size() -> None:
    sample = REPO / "sample_mail"
    for chunk_bytes in (100, 1000, 1 << 26):
        assert by_units([sample], chunk_bytes) == local([sample])


def test_unlistable_folders_and_unreadable_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    deny_a_and_sub(tmp_path, monkeypatch)
    expected = local([tmp_path, tmp_path / "sub"])
    assert expected[0][0].error == "cannot read: permission denied"
    assert expected[1] == [f"{tmp_path / 'sub'}: permission denied"]
    assert by_units([tmp_path, tmp_path / "sub"], 10) == expected


def test_stdin_and_pipes_cannot_be_split(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="standard input"):
        units(["-"], 100)
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(InputError, match="not a regular file"):
        check_paths([str(tmp_path / "missing"), str(tmp_path), str(tmp_path / "pipe")])


def test_a_file_gone_where_it_is_read_is_missing_input(tmp_path: Path) -> None:
    for unit in (Unit(str(tmp_path / "gone")), Unit(str(tmp_path / "gone"), "range", 5, 9)):
        with pytest.raises(MissingInput) as caught:
            list(read_unit(unit, []))
        assert caught.value.path == unit.source
