"""Fixtures shared by every test: a fresh migrated store per test, on SQLite or
PostgreSQL.

``JOHN_TEST_DATABASE_URL`` selects PostgreSQL (a server URL whose user may
create databases); unset, each test gets its own SQLite file. Both backends
start from a template migrated once per session, so a test costs a file copy
or a ``CREATE DATABASE ... TEMPLATE``.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from john.config import Settings, normalise_database_url
from john.db import make_engine, make_session_factory, migrate

POSTGRES_URL = os.environ.get("JOHN_TEST_DATABASE_URL") or None
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
_counter = itertools.count()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def pytest_report_header() -> str:
    backend = "postgresql" if POSTGRES_URL else "sqlite"
    return f"john store backend: {backend}"


@pytest.fixture(scope="session")
def backend() -> str:
    """Return the name of the store backend under test."""
    return "postgresql" if POSTGRES_URL else "sqlite"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Return the folder of public reference data sets."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data folder {SHARED_DATA} is missing")
    return SHARED_DATA


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if POSTGRES_URL is None:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        engine.dispose()
        yield str(path)
        return

    admin = _postgres_admin()
    name = f"john_tpl_{_worker()}_{os.getpid()}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_postgres_url_for(name))
    migrate(engine)
    engine.dispose()
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _postgres_admin() -> Engine:
    assert POSTGRES_URL is not None
    return create_engine(
        normalise_database_url(POSTGRES_URL), isolation_level="AUTOCOMMIT"
    )


def _postgres_url_for(database: str) -> str:
    assert POSTGRES_URL is not None
    base = normalise_database_url(POSTGRES_URL)
    head, _, tail = base.rpartition("/")
    query = ""
    if "?" in tail:
        query = "?" + tail.split("?", 1)[1]
    return f"{head}/{database}{query}"


@pytest.fixture
def database_url(_template: str, tmp_path: Path) -> Iterator[str]:
    """Return the URL of a fresh, migrated store for one test."""
    if POSTGRES_URL is None:
        path = tmp_path / "john.sqlite3"
        shutil.copyfile(_template, path)
        yield f"sqlite:///{path}"
        return

    name = f"john_t_{_worker()}_{os.getpid()}_{next(_counter)}"
    admin = _postgres_admin()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{_template}"'))
    yield _postgres_url_for(name)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """Return an engine on the test's store."""
    created = make_engine(database_url)
    yield created
    created.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory on the test's store."""
    return make_session_factory(engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """Return a session on the test's store, closed after the test."""
    with session_factory() as opened:
        yield opened


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Return settings pointing at the test's store and a temporary data folder."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[object]:
    """Return a test client for the web application on the test's store."""
    from fastapi.testclient import TestClient

    from john.web.app import create_app

    with TestClient(create_app(settings, engine=engine)) as test_client:
        yield test_client


@pytest.fixture
def captured_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every log record at DEBUG and above from every logger."""
    caplog.set_level(logging.DEBUG)
    return caplog
