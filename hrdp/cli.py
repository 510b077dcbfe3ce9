"""Command line: options -> library calls -> exit code. Output goes through output.py."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from itertools import islice
from typing import IO, Any, TypeVar

import click
from rich.console import Console

from hrdp import __version__, config, output
from hrdp.dnscheck import DomainChecker, make_checker
from hrdp.engine import ScorerSpec, batch_gc
from hrdp.errors import ExitCode, HrdpError, InputError
from hrdp.examine import Job
from hrdp.lines import Line, line_of
from hrdp.options import check_options, output_options
from hrdp.pipeline import Settings, classify, classify_files
from hrdp.pool import Policy
from hrdp.progress import ProgressView, Reporter, input_size
from hrdp.ranges import check_paths
from hrdp.render import Renderer
from hrdp.scoring import registry
from hrdp.sources import iter_messages
from hrdp.terminal import RichTableWriter, Summary, message_facts, print_inspection

F = TypeVar("F", bound=Callable[..., Any])
CONTEXT = {"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "HRDP"}


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


class _UserError(click.ClickException):
    """A library error shown as one line, ``hrdp: error: ...``, exit 1."""

    exit_code = ExitCode.ERROR

    def show(self, file: IO[Any] | None = None) -> None:
        _stderr().print(f"hrdp: error: {self.format_message()}", markup=False)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HrdpError as exc:
            raise _UserError(str(exc)) from exc


@click.group(cls=_Group, context_settings=CONTEXT)
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Settings file (default: $HRDP_CONFIG, else ./hrdp.toml if present).")
@click.version_option(__version__, prog_name="hrdp")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None) -> None:
    """Decide the outbound delivery pool (normal or high-risk) of every message."""
    path = config.find(config_path)
    ctx.meta["hrdp.config"] = path
    if path:
        data = config.read(path)
        options = {name: _option_names(cmd) for name, cmd in cli.commands.items()}
        ctx.default_map = config.default_map(data, options, path)


def _option_names(command: click.Command) -> dict[str, str]:
    """Long option names (as config keys: ``dns_zone``, ``format``) -> parameter names."""
    names: dict[str, str] = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name:
            for opt in param.opts:
                if opt.startswith("--"):
                    names[opt[2:].replace("-", "_")] = param.name
    return names


@cli.command("classify")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@check_options
@click.option("-j", "--jobs", type=click.IntRange(min=0), default=0,
              help="Worker processes (default 0: one per core, or none for a daemon scorer).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where to classify: here, or on a Dask cluster (extra hrdp[dask]).")
@click.option("--scheduler", metavar="ADDR",
              help="Dask scheduler address, e.g. tcp://10.0.0.5:8786 (with --engine dask).")
@click.option("--check", is_flag=True, help="Exit 4 when any message is high-risk.")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr.")
@output_options
def classify_command(paths: tuple[str, ...], **opts: Any) -> None:
    """Print the pool of every message in PATH... with the reasons.

    PATH is an .eml file, a directory (walked), an mbox, a Maildir, any of these
    compressed with gzip, bzip2 or xz, or - for standard input.
    """
    sys.exit(_run_classify(paths, opts))


def _settings(opts: dict[str, Any], checker: DomainChecker) -> Settings:
    policy = Policy(
        dsn_kinds=opts["dsn_kinds"],
        null_mx_high_risk=opts["null_mx"] == "high-risk",
        dns_error_high_risk=opts["on_dns_error"] == "high-risk",
        scorer_error_high_risk=opts["on_scorer_error"] == "high-risk",
    )
    scorer_opts = registry.parse_options(opts["scorer_opt"])
    if opts["trust_header"]:
        scorer_opts["trust"] = ",".join(opts["trust_header"])
    spec = ScorerSpec(opts["scorer"], scorer_opts, opts["threshold"])
    scorer = spec.load()  # here too, so a bad option is one error line before any work
    envelope = opts["envelope_from"]
    if envelope is not None and envelope.strip() == "":
        envelope = "<>"
    job = Job(policy, envelope, opts["all_rules"], max_size=opts["max_message_size"],
              time_budget=opts["message_timeout"])
    return Settings(job, checker, scorer, jobs=opts["jobs"], scorer_spec=spec)


def _run_classify(paths: tuple[str, ...], opts: dict[str, Any]) -> int:
    report = Reporter(opts["quiet"])
    checker = make_checker(nameserver=opts["nameserver"], timeout=opts["dns_timeout"],
                           lifetime=opts["dns_lifetime"], zone_files=opts["dns_zone"])
    summary = Summary()
    incomplete = False
    progress = _progress(paths, report.console, opts["quiet"])
    with checker:
        settings = _settings(opts, checker)
        batch_gc()
        with _writer(opts) as writer, progress or nullcontext():
            for line in _lines(paths, opts, settings, report, progress, writer.renderer):
                if line.text is not None:
                    writer.write_text(line.text)
                else:
                    writer.write(line.row or {})
                summary.count(line.pool, line.reasons, line.error, line.dsn_kind)
                incomplete |= bool(line.error) or _soft_failure(line.reasons)
                for warning in line.warnings:
                    report.warning(warning, f"{line.source}#{line.index}: ")
                if progress:
                    progress.row_done()
        report.repeated()
        if not opts["quiet"]:
            summary.print(report.console, checker.stats.domains)
    if report.failed_paths:
        return ExitCode.ERROR
    if incomplete:
        return ExitCode.INCOMPLETE
    if opts["check"] and summary.pools["high-risk"]:
        return ExitCode.HIGH_RISK
    return ExitCode.OK


def _lines(paths: tuple[str, ...], opts: dict[str, Any], settings: Settings, report: Reporter,
           progress: ProgressView | None, renderer: Renderer | None) -> Iterator[Line]:
    """Rows in input order, from this machine or from a Dask cluster: rendered in the
    writer's streaming format, or as rows for a table (``renderer`` None)."""
    if opts["engine"] == "dask":
        if not opts["scheduler"]:
            raise click.UsageError("--engine dask needs --scheduler ADDR")
        from hrdp.dask_engine import DnsSpec, classify_dask  # only with the dask extra

        dns = DnsSpec.read(nameserver=opts["nameserver"], timeout=opts["dns_timeout"],
                           lifetime=opts["dns_lifetime"], zone_files=opts["dns_zone"])
        results = classify_dask(paths, job=settings.job, scorer_spec=settings.scorer_spec,
                                dns=dns, scheduler=opts["scheduler"], on_error=report.error,
                                on_warning=report.warning)
        return (line_of(result, renderer) for result in results)
    try:
        check_paths(paths)
    except InputError:  # standard input or a pipe: read here, message by message
        raws = iter_messages(paths, stdin=sys.stdin.buffer, on_error=report.error,
                             on_warning=report.warning)
        raws = progress.reading(raws) if progress else raws
        if renderer:
            return classify(raws, settings, renderer)
        return (line_of(result, None) for result in classify(raws, settings))
    # Files and folders: the workers read them, in units (hrdp.ranges).
    on_read = progress.read if progress else None
    if renderer:
        return classify_files(paths, settings, renderer, on_error=report.error,
                              on_warning=report.warning, on_read=on_read)
    results = classify_files(paths, settings, on_error=report.error, on_warning=report.warning,
                             on_read=on_read)
    return (line_of(result, None) for result in results)


