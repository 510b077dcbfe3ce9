"""A wall-clock budget per message, so one monster message cannot stall a batch.

Python cannot stop a running regex or parser from another thread, so the budget is a
SIGALRM timer (setitimer) whose handler raises Overtime in the code that is running.
It works in the main thread of a process: the CLI's own and each --jobs worker's. In
any other thread (a library caller's), the budget is not enforced.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType
from typing import Any


class Overtime(BaseException):
    """The message took longer than its budget. A BaseException, like KeyboardInterrupt,
    so that no `except Exception` on the way (a detector guard) swallows it."""


class Budget:
    """``with Budget(seconds) as b: ... with b.timing(): work()`` — one handler for a
    batch, one timer per message (``b.start()`` and ``b.stop()`` in a ``try`` do the same).

    stop() leaves the timer to run: the next start() sets it again and the handler
    ignores a timer whose message has ended, so each message costs one system call;
    leaving the batch stops the timer."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.active = seconds > 0 and threading.current_thread() is threading.main_thread()
        self.running = False  # a message is being timed
        self._previous: Any = None

    def __enter__(self) -> Budget:
        if self.active:
            self._previous = signal.signal(signal.SIGALRM, self._alarm)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.running = False
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)

    def _alarm(self, _signum: int, _frame: FrameType | None) -> None:
        if self.running:
            raise Overtime

    @contextmanager
    def timing(self) -> Iterator[None]:
        self.start()
        try:
            yield
        finally:
            self.stop()

    # timing() as two calls, for the per-message loop (a generator-based context
    # manager costs more than the system call): start(); try: ... finally: stop().
    def start(self) -> None:
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)  # replaces the last one
            self.running = True

    def stop(self) -> None:
        self.running = False
