"""hrdp.sources: every input kind, streaming, and errors that never end a batch."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import lzma
import os
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from hrdp.sources import RawMessage, iter_messages

MSG_A = (
    b"From: Alice <alice@example.com>\n"
    b"To: bob@example.org\n"
    b"Subject: one\n"
    b"Message-ID: <a@example.com>\n"
    b"\n"
    b"Hello Bob.\n"
)
# ">From " and ">>From " lines must come back as written; "From here on" follows a
# non-empty line, so it is not a separator even in an mboxo file.
MSG_B = (
    b"From: Bob <bob@example.org>\n"
    b"Subject: two\n"
    b"\n"
    b"Some text\n"
    b"From here on it is a body line.\n"
    b"\n"
    b">From a quoted line\n"
    b">>From a twice quoted line\n"
)
MSG_C = b"From: carol@example.net\nSubject: three\n\nBye.\n\n"
MESSAGES = [MSG_A, MSG_B, MSG_C]
SENDERS = ["MAILER-DAEMON", "bob@example.org", "carol@example.net"]

CODECS: dict[str, Callable[[bytes], bytes]] = {  # fast settings: the tests need no ratio
    "gzip": lambda data: gzip.compress(data, compresslevel=1),
    "bzip2": lambda data: bz2.compress(data, compresslevel=1),
    "xz": lambda data: lzma.compress(data, preset=0),
}


def mboxrd(messages: Sequence[bytes], senders: Sequence[str] | None = None) -> bytes:
    """An mboxrd file as a writer makes it: quote ^>*From , add a blank line after each."""
    out = []
    for i, msg in enumerate(messages):
        sender = senders[i] if senders else "x@y"
        quoted = re.sub(rb"(?m)^(>*From )", rb">\1", msg)
        out.append(f"From {sender} Thu Jan  1 00:00:00 2004\n".encode() + quoted + b"\n")
    return b"".join(out)


def mboxo(messages: Sequence[bytes]) -> bytes:
    """mboxo quotes only ^From ; it cannot tell ">From " written by a person apart."""
    out = []
    for msg in messages:
        quoted = re.sub(rb"(?m)^From ", b">From ", msg)
        out.append(b"From x@y Thu Jan  1 00:00:00 2004\n" + quoted + b"\n")
    return b"".join(out)


def crlf(data: bytes) -> bytes:
    return data.replace(b"\n", b"\r\n")


def read(
    paths: Sequence[str | Path],
    on_error: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> list[RawMessage]:
    names = [str(p) for p in paths]
    return list(iter_messages(names, on_error=on_error, on_warning=on_warning))


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- single files and mbox ---------------------------------------------------------------


@pytest.mark.parametrize("data", [MSG_A, crlf(MSG_A)], ids=["lf", "crlf"])
def test_single_message_file(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path / "one.eml", data)
    assert read([path]) == [RawMessage(str(path), 0, data)]


def test_single_message_needs_no_extension(tmp_path: Path) -> None:
    path = write(tmp_path / "message", MSG_B)
    assert read([path]) == [RawMessage(str(path), 0, MSG_B)]


def test_mboxrd_splits_and_unquotes(tmp_path: Path) -> None:
    path = write(tmp_path / "archive.txt", mboxrd(MESSAGES, SENDERS))
    rows = read([path])
    assert [r.data for r in rows] == MESSAGES
    assert [r.index for r in rows] == [0, 1, 2]
    assert [r.mbox_from for r in rows] == SENDERS
    assert {r.source for r in rows} == {str(path)}


def test_mboxo_splits_and_unquotes(tmp_path: Path) -> None:
    messages = [MSG_A, b"Subject: x\n\nText\n\nFrom the start of a paragraph.\n", MSG_C]
    path = write(tmp_path / "archive", mboxo(messages))
    assert [r.data for r in read([path])] == messages


def test_from_line_without_empty_line_before_does_not_split(tmp_path: Path) -> None:
    # An mboxo writer left this body line unquoted; it follows text, so it stays in the body.
    data = b"From x@y Thu Jan  1 00:00:00 2004\nSubject: s\n\nText\nFrom here on\n"
    rows = read([write(tmp_path / "m", data)])
    assert [r.data for r in rows] == [b"Subject: s\n\nText\nFrom here on\n"]


def test_crlf_mbox(tmp_path: Path) -> None:
    path = write(tmp_path / "crlf.mbox", crlf(mboxrd(MESSAGES, SENDERS)))
    rows = read([path])
    assert [r.data for r in rows] == [crlf(m) for m in MESSAGES]
    assert [r.mbox_from for r in rows] == SENDERS


def test_last_message_without_trailing_empty_line(tmp_path: Path) -> None:
    data = mboxrd([MSG_A]) + b"From y@z Fri Jan  2 00:00:00 2004\nSubject: end\n\nno newline"
    rows = read([write(tmp_path / "m", data)])
    assert [r.data for r in rows] == [MSG_A, b"Subject: end\n\nno newline"]
    assert [r.mbox_from for r in rows] == ["x@y", "y@z"]


def test_empty_file_is_an_empty_message(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.eml", b"")
    assert read([path]) == [RawMessage(str(path), 0, b"")]


def test_named_file_is_mail_whatever_it_holds(tmp_path: Path) -> None:
    path = write(tmp_path / "expected.tsv", b"file\tpool\na.eml\tnormal\n")
    assert [r.data for r in read([path])] == [path.read_bytes()]


# --- compressed ----------------------------------------------------------------------------


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_compressed_mbox(tmp_path: Path, codec: str) -> None:
    path = write(tmp_path / "archive.bin", CODECS[codec](mboxrd(MESSAGES, SENDERS)))
    rows = read([path])
    assert [r.data for r in rows] == MESSAGES
    assert [r.mbox_from for r in rows] == SENDERS


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_compressed_single_message(tmp_path: Path, codec: str) -> None:
    path = write(tmp_path / "one.eml.z", CODECS[codec](crlf(MSG_A)))
    assert read([path]) == [RawMessage(str(path), 0, crlf(MSG_A))]


def noisy_messages(count: int) -> list[bytes]:
    """Messages of random text, so compressed size grows with the message count."""
    rng = random.Random(4155)
    return [
        b"Subject: %d\n\n" % i + b"".join(b"%x\n" % rng.getrandbits(240) for _ in range(400))
        for i in range(count)
    ]


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_truncated_archive_keeps_good_messages_then_one_error(tmp_path: Path, codec: str) -> None:
    messages = noisy_messages(100)  # about 1 MB: several bzip2 blocks of 100 kB
    packed = CODECS[codec](mboxrd(messages))
    path = write(tmp_path / "cut", packed[: len(packed) * 6 // 10])
    rows = read([path])
    good, last = rows[:-1], rows[-1]
    assert 20 < len(good) < 100
    assert [r.data for r in good] == messages[: len(good)]
    assert last.data is None and last.index == len(good) and last.source == str(path)
    assert last.error is not None
    assert last.error.startswith(f"corrupt {codec} data after {len(good)} messages: ")


def test_corrupt_gzip_single_message(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(MSG_A * 50))
    packed[30:60] = b"\xff" * 30
    rows = read([write(tmp_path / "bad.gz", bytes(packed))])
    assert len(rows) == 1 and rows[0].data is None and rows[0].index == 0
    assert rows[0].error is not None and "corrupt gzip data after 0 messages" in rows[0].error


def test_gzip_of_gzip(tmp_path: Path) -> None:
    path = write(tmp_path / "twice", gzip.compress(gzip.compress(mboxrd(MESSAGES))))
    assert [r.data for r in read([path])] == MESSAGES


# --- directories ---------------------------------------------------------------------------


def test_maildir_new_then_cur_sorted_tmp_ignored(tmp_path: Path) -> None:
    box = tmp_path / "Mail"
    write(box / "cur" / "2.host:2,S", MSG_C)
    write(box / "cur" / "1.host:2,S", MSG_B)
    write(box / "new" / "9.host", MSG_A)
    write(box / "tmp" / "5.host", b"Subject: half delivered\n")
    write(box / "cur" / ".hidden", MSG_A)
    rows = read([box])
    assert [r.source for r in rows] == [
        os.path.join(str(box), "new", "9.host"),
        os.path.join(str(box), "cur", "1.host:2,S"),
        os.path.join(str(box), "cur", "2.host:2,S"),
    ]
    assert [r.data for r in rows] == [MSG_A, MSG_B, MSG_C]


def test_directory_walk_sorted_recursive_skips_non_mail(tmp_path: Path) -> None:
    top = tmp_path / "sample_mail"
    write(top / "b.eml", MSG_B)
    write(top / "a" / "z.msg", MSG_A)
    write(top / "a" / "archive", mboxrd([MSG_A, MSG_C]))
    write(top / "c.txt.gz", gzip.compress(MSG_C))
    write(top / "expected.tsv", b"file\tpool\nb.eml\tnormal\n")
    write(top / "zone.db", b"$ORIGIN example.com.\n@ IN MX 10 mx\n")
    write(top / "labels.jsonl", b'{"file": "b.eml", "kind": "spam"}\n')
    write(top / "odd.eml", b"not mail, but named as mail\n")
    write(top / ".git" / "HEAD.eml", MSG_A)
    write(top / ".hidden.eml", MSG_A)
    warnings: list[str] = []
    rows = read([str(top) + os.sep], on_warning=warnings.append)
    base = str(top) + os.sep
    assert [(r.source, r.index) for r in rows] == [
        (base + os.path.join("a", "archive"), 0),
        (base + os.path.join("a", "archive"), 1),
        (base + os.path.join("a", "z.msg"), 0),
        (base + "b.eml", 0),
        (base + "c.txt.gz", 0),
        (base + "odd.eml", 0),
    ]
    assert [r.data for r in rows][:4] == [MSG_A, MSG_C, MSG_A, MSG_B]
    assert warnings == [
        f"skipped 3 files that are not mail: {base}expected.tsv, {base}labels.jsonl, {base}zone.db"
    ]


def test_many_skipped_files_are_named_briefly(tmp_path: Path) -> None:
    for i in range(8):
        write(tmp_path / f"data{i}.csv", b"a,b\n1,2\n")
    warnings: list[str] = []
    assert read([tmp_path], on_warning=warnings.append) == []
    assert len(warnings) == 1
    assert warnings[0].startswith("skipped 8 files that are not mail: ")
    assert warnings[0].endswith("data4.csv and 3 more")


def test_dangling_symlink_in_walk_is_an_error_row(tmp_path: Path) -> None:
    write(tmp_path / "a.eml", MSG_A)
    (tmp_path / "b.eml").symlink_to(tmp_path / "gone.eml")
    write(tmp_path / "c.eml", MSG_C)
    rows = read([tmp_path])
    assert [r.data for r in rows] == [MSG_A, None, MSG_C]
    assert rows[1].source == str(tmp_path / "b.eml") and rows[1].index == 0
    assert rows[1].error == "cannot read: no such file or directory"


def test_symlink_to_directory_not_followed(tmp_path: Path) -> None:
    write(tmp_path / "real" / "a.eml", MSG_A)
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    write(tmp_path / "top" / "b.eml", MSG_B)
    warnings: list[str] = []
    rows = read([tmp_path / "top"], on_warning=warnings.append)
    assert [r.data for r in rows] == [MSG_B]
    assert warnings == [f"did not follow 1 link to a directory: {tmp_path / 'top' / 'link'}"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_and_folder_in_walk(tmp_path: Path) -> None:
    locked = write(tmp_path / "a.eml", MSG_A)
    write(tmp_path / "sub" / "b.eml", MSG_B)
    write(tmp_path / "c.eml", MSG_C)
    locked.chmod(0)
    (tmp_path / "sub").chmod(0)
    try:
        rows = read([tmp_path])
    finally:
        (tmp_path / "sub").chmod(0o755)
    assert [(r.data, r.error) for r in rows] == [
        (None, "cannot read: permission denied"),
        (MSG_C, None),
        (None, "cannot list: permission denied"),
    ]


def deny_a_and_sub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """a.eml, sub/b.eml and c.eml, where a.eml cannot be opened and sub/ cannot be listed:
    what a permission error looks like to root, who can read anything."""
    import hrdp.sources

    write(tmp_path / "a.eml", MSG_A)
    write(tmp_path / "sub" / "b.eml", MSG_B)
    write(tmp_path / "c.eml", MSG_C)
    real_open, real_scandir = open, os.scandir

    def fake_open(path: str, mode: str, *args: object, **kwargs: object) -> object:
        if path.endswith("a.eml"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, mode)

    def fake_scandir(path: str) -> object:
        if path.rstrip(os.sep).endswith("sub"):
            raise PermissionError(13, "Permission denied", path)
        return real_scandir(path)

    monkeypatch.setattr(hrdp.sources, "open", fake_open, raising=False)
    monkeypatch.setattr(os, "scandir", fake_scandir)


def test_unreadable_file_and_folder_in_walk_simulated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same as above for root, who can read anything: open() and scandir() fail."""

    deny_a_and_sub(tmp_path, monkeypatch)
    rows = read([tmp_path])
    assert [(r.source, r.data, r.error) for r in rows] == [
        (str(tmp_path / "a.eml"), None, "cannot read: permission denied"),
        (str(tmp_path / "c.eml"), MSG_C, None),
        (str(tmp_path / "sub"), None, "cannot list: permission denied"),
    ]


