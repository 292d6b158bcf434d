"""A store that cannot be used: full, read-only, unreachable or uncreatable.

Each is an operator's problem to fix, so the command says what failed and
what to do, exits with the store-unavailable code and prints no traceback,
and nothing of the feed is stored.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from cli_support import run_john
from sqlalchemy import Engine, event, func, select, text

from john.db import make_engine, make_session_factory, migrate
from john.errors import StoreUnavailable
from john.records.models import Achievement, Feed
from john.records.service import ingest_feed

HEADER = "source_person_ref,given_name,family_name,date_of_birth,kind,title,awarded_on"
ROW = "QA{n},Zelphine,Quorrabar,2001-02-03,award,Certificate {n} in Things,2019-08-20"


def feed_bytes(rows: int) -> bytes:
    lines = [HEADER, *(ROW.format(n=n) for n in range(rows))]
    return "\n".join(lines).encode() + b"\n"


def sqlite_store(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    migrate(engine)
    return engine


def stored_counts(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        feeds = connection.scalar(select(func.count()).select_from(Feed))
        rows = connection.scalar(select(func.count()).select_from(Achievement))
    return feeds or 0, rows or 0


def test_full_store_names_fix(tmp_path: Path) -> None:
    engine = sqlite_store(tmp_path)
    with engine.connect() as connection:
        pages = connection.scalar(text("PRAGMA page_count"))

    @event.listens_for(engine, "connect")
    def cap_size(dbapi_connection, _record) -> None:
        # SQLite answers SQLITE_FULL past max_page_count, as on a full disk.
        dbapi_connection.execute(f"PRAGMA max_page_count={pages + 2}")

    engine.dispose()
    factory = make_session_factory(engine)
    with pytest.raises(StoreUnavailable) as raised:
        ingest_feed(factory, "10000001", "achievements", io.BytesIO(feed_bytes(3000)))
    assert "disk is full" in str(raised.value)
    assert "free space" in str(raised.value)
    event.remove(engine, "connect", cap_size)
    engine.dispose()
    assert stored_counts(engine) == (0, 0)


def test_read_only_store_names_fix(tmp_path: Path) -> None:
    engine = sqlite_store(tmp_path)

    @event.listens_for(engine, "connect")
    def read_only(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA query_only=1")

    engine.dispose()
    factory = make_session_factory(engine)
    with pytest.raises(StoreUnavailable) as raised:
        ingest_feed(factory, "10000001", "achievements", io.BytesIO(feed_bytes(3)))
    assert "readonly database" in str(raised.value)
    assert "writable" in str(raised.value)
    event.remove(engine, "connect", read_only)
    engine.dispose()
    assert stored_counts(engine) == (0, 0)


def test_unreachable_postgres_cli(tmp_path: Path) -> None:
    # Nothing listens on port 1 of the loopback address.
    result = run_john(
        {
            "JOHN_DATABASE_URL": "postgresql://john@127.0.0.1:1/john",
            "JOHN_DATA_DIR": str(tmp_path / "data"),
        },
        "feeds",
        "list",
    )
    assert result.returncode == StoreUnavailable.exit_code
    assert "store unavailable" in result.stderr
    assert "JOHN_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_uncreatable_data_dir_cli(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_john({"JOHN_DATA_DIR": str(blocker / "data")}, "feeds", "list")
    assert result.returncode == 3
    assert f"cannot create the store's folder {blocker / 'data'}" in result.stderr
    assert "JOHN_DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr
