"""The progress bar: shown only to people, counts messages and bytes, never on stdout."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

from hrdp import progress as progress_module
from hrdp.progress import ProgressView, input_size
from hrdp.sources import RawMessage
from tests.conftest import REPO


def test_input_size_counts_files_and_folders(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(b"x" * 10)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.eml").write_bytes(b"y" * 5)
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.eml").write_bytes(b"z" * 100)
    assert input_size([str(tmp_path)]) == 15
    assert input_size([str(tmp_path / "a.eml"), "-"]) is None
    assert input_size([str(REPO / "sample_mail" / "clean.eml")]) == 312


def test_progress_appears_after_a_moment_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    raws = [RawMessage("m", i, b"x" * 100) for i in range(128)]
    with ProgressView(console, total=12_800) as view:
        for _raw in view.reading(raws):
            view.row_done()
        assert view.bytes == 12_800 and view.messages == 128
        view.progress.refresh()
    assert "128 messages" in screen.getvalue()


def test_quick_runs_show_nothing() -> None:
    screen = io.StringIO()
    with ProgressView(Console(file=screen, force_terminal=True), total=None) as view:
        for _raw in view.reading([RawMessage("m", 0, b"x")]):
            view.row_done()
    assert screen.getvalue() == ""
