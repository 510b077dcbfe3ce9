"""pipeline.classify_files: workers read the files in units, and the rows are those of
classify(iter_messages(...)) — same messages, same order, same indices, same decisions."""

from __future__ import annotations

import gzip
import os
import pickle
import shutil
from pathlib import Path

import pytest

from hrdp import engine, pipeline
from hrdp.dnscheck import make_checker
from hrdp.engine import ScorerSpec
from hrdp.examine import Job, Result
from hrdp.lines import line_of
from hrdp.pipeline import Settings, classify, classify_files
from hrdp.render import renderer
from hrdp.sources import iter_messages
from tests.conftest import REPO

SAMPLES = REPO / "sample_mail"
ZONE = str(SAMPLES / "zone.db")


def _row(result: Result) -> tuple[object, ...]:
    return (result.source, result.index, result.decision, result.message_id,
            result.finding.dsn, result.error)


def _inputs(tmp_path: Path) -> list[str]:
    """An mbox cut into many ranges, a gzip archive bigger than a unit (read in this
    process), a Maildir, a folder with a file that is not mail, and a missing path."""
    messages = sorted(p for p in SAMPLES.glob("*.eml"))
    assert len(messages) > 10
    mbox = tmp_path / "archive.mbox"
    with mbox.open("wb") as out:
        for round_number in range(6):
            for path in messages:
                data = path.read_bytes().replace(b"\nFrom ", b"\n>From ")
                out.write(f"From sender{round_number}@acme.test Thu Jan  1 00:00:00 2004\n"
                          .encode() + data.rstrip(b"\n") + b"\n\n")
    packed = tmp_path / "archive.mbox.gz"
    packed.write_bytes(gzip.compress(mbox.read_bytes(), compresslevel=0))
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for path in messages[:5]:
        shutil.copy(path, maildir / "cur" / (path.stem + ":2,S"))
    folder = tmp_path / "folder"
    folder.mkdir()
    for path in messages[5:9]:
        shutil.copy(path, folder / path.name)
    (folder / "notes.bin").write_bytes(bytes(range(256)) * 4)
    return [str(mbox), str(packed), str(maildir), str(folder), str(tmp_path / "missing.eml")]


@pytest.mark.parametrize("jobs", [1, 2])
def test_rows_are_those_of_a_local_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    paths = _inputs(tmp_path)
    unit = 4096  # many units per file, several tasks per run
    monkeypatch.setattr(pipeline, "UNIT_BYTES", unit)
    assert os.path.getsize(paths[0]) > 10 * unit
    assert os.path.getsize(paths[1]) > unit
    errors: list[str] = []
    warnings: list[str] = []
    read: list[int] = []
    with make_checker(zone_files=[ZONE]) as checker:
        settings = Settings(Job(), checker, ScorerSpec("rules").load(), jobs=jobs,
                            scorer_spec=ScorerSpec("rules"))
        expected = [_row(r) for r in classify(iter_messages(paths, on_error=lambda e: None,
                                                            on_warning=lambda w: None),
                                              settings)]
        got = [_row(r) for r in classify_files(paths, settings, on_error=errors.append,
                                               on_warning=warnings.append,
                                               on_read=read.append)]
    assert got == expected
    assert len(got) > 6 * 20
    assert [e.split(":")[0] for e in errors] == [paths[-1]]
    assert len(warnings) == 1 and "notes.bin" in warnings[0]
    # Worker-read units count their bytes on disk; the gzip archive, read here, counts
    # the bytes of the messages it held.
    on_disk = [paths[0]] + [os.path.join(top, name) for folder in paths[2:4]
                            for top, _dirs, names in os.walk(folder) for name in names]
    unpacked = sum(len(raw.data or b"") for raw in iter_messages([paths[1]]))
    assert sum(read) == sum(map(os.path.getsize, on_disk)) + unpacked


@pytest.mark.parametrize("fmt", ["jsonl", "tsv", "csv"])
def test_rows_prepared_by_workers_are_those_rendered_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """--jobs 2 workers render their half of each row (hrdp.render); the main process
    finishes it. The lines are those a local run renders from its Results."""
    paths = _inputs(tmp_path)
    monkeypatch.setattr(pipeline, "UNIT_BYTES", 4096)
    quiet = {"on_error": lambda _e: None, "on_warning": lambda _w: None}
    with make_checker(zone_files=[ZONE]) as checker:

        def settings(jobs: int) -> Settings:
            return Settings(Job(), checker, ScorerSpec("rules").load(), jobs=jobs,
                            scorer_spec=ScorerSpec("rules"))

        expected = [line_of(r, renderer(fmt)) for r in classify_files(paths, settings(1),
                                                                      **quiet)]
        here = list(classify_files(paths, settings(1), renderer(fmt), **quiet))
        workers = list(classify_files(paths, settings(2), renderer(fmt), **quiet))
    assert workers == here == expected
    assert len(expected) > 6 * 20
    assert [line.index for line in workers[:30]] == list(range(30))
    assert {line.pool for line in workers} == {"normal", "high-risk"}
    assert any(line.dsn_kind for line in workers) and any(line.error for line in workers)


def test_a_worker_with_a_format_sends_prepared_rows() -> None:
    """What crosses the pipe from a worker that renders: prepared rows, no partials."""
    raws = list(iter_messages([str(SAMPLES / "dsn-exim.eml"), str(SAMPLES / "clean.eml")]))
    try:
        engine._init_worker(Job(render="csv"), ScorerSpec("rules"))
        [done] = engine._work(raws)
    finally:
        engine._init_worker(Job(), None)
    assert done.partials == [] and len(done.prepared) == 2
    back = pickle.loads(pickle.dumps(done))
    assert back.prepared == done.prepared
    assert [p[7] for p in back.prepared] == ["failed", None]  # the DSN kind, for the summary
