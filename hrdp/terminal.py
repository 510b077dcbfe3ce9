"""What people see: the rich table on a terminal and the summary on stderr.

Only cli.py imports this module; the library stays free of rich and click.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import IO, Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hrdp.output import flat
from hrdp.pool import POOLS, REASONS

_POOL_STYLE = {"normal": "green", "high-risk": "bold red", "relay": "yellow", "blocked": "magenta"}
_TABLE_COLUMNS = (
    ("source", "source"),
    ("index", "#"),
    ("pool", "pool"),
    ("reasons", "reasons"),
    ("sender_domain", "sender domain"),
    ("dns", "dns"),
    ("dsn", "dsn"),
    ("score", "score"),
    ("error", "error"),
)


class RichTableWriter:
    """A terminal table. Columns need every row's width, so rows are collected; empty
    columns are dropped and the folder all sources share becomes the title, so the
    table fits an 80-column terminal."""

    def __init__(self, out: IO[str], headers: bool) -> None:
        self.console = Console(file=out, soft_wrap=False)
        self.headers = headers
        self.rows: list[dict[str, str]] = []

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(flat(row))

    def close(self) -> None:
        prefix = _common_folder([r["source"] for r in self.rows])
        for cells in self.rows:
            cells["source"] = cells["source"][len(prefix):]
        table = Table(show_header=self.headers, header_style="bold", box=None, pad_edge=False,
                      title=f"in {prefix}" if prefix else None, title_justify="left")
        columns = self._fitting_columns()
        for key, title in columns:
            table.add_column(title, overflow="fold" if key == "source" else "ellipsis",
                             no_wrap=key != "source", max_width=_MAX_WIDTH.get(key))
        for cells in self.rows:
            table.add_row(*[Text(cells[k], style=_POOL_STYLE.get(cells[k], "")) if k == "pool"
                            else cells[k] for k, _t in columns])
        self.console.print(table)

    def _fitting_columns(self) -> list[tuple[str, str]]:
        """The columns in _TABLE_COLUMNS order: the first four always, the others, by
        priority, while they fit the terminal and hold anything."""
        def width(key: str, title: str) -> int:
            longest = max((len(r[key]) for r in self.rows), default=0)
            return min(max(longest, len(title)), _MAX_WIDTH.get(key, 99)) + 2

        chosen = {k for k, _t in _TABLE_COLUMNS if k in _ALWAYS}
        used = sum(width(k, t) for k, t in _TABLE_COLUMNS if k in chosen)
        used -= max(0, width("source", "source") - 26)  # the source column folds
        for key in _OPTIONAL:
            title = dict(_TABLE_COLUMNS)[key]
            extra = width(key, title)
            if any(r[key] for r in self.rows) and used + extra <= self.console.width:
                chosen.add(key)
                used += extra
        return [(k, t) for k, t in _TABLE_COLUMNS if k in chosen]


_MAX_WIDTH = {"sender_domain": 28, "error": 40, "reasons": 24}
_OPTIONAL = ("sender_domain", "dsn", "score", "dns", "error")
_ALWAYS = {"source", "index", "pool", "reasons"}


def _common_folder(sources: list[str]) -> str:
    """The folder every source lies in ("sample_mail/"), or "" when there is none."""
    if not sources or "-" in sources:
        return ""
    try:
        common = os.path.commonpath([os.path.dirname(s) for s in sources])
    except ValueError:  # absolute and relative paths mixed
        return ""
    common = common.rstrip("/")
    return common + "/" if common else ""


class Summary:
    """Counts per pool and reason, printed on stderr at the end of a run."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.pools: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.errors = 0
        self.dsns: Counter[str] = Counter()

    def add(self, row: dict[str, Any]) -> None:
        self.pools[row["pool"]] += 1
        self.reasons.update(row["reasons"])
        if row["error"]:
            self.errors += 1
        if row["dsn"]:
            self.dsns[row["dsn"]["kind"]] += 1

    @property
    def total(self) -> int:
        return sum(self.pools.values())

    def print(self, console: Console, domains: int) -> None:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        pools = ", ".join(
            f"[{_POOL_STYLE[p]}]{self.pools[p]} {p}[/]" for p in POOLS if self.pools[p]
        )
        console.print(
            f"[bold]{self.total}[/] message{'s' if self.total != 1 else ''}: {pools or 'none'}"
            f"  ({elapsed:.2f} s, {self.total / elapsed:,.0f} msg/s, {domains} domains checked)"
        )
        reasons = ", ".join(f"{r} {self.reasons[r]}" for r in REASONS if self.reasons[r])
        if reasons:
            console.print(f"reasons: {reasons}")
        if self.dsns:
            console.print("DSN kinds: " + ", ".join(f"{k} {n}" for k, n in self.dsns.items()))
