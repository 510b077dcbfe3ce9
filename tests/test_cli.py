"""The CLI as users run it: exit codes, stdout (data) and stderr (people-talk) apart."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from hrdp.cli import cli
from tests.conftest import REPO

SAMPLES = REPO / "sample_mail"
ZONE = str(SAMPLES / "zone.db")


def run(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=stdin, env=env)


def classify(*args: str, stdin: bytes | None = None) -> Result:
    return run("classify", "--dns-zone", ZONE, *args, stdin=stdin)


def jsonl(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_tsv_when_piped_and_summary_on_stderr() -> None:
    result = classify(str(SAMPLES / "clean.eml"))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("source\tindex\tpool\treasons")
    assert lines[1].split("\t")[:4] == [str(SAMPLES / "clean.eml"), "0", "normal", ""]
    assert "1 message" in result.stderr
    assert "1 message" not in result.stdout


def test_jsonl_row_contract() -> None:
    result = classify("--format", "jsonl", str(SAMPLES / "dsn-rfc3464.eml"))
    [row] = jsonl(result)
    assert row["pool"] == "high-risk" and row["reasons"] == ["dsn"]
    assert row["dns"] == "skipped" and row["score"] is None  # cheap rule first
    assert row["dsn"]["kind"] == "failed"  # type: ignore[index]
    assert row["dsn"]["recipients"] == ["nobody@customer.test"]  # type: ignore[index]
    assert row["sender_source"] == "envelope" and row["sender"] == ""


def test_all_rules_checks_dns_and_score_for_a_dsn() -> None:
    [row] = jsonl(classify("--format", "jsonl", "--all-rules", str(SAMPLES / "dsn-exim.eml")))
    assert row["reasons"] == ["dsn"]
    assert row["dns"] == "skipped"  # null sender: nothing to ask, as Postfix


@pytest.mark.parametrize(
    ("name", "code"),
    [("clean.eml", 0), ("spam-spamassassin.eml", 4), ("no-a-mx.eml", 4), ("malformed.eml", 3),
     ("tempfail.eml", 3)],
)
def test_check_exit_codes(name: str, code: int) -> None:
    result = classify("--check", "-q", str(SAMPLES / name))
    assert result.exit_code == code
    assert result.stderr == ""  # -q: no summary


def test_dns_tempfail_is_not_absence() -> None:
    [row] = jsonl(classify("--format", "jsonl", str(SAMPLES / "tempfail.eml")))
    assert (row["pool"], row["reasons"], row["dns"]) == ("normal", ["dns-tempfail"], "tempfail")
    result = classify("--format", "jsonl", "--on-dns-error", "high-risk",
                      str(SAMPLES / "tempfail.eml"))
    assert jsonl(result)[0]["pool"] == "high-risk"
    assert result.exit_code == 3


def test_missing_path_is_one_line_and_the_rest_goes_on() -> None:
    result = classify("/no/such/file.eml", str(SAMPLES / "clean.eml"))
    assert result.exit_code == 1
    assert result.stderr.count("hrdp: error:") == 1
    assert "/no/such/file.eml" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stdout.splitlines()) == 2  # header + the readable message


def test_stdin_with_envelope_from() -> None:
    data = (SAMPLES / "envelope-sender.eml").read_bytes()
    [row] = jsonl(classify("--format", "jsonl", "--envelope-from", "x@ghost.test", "-", stdin=data))
    assert row["source"] == "-"
    assert (row["sender_domain"], row["dns"], row["pool"]) == ("ghost.test", "no-a-mx", "high-risk")
    [null] = jsonl(classify("--format", "jsonl", "--envelope-from", "", "-", stdin=data))
    assert (null["sender"], null["dns"]) == ("", "skipped")


def test_output_file_is_atomic_and_takes_format_from_extension(tmp_path: Path) -> None:
    target = tmp_path / "rows.csv"
    result = classify("-o", str(target), str(SAMPLES / "archive.mbox"))
    assert result.exit_code == 0 and result.stdout == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [r["index"] for r in rows] == ["0", "1", "2"]
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]


def test_tabulate_style_and_no_headers() -> None:
    result = classify("--fmt", "github", str(SAMPLES / "clean.eml"))
    assert result.stdout.startswith("| source")
    bare = classify("--no-headers", str(SAMPLES / "clean.eml"))
    assert len(bare.stdout.splitlines()) == 1


def test_json_array() -> None:
    rows = json.loads(classify("--format", "json", str(SAMPLES / "archive.mbox")).stdout)
    assert [r["pool"] for r in rows] == ["normal", "high-risk", "high-risk"]


def test_bad_scorer_and_bad_options() -> None:
    result = classify("--scorer", "nope", str(SAMPLES / "clean.eml"))
    assert result.exit_code == 1
    assert result.stderr.startswith("hrdp: error:") and "nope" in result.stderr
    assert classify("--dsn-kinds", "failed,bogus", str(SAMPLES / "clean.eml")).exit_code == 2
    assert classify("--scorer-opt", "novalue", str(SAMPLES / "clean.eml")).exit_code == 1


def test_trust_header_restricts_vendors() -> None:
    path = str(SAMPLES / "spam-rspamd.eml")
    assert jsonl(classify("--format", "jsonl", path))[0]["reasons"] == ["spam"]
    row = jsonl(classify("--format", "jsonl", "--scorer", "headers", "--trust-header",
                         "spamassassin", path))[0]
    assert (row["reasons"], row["score"]) == ([], None)
    # auto, the default: no trusted verdict left, so the built-in rules decide
    row = jsonl(classify("--format", "jsonl", "--trust-header", "spamassassin", path))[0]
    assert row["score"]["detail"][0] == "auto: rules"  # type: ignore[index]


def test_threshold_override() -> None:
    path = str(SAMPLES / "spam-spamassassin.eml")  # score=12.3 required=5.0
    assert jsonl(classify("--format", "jsonl", "--threshold", "20", path))[0]["pool"] == "normal"


def test_config_file_and_flags_override(tmp_path: Path) -> None:
    conf = tmp_path / "hrdp.toml"
    conf.write_text(f'dns-zone = ["{ZONE}"]\n[classify]\nthreshold = 20.0\nformat = "jsonl"\n')
    path = str(SAMPLES / "spam-spamassassin.eml")
    row = jsonl(run("--config", str(conf), "classify", path))[0]
    assert row["pool"] == "normal"  # threshold 20 from the file
    row = jsonl(run("--config", str(conf), "classify", "--threshold", "5", path))[0]
    assert row["pool"] == "high-risk"  # the flag wins
    shown = run("--config", str(conf), "config")
    assert shown.exit_code == 0
    assert "threshold = 20.0  # config file" in shown.stdout
    assert "# envelope-from is unset  # default" in shown.stdout
    assert "dns-timeout = 2.0  # default" in shown.stdout


def test_bad_config_is_one_line(tmp_path: Path) -> None:
    conf = tmp_path / "hrdp.toml"
    conf.write_text("[classify]\nthresold = 3\n")
    result = run("--config", str(conf), "classify", str(SAMPLES / "clean.eml"))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"hrdp: error: {conf}: unknown setting 'thresold' in [classify]"
    conf.write_text("not toml [")
    assert "not valid TOML" in run("--config", str(conf), "config").stderr


def test_environment_variable_setting() -> None:
    result = run("classify", "--dns-zone", ZONE, "--format", "jsonl",
                 str(SAMPLES / "spam-spamassassin.eml"), env={"HRDP_CLASSIFY_THRESHOLD": "50"})
    assert jsonl(result)[0]["pool"] == "normal"


def test_scorers_lists_builtin() -> None:
    result = run("scorers")
    assert result.exit_code == 0
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert {"auto", "bayes", "headers", "rules"} <= set(names)
    assert names == sorted(names)


def _digest(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_inputs_never_modified() -> None:
    before = _digest(SAMPLES)
    classify(str(SAMPLES))
    assert _digest(SAMPLES) == before


def test_nameserver_against_real_dns(unbound_server: tuple[str, int], tmp_path: Path) -> None:
    host, port = unbound_server
    mbox = tmp_path / "out.mbox"
    mbox.write_bytes(b"".join(
        f"From x@{d} Fri Dec  4 08:00:00 2026\nFrom: x@{d}\nSubject: t\n\nbody\n\n".encode()
        for d in ("mx.hrdp.test", "missing.hrdp.test", "null-mx.hrdp.test", "silent.test")))
    result = run("classify", "--format", "jsonl", "--nameserver", f"{host}:{port}",
                 "--dns-timeout", "0.3", "--dns-lifetime", "0.6", str(mbox))
    assert [r["dns"] for r in jsonl(result)] == ["ok", "no-a-mx", "null-mx", "tempfail"]
    assert result.exit_code == 3


def test_python_dash_m_entry_point() -> None:
    done = subprocess.run([sys.executable, "-m", "hrdp", "--version"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0 and done.stdout.startswith("hrdp, version")


def test_inspect_explains_a_dsn() -> None:
    result = run("inspect", "--dns-zone", ZONE, str(SAMPLES / "dsn-rfc3464.eml"))
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "high-risk" in text and "(dsn)" in text
    assert "nobody@customer.test" in text and "5.1.1" in text and "userunknown" in text
    assert "<invoice-2026-118@acme.test>" in text  # the bounced message's id


def test_inspect_json_and_index() -> None:
    result = run("inspect", "--dns-zone", ZONE, "--format", "json", "--index", "2",
                 str(SAMPLES / "archive.mbox"))
    row = json.loads(result.stdout)
    assert (row["index"], row["pool"], row["dns"], row["subject"]) == (
        2, "high-risk", "no-a-mx", "Limited offer")
    text = run("inspect", "--dns-zone", ZONE, str(SAMPLES / "spam-spamassassin.eml")).stdout
    assert "12.3" in text and "spamassassin" in text


def test_inspect_out_of_range_and_missing() -> None:
    result = run("inspect", str(SAMPLES / "archive.mbox"), "--index", "9")
    assert result.exit_code == 1 and "no message at index 9" in result.stderr
    assert run("inspect", "/no/such.eml").exit_code == 1
