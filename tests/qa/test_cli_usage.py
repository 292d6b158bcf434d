"""Usage mistakes on the command line: a one-line error and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import run_john

MISTAKES = [
    (["users", "add"], "Missing argument 'username'"),
    (["nosuch"], "No such command 'nosuch'"),
    (["review", "list", "--limit", "-1"], "Invalid value for '--limit'"),
    (["ingest", "feed.csv", "--bogus"], "No such option: --bogus"),
]


@pytest.mark.parametrize(("arguments", "message"), MISTAKES)
def test_usage_mistake_reported(tmp_path: Path, arguments, message: str) -> None:
    result = run_john({"JOHN_DATA_DIR": str(tmp_path / "data")}, *arguments)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
