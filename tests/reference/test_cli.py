"""The ``john reference`` commands, run on the test's store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from john.cli import app, context
from john.config import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path
) -> Iterator[None]:
    """Point the command's settings at the test's store."""
    monkeypatch.setenv("JOHN_DATABASE_URL", database_url)
    monkeypatch.setenv("JOHN_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    context.engine.cache_clear()
    yield
    if context.engine.cache_info().currsize:
        context.engine().dispose()
    context.engine.cache_clear()
    get_settings.cache_clear()


def _table_rows(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in re.split(r"[│┃]", line) if cell.strip()]
        if cells and cells[-1].isdigit():
            rows[cells[0]] = cells[1:]
    return rows


def test_load_prints_counts(cli_env: None, tmp_path: Path) -> None:
    samples = tmp_path / "samples"
    written = runner.invoke(app, ["reference", "samples", str(samples)])
    assert written.exit_code == 0, written.output

    result = runner.invoke(app, ["reference", "load", "--dir", str(samples)])
    assert result.exit_code == 0, result.output
    rows = _table_rows(result.output)
    assert rows["providers"] == ["loaded", "4", "3", "0", "1"]
    assert rows["postcodes"] == ["loaded", "6", "6", "0", "0"]
    assert rows["total"] == ["25", "23", "0", "2"]


def test_load_counts_add_up(cli_env: None, shared_data: Path) -> None:
    result = runner.invoke(app, ["reference", "load", "--dir", str(shared_data)])
    assert result.exit_code == 0, result.output
    rows = _table_rows(result.output)
    assert rows["providers"] == ["loaded", "590", "311", "0", "279"]
    assert rows["schools"] == ["skipped", "0", "0", "0", "0"]
    for name, cells in rows.items():
        read, loaded, rejected, skipped = (int(cell) for cell in cells[-4:])
        assert read == loaded + rejected + skipped, name
    assert "file absent; download" in result.output


def test_load_single_file(cli_env: None, tmp_path: Path, samples_dir: Path) -> None:
    path = samples_dir / "ofqual_register" / "sample.csv"
    result = runner.invoke(
        app, ["reference", "load", "--register", "qualifications", "--file", str(path)]
    )
    assert result.exit_code == 0, result.output
    assert _table_rows(result.output)["qualifications"] == [
        "loaded",
        "4",
        "4",
        "0",
        "0",
    ]


def test_register_without_file_rejected(cli_env: None) -> None:
    result = runner.invoke(app, ["reference", "load", "--register", "schools"])
    assert result.exit_code != 0
    assert "--register and --file go together" in str(result.exception)


def test_settings_reference_dir_from_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("JOHN_REFERENCE_DIR", str(tmp_path))
    assert Settings().require_reference_dir() == tmp_path


def test_settings_without_reference_dir_raises() -> None:
    from john.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="set JOHN_REFERENCE_DIR"):
        Settings(reference_dir=None).require_reference_dir()


def test_settings_default_reference_dir(shared_data: Path) -> None:
    from john.config import default_reference_dir

    assert default_reference_dir().resolve() == shared_data.resolve()
