"""hrdp.dask_engine on a real distributed.LocalCluster: the rows of a local run, in order."""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from hrdp.dnscheck import make_checker
from hrdp.engine import ScorerSpec
from hrdp.errors import DnsError, HrdpError, InputError
from hrdp.examine import Job
from hrdp.output import to_row
from hrdp.pipeline import Settings, classify
from hrdp.ranges import MissingInput, Planner, Unit, read_unit
from hrdp.sources import iter_messages
from tests.conftest import REPO, corpus_dir
from tests.test_sources import crlf, mboxrd, write

if not os.environ.get("CI"):  # CI installs the dask extra: there a missing one is an error
    pytest.importorskip("distributed", reason="the dask extra is not installed")

from distributed import Client, KilledWorker, LocalCluster

import hrdp.dask_engine
from hrdp.dask_engine import DnsSpec, Run, _Gather, _Task, classify_dask

SAMPLE = REPO / "sample_mail"
ZONE = str(SAMPLE / "zone.db")
SCORER = ScorerSpec("headers")
Rows = list[dict[str, Any]]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def local_rows(paths: Sequence[str | Path], job: Job | None = None) -> tuple[Rows, list[str]]:
    errors: list[str] = []
    raws = iter_messages([str(p) for p in paths], on_error=errors.append)
    with make_checker(zone_files=[ZONE]) as checker:
        settings = Settings(job or Job(), checker, SCORER.load())
        return [to_row(r) for r in classify(raws, settings)], errors


def dask_rows(
    paths: Sequence[str | Path], scheduler: str | Client, chunk_bytes: int = 64 << 20,
    warnings: list[str] | None = None, job: Job | None = None,
) -> tuple[Rows, list[str]]:
    errors: list[str] = []
    results = classify_dask(
        [str(p) for p in paths], job=job or Job(), scorer_spec=SCORER,
        dns=DnsSpec.read(zone_files=[ZONE]), scheduler=scheduler, chunk_bytes=chunk_bytes,
        on_error=errors.append, on_warning=(warnings if warnings is not None else []).append,
    )
    return [to_row(r) for r in results], errors


