"""Generate docs/usage.md from the commands' --help (run: make docs).

tests/test_docs.py regenerates it and fails when the committed file differs, so the
usage page can never drift from the code.
"""

from __future__ import annotations

from click.testing import CliRunner

from hrdp.cli import cli

COMMANDS = ([], ["classify"], ["inspect"], ["train"], ["scorers"], ["config"])

PREAMBLE = """# hrdp usage

Generated from `--help` by `make docs`; do not edit by hand (a test compares them).
See [output.md](output.md) for the row contract and exit codes,
[rules.md](rules.md) for the rules and [configuration.md](configuration.md) for `hrdp.toml`.
"""


def render() -> str:
    runner = CliRunner()
    parts = [PREAMBLE]
    for args in COMMANDS:
        result = runner.invoke(cli, [*args, "--help"], prog_name="hrdp", terminal_width=100,
                               env={"COLUMNS": "100"})
        if result.exit_code != 0:
            raise SystemExit(f"hrdp {' '.join(args)} --help failed: {result.output}")
        title = " ".join(["hrdp", *args])
        parts.append(f"\n## `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
