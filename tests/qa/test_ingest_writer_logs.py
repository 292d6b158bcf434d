"""Log lines of the writer child of a large feed reach the command's log."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import ingest_arguments, run_john

from john.records.pipeline import PROCESS_THRESHOLD_BYTES
from john.records.synthetic import write_synthetic_csv

SOURCE = "10012345"
# About 215 bytes a row: past PROCESS_THRESHOLD_BYTES, and past the 20,000 rows
# from which SqliteWriter drops secondary indexes on a first load.
ROWS = 60_000


def test_writer_child_index_log(
    tmp_path: Path, database_url: str, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("only the SQLite writer drops and rebuilds indexes")
    feed = tmp_path / "feed.csv"
    with feed.open("w", newline="", encoding="utf-8") as out:
        write_synthetic_csv(out, ROWS, max_records_per_person=5)
    assert feed.stat().st_size >= PROCESS_THRESHOLD_BYTES

    result = run_john(
        {"JOHN_DATABASE_URL": database_url, "JOHN_LOG_LEVEL": "INFO"},
        *ingest_arguments(feed, SOURCE),
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert "60000 accepted" in result.stderr
    # SqliteWriter.expect_rows logs this at INFO in the writer child.
    assert "indexes dropped for a load of about" in result.stderr
