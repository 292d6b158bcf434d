"""Interrupting a large feed: exit status, store state and the writer's threads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from cli_support import ingest_arguments
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

import john
from john.records.pipeline import PROCESS_THRESHOLD_BYTES, _ProcessSink
from john.records.service import ingest_feed
from john.records.synthetic import write_synthetic_csv

SOURCE = "10012345"
# About 215 bytes a row, so the feed passes PROCESS_THRESHOLD_BYTES and goes
# to the writer child.
ROWS = 60_000
TABLES = ("feeds", "person_records", "achievements", "quarantined_rows")


class StopIngest(Exception):
    """Raised from the progress callback to make the reader abort the feed."""


def write_feed(path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        write_synthetic_csv(out, ROWS, max_records_per_person=5)
    assert path.stat().st_size >= PROCESS_THRESHOLD_BYTES
    return path


def stored_counts(engine: Engine) -> dict[str, int]:
    query = " UNION ALL ".join(
        f"SELECT '{table}', count(*) FROM {table}" for table in TABLES
    )
    with engine.connect() as connection:
        return dict(connection.execute(text(query)).tuples().all())


def test_aborted_feed_sender_thread_quiet(
    tmp_path: Path, engine: Engine, session_factory: sessionmaker[Session]
) -> None:
    feed = write_feed(tmp_path / "feed.csv")
    crashed: list[threading.ExceptHookArgs] = []
    previous_hook = threading.excepthook
    threading.excepthook = crashed.append

    def stop_mid_feed(_bytes_read: int, rows_read: int) -> None:
        if rows_read >= ROWS // 2:
            raise StopIngest

    try:
        with feed.open("rb") as handle, pytest.raises(StopIngest):
            ingest_feed(
                session_factory,
                SOURCE,
                "achievements",
                handle,
                filename=feed.name,
                progress=stop_mid_feed,
            )
    finally:
        threading.excepthook = previous_hook

    # The pipe's sender thread must stop quietly when the feed is aborted,
    # not die with an exception from a connection closed under it.
    assert [str(args.exc_value) for args in crashed] == []
    assert stored_counts(engine) == dict.fromkeys(TABLES, 0)


def test_sigint_mid_feed_exit_status(
    tmp_path: Path, database_url: str, engine: Engine
) -> None:
    feed = write_feed(tmp_path / "feed.csv")
    environment = {
        **os.environ,
        "JOHN_DATABASE_URL": database_url,
        "PYTHONPATH": str(Path(john.__file__).resolve().parents[1]),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from john.cli import main; main()",
            *ingest_arguments(feed, SOURCE),
        ],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    # store_feed logs the start at INFO once the writer child is running.
    for line in process.stderr:
        if "started: source" in line:
            break
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate()

    # An interrupted command must not report success to a calling script.
    assert process.returncode == 130, stderr[-2000:]
    assert "stored" not in stdout
    assert stored_counts(engine) == dict.fromkeys(TABLES, 0)


def test_interrupt_at_commit_stores_nothing(
    tmp_path: Path,
    engine: Engine,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    feed = write_feed(tmp_path / "feed.csv")
    receive = _ProcessSink._receive

    def interrupted_once_sent(sink: _ProcessSink) -> tuple[str, Any]:
        # The sender thread ends after the commit request, so an interrupt
        # here is a Ctrl-C while the reader waits for the child to commit.
        if sink.sender.is_alive():
            return receive(sink)
        raise StopIngest

    monkeypatch.setattr(_ProcessSink, "_receive", interrupted_once_sent)

    with feed.open("rb") as handle, pytest.raises(StopIngest):
        ingest_feed(session_factory, SOURCE, "achievements", handle)

    # ingest_feed raised, so the caller takes the feed as not stored.
    assert stored_counts(engine) == dict.fromkeys(TABLES, 0)
