"""What people see: the rich table on a terminal and the summary on stderr.

Only cli.py imports this module; the library stays free of rich and click.
"""

from __future__ import annotations

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
    """A terminal table; columns need every row's width, so rows are collected."""

    def __init__(self, out: IO[str], headers: bool) -> None:
        self.console = Console(file=out, soft_wrap=False)
        self.table = Table(show_header=headers, header_style="bold", box=None, pad_edge=False)
        for _key, title in _TABLE_COLUMNS:
            self.table.add_column(title, overflow="fold")

    def write(self, row: dict[str, Any]) -> None:
        cells = flat(row)
        values: list[str | Text] = [cells[key] for key, _title in _TABLE_COLUMNS]
        values[2] = Text(cells["pool"], style=_POOL_STYLE.get(cells["pool"], ""))
        self.table.add_row(*values)

    def close(self) -> None:
        self.console.print(self.table)


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
