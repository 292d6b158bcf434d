"""The transactional store: engine, sessions, declarative base and migrations.

SQLite (WAL mode) in the data directory is the embedded default; PostgreSQL is
chosen with ``JOHN_DATABASE_URL``. Errors from SQLAlchemy are translated into
JOHN's own exceptions here, at the boundary where they arise.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, exc
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from john.errors import ConfigurationError, InvalidInput, StoreUnavailable

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# SQLite and PostgreSQL read LIMIT and OFFSET as signed 64-bit integers.
MAX_ROW_OFFSET = 2**63 - 1
# Integer keys are 32-bit on PostgreSQL.
MAX_INTEGER_KEY = 2**31 - 1


class Base(DeclarativeBase):
    """Declarative base for every table of the hub."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no timezone type, so naive values read back are taken as UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current time in UTC."""
    return datetime.now(UTC)


def new_public_id(prefix: str) -> str:
    """Return an unguessable id such as ``L-3f9c...`` (128 random bits)."""
    return f"{prefix}-{secrets.token_hex(16)}"


SQLITE_PAGE_SIZE = 16384


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # Takes effect only while the file is still empty, so on a new store.
    # Pages of 16 KiB hold four times the rows of the default 4 KiB. In one
    # measurement, a million-row feed went in 7 % faster, index builds included.
    cursor.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")
    cursor.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable in WAL mode except for the last commits on power loss;
    # a crashed process (kill -9) still leaves a consistent store.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for ``url``, creating the SQLite folder if needed."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            _make_store_folder(Path(path).parent)
            # The server runs sync handlers on up to 40 threads. Connections
            # past the pool size are closed on return and opened again, which
            # repeats the PRAGMAs on every request under load. A caller that
            # names its own pool class (the feed writer's NullPool) keeps it.
            if "poolclass" not in kwargs:
                kwargs.setdefault("pool_size", 20)
                kwargs.setdefault("max_overflow", 30)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        return create_engine(url, pool_pre_ping=True, **kwargs)
    raise ConfigurationError(
        f"database URL scheme in {url.split(':', 1)[0]!r} is not supported; "
        "use sqlite:///PATH or postgresql://USER@HOST/DB"
    )


def _make_store_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"cannot create the store's folder {folder} ({error.strerror}); set "
            "JOHN_DATA_DIR to a writable folder"
        ) from error


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory bound to ``engine``."""
    return sessionmaker(bind=engine, expire_on_commit=False)


_write_locks: weakref.WeakKeyDictionary[Engine, threading.Lock] = (
    weakref.WeakKeyDictionary()
)
_write_locks_guard = threading.Lock()


@contextmanager
def serialised_writes(session: Session) -> Iterator[None]:
    """Queue this process's SQLite writers on a lock until the block ends.

    SQLite admits one writer at a time, and a blocked writer polls with sleeps
    that grow to 100 ms (``busy_timeout``), which shows as long tail latency.
    Waiting on a lock hands the store from one thread to the next at once. The
    block should end with the commit. PostgreSQL takes no lock here because
    its row locks order writers without polling.
    """
    # The connection is checked out before the lock is taken, because a thread
    # holding the lock while waiting for a pooled connection could deadlock
    # with threads that hold connections while waiting for the lock.
    session.connection()
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        yield
        return
    with _write_locks_guard:
        lock = _write_locks.setdefault(engine, threading.Lock())
    with lock:
        yield


def page_offset(page: int, per_page: int) -> int:
    """Return the row offset of a page numbered from 1.

    Raises InvalidInput when the offset is past what the store can take.
    """
    offset = (page - 1) * per_page
    if offset > MAX_ROW_OFFSET:
        raise InvalidInput(
            f"page {page} is out of range; ask for a page from 1 to the last page"
        )
    return offset


def check_window(limit: int, offset: int, max_limit: int) -> None:
    """Raise InvalidInput unless ``limit`` and ``offset`` select a valid page."""
    if not 1 <= limit <= max_limit:
        raise InvalidInput(f"limit {limit} is out of range; use 1 to {max_limit}")
    if not 0 <= offset <= MAX_ROW_OFFSET:
        raise InvalidInput(
            f"offset {offset} is out of range; use 0 to {MAX_ROW_OFFSET}"
        )


# Parts of SQLite's and psycopg 3's messages that mean the store itself cannot
# be used, each with what the operator should do about it.
_CONNECT_FIX = "check JOHN_DATABASE_URL and that the database server is running"
_STORE_FAILURES = (
    ("database is locked", "another process holds the write lock; try again"),
    ("database or disk is full", "free space on the store's disk, then try again"),
    ("readonly database", "make the data folder writable, or set JOHN_DATA_DIR"),
    ("unable to open database file", "set JOHN_DATA_DIR to a writable folder"),
    ("disk I/O error", "check the disk that holds the store"),
    ("could not connect", _CONNECT_FIX),
    ("connection failed", _CONNECT_FIX),
)


# Writers may use the driver's connection directly, so its errors arrive
# unwrapped as well as wrapped by SQLAlchemy.
STORE_ERRORS = (
    exc.OperationalError,
    sqlite3.OperationalError,
    psycopg.OperationalError,
)


def store_failure(error: Exception) -> StoreUnavailable | None:
    """Return StoreUnavailable when ``error`` means the store cannot be used.

    ``error`` is SQLAlchemy's wrapper or the driver's own exception.
    """
    message = str(getattr(error, "orig", error)).strip()
    for marker, fix in _STORE_FAILURES:
        if marker in message:
            return StoreUnavailable(f"{message.splitlines()[0]}; {fix}")
    return None


@contextmanager
def translate_errors() -> Iterator[None]:
    """Translate a store that cannot be used into :class:`StoreUnavailable`."""
    try:
        yield
    except STORE_ERRORS as error:
        failure = store_failure(error)
        if failure is not None:
            raise failure from error
        raise


def alembic_config(url: str) -> Any:
    """Build an Alembic configuration for the packaged migrations."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to date with every capability's migrations."""
    from alembic import command

    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with translate_errors(), engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")
    log.info("schema migrated to heads on %s", engine.dialect.name)


def import_all_models() -> None:
    """Import every capability's models so that ``Base.metadata`` is complete."""
    import importlib
    import pkgutil

    import john

    for module in pkgutil.walk_packages(john.__path__, "john."):
        if module.name.endswith(".models"):
            importlib.import_module(module.name)
