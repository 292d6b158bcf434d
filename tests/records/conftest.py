"""Fixtures for feed tests: made-up rows, feed files and an ingest helper."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from feed_samples import SOURCE
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from john.config import normalise_database_url
from john.records.reports import FeedReport
from john.records.service import ingest_feed

Ingest = Callable[..., FeedReport]


@pytest.fixture
def ingest(session_factory: sessionmaker[Session]) -> Ingest:
    """Return a function that ingests bytes as a feed from SOURCE."""

    def run(
        content: bytes,
        *,
        source: str = SOURCE,
        feed_type: str = "achievements",
        **options: Any,
    ) -> FeedReport:
        return ingest_feed(
            session_factory, source, feed_type, io.BytesIO(content), **options
        )

    return run


@pytest.fixture
def other_database_url(_template: str, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a second fresh store, for comparing two runs."""
    postgres = os.environ.get("JOHN_TEST_DATABASE_URL")
    if not postgres:
        path = tmp_path / "other.sqlite3"
        shutil.copyfile(_template, path)
        yield f"sqlite:///{path}"
        return

    base = normalise_database_url(postgres)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    name = f"john_other_{os.getpid()}_{tmp_path.name}"[:60].lower()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_template}"'))
    head = base.rpartition("/")[0]
    yield f"{head}/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
