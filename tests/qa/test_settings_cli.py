"""Invalid settings and ports: a named error, exit code 3 or 2, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_john


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("JOHN_PORT", "abc", "invalid setting JOHN_PORT='abc': Input should be"),
        ("JOHN_PORT", "99999", "JOHN_PORT='99999': Input should be less than"),
        ("JOHN_SLOW_REQUEST_MS", "soon", "JOHN_SLOW_REQUEST_MS='soon'"),
    ],
)
def test_bad_setting_named(
    tmp_path: Path, variable: str, value: str, message: str
) -> None:
    result = run_john(
        {"JOHN_DATA_DIR": str(tmp_path), variable: value}, "feeds", "list"
    )
    assert result.returncode == 3
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_port_out_of_range(tmp_path: Path, command: str) -> None:
    result = run_john({"JOHN_DATA_DIR": str(tmp_path)}, command, "--port", "99999")
    assert result.returncode == 2
    assert "Invalid value for '--port'" in result.stderr
    assert "Traceback" not in result.stderr
