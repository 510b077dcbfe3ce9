"""hrdp.hscache: a Hyperscan database is compiled once and loaded from the cache after."""

from __future__ import annotations

from pathlib import Path

import pytest

hyperscan = pytest.importorskip("hyperscan")

from hrdp import hscache  # noqa: E402  (only where the hyperscan wheel installs)

EXPRESSIONS = [rb"foo\d+", b"bar baz", rb"(?:x|y)z{3}"]
IDS = [0, 1, 2]
FLAGS = [hyperscan.HS_FLAG_SOM_LEFTMOST] * 3
TEXT = b"xx foo12 bar baz yzzz"


def matches(database: object) -> list[tuple[int, int, int]]:
    found: list[tuple[int, int, int]] = []

    def on_match(ident: int, start: int, end: int, _flags: int, _context: object) -> None:
        found.append((ident, start, end))

    database.scan(TEXT, on_match)  # type: ignore[attr-defined]
    return found


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("HRDP_CACHE_DIR", str(folder))
    return folder


def test_the_second_compile_is_a_load(cache: Path) -> None:
    first = hscache.compile_database(EXPRESSIONS, IDS, FLAGS)
    assert matches(first) == [(0, 3, 7), (0, 3, 8), (1, 9, 16), (2, 17, 21)]
    (stored,) = cache.iterdir()
    # Put another database under the same name: what comes back is read from the file.
    other = hyperscan.Database()
    other.compile(expressions=[b"baz"], ids=[7], elements=1, flags=[0])
    stored.write_bytes(hyperscan.dumpb(other))
    again = hscache.compile_database(EXPRESSIONS, IDS, FLAGS)
    assert [m[0] for m in matches(again)] == [7]


def test_a_damaged_file_is_compiled_again_and_replaced(cache: Path) -> None:
    hscache.compile_database(EXPRESSIONS, IDS, FLAGS)
    (stored,) = cache.iterdir()
    data = stored.read_bytes()
    damaged = bytearray(data)
    damaged[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(damaged))
    again = hscache.compile_database(EXPRESSIONS, IDS, FLAGS)
    assert matches(again) == [(0, 3, 7), (0, 3, 8), (1, 9, 16), (2, 17, 21)]
    assert hscache._load(stored, hyperscan.HS_MODE_BLOCK) is not None  # rewritten whole
    stored.write_bytes(data[: len(data) // 2])  # truncated
    assert matches(hscache.compile_database(EXPRESSIONS, IDS, FLAGS))[0] == (0, 3, 7)


def test_whatever_shapes_the_database_names_its_file(cache: Path) -> None:
    hscache.compile_database(EXPRESSIONS, IDS, FLAGS)
    hscache.compile_database(EXPRESSIONS, IDS, [0, 0, 0])
    hscache.compile_database(EXPRESSIONS, [0, 1, 3], FLAGS)
    hscache.compile_database(EXPRESSIONS[:2], IDS[:2], FLAGS[:2])
    assert len(list(cache.iterdir())) == 4


def test_off_or_unwritable_means_compiling(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HRDP_CACHE_DIR", "off")
    assert hscache.cache_dir() is None
    assert matches(hscache.compile_database(EXPRESSIONS, IDS, FLAGS))
    assert not (tmp_path / "xdg").exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("HRDP_CACHE_DIR", str(blocker / "cache"))
    assert matches(hscache.compile_database(EXPRESSIONS, IDS, FLAGS))
    monkeypatch.delenv("HRDP_CACHE_DIR")
    assert hscache.cache_dir() == tmp_path / "xdg" / "hrdp"


def test_bad_expressions_raise_as_compile_does(cache: Path) -> None:
    with pytest.raises(hyperscan.error):
        hscache.compile_database([b"(unclosed"], [0], [0])
    assert not cache.exists() or not list(cache.iterdir())
