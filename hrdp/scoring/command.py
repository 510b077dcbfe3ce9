"""The ``command`` scorer: run any program per message, the message on its stdin and its
score read from its stdout.

The program is an argv list, run without a shell (nothing in a message or an option is
ever interpreted by one), in its own process group so a timeout kills it and anything it
started. What it prints is read by ``format``:

- ``number``: one number, e.g. ``7.5`` (the threshold comes from ``threshold=`` or
  ``--threshold``);
- ``ratio``: ``value/threshold``, e.g. ``9.4/5.0`` (what ``spamc -c`` prints);
- ``json``: an object ``{"score": 9.4, "threshold": 5.0, "spam": true, "detail": [..]}``;
  only ``score`` is required, ``detail`` may be a string or a list of strings;
- ``auto`` (default): ``json`` when the output starts with ``{``, ``ratio`` when it
  holds a ``/``, else ``number``.

For ``number`` and ``ratio`` the first non-empty line is read. The threshold is
``--threshold`` if given, else the program's own, else the ``threshold`` option; spam
when the score reaches it, unless the JSON says ``spam`` and ``--threshold`` is not given.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hrdp.errors import ScorerError
from hrdp.scoring.base import Score
from hrdp.scoring.options import check_options, check_threshold, option_float, option_int

if TYPE_CHECKING:
    from hrdp.message import ParsedMessage

OPTIONS = ("argv", "cmd", "timeout", "threshold", "format", "exit_ok", "concurrency")
FORMATS = ("auto", "number", "ratio", "json")
DEFAULT_TIMEOUT = 30.0
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RATIO = re.compile(rf"\s*({_NUMBER})\s*/\s*({_NUMBER})\s*")
_BARE = re.compile(rf"\s*({_NUMBER})\s*")


@dataclass(frozen=True)
class Output:
    """What the program said: its score, and its threshold, verdict and detail if any."""

    value: float
    threshold: float | None = None
    spam: bool | None = None
    detail: tuple[str, ...] = ()


def parse_argv(options: Mapping[str, str]) -> list[str]:
    """The program and its arguments from ``argv`` (a JSON list) or ``cmd`` (shlex)."""
    if ("argv" in options) == ("cmd" in options):
        raise ScorerError("command scorer: give the program as argv=[...] (JSON) or cmd=...")
    if "cmd" in options:
        try:
            argv: Any = shlex.split(options["cmd"])
        except ValueError as exc:
            raise ScorerError(f"command scorer: cmd={options['cmd']!r}: {exc}") from exc
    else:
        try:
            argv = json.loads(options["argv"])
        except ValueError as exc:
            raise ScorerError(f"command scorer: argv is not a JSON list: {exc}") from exc
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise ScorerError("command scorer: argv must be a non-empty list of strings")
    program = argv[0] if os.sep in argv[0] else shutil.which(argv[0])
    if program is None or not os.access(program, os.X_OK) or os.path.isdir(program):
        raise ScorerError(f"command scorer: {argv[0]!r} is not an executable program")
    return [program, *argv[1:]]


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")


def _json_output(text: str) -> Output:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ValueError("JSON output is not an object")
    numbers = {key: data.get(key) for key in ("score", "threshold")}
    for key, value in numbers.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"JSON {key} is not a number")
    if numbers["score"] is None:
        raise ValueError("JSON output has no score")
    spam, detail = data.get("spam"), data.get("detail", [])
    if spam is not None and not isinstance(spam, bool):
        raise ValueError("JSON spam is not true/false")
    details = [detail] if isinstance(detail, str) else detail
    if not isinstance(details, list):
        raise ValueError("JSON detail is not a list")
    threshold = None if numbers["threshold"] is None else float(numbers["threshold"])
    return Output(float(numbers["score"]), threshold, spam, tuple(str(d) for d in details))


def parse_output(text: str, fmt: str) -> Output:
    """The program's stdout read as ``fmt``; ValueError says why it cannot be read."""
    if fmt == "auto":
        stripped = text.strip()
        fmt = "json" if stripped.startswith("{") else "ratio" if "/" in stripped else "number"
    if fmt == "json":
        output = _json_output(text)
    else:
        line = _first_line(text)
        match = (_RATIO if fmt == "ratio" else _BARE).fullmatch(line)
        if match is None:
            expected = "value/threshold" if fmt == "ratio" else "a number"
            raise ValueError(f"expected {expected}, got {line[:40]!r}")
        output = Output(float(match.group(1)), float(match.group(2)) if fmt == "ratio" else None)
    numbers = [output.value] + ([] if output.threshold is None else [output.threshold])
    if not all(math.isfinite(n) for n in numbers):
        raise ValueError("the score is not a finite number")
    return output


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    # a grandchild that left the group may hold the pipes open: do not wait for it long
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.communicate(timeout=5)


