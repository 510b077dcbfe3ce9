"""Shared fixtures. The real-corpus tests find ../shared/corpus through HRDP_CORPUS."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def corpus_dir() -> Path | None:
    value = os.environ.get("HRDP_CORPUS")
    if not value:
        return None
    path = Path(value)
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_dir()
    if path is None:
        pytest.skip("HRDP_CORPUS is not set (real mail corpora are not in the repository)")
    return path
