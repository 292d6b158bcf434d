"""SQL helpers that differ between SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

# Rows per multi-row INSERT. 500 rows of the widest table written this way
# (feeds, 12 columns) stay under SQLite's limit of 32,766 bound parameters
# (the default since SQLite 3.32).
VALUES_CHUNK = 500


def is_postgresql(session: Session) -> bool:
    """Return whether the session's store is PostgreSQL."""
    return session.get_bind().dialect.name == "postgresql"


def insert_ignoring_conflicts(session: Session, table: Any, rows: list[dict]) -> None:
    """Insert rows, skipping any whose primary or unique key already exists.

    Each chunk of rows goes in one multi-row INSERT, so a batch costs one
    round trip per chunk, not one per row.
    """
    if not rows:
        return
    dialect: Any = postgresql if is_postgresql(session) else sqlite
    for start in range(0, len(rows), VALUES_CHUNK):
        chunk = rows[start : start + VALUES_CHUNK]
        statement = dialect.insert(table).values(chunk).on_conflict_do_nothing()
        session.execute(statement)


def next_sequence_values(
    session: Session, table: str, column: str, count: int
) -> list[int]:
    """Reserve ``count`` values of a PostgreSQL serial column, in ascending order."""
    rows = session.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence(:table, :column)) "
            "FROM generate_series(1, :count)"
        ),
        {"table": table, "column": column, "count": count},
    )
    return sorted(row[0] for row in rows)


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: list[tuple]
) -> None:
    """Append rows to a PostgreSQL table with COPY, in the session's transaction.

    COPY streams every row in one command, where psycopg's executemany sends
    one INSERT per row. A ``dict`` value is sent as JSON text for a JSONB
    column. Errors are raised as SQLAlchemy's IntegrityError and DataError,
    as an INSERT would raise them, so callers handle both paths alike.
    """
    import psycopg

    if not rows:
        return
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    connection = session.connection().connection.dbapi_connection
    assert connection is not None
    try:
        with connection.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[attr-defined]
            for row in rows:
                copy.write_row(
                    [json.dumps(v) if isinstance(v, dict) else v for v in row]
                )
    except psycopg.IntegrityError as error:
        raise exc.IntegrityError(sql, None, error) from error
    except psycopg.DataError as error:
        raise exc.DataError(sql, None, error) from error
