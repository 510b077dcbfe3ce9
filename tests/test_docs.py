"""Docs cannot drift: usage.md is --help, rules.md names functions that exist."""

from __future__ import annotations

import importlib
import re

from tests.conftest import REPO
from tests.gen_usage import render


def test_usage_md_matches_help() -> None:
    committed = (REPO / "docs" / "usage.md").read_text(encoding="utf-8")
    assert committed == render(), "docs/usage.md is stale: run `make docs`"


def test_rules_md_points_at_real_code() -> None:
    """Every `module.function` that docs/rules.md cites must exist."""
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    refs = set(re.findall(r"`(hrdp(?:\.\w+)+):(\w+)`", text))
    assert len(refs) >= 6
    for module, name in sorted(refs):
        assert hasattr(importlib.import_module(module), name), f"{module}:{name}"
