"""``john feeds``: ids usable on a narrow terminal, bad pages named."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cli_support import run_john

from john.records.service import ingest_feed

FEED = (
    b"source_person_ref,given_name,family_name,date_of_birth,kind,title\n"
    b"QA1,Zelphine,Quorrabar,not-a-date,award,Certificate in Things\n"
)
HUGE = "99999999999999999999"


@pytest.fixture
def feed_id(session_factory) -> str:
    report = ingest_feed(session_factory, "10000001", "achievements", io.BytesIO(FEED))
    return report.feed_id


def test_list_shows_whole_id(database_url: str, tmp_path: Path, feed_id) -> None:
    result = run_john(
        {
            "JOHN_DATABASE_URL": database_url,
            "JOHN_DATA_DIR": str(tmp_path),
            "COLUMNS": "80",
        },
        "feeds",
        "list",
    )
    assert result.returncode == 0
    assert feed_id in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["list", "--limit", "-1"], "limit -1 is out of range; use 1 to 500"),
        (["list", "--limit", HUGE], f"limit {HUGE} is out of range"),
        (["quarantine", "{feed}", "--limit", "0"], "limit 0 is out of range"),
        (["quarantine", "{feed}", "--offset", "-1"], "offset -1 is out of range"),
        (["quarantine", "{feed}", "--offset", HUGE], f"offset {HUGE} is out of"),
    ],
)
def test_bad_page_named(
    database_url: str, tmp_path: Path, feed_id, arguments, message: str
) -> None:
    filled = [argument.format(feed=feed_id) for argument in arguments]
    result = run_john(
        {"JOHN_DATABASE_URL": database_url, "JOHN_DATA_DIR": str(tmp_path)},
        "feeds",
        *filled,
    )
    assert result.returncode == 4
    assert message in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr
