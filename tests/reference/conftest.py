"""Fixtures for the register tests: the shipped samples and small CSV writers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from john.reference.service import write_samples


@pytest.fixture
def samples_dir(tmp_path: Path) -> Path:
    """Return a reference folder holding the shipped sample files."""
    folder = tmp_path / "samples"
    write_samples(folder)
    return folder


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """Return a function that writes a CSV file from a header and rows."""

    def write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding=encoding)
        return path

    return write
