"""Checks for ``--scorer-opt KEY=VALUE`` options, shared by the scorers: each failure is a
ScorerError naming the scorer and the option, one line, before any message is read."""

from __future__ import annotations

import math
from collections.abc import Mapping

from hrdp.errors import ScorerError

__all__ = ["check_options", "check_threshold", "option_float", "option_int"]


def option_float(name: str, scorer: str, text: str, positive: bool = True) -> float:
    """A number option (above 0 when ``positive``), or ScorerError naming the option."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (positive and value <= 0):
        kind = "a number above 0" if positive else "a number"
        raise ScorerError(f"{scorer} scorer: {name}={text!r} is not {kind}")
    return value


def option_int(name: str, scorer: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ScorerError(f"{scorer} scorer: {name}={text!r} is not a whole number {low}-{high}")
    return value


def check_options(scorer: str, options: Mapping[str, str], known: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ScorerError(
            f"{scorer} scorer: unknown option {unknown[0]!r} (known: {', '.join(known)})"
        )


def check_threshold(scorer: str, threshold: float | None) -> float | None:
    if threshold is not None and not math.isfinite(threshold):
        raise ScorerError(f"{scorer} scorer: threshold {threshold} is not a number")
    return threshold
