"""``classify`` spread over a Dask distributed cluster (the ``hrdp[dask]`` extra).

The client cuts the inputs into units (hrdp.ranges), groups small ones into tasks and
keeps two tasks per worker thread in flight. A task reads its units from the filesystem
the workers share with the client and classifies them with pipeline.classify, the code
of a local run; results come back in input order with a local run's indices. A task that
raises is re-run here (with a warning); one that kills workers gets error rows, never a
re-run here; a worker that cannot start (no scorer plugin, no shared files) stops the run.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from hrdp import ranges
from hrdp.dnscheck import DomainChecker, make_checker
from hrdp.engine import ScorerSpec
from hrdp.errors import HrdpError, InputError
from hrdp.examine import Job, Result, error_partial
from hrdp.pipeline import Settings, classify
from hrdp.ranges import (
    CHUNK_BYTES,
    MissingInput,
    Numbering,
    Planner,
    Unit,
    check_paths,
    tasks,
)
from hrdp.scoring.base import Scorer
from hrdp.sources import RawMessage

try:
    from distributed import Client, Future, KilledWorker
except ImportError as exc:  # the optional extra is not installed
    raise HrdpError("the Dask engine needs the dask extra: pip install 'hrdp[dask]'") from exc

__all__ = ["DnsSpec", "classify_dask", "classify_units"]

KEEP_RUNS = 4  # runs whose DNS cache and scorers a worker keeps (concurrent clients)
UnitDone = tuple[list[Result], list[str]]  # a unit's results and the files it left out
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DnsSpec:
    """How workers build their DomainChecker. Zone files are read here, by the client,
    and their text travels with the tasks: workers need no copy of them."""

    nameserver: str | None = None  # None: each worker's own /etc/resolv.conf
    timeout: float = 2.0
    lifetime: float = 5.0
    zones: tuple[tuple[str, bytes], ...] = ()  # (file name, contents)

    @classmethod
    def read(
        cls,
        *,
        nameserver: str | None = None,
        timeout: float = 2.0,
        lifetime: float = 5.0,
        zone_files: Sequence[str] = (),
    ) -> DnsSpec:
        """The spec for make_checker's options; raises DnsError as make_checker does,
        naming the user's files, before any work is sent out."""
        make_checker(nameserver=nameserver, timeout=timeout, lifetime=lifetime,
                     zone_files=zone_files).close()
        zones = tuple((path, Path(path).read_bytes()) for path in zone_files)
        return cls(nameserver, timeout, lifetime, zones)

    def checker(self) -> DomainChecker:
        if not self.zones:
            return make_checker(nameserver=self.nameserver, timeout=self.timeout,
                                lifetime=self.lifetime)
        with tempfile.TemporaryDirectory(prefix="hrdp-zones-") as folder:
            paths = []
            for number, (name, text) in enumerate(self.zones):
                paths.append(os.path.join(folder, f"{number}-{os.path.basename(name)}"))
                Path(paths[-1]).write_bytes(text)
            return make_checker(zone_files=paths)  # loaded whole: the files can go


@dataclass(frozen=True)
class Run:
    """What every task of one run carries; ``token`` names the run in worker caches."""

    token: str
    job: Job
    scorer_spec: ScorerSpec | None
    dns: DnsSpec


