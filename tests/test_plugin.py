"""A third-party scorer plugin, installed as users install one: tests/plugin_example is
built offline with pip + hatchling, and hrdp is run in a subprocess that sees it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

SAMPLES = REPO / "sample_mail"
EXAMPLE = REPO / "tests" / "plugin_example"


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the built example plugin (hrdp_example_scorer + its dist-info)."""
    work = tmp_path_factory.mktemp("plugin")
    source = work / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("__pycache__"))
    target = work / "site"
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
         "--target", str(target), str(source)],
        check=True, env=env, capture_output=True, timeout=240,
    )
    assert list(target.glob("hrdp_example_scorer-1.0.0.dist-info"))
    return target


def hrdp(plugin_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(plugin_path), "HRDP_LOAD_PLUGINS": "1"}
    return subprocess.run([sys.executable, "-m", "hrdp", *args], env=env, text=True,
                          capture_output=True, timeout=120, cwd=REPO)


def test_plugin_is_listed(plugin_path: Path) -> None:
    result = hrdp(plugin_path, "scorers")
    assert result.returncode == 0, result.stderr
    listing = dict(line.split("\t", 1) for line in result.stdout.splitlines())
    assert listing["example"] == "Counts words in capitals in the Subject (an example plugin)."
    assert {"auto", "bayes", "headers", "rules"} <= set(listing)


def classify(plugin_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return hrdp(plugin_path, "classify", "--scorer", "example", "--format", "jsonl",
                "--dns-zone", str(SAMPLES / "zone.db"), *args)


def test_plugin_scores_rows(plugin_path: Path, tmp_path: Path) -> None:
    result = classify(plugin_path, str(SAMPLES / "clean.eml"))
    assert result.returncode == 0, result.stderr
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert row["pool"] == "normal"
    assert {k: row["score"][k] for k in ("scorer", "value", "threshold", "spam")} == {
        "scorer": "example", "value": 0.0, "threshold": 2.0, "spam": False}
    shouting = tmp_path / "shout.eml"
    text = (SAMPLES / "clean.eml").read_text().replace(
        "Subject: Your order 4711 has shipped", "Subject: FREE GIFT for YOU")
    shouting.write_text(text)
    result = classify(plugin_path, str(shouting), "--scorer-opt", "min_letters=4")
    [row] = [json.loads(line) for line in result.stdout.splitlines()]
    assert (row["score"]["value"], row["score"]["spam"]) == (2.0, True)  # FREE, GIFT
    assert row["pool"] == "high-risk" and "spam" in row["reasons"]


def test_plugin_option_errors_reach_the_user(plugin_path: Path) -> None:
    result = classify(plugin_path, "--scorer-opt", "min_letters=many", str(SAMPLES / "clean.eml"))
    assert result.returncode != 0 and result.stdout == ""
    assert "example scorer: min_letters='many' is not a positive number" in result.stderr