def test_unlistable_top_level_folder_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_scandir(path: str) -> object:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(os, "scandir", fake_scandir)
    errors: list[str] = []
    assert read([tmp_path], on_error=errors.append) == []
    assert errors == [f"{tmp_path}: permission denied"]


# --- top-level paths, stdin, order ---------------------------------------------------------


def test_missing_path_reports_and_goes_on(tmp_path: Path) -> None:
    a = write(tmp_path / "a.eml", MSG_A)
    c = write(tmp_path / "c.eml", MSG_C)
    missing = str(tmp_path / "nope.eml")
    errors: list[str] = []
    rows = read([a, missing, c], on_error=errors.append)
    assert [r.source for r in rows] == [str(a), str(c)]
    assert errors == [f"{missing}: no such file or directory"]


def test_output_follows_input_order(tmp_path: Path) -> None:
    b = write(tmp_path / "b.eml", MSG_B)
    box = write(tmp_path / "box", mboxrd([MSG_A, MSG_C]))
    a = write(tmp_path / "a.eml", MSG_A)
    rows = read([b, box, a])
    assert [(r.source, r.index) for r in rows] == [
        (str(b), 0),
        (str(box), 0),
        (str(box), 1),
        (str(a), 0),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [(mboxrd(MESSAGES, SENDERS), MESSAGES), (MSG_B, [MSG_B]), (b"", [b""])],
    ids=["mbox", "single", "empty"],
)
def test_stdin(data: bytes, expected: list[bytes]) -> None:
    rows = list(iter_messages(["-"], stdin=io.BytesIO(data)))
    assert [r.data for r in rows] == expected
    assert {r.source for r in rows} == {"-"}


