"""budget.py: the per-message timer of a batch, one system call a message."""

from __future__ import annotations

import signal
import time

import pytest

from hrdp.budget import Budget, Overtime


def test_a_message_over_its_budget_is_stopped() -> None:
    with Budget(0.02) as budget:
        budget.start()
        with pytest.raises(Overtime):
            time.sleep(1)
        budget.stop()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_a_timer_left_running_after_its_message_raises_nothing() -> None:
    previous = signal.getsignal(signal.SIGALRM)
    with Budget(0.02) as budget:
        with budget.timing():
            pass
        time.sleep(0.05)  # the timer of the ended message fires here: ignored
        budget.start()  # the next message sets it again
        budget.stop()
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == previous
