"""What people see: the rich table on a terminal and the summary on stderr.

Only cli.py imports this module; the library stays free of rich and click.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import IO, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from hrdp.message import ParsedMessage
from hrdp.output import flat
from hrdp.pool import POOLS, REASONS
from hrdp.sources import RawMessage

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

    renderer = None  # collects rows: nothing is rendered ahead

    def __init__(self, out: IO[str], headers: bool) -> None:
        self.console = Console(file=out, soft_wrap=False)
        self.headers = headers
        self.rows: list[dict[str, str]] = []

    def write(self, row: dict[str, Any]) -> None:
        self.rows.append(flat(row))

    def write_text(self, text: str) -> None:
        raise TypeError("the table takes rows, not rendered text")

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

    def count(self, pool: str, reasons: list[str], error: str | None,
              dsn_kind: str | None) -> None:
        self.pools[pool] += 1
        if reasons:
            self.reasons.update(reasons)
        if error:
            self.errors += 1
        if dsn_kind:
            self.dsns[dsn_kind] += 1

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


def message_facts(raw: RawMessage) -> dict[str, str]:
    """Headers that help a person recognise the message (not part of the row)."""
    if not raw.data:
        return {"subject": "", "date": "", "from": "", "to": ""}
    message = ParsedMessage(raw.data, mbox_from=raw.mbox_from)
    return {name: message.header(name) for name in ("subject", "date", "from", "to")}


def print_inspection(console: Console, row: dict[str, Any], facts: dict[str, str],
                     warnings: list[str]) -> None:
    """`hrdp inspect`: the decision first, then each fact that led to it."""
    pool = row["pool"]
    reasons = ", ".join(row["reasons"]) or "no rule fired"
    console.print(f"[bold]{row['source']}[/] #{row['index']}  {escape(row['message_id'])}")
    console.print(f"  subject: {escape(facts['subject'])}   date: {escape(facts['date'])}")
    console.print(f"[bold]pool[/]  [{_POOL_STYLE[pool]}]{pool}[/]  ({reasons})")
    if row["error"]:
        console.print(f"[bold]error[/] {escape(row['error'])}")
    for warning in warnings:
        console.print(f"[yellow]warning[/] {escape(warning)}")
    _print_sender(console, row)
    _print_score(console, row)
    _print_dsn(console, row)


def _print_sender(console: Console, row: dict[str, Any]) -> None:
    sender = row["sender"] or ("<> (null sender)" if row["sender_source"] == "envelope" else "-")
    console.print(f"[bold]sender[/] {escape(sender)}  (from the {row['sender_source']})")
    detail = f": {row['dns_detail']}" if row["dns_detail"] else ""
    if row["dns"] == "skipped" and row["dsn"] and not detail:
        detail = ": a DSN is decided without DNS (--all-rules checks anyway)"
    domain = row["sender_domain"] or "-"
    console.print(f"[bold]dns[/]    {escape(domain)} → {row['dns']}{escape(detail)}")


def _print_score(console: Console, row: dict[str, Any]) -> None:
    score = row["score"]
    if score is None:
        why = "skipped for a DSN" if row["dsn"] and not row["error"] else "no verdict"
        console.print(f"[bold]score[/]  none ({why})")
        return
    verdict = "[red]spam[/]" if score["spam"] else "not spam"
    console.print(f"[bold]score[/]  {score['scorer']}: {score['value']:g} / "
                  f"threshold {score['threshold']:g} → {verdict}")
    for line in score["detail"]:
        console.print(f"         {escape(str(line))}")


def _print_dsn(console: Console, row: dict[str, Any]) -> None:
    if row["notification"]:
        console.print(f"[bold]notification[/] {row['notification']} (not a DSN)")
    dsn = row["dsn"]
    if dsn is None:
        return
    console.print(f"[bold]dsn[/]    {dsn['kind']}  (detector {dsn['detector']}, "
                  f"reporting MTA {escape(dsn['reporting_mta'] or '-')})")
    if dsn["original_message_id"] or dsn["original_sender"]:
        console.print(f"       bounced message {escape(dsn['original_message_id'] or '-')} "
                      f"from {escape(dsn['original_sender'] or '-')}")
    table = Table(box=None, pad_edge=False, show_header=True, header_style="bold")
    for title in ("recipient", "status", "reason", "diagnostic"):
        table.add_column(title, overflow="fold", no_wrap=title != "diagnostic")
    diagnostics = dsn.get("diagnostic") or []
    for i, recipient in enumerate(dsn["recipients"]):
        table.add_row(recipient, _at(dsn["status"], i), _at(dsn["reason"], i),
                      _at(diagnostics, i))
    console.print(table)


def _at(values: list[str], i: int) -> str:
    return values[i] if i < len(values) else ""