class CountingStream(io.BytesIO):
    """Records how far the reader got, and can fail after a number of bytes."""

    def __init__(self, data: bytes, fail_after: int | None = None) -> None:
        super().__init__(data)
        self.fail_after = fail_after

    def read(self, size: int | None = -1, /) -> bytes:
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise OSError(5, "Input/output error")
        return super().read(size)


def test_stdin_mbox_is_streamed_not_read_whole() -> None:
    messages = noisy_messages(600)  # about 6 MB
    stream = CountingStream(mboxrd(messages))
    rows = iter_messages(["-"], stdin=stream)
    assert next(rows).data == messages[0]
    assert stream.tell() < len(stream.getvalue()) // 2
    assert [r.data for r in rows] == messages[1:]


def test_read_error_mid_stream_keeps_messages_read_so_far() -> None:
    messages = noisy_messages(600)
    stream = CountingStream(mboxrd(messages), fail_after=3 << 20)
    rows = list(iter_messages(["-"], stdin=stream))
    good, last = rows[:-1], rows[-1]
    assert [r.data for r in good] == messages[: len(good)] and good
    assert last == RawMessage(
        "-", len(good), None, error=f"read error after {len(good)} messages: input/output error"
    )


def test_input_files_are_not_modified(tmp_path: Path) -> None:
    paths = [
        write(tmp_path / "m.mbox", mboxrd(MESSAGES)),
        write(tmp_path / "m.gz", gzip.compress(mboxrd(MESSAGES))),
        write(tmp_path / "d" / "one.eml", MSG_A),
    ]
    before = [(hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths]
    assert len(read([paths[0], paths[1], tmp_path / "d"])) == 7
    after = [(hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) for p in paths]
    assert before == after


# --- real corpora (HRDP_CORPUS) ------------------------------------------------------------

# Files that are real mboxes with more than one message (Sisimai's test set).
MULTI_MESSAGE_FILES = {"rfc3464-28.eml": 2}


def expected_data(raw: bytes) -> tuple[bytes, str | None]:
    """What a one-message file yields: itself, or, when it opens with an mbox From_ line
    (kept in many corpus files), the rest without that line, its writer's trailing empty
    line and its mboxrd quoting."""
    if not raw.startswith(b"From "):
        return raw, None
    first, _, rest = raw.partition(b"\n")
    for blank in (b"\r\n", b"\n"):
        if rest.endswith(b"\n" + blank):
            rest = rest[: -len(blank)]
            break
    return re.sub(rb"(?m)^>(>*From )", rb"\1", rest), first.split()[1].decode()


@pytest.mark.parametrize("folder", ["bounces", "bounces_flufl", "nonbounces", "spamassassin"])
def test_corpus_folder_one_row_per_message_file(corpus: Path, folder: str) -> None:
    root = corpus / folder
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "labels.jsonl")
    warnings: list[str] = []
    rows = read([root], on_warning=warnings.append)
    by_source: dict[str, list[RawMessage]] = {}
    for row in rows:
        by_source.setdefault(row.source, []).append(row)
    assert sorted(by_source) == sorted(str(p) for p in files)
    for path in files:
        found = by_source[str(path)]
        assert len(found) == MULTI_MESSAGE_FILES.get(path.name, 1), path
        if len(found) == 1:
            assert (found[0].data, found[0].mbox_from) == expected_data(path.read_bytes()), path
    labels = [f"{root}/labels.jsonl"] if (root / "labels.jsonl").exists() else []
    assert warnings == ([f"skipped 1 file that is not mail: {labels[0]}"] if labels else [])


def test_spamassassin_as_one_mbox_round_trips(corpus: Path, tmp_path: Path) -> None:
    files = sorted((corpus / "spamassassin").rglob("*.eml"))
    originals = [p.read_bytes() for p in files]
    box = tmp_path / "spamassassin.mbox"
    box.write_bytes(mboxrd(originals))
    rows = read([box])
    assert len(rows) == len(originals)
    assert all(r.data == o for r, o in zip(rows, originals, strict=True))
    assert {r.mbox_from for r in rows} == {"x@y"}