def archive(tmp_path: Path, count: int = 300) -> Path:
    """An mbox of ``count`` messages: SpamAssassin ham and spam when HRDP_CORPUS is set,
    else the sample messages over and over."""
    corpus = corpus_dir()
    if corpus is not None:
        folders = [corpus / "spamassassin" / "ham", corpus / "spamassassin" / "spam"]
        files = [f for d in folders for f in sorted(d.iterdir())[: count // 2] if f.is_file()]
    else:
        files = sorted(SAMPLE.glob("*.eml"))
    messages = [files[i % len(files)].read_bytes() for i in range(count)]
    return write(tmp_path / "archive.mbox", mboxrd(messages))


def test_sample_mail_as_a_local_run(client: Client) -> None:
    expected, _ = local_rows([SAMPLE])
    assert len(expected) > 20
    for chunk_bytes in (64 << 20, 300):  # small files grouped in one task; one task each
        assert dask_rows([SAMPLE], client, chunk_bytes) == (expected, [])


def test_archive_in_many_ranges_through_the_scheduler_address(
    client: Client, tmp_path: Path
) -> None:
    box = archive(tmp_path)
    packed = write(tmp_path / "archive.mbox.gz", gzip.compress(box.read_bytes(), 1))
    crlf_box = write(tmp_path / "crlf.mbox", crlf(box.read_bytes()))
    paths = [box, SAMPLE / "clean.eml", packed, crlf_box, SAMPLE / "archive.mbox"]
    expected, _ = local_rows(paths)
    assert len(expected) > 900
    assert len(list(Planner(box.stat().st_size // 30).units([str(box)]))) >= 20
    warnings: list[str] = []
    address = client.scheduler_info()["address"]  # a new connection, as the CLI makes one
    got = dask_rows(paths, address, box.stat().st_size // 30, warnings)
    assert got == (expected, [])
    assert warnings == []


def test_missing_path_is_reported_and_the_rest_classified(client: Client, tmp_path: Path) -> None:
    paths = [tmp_path / "missing.mbox", SAMPLE / "clean.eml"]
    expected = local_rows(paths)
    assert expected[1] == [f"{tmp_path / 'missing.mbox'}: no such file or directory"]
    assert dask_rows(paths, client) == expected


def test_stdin_cannot_be_distributed() -> None:
    with pytest.raises(InputError, match="standard input"):
        classify_dask(["-"], job=Job(), scorer_spec=None, dns=DnsSpec(), scheduler="tcp://x:1")


def test_options_reach_the_workers(client: Client) -> None:
    job = Job(all_rules=True, envelope_from="<>")
    assert dask_rows([SAMPLE], client, job=job) == local_rows([SAMPLE], job=job)


# --- failures ------------------------------------------------------------------------------


def _break_reading(suffix: str, exc: Callable[[str], BaseException] | None) -> None:
    """Run on the workers: reading a source that ends with ``suffix`` raises; None heals."""
    from hrdp import ranges

    def broken(unit: Unit, not_mail: list[str]) -> Iterator[Any]:
        if exc is not None and unit.source.endswith(suffix):
            raise exc(unit.source)
        return _READ_UNIT(unit, not_mail)

    ranges.read_unit = broken  # type: ignore[assignment]  # in this worker process only


_READ_UNIT = read_unit


@pytest.fixture
def broken_workers(client: Client) -> Iterator[Callable[[str, Any], None]]:
    def breaker(suffix: str, exc: Any) -> None:
        client.run(_break_reading, suffix, exc)

    yield breaker
    client.run(_break_reading, "", None)


def test_a_task_failing_on_a_worker_is_classified_here(
    client: Client, broken_workers: Callable[[str, Any], None]
) -> None:
    broken_workers("clean.eml", RuntimeError)
    warnings: list[str] = []
    expected, _ = local_rows([SAMPLE])
    assert dask_rows([SAMPLE], client, 300, warnings) == (expected, [])
    assert warnings == [
        f"{SAMPLE / 'clean.eml'}: a Dask worker failed (RuntimeError: {SAMPLE / 'clean.eml'}); "
        "classified here instead",
        f"skipped 2 files that are not mail: {SAMPLE / 'expected.tsv'}, {SAMPLE / 'zone.db'}",
    ]


def test_inputs_missing_on_the_workers_stop_the_run(
    client: Client, broken_workers: Callable[[str, Any], None]
) -> None:
    broken_workers("clean.eml", MissingInput)
    with pytest.raises(InputError, match=r"clean\.eml is not on the Dask workers"):
        dask_rows([SAMPLE], client, 300)


def test_a_worker_that_cannot_build_the_scorer_stops_the_run(client: Client) -> None:
    results = classify_dask([str(SAMPLE)], job=Job(), scorer_spec=ScorerSpec("no-such"),
                            dns=DnsSpec(), scheduler=client)
    with pytest.raises(HrdpError, match="a Dask worker cannot classify: ScorerError"):
        list(results)


def test_a_task_that_kills_workers_becomes_error_rows(client: Client) -> None:
    units = [Unit("box", "range", 0, 10), Unit("box", "range", 10, None), Unit("a.eml")]
    future: Future[Any] = Future()
    future.set_exception(KilledWorker("key", None, 3))  # type: ignore[arg-type]  # no state
    run = Run("t", Job(), None, DnsSpec())
    warnings: list[str] = []
    gather = _Gather(client, run, Planner(), warnings.append)
    rows = [to_row(r) for r in gather._collect(_Task(units, future))]  # type: ignore[arg-type]
    assert [(r["source"], r["index"], r["pool"], r["reasons"]) for r in rows] == [
        ("box", 0, "high-risk", ["malformed"]), ("box", 1, "high-risk", ["malformed"]),
        ("a.eml", 0, "high-risk", ["malformed"]),
    ]
    assert rows[1]["error"] == ("lost: Dask workers died classifying it (KilledWorker): "
                                "bytes 10 to the end of box")


def test_workers_forget_a_finished_run(client: Client) -> None:
    dask_rows([SAMPLE / "clean.eml"], client)
    assert set(client.run(_cached_runs).values()) == {0}


def _cached_runs() -> int:
    return len(hrdp.dask_engine._TOOLS)


def test_stopping_early_cancels_the_rest(client: Client, tmp_path: Path) -> None:
    box = archive(tmp_path, 200)
    results = classify_dask([str(box)], job=Job(), scorer_spec=SCORER,
                            dns=DnsSpec.read(zone_files=[ZONE]), scheduler=client,
                            chunk_bytes=4096)
    first = next(results)
    results.close()  # type: ignore[attr-defined]  # a generator
    assert first.index == 0
    assert set(client.run(_cached_runs).values()) == {0}


def test_zone_files_are_checked_and_shipped(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.zone", b"$ORIGIN x.test.\n@ IN MX nonsense\n")
    with pytest.raises(DnsError, match=r"bad\.zone"):
        DnsSpec.read(zone_files=[str(bad)])
    spec = DnsSpec.read(zone_files=[ZONE])
    assert spec.zones == ((ZONE, Path(ZONE).read_bytes()),)
    with spec.checker() as checker:
        assert checker.stats.domains == 0


def test_cli_engine_dask_gives_the_local_rows(client: Client) -> None:
    """`hrdp classify --engine dask --scheduler ADDR` as a user runs it."""
    from click.testing import CliRunner

    from hrdp.cli import cli

    args = ["classify", "-q", "--dns-zone", ZONE, "--format", "jsonl", str(SAMPLE)]
    local = CliRunner().invoke(cli, args)
    remote = CliRunner().invoke(cli, [*args, "--engine", "dask",
                                      "--scheduler", client.scheduler.address])
    assert remote.exit_code == local.exit_code == 3
    assert remote.stdout == local.stdout
    usage = CliRunner().invoke(cli, [*args, "--engine", "dask"])
    assert usage.exit_code == 2 and "--scheduler" in usage.stderr
