"""People-talk on stderr: one-line errors and warnings (Reporter), and a progress bar
for long runs: messages, messages/s, bytes of the known
total, ETA. Only cli.py uses it, and only when stderr is a terminal; it appears after
a moment so that a quick run prints nothing but its summary."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from hrdp.sources import RawMessage

DELAY = 0.5  # seconds before the bar appears


def input_size(paths: Sequence[str]) -> int | None:
    """Bytes of every input file (compressed size for compressed files), or None when
    it cannot be known (stdin)."""
    total = 0
    for path in paths:
        if path == "-":
            return None
        if os.path.isdir(path):
            for folder, dirs, files in os.walk(path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                total += sum(_size(os.path.join(folder, f)) for f in files)
        else:
            total += _size(path)
    return total


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


class ProgressView:
    """Counts bytes as messages are read and messages as their rows are written."""

    def __init__(self, console: Console, total: int | None) -> None:
        self.started = time.monotonic()
        self.total = total
        self.bytes = 0
        self.messages = 0
        self.progress = Progress(
            TextColumn("{task.fields[messages]:>9,} messages"),
            TextColumn("{task.fields[rate]:>7,.0f} msg/s"),
            BarColumn(),
            DownloadColumn(),
            TimeRemainingColumn(),
            console=console, transient=True,
        )
        self.task: TaskID | None = None

    def reading(self, raws: Iterable[RawMessage]) -> Iterator[RawMessage]:
        for raw in raws:
            self.bytes += len(raw.data or b"")
            yield raw

    def read(self, size: int) -> None:
        """``size`` more bytes read (by a worker, for pipeline.classify_files)."""
        self.bytes += size

    def row_done(self) -> None:
        self.messages += 1
        if self.messages % 64:
            return
        elapsed = time.monotonic() - self.started
        if self.task is None:
            if elapsed < DELAY:
                return
            self.progress.start()
            self.task = self.progress.add_task("classify", total=self.total, messages=0, rate=0)
        # Uncompressed bytes can outrun a compressed total: never past the end.
        done = min(self.bytes, self.total) if self.total else self.bytes
        self.progress.update(self.task, completed=done, messages=self.messages,
                             rate=self.messages / elapsed)

    def __enter__(self) -> ProgressView:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.task is not None:
            self.progress.stop()


class Reporter:
    """Errors and warnings on stderr: one line each, repeated warnings said once."""

    def __init__(self, quiet: bool) -> None:
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.failed_paths = 0
        self.seen: Counter[str] = Counter()

    def error(self, text: str) -> None:
        self.failed_paths += 1
        self.console.print(f"hrdp: error: {text}", markup=False)

    def warning(self, text: str, where: str = "") -> None:
        self.seen[text] += 1
        if not self.quiet and self.seen[text] == 1:
            self.console.print(f"hrdp: warning: {where}{text}", markup=False)

    def repeated(self) -> None:
        again = sum(n - 1 for n in self.seen.values())
        if again and not self.quiet:
            self.console.print(f"hrdp: warning: {again} more warnings like the above")
