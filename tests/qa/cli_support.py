"""Run the ``john`` command in a child process, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import john


def run_john(environment: dict[str, str], *arguments: str):
    """Run ``john ARGUMENTS`` with ``environment`` added and capture its output."""
    return subprocess.run(
        [sys.executable, "-c", "from john.cli import main; main()", *arguments],
        env={
            **os.environ,
            "PYTHONPATH": str(Path(john.__file__).resolve().parents[1]),
            "COLUMNS": "200",
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=300,
    )


def ingest_arguments(feed: Path, source: str) -> list[str]:
    """Return the ``john ingest`` arguments for an achievements feed from ``source``."""
    return ["ingest", str(feed), "--source", source, "--type", "achievements"]