def _progress(paths: tuple[str, ...], console: Console, quiet: bool) -> ProgressView | None:
    """A progress bar only for people: stderr a terminal, and not --quiet."""
    if quiet or not console.is_terminal:
        return None
    return ProgressView(console, input_size(paths))


def _soft_failure(reasons: list[str]) -> bool:
    return "dns-tempfail" in reasons or "scorer-error" in reasons


def _writer(opts: dict[str, Any]) -> AbstractContextManager[output.Writer]:
    """The row writer for the chosen format, writing to stdout or atomically to -o."""
    return output.opened(opts["output_path"], opts["fmt"], headers=not opts["no_headers"],
                         style=opts["style"], table=RichTableWriter, stdout=sys.stdout)


@cli.command("inspect")
@click.argument("path", metavar="FILE")
@click.option("--index", type=click.IntRange(min=0), default=0, show_default=True,
              help="Which message of an mbox or folder (0-based, as in classify's rows).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="A readable explanation, or the row as JSON.")
@check_options
def inspect_command(path: str, index: int, fmt: str, **opts: Any) -> None:
    """Explain the decision for one message: sender and DNS verdict, score and its
    rules, and for a DSN every recipient with status, reason and diagnostic."""
    report = Reporter(quiet=False)
    raw = next(islice(iter_messages([path], stdin=sys.stdin.buffer, on_error=report.error,
                                    on_warning=lambda _w: None), index, None), None)
    if raw is None:
        if report.failed_paths:
            sys.exit(ExitCode.ERROR)
        raise HrdpError(f"{path}: there is no message at index {index}")
    checker = make_checker(nameserver=opts["nameserver"], timeout=opts["dns_timeout"],
                           lifetime=opts["dns_lifetime"], zone_files=opts["dns_zone"])
    with checker:
        settings = _settings({**opts, "jobs": 1}, checker)
        [result] = classify([raw], settings)
    row = output.to_row(result)
    facts = message_facts(raw)
    if fmt == "json":
        click.echo(json.dumps({**row, **facts}, ensure_ascii=False, indent=2))
    else:
        print_inspection(Console(highlight=False), row, facts, result.warnings)
    sys.exit(ExitCode.INCOMPLETE if row["error"] or _soft_failure(row["reasons"]) else 0)


@cli.command("train")
@click.option("--ham", multiple=True, metavar="PATH", help="Good mail (repeatable).")
@click.option("--spam", multiple=True, metavar="PATH", help="Spam (repeatable).")
@click.option("--model", required=True, metavar="FILE",
              help="The bayes model: created, or added to when it exists.")
def train_command(ham: tuple[str, ...], spam: tuple[str, ...], model: str) -> None:
    """Train the bayes scorer's model from ham and spam (anything classify reads).

    Use it as: hrdp classify --scorer bayes --scorer-opt model=FILE ...
    """
    if not ham and not spam:
        raise click.UsageError("give --ham PATH or --spam PATH (or both)")
    from hrdp.training import train  # the bayes code loads only for this command

    report = Reporter(quiet=False)
    stats = train(ham, spam, model, on_error=report.warning, on_warning=report.warning)
    report.repeated()
    report.console.print(
        f"learnt {stats.ham:,} ham and {stats.spam:,} spam ({stats.skipped:,} skipped); "
        f"{model} now holds {stats.model_ham:,} ham, {stats.model_spam:,} spam, "
        f"{stats.model_tokens:,} tokens")
    sys.exit(ExitCode.INCOMPLETE if stats.skipped else ExitCode.OK)


@cli.command("scorers")
def scorers_command() -> None:
    """List the installed spam scorers (entry points hrdp.scorers.v1)."""
    found = registry.available(on_warning=lambda w: click.echo(f"hrdp: warning: {w}", err=True))
    for name in sorted(found):
        click.echo(f"{name}\t{found[name]}")


@cli.command("config")
@click.pass_context
def config_command(ctx: click.Context) -> None:
    """Print the effective settings (defaults, config file, environment)."""
    group = ctx.parent
    assert group is not None
    path = group.meta.get("hrdp.config")
    click.echo(f"# config file: {path or 'none'}")
    for name in ("classify",):
        command = cli.commands[name]
        sub = command.make_context(name, [], parent=group, resilient_parsing=True)
        click.echo(f"[{name}]")
        for param in command.params:
            if not isinstance(param, click.Option) or param.name is None:
                continue
            value = sub.params.get(param.name)
            source = sub.get_parameter_source(param.name)
            origin = _ORIGINS.get(source.name if source else "", "default")
            key = next((o[2:] for o in param.opts if o.startswith("--")), param.name)
            if value is None:
                click.echo(f"# {key} is unset  # {origin}")
            else:
                click.echo(f"{key} = {config.to_toml(value)}  # {origin}")


_ORIGINS = {
    "DEFAULT_MAP": "config file", "ENVIRONMENT": "environment", "COMMANDLINE": "command line",
}


def main() -> None:
    """Console entry point (``hrdp`` and ``python -m hrdp``)."""
    cli.main(prog_name="hrdp")
