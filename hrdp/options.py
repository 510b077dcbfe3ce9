"""Option sets shared by the commands that classify (classify, inspect)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from hrdp import output
from hrdp.dsn.report import DSN_KINDS, DsnKind

F = TypeVar("F", bound=Callable[..., Any])


def _apply(func: F, decorators: list[Callable[[F], F]]) -> F:
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _kinds(_ctx: click.Context, _param: click.Parameter, value: Any) -> frozenset[DsnKind]:
    items = value if isinstance(value, list | tuple) else [value]
    names = {n.strip() for item in items for n in str(item).split(",") if n.strip()}
    unknown = names - set(DSN_KINDS)
    if unknown:
        raise click.BadParameter(f"unknown kind {sorted(unknown)[0]!r}; "
                                 f"choose from {', '.join(DSN_KINDS)}")
    return frozenset(k for k in DSN_KINDS if k in names)


def check_options(func: F) -> F:
    """How a message is checked: sender, DNS, DSN kinds, scorer, budgets."""
    choice = click.Choice(["normal", "high-risk"])
    return _apply(func, [
        click.option("--envelope-from", metavar="ADDR",
                     help="Envelope sender given by the MTA ('' or '<>' for the null sender)."),
        click.option("--dns-zone", multiple=True, metavar="FILE",
                     help="Answer DNS from this RFC 1035 zone file (repeatable; no network)."),
        click.option("--nameserver", metavar="HOST[:PORT]",
                     help="Ask this server, not resolv.conf."),
        click.option("--dns-timeout", type=float, default=2.0, show_default=True,
                     help="Seconds per DNS try."),
        click.option("--dns-lifetime", type=float, default=5.0, show_default=True,
                     help="Seconds in all for one DNS question."),
        click.option("--on-dns-error", type=choice, default="normal", show_default=True,
                     help="Pool when DNS cannot answer (reason dns-tempfail)."),
        click.option("--null-mx", type=click.Choice(["high-risk", "normal"]),
                     default="high-risk", show_default=True,
                     help="Pool for a sender domain with a null MX (RFC 7505)."),
        click.option("--dsn-kinds", default=",".join(DSN_KINDS), show_default=True,
                     callback=_kinds, metavar="KIND,...",
                     help="DSN kinds that go to the high-risk pool."),
        click.option("--all-rules", is_flag=True,
                     help="Check DNS and score even when a DSN already decided the pool."),
        click.option("--scorer", default="auto", show_default=True,
                     help="Spam scorer (hrdp scorers). auto: a trusted verdict header, "
                          "else the built-in rules; bayes when model= is given."),
        click.option("--scorer-opt", multiple=True, metavar="KEY=VALUE",
                     help="Scorer option (repeatable)."),
        click.option("--threshold", type=float,
                     help="Spam when score >= X (default: the scorer's)."),
        click.option("--trust-header", multiple=True, metavar="VENDOR",
                     help="headers scorer: believe only these verdicts: spamassassin, rspamd, "
                          "microsoft (repeatable or comma list; default all)."),
        click.option("--on-scorer-error", type=choice, default="normal", show_default=True,
                     help="Pool when the scorer fails (reason scorer-error)."),
        click.option("--max-message-size", type=click.IntRange(min=1024),
                     default=32 * 1024 * 1024, show_default=True, metavar="BYTES",
                     help="Check only this much of a message."),
        click.option("--message-timeout", type=click.FloatRange(min=0), default=10.0,
                     show_default=True, metavar="SECONDS",
                     help="Error row for a message that takes longer (0: no limit)."),
    ])


def output_options(func: F) -> F:
    """The output options every command that writes rows shares."""
    return _apply(func, [
        click.option("--format", "fmt", type=click.Choice(output.FORMATS),
                     help="Row format. Default: table on a terminal, tsv when piped "
                          "(or the -o file's extension)."),
        click.option("--fmt", "style", metavar="STYLE",
                     help="Any tabulate table style (github, grid, psql, ...)."),
        click.option("--no-headers", is_flag=True, help="Omit the header line."),
        click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False),
                     help="Write rows to FILE (atomically: temp file, then rename)."),
    ])


