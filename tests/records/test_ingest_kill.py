"""A feed killed with SIGKILL mid-way leaves no trace, and a rerun ends the same."""

from __future__ import annotations

import csv
import io
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from feed_samples import SOURCE
from sqlalchemy import text

import john
from john.db import make_engine, make_session_factory
from john.records.mappings import fields_for
from john.records.service import ingest_feed
from john.records.synthetic import synthetic_rows

ROWS = 40_000
TABLES = ("feeds", "person_records", "achievements", "quarantined_rows")


def write_feed(path: Path) -> None:
    """Write a synthetic feed in which one row in 997 has an invalid ULN."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(fields_for("achievements")))
        writer.writeheader()
        for index, row in enumerate(synthetic_rows(ROWS, seed=7)):
            if index % 997 == 0:
                row["uln"] = "1234567890"
            writer.writerow(row)


def john_command(path: Path, database_url: str) -> tuple[list[str], dict[str, str]]:
    source_root = str(Path(john.__file__).resolve().parents[1])
    environment = {
        **os.environ,
        "JOHN_DATABASE_URL": database_url,
        "JOHN_LOG_LEVEL": "DEBUG",
        "PYTHONPATH": source_root,
    }
    command = [
        sys.executable,
        "-c",
        "from john.cli import main; main()",
        "ingest",
        str(path),
        "--source",
        SOURCE,
        "--type",
        "achievements",
    ]
    return command, environment


def snapshot(database_url: str) -> dict[str, list[tuple]]:
    """Return the stored rows without ids, feed ids and arrival times."""
    engine = make_engine(database_url)
    queries = {
        "feeds": "SELECT source_ukprn, feed_type, content_sha256, rows_read, "
        "rows_accepted, rows_quarantined, rows_duplicate FROM feeds",
        "person_records": "SELECT source_ukprn, source_person_ref, given_name, "
        "family_name, date_of_birth, postcode, email, uln, ni_number, row_number "
        "FROM person_records",
        "achievements": "SELECT p.source_person_ref, a.kind, a.qualification_number, "
        "a.title, a.grade, a.awarded_on, a.row_number, a.row_key FROM achievements a "
        "JOIN person_records p ON p.id = a.person_record_id",
        "quarantined_rows": "SELECT row_number, field, reason, raw "
        "FROM quarantined_rows",
    }
    try:
        with engine.connect() as connection:
            return {
                name: sorted(
                    tuple(map(str, row)) for row in connection.execute(text(sql))
                )
                for name, sql in queries.items()
            }
    finally:
        engine.dispose()


def count_all(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return {
                table: connection.execute(
                    text(f"SELECT count(*) FROM {table}")
                ).scalar_one()
                for table in TABLES
            }
    finally:
        engine.dispose()


@pytest.mark.slow
def test_killed_ingest_leaves_no_trace(
    tmp_path: Path, database_url: str, other_database_url: str
) -> None:
    feed = tmp_path / "feed.csv"
    write_feed(feed)
    command, environment = john_command(feed, database_url)

    process = subprocess.Popen(
        command, env=environment, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert process.stderr is not None
    chunks_seen = 0
    for line in io.TextIOWrapper(process.stderr, encoding="utf-8"):
        if "rows read" in line:
            chunks_seen += 1
        if chunks_seen == 2:
            break
    still_running = process.poll() is None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()

    assert chunks_seen == 2
    assert still_running
    assert process.returncode == -signal.SIGKILL
    assert count_all(database_url) == dict.fromkeys(TABLES, 0)

    rerun = subprocess.run(command, env=environment, capture_output=True, timeout=900)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]

    engine = make_engine(other_database_url)
    try:
        with feed.open("rb") as stream:
            report = ingest_feed(
                make_session_factory(engine), SOURCE, "achievements", stream
            )
    finally:
        engine.dispose()
    assert report.rows_read == ROWS
    assert report.rows_quarantined == len(range(0, ROWS, 997))

    after_rerun = snapshot(database_url)
    uninterrupted = snapshot(other_database_url)
    for table in TABLES:
        assert after_rerun[table] == uninterrupted[table], table
