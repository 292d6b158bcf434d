"""The main job end to end: registers, two providers' feeds, linkage, summary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from john.identity.models import Learner, PersonRecord
from john.records.joined import get_learner_record
from john.records.models import Achievement, Feed

pytestmark = pytest.mark.slow

SRC = Path(__file__).resolve().parents[2] / "src"
OPEN_UNIVERSITY = "10007773"
CRANFIELD = "10007822"


def _run_demo(database_url: str, data_dir: Path, reference_dir: Path) -> str:
    env = {
        **os.environ,
        "JOHN_DATABASE_URL": database_url,
        "JOHN_DATA_DIR": str(data_dir),
        "JOHN_REFERENCE_DIR": str(reference_dir),
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from john.cli import main; main()",
            "demo",
            "--no-serve",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _feed_counts(output: str) -> list[tuple[int, int, int, int]]:
    pattern = r"read (\d+) = accepted (\d+) \+ quarantined (\d+) \+ duplicate (\d+)"
    return [tuple(int(n) for n in found) for found in re.findall(pattern, output)]


def _store_counts(session) -> dict[str, int]:
    return {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in (Feed, PersonRecord, Learner, Achievement)
    }


def test_demo_links_both_providers(
    database_url, session_factory, tmp_path, shared_data
) -> None:
    output = _run_demo(database_url, tmp_path / "data", shared_data)

    feeds = _feed_counts(output)
    assert len(feeds) == 3
    for read, accepted, quarantined, duplicate in feeds:
        assert read == accepted + quarantined + duplicate
        assert accepted > 0

    learners = re.search(
        r"learners: (\d+) = (\d+) with records from both providers \+ (\d+) from one",
        output,
    )
    assert learners is not None
    total, both, one = (int(n) for n in learners.groups())
    assert total == both + one
    assert both > 0

    with session_factory() as session:
        linked = session.scalar(
            select(func.count())
            .select_from(PersonRecord)
            .where(PersonRecord.learner_id.is_not(None))
        )
        stored = session.scalar(select(func.count()).select_from(PersonRecord))
    assert f"person records: {stored} ({linked} linked to learners)" in output

    found = re.search(r"http://127\.0\.0\.1:\d+/learners/(\S+)", output)
    assert found is not None
    with session_factory() as session:
        record = get_learner_record(session, found.group(1))
    sources = {row.provenance.source_ukprn for row in record.achievements}
    assert {OPEN_UNIVERSITY, CRANFIELD} <= sources
    names = {row.provenance.source_name for row in record.achievements}
    assert {"The Open University", "Cranfield University"} <= names

    password_file = tmp_path / "data" / "demo" / "demo-password.txt"
    assert f"as demo (a curator) with the password in {password_file}" in output
    assert password_file.stat().st_mode & 0o077 == 0


def test_demo_second_run_changes_nothing(
    database_url, session_factory, tmp_path, shared_data
) -> None:
    _run_demo(database_url, tmp_path / "data", shared_data)
    with session_factory() as session:
        before = _store_counts(session)

    output = _run_demo(database_url, tmp_path / "data", shared_data)

    with session_factory() as session:
        after = _store_counts(session)
    assert after == before
    assert "nothing changed" in output
    assert output.count("already ingested, unchanged") == 3