def classify_dask(
    paths: Sequence[str],
    *,
    job: Job,
    scorer_spec: ScorerSpec | None,
    dns: DnsSpec,
    scheduler: str | Client,
    chunk_bytes: int = CHUNK_BYTES,
    on_error: Callable[[str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Iterator[Result]:
    """One Result per message of ``paths``, in input order, as pipeline.classify gives
    them for ``sources.iter_messages(paths)`` — classified on the cluster at ``scheduler``
    (an address such as ``tcp://host:8786``, or a Client, left open).

    ``on_error`` hears about a path that cannot be read, ``on_warning`` about skipped
    files and about tasks re-run here. Raises InputError for standard input or a pipe
    (at once), HrdpError when the cluster cannot be reached or its workers cannot start.
    """
    check_paths(paths)  # stdin and pipes: at once, before any row is written
    run = Run(uuid.uuid4().hex, job, scorer_spec, dns)
    planner = Planner(chunk_bytes, on_error)
    return _classify(list(paths), run, scheduler, planner, on_warning or _log.warning)


def _classify(
    paths: list[str], run: Run, scheduler: str | Client, planner: Planner,
    warn: Callable[[str], None],
) -> Iterator[Result]:
    with _connected(scheduler) as client:
        gather = _Gather(client, run, planner, warn)
        try:
            yield from gather.results(paths)
        finally:
            gather.stop()
    planner.report(warn)


@contextmanager
def _connected(scheduler: str | Client) -> Iterator[Client]:
    if isinstance(scheduler, Client):
        yield scheduler
        return
    try:
        # distributed leaves Client.__init__ unannotated (its typing is partial)
        client = Client(scheduler, set_as_default=False)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:  # distributed raises OSError on a timeout too
        raise HrdpError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    with client:
        yield client


@dataclass
class _Task:
    units: list[Unit]
    future: Future[list[UnitDone]]


@dataclass
class _Gather:
    """Submits tasks in input order, a bounded number at a time, and yields their results
    in that order with the indices of a local run."""

    client: Client
    run: Run
    planner: Planner
    warn: Callable[[str], None]
    numbering: Numbering = field(default_factory=Numbering)
    in_flight: deque[_Task] = field(default_factory=deque)

    def results(self, paths: list[str]) -> Iterator[Result]:
        threads = self.client.nthreads()  # type: ignore[no-untyped-call]  # unannotated upstream
        limit = 2 * max(1, sum(threads.values()))
        for units in tasks(self.planner.units(paths), self.planner.chunk_bytes):
            future = self.client.submit(classify_units, units, self.run, pure=False)
            self.in_flight.append(_Task(units, future))
            if len(self.in_flight) >= limit:
                yield from self._collect(self.in_flight.popleft())
        while self.in_flight:
            yield from self._collect(self.in_flight.popleft())

    def _collect(self, task: _Task) -> Iterator[Result]:
        for unit, (results, not_mail) in zip(task.units, self._outcome(task), strict=True):
            first = self.numbering.first_index(unit, len(results))
            for result in results:
                result.index += first
                yield result
            self.planner.skipped(not_mail)

    def _outcome(self, task: _Task) -> list[UnitDone]:
        try:
            return task.future.result()
        except KilledWorker as exc:  # it took workers down: never run it in this process
            text = f"lost: Dask workers died classifying it ({type(exc).__name__})"
            return [_failed(unit, text) for unit in task.units]
        except MissingInput as exc:
            if os.path.lexists(exc.path):
                raise InputError(f"{exc.path} is not on the Dask workers: they must read the "
                                 "inputs at the same path (a shared filesystem)") from None
            return self._here(task, exc)  # gone meanwhile: here it gets a local run's row
        except (HrdpError, ImportError) as exc:  # a worker without hrdp or the scorer
            raise HrdpError(f"a Dask worker cannot classify: {_one_line(exc)}") from exc
        except Exception as exc:
            return self._here(task, exc)

    def _here(self, task: _Task, exc: BaseException) -> list[UnitDone]:
        what = task.units[0].describe()
        if len(task.units) > 1:
            what += f" and {len(task.units) - 1} more"
        self.warn(f"{what}: a Dask worker failed ({_one_line(exc)}); classified here instead")
        try:
            return classify_units(task.units, self.run)
        except Exception as again:
            return [_failed(unit, f"cannot classify: {_one_line(again)}") for unit in task.units]

    def stop(self) -> None:
        """Cancel what is still in flight (a consumer that stopped early) and free the
        run's checker and scorers, on the workers and here."""
        futures = [task.future for task in self.in_flight]
        with suppress(Exception):  # best effort, here and below: the cluster may be gone
            if futures:
                self.client.cancel(futures)  # type: ignore[no-untyped-call]  # unannotated
        with suppress(Exception):
            self.client.run(_forget, self.run.token)
        _forget(self.run.token)


def _failed(unit: Unit, text: str) -> UnitDone:
    """One error row standing for every message of the unit: high-risk, malformed."""
    raw = RawMessage(unit.source, 0, None, error=text)
    return [error_partial(raw, f"{text}: {unit.describe()}").result], []


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --- on the workers ------------------------------------------------------------------------


def classify_units(units: list[Unit], run: Run) -> list[UnitDone]:
    """The task: read the units and classify them as one stream, so their DNS questions
    are in flight together; then cut the results back into units."""
    checker, scorer = _tools(run)
    settings = Settings(run.job, checker, scorer)
    counts = [0] * len(units)
    left_out: list[list[str]] = [[] for _ in units]

    def raws() -> Iterator[RawMessage]:
        for number, unit in enumerate(units):
            for raw in ranges.read_unit(unit, left_out[number]):
                counts[number] += 1
                yield raw

    results = iter(list(classify(raws(), settings)))
    pairs = zip(counts, left_out, strict=True)
    return [(list(islice(results, count)), skipped) for count, skipped in pairs]


@dataclass
class _Tools:
    checker: DomainChecker  # thread-safe, so one per process: each domain asked once
    scorers: dict[int, Scorer | None] = field(default_factory=dict)  # one per thread


_TOOLS: OrderedDict[str, _Tools] = OrderedDict()
_TOOLS_LOCK = threading.Lock()
_OVER: deque[str] = deque(maxlen=64)  # finished runs: a task that starts late builds nothing


def _tools(run: Run) -> tuple[DomainChecker, Scorer | None]:
    """This process's checker and this thread's scorer for ``run``, built at its first
    task. Keyed by run, not only by settings: DNS answers are cached for one run, as a
    local run caches them, never across the runs a long-lived worker serves."""
    with _TOOLS_LOCK:
        if run.token in _OVER:
            raise RuntimeError("the run is over (its client stopped)")
        tools = _TOOLS.get(run.token)
        if tools is None:
            tools = _TOOLS[run.token] = _Tools(run.dns.checker())
            while len(_TOOLS) > KEEP_RUNS:
                _TOOLS.popitem(last=False)[1].checker.close()
        _TOOLS.move_to_end(run.token)
        thread = threading.get_ident()
        if thread not in tools.scorers:
            tools.scorers[thread] = run.scorer_spec.load() if run.scorer_spec else None
        return tools.checker, tools.scorers[thread]


def _forget(token: str) -> None:
    with _TOOLS_LOCK:
        tools = _TOOLS.pop(token, None)
        _OVER.append(token)
    if tools is not None:
        tools.checker.close()
