"""The ``john ingest`` and ``john feeds`` commands, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from feed_samples import SOURCE, achievement_row, csv_bytes

import john

SECRET_NAME = "Quenbyworth"


def run_john(database_url: str, tmp_path: Path, *arguments: str):
    environment = {
        **os.environ,
        "JOHN_DATABASE_URL": database_url,
        "JOHN_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(Path(john.__file__).resolve().parents[1]),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-c", "from john.cli import main; main()", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def feed_file(tmp_path: Path) -> Path:
    path = tmp_path / "feed.csv"
    path.write_bytes(
        csv_bytes(
            [
                achievement_row(source_person_ref="L1", family_name=SECRET_NAME),
                achievement_row(
                    source_person_ref="L2", family_name=SECRET_NAME, uln="1"
                ),
                achievement_row(source_person_ref="L3", awarded_on="2999-01-01"),
            ],
            delimiter=";",
        )
    )
    return path


def test_ingest_prints_summary(database_url: str, tmp_path: Path, feed_file) -> None:
    done = run_john(
        database_url, tmp_path, "ingest", str(feed_file), "--source", SOURCE,
        "--type", "achievements",
    )  # fmt: skip
    lines = [" ".join(line.split()) for line in done.stdout.splitlines()]
    assert done.returncode == 0, done.stderr
    assert "rows read 3" in lines
    assert "accepted 1" in lines
    assert "quarantined 2" in lines
    assert "duplicates 0" in lines
    assert any("delimiter semicolon" in line for line in lines)
    assert any("uln" in line and "Invalid ULN" in line for line in lines)
    assert any("awarded_on" in line and "is in the future" in line for line in lines)
    assert SECRET_NAME not in done.stdout
    assert SECRET_NAME not in done.stderr


def test_ingest_feed_error_exit_code(database_url: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    done = run_john(
        database_url, tmp_path, "ingest", str(empty), "--source", SOURCE,
        "--type", "achievements",
    )  # fmt: skip
    assert done.returncode == 4
    assert "feed file is empty" in done.stderr


def test_ingest_with_mapping_file(database_url: str, tmp_path: Path) -> None:
    feed = tmp_path / "college.csv"
    feed.write_bytes(b"Ref,Type,Name,Room\nL1,award,Award in First Aid,B12\n")
    mapping = tmp_path / "college.toml"
    mapping.write_text(
        '[columns]\nRef = "source_person_ref"\nType = "kind"\nName = "title"\n',
        encoding="utf-8",
    )
    done = run_john(
        database_url, tmp_path, "ingest", str(feed), "--source", SOURCE,
        "--type", "achievements", "--mapping", str(mapping),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "columns ignored: Room" in done.stdout
    assert "mapping college" in done.stdout


def test_feeds_commands_list_show_quarantine(
    database_url: str, tmp_path: Path, feed_file
) -> None:
    run_john(
        database_url, tmp_path, "ingest", str(feed_file), "--source", SOURCE,
        "--type", "achievements",
    )  # fmt: skip
    listed = run_john(database_url, tmp_path, "feeds", "list")
    feed_id = next(word for word in listed.stdout.split() if word.startswith("F-"))
    shown = run_john(database_url, tmp_path, "feeds", "show", feed_id)
    quarantine = run_john(database_url, tmp_path, "feeds", "quarantine", feed_id)
    with_raw = run_john(database_url, tmp_path, "feeds", "quarantine", feed_id, "--raw")
    missing = run_john(database_url, tmp_path, "feeds", "show", "F-none")

    assert listed.returncode == 0, listed.stderr
    assert "1 feeds" in listed.stdout
    assert f"feed {feed_id} stored" in shown.stdout
    assert "3 problems" in quarantine.stdout
    assert SECRET_NAME not in quarantine.stdout
    assert SECRET_NAME in with_raw.stdout
    assert missing.returncode == 5