def _exit_text(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


class CommandScorer:
    """Run a program per message (message on stdin, score on stdout), never via a shell.

    Options (``--scorer-opt KEY=VALUE``):

    - ``argv``: the program and its arguments as a JSON list, e.g.
      ``argv=["/usr/bin/spamc","-c","-x"]``; or ``cmd``: one string split like a shell
      would split words (shlex), never run by one, e.g. ``cmd=/usr/bin/spamc -c -x``;
    - ``format`` (auto): ``number``, ``ratio`` (``9.4/5.0``), ``json`` or ``auto``
      (see the module documentation);
    - ``threshold``: used when the program prints none and ``--threshold`` is not given;
    - ``timeout`` (30): seconds per message; the program is then killed;
    - ``exit_ok`` (0): comma list of exit statuses that still carry a score; any other
      status is an error (``spamc -c`` exits 1 for spam: ``exit_ok=0,1``, and use ``-x``
      so an outage exits 69 instead of printing ``0/0``);
    - ``concurrency`` (the number of CPUs): programs run at once.
    """

    name: str = "command"

    def __init__(self, options: Mapping[str, str], threshold: float | None) -> None:
        check_options("command", options, OPTIONS)
        self.argv = parse_argv(options)
        self.label = Path(self.argv[0]).name
        self.override = check_threshold("command", threshold)
        text = options.get("threshold")
        self.fallback = (
            None if text is None else option_float("threshold", "command", text, positive=False)
        )
        self.format = options.get("format", "auto")
        if self.format not in FORMATS:
            raise ScorerError(
                f"command scorer: format={self.format!r} is not one of {', '.join(FORMATS)}"
            )
        if self.format == "number" and self.override is None and self.fallback is None:
            raise ScorerError("command scorer: format=number needs threshold= or --threshold")
        self.timeout = option_float("timeout", "command", options.get("timeout", "30"))
        self.exit_ok = frozenset(
            option_int("exit_ok", "command", part.strip(), 0, 255)
            for part in options.get("exit_ok", "0").split(",")
        )
        self.concurrency = option_int(
            "concurrency", "command", options.get("concurrency", str(os.cpu_count() or 1)), 1, 256
        )

    def run(self, raw: bytes) -> str:
        """The program's stdout for one message; ScorerError on failure or timeout."""
        try:
            process = subprocess.Popen(
                self.argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # killed as a group
            )
        except OSError as exc:
            raise ScorerError(f"command {self.label}: cannot run: {exc.strerror or exc}") from exc
        try:
            out, err = process.communicate(raw, timeout=self.timeout)
        except subprocess.TimeoutExpired as exc:
            _kill_group(process)
            raise ScorerError(
                f"command {self.label}: no answer within {self.timeout:g} s (killed)"
            ) from exc
        if process.returncode not in self.exit_ok:
            line = _first_line(err.decode("utf-8", "replace")).strip()[:200]
            raise ScorerError(
                f"command {self.label}: {_exit_text(process.returncode)}"
                f"{': ' + line if line else ''}"
            )
        return out.decode("utf-8", "replace")

    def verdict(self, output: Output) -> Score:
        if self.override is not None:
            return Score(
                output.value, self.override, output.value >= self.override, list(output.detail)
            )
        threshold = output.threshold if output.threshold is not None else self.fallback
        if threshold is None:
            raise ScorerError(
                f"command {self.label}: printed no threshold; give threshold= or --threshold"
            )
        spam = output.spam if output.spam is not None else output.value >= threshold
        return Score(output.value, threshold, spam, list(output.detail))

    def score(self, message: ParsedMessage) -> Score:
        """The program's verdict on the message; thread-safe (one process per call)."""
        text = self.run(message.raw)
        try:
            output = parse_output(text, self.format)
        except ValueError as exc:
            raise ScorerError(f"command {self.label}: unreadable output: {exc}") from exc
        return self.verdict(output)
