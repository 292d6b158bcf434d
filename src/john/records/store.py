"""Bulk writers that put validated rows into the store inside the feed's transaction.

Each chunk of rows is checked for duplicates against the store (so rows of
earlier chunks and earlier feeds count), then person records are upserted
and the achievements or experiences inserted. SQLite goes through the
``sqlite3`` cursor with ``executemany``; PostgreSQL through psycopg's
``COPY``, which is several times faster than row inserts there.

A chunk arrives as four columns (row numbers, row keys, person values,
record values). The source, the feed and the arrival time are the same for
every row of a feed, so SQLite takes them as literals in the statement and
the pipe does not carry them.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from john.records.mappings import PERSON_FIELDS, RECORD_FIELDS
from john.records.validation import ValidRow

log = logging.getLogger(__name__)

PERSON_COLUMNS: tuple[str, ...] = (
    "source_ukprn",
    *PERSON_FIELDS,
    "feed_id",
    "row_number",
    "received_at",
)
PROVENANCE_COLUMNS: tuple[str, ...] = (
    "source_ukprn",
    "feed_id",
    "row_number",
    "received_at",
    "row_key",
)
QUARANTINE_COLUMNS: tuple[str, ...] = (
    "feed_id",
    "row_number",
    "field",
    "reason",
    "raw",
)

# A chunk's row keys and person references go into one IN list; SQLite allows
# 32766 bound parameters per statement since version 3.32.
SQLITE_MAX_PARAMETERS = 30000
# From this many expected rows, and when the feed will at least double the
# tables, SQLite's secondary indexes are dropped and built again after the
# load. Building an index from sorted rows took about a third of the time of
# the random inserts it replaces (100,000 rows, benchmarks/ingest.py feed).
INDEX_REBUILD_MIN_ROWS = 20_000
# Page cache of the writer of a large feed, in KiB (SQLite's negative form),
# so the index pages of a million-row load stay in memory while rows go in.
# The size is fixed, so memory stays flat whatever the feed's size.
LARGE_FEED_CACHE_KIB = 131_072

QuarantineEntry = tuple[int, str, str, str | None]
"""Row number, field, reason and raw text of one quarantined problem."""

Chunk = tuple[
    tuple[int, ...],
    tuple[str, ...],
    tuple[tuple[Any, ...], ...],
    tuple[tuple[Any, ...], ...],
]
"""Valid rows as columns: row numbers, row keys, person values (PERSON_FIELDS
order) and record values (RECORD_FIELDS order)."""

Row = tuple[int, str, tuple[Any, ...], tuple[Any, ...]]
"""One valid row: its number, its key, its person values and record values."""


def record_columns(feed_type: str) -> tuple[str, ...]:
    """Return the insert columns of the achievements or experiences table."""
    return ("person_record_id", *RECORD_FIELDS[feed_type], *PROVENANCE_COLUMNS)


def received_text(received_at: datetime) -> str:
    """Return the arrival time as the text both stores take for it.

    The form is sqlite3's for datetimes (``isoformat(" ")`` in UTC), which
    PostgreSQL also parses as a timestamp with time zone.
    """
    return received_at.astimezone(UTC).isoformat(" ")


def chunk_of(rows: Sequence[ValidRow]) -> Chunk:
    """Return valid rows as the columns a writer takes."""
    if not rows:
        return ((), (), (), ())
    numbers, keys, persons, records = zip(*rows, strict=True)
    return numbers, keys, persons, records


def sql_text(value: str) -> str:
    """Return ``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


class BulkWriter:
    """Write chunks of one feed's rows through a connection already in a transaction."""

    def __init__(
        self,
        connection: Connection,
        feed_type: str,
        source: str,
        feed_id: str,
        received: str,
    ):
        self.connection = connection
        self.table = feed_type
        self.columns = record_columns(feed_type)
        self.source = source
        self.feed_id = feed_id
        self.received = received
        self.dbapi: Any = connection.connection.driver_connection

    def write(self, chunk: Chunk) -> int:
        """Store the rows that are not duplicates and return how many were."""
        rows: list[Row] = list(zip(*chunk, strict=True))
        fresh = self._drop_duplicates(rows)
        if not fresh:
            return len(rows)

        # The last row of a person in the chunk gives the person's details.
        latest = {row[2][0]: row for row in fresh}
        person_ids = self._upsert_persons(list(latest.values()))
        self._insert_records(fresh, person_ids)
        return len(rows) - len(fresh)

    def _drop_duplicates(self, rows: list[Row]) -> list[Row]:
        """Return the rows whose key is neither stored nor earlier in the chunk."""
        keys = [row[1] for row in rows]
        existing = self._existing_keys(keys)
        if not existing and len(set(keys)) == len(keys):
            return rows
        fresh: list[Row] = []
        for row in rows:
            if row[1] not in existing:
                existing.add(row[1])
                fresh.append(row)
        return fresh

    def quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        """Store quarantined problems: row number, field, reason and raw row."""
        raise NotImplementedError

    def expect_rows(self, rows: int) -> None:
        """Prepare for a feed of about ``rows`` rows. The base writer needs nothing."""

    def finish(self) -> None:
        """Complete the writing before the feed's transaction commits."""

    def _existing_keys(self, keys: list[str]) -> set[str]:
        raise NotImplementedError

    def _upsert_persons(self, rows: list[Row]) -> dict[str, int]:
        raise NotImplementedError

    def _insert_records(self, rows: Sequence[Row], person_ids: dict[str, int]) -> None:
        raise NotImplementedError


class SqliteWriter(BulkWriter):
    """Write through the ``sqlite3`` cursor with ``executemany``.

    The feed's transaction holds SQLite's write lock from its first insert,
    so no other connection can add person records until it ends. New person
    records therefore get their ids here, which spares a lookup after each
    insert.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cursor = self.dbapi.cursor()
        self.cursor.execute("SELECT coalesce(max(id), 0) FROM person_records")
        self.next_person_id: int = self.cursor.fetchone()[0] + 1
        self.dropped_indexes: list[str] = []
        self.cache_size: int | None = None
        self.unchecked = True

        constants = ("source_ukprn", "feed_id", "received_at")
        literals = ", ".join(
            sql_text(value) for value in (self.source, self.feed_id, self.received)
        )
        names = ("id", "row_number", *PERSON_FIELDS, *constants)
        marks = ", ".join("?" for _ in names[: -len(constants)])
        self.insert_person = (
            f"INSERT INTO person_records ({', '.join(names)}) "
            f"VALUES ({marks}, {literals})"
        )
        updated = ", ".join(f"{name} = ?" for name in PERSON_FIELDS[1:])
        self.update_person = (
            f"UPDATE person_records SET {updated}, row_number = ?, "
            f"feed_id = {sql_text(self.feed_id)}, "
            f"received_at = {sql_text(self.received)} WHERE id = ?"
        )
        names = (
            "person_record_id",
            "row_number",
            "row_key",
            *RECORD_FIELDS[self.table],
            *constants,
        )
        marks = ", ".join("?" for _ in names[: -len(constants)])
        self.insert_record = (
            f"INSERT INTO {self.table} ({', '.join(names)}) "
            f"VALUES ({marks}, {literals})"
        )

    def _select_in(self, sql: str, first: object, values: list[str]) -> list[Any]:
        found: list[Any] = []
        step = SQLITE_MAX_PARAMETERS
        for start in range(0, len(values), step):
            part = values[start : start + step]
            marks = ", ".join("?" * len(part))
            self.cursor.execute(sql.format(marks=marks), [first, *part])
            found.extend(self.cursor.fetchall())
        return found

    def _existing_keys(self, keys: list[str]) -> set[str]:
        sql = (
            f"SELECT row_key FROM {self.table} "
            "WHERE source_ukprn = ? AND row_key IN ({marks})"
        )
        return {key for (key,) in self._select_in(sql, self.source, keys)}

    def write(self, chunk: Chunk) -> int:
        """Store the rows that are not duplicates and return how many were.

        Until a chunk clashes with a stored row, each chunk is written without
        looking up its keys first: its persons are taken as new and its rows
        as not yet stored. The unique indexes check both anyway, so a clash
        undoes the chunk (a savepoint) and it is written again with the
        lookups, as is every later chunk of the feed. A first load of a source
        never clashes and skips a lookup of every key.
        """
        if self.unchecked:
            self.cursor.execute("SAVEPOINT unchecked_chunk")
            first_id = self.next_person_id
            # Only a clash is undone here. Other errors propagate untouched,
            # because SQLite may have rolled the whole transaction back.
            try:
                self._insert_unchecked(chunk)
            except sqlite3.IntegrityError:
                self.cursor.execute("ROLLBACK TO unchecked_chunk")
                self.cursor.execute("RELEASE unchecked_chunk")
                self.next_person_id = first_id
                self.unchecked = False
                log.debug("feed %s: a chunk clashed; keys are looked up", self.feed_id)
            else:
                self.cursor.execute("RELEASE unchecked_chunk")
                return 0
        return super().write(chunk)

    def _insert_unchecked(self, chunk: Chunk) -> None:
        """Insert every person of the chunk as new, and every row."""
        numbers, keys, persons, records = chunk
        first = self.next_person_id
        refs = [person[0] for person in persons]
        latest = dict(zip(refs, range(len(refs)), strict=True))
        if len(latest) == len(refs):
            person_ids: Sequence[int] = range(first, first + len(refs))
            chosen: Sequence[int] = range(len(refs))
        else:
            # The last row of a person in the chunk gives the person's details.
            chosen = sorted(latest.values())
            new_ids = {refs[at]: first + offset for offset, at in enumerate(chosen)}
            person_ids = [new_ids[ref] for ref in refs]
        self.next_person_id = first + len(chosen)
        self.cursor.executemany(
            self.insert_person,
            [
                (first + offset, numbers[at], *persons[at])
                for offset, at in enumerate(chosen)
            ],
        )
        self.cursor.executemany(
            self.insert_record,
            [
                (person_id, number, key, *record)
                for person_id, number, key, record in zip(
                    person_ids, numbers, keys, records, strict=True
                )
            ],
        )

    def _upsert_persons(self, rows: list[Row]) -> dict[str, int]:
        sql = (
            "SELECT source_person_ref, id FROM person_records "
            "WHERE source_ukprn = ? AND source_person_ref IN ({marks})"
        )
        refs = [row[2][0] for row in rows]
        person_ids: dict[str, int] = dict(self._select_in(sql, self.source, refs))

        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        for number, _, person, _ in rows:
            known = person_ids.get(person[0])
            if known is None:
                known = person_ids[person[0]] = self.next_person_id
                self.next_person_id += 1
                inserts.append((known, number, *person))
            else:
                # Every field after source_person_ref.
                updates.append((*person[1:], number, known))

        self.cursor.executemany(self.insert_person, inserts)
        if updates:
            self.cursor.executemany(self.update_person, updates)
        return person_ids

    def _insert_records(self, rows: Sequence[Row], person_ids: dict[str, int]) -> None:
        self.cursor.executemany(
            self.insert_record,
            [
                (person_ids[person[0]], number, key, *record)
                for number, key, person, record in rows
            ],
        )

    def expect_rows(self, rows: int) -> None:
        """Drop the secondary indexes when the feed will at least double the tables.

        Unique indexes stay, because duplicate checks and person lookups use
        them. The drop is part of the feed's transaction, so a rollback or a
        killed process leaves every index in place, and readers keep seeing
        them until the commit.
        """
        self.cursor.execute(f"SELECT coalesce(max(id), 0) FROM {self.table}")
        stored = max(self.next_person_id - 1, self.cursor.fetchone()[0])
        if rows < INDEX_REBUILD_MIN_ROWS or rows < stored:
            return

        self.cursor.execute("PRAGMA cache_size")
        self.cache_size = self.cursor.fetchone()[0]
        self.cursor.execute(f"PRAGMA cache_size=-{LARGE_FEED_CACHE_KIB}")

        for table in ("person_records", self.table):
            self.cursor.execute(
                "SELECT m.name, m.sql FROM pragma_index_list(?) AS i "
                "JOIN sqlite_master AS m ON m.name = i.name "
                "WHERE i.origin = 'c' AND i.\"unique\" = 0 AND m.sql IS NOT NULL",
                (table,),
            )
            for name, sql in self.cursor.fetchall():
                self.cursor.execute(f'DROP INDEX "{name}"')
                self.dropped_indexes.append(sql)
        log.info(
            "feed %s: %d indexes dropped for a load of about %d rows",
            self.feed_id,
            len(self.dropped_indexes),
            rows,
        )

    def finish(self) -> None:
        """Build the dropped indexes again, from their stored definitions."""
        # SQLite's sorter may take as much memory as the page cache while it
        # builds an index, so the cache goes back to its size first.
        if self.cache_size is not None:
            self.cursor.execute(f"PRAGMA cache_size={int(self.cache_size)}")
            self.cache_size = None
        for sql in self.dropped_indexes:
            self.cursor.execute(sql)
        self.dropped_indexes = []

    def quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        """Store quarantined problems with ``executemany``."""
        self.cursor.executemany(
            "INSERT INTO quarantined_rows (feed_id, row_number, field, reason, raw) "
            "VALUES (?, ?, ?, ?, ?)",
            [(self.feed_id, *entry) for entry in entries],
        )


class PostgresWriter(BulkWriter):
    """Write through psycopg ``COPY``, upserting persons from a temporary table."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cursor = self.dbapi.cursor()
        # The staging table copies person_records' column types; it disappears
        # when the feed's transaction ends, whether it commits or not.
        self.cursor.execute(
            "CREATE TEMPORARY TABLE ingest_persons ON COMMIT DROP AS "
            f"SELECT {', '.join(PERSON_COLUMNS)} FROM person_records WITH NO DATA"
        )
        names = ", ".join(PERSON_COLUMNS)
        updates = ", ".join(
            f"{name} = excluded.{name}"
            for name in PERSON_COLUMNS
            if name not in ("source_ukprn", "source_person_ref")
        )
        self.upsert = (
            f"INSERT INTO person_records ({names}) SELECT {names} FROM ingest_persons "
            f"ON CONFLICT (source_ukprn, source_person_ref) DO UPDATE SET {updates} "
            "RETURNING source_person_ref, id"
        )

    def _copy(self, table: str, columns: Iterable[str], rows: Iterable[Any]) -> None:
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with self.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def _existing_keys(self, keys: list[str]) -> set[str]:
        self.cursor.execute(
            f"SELECT row_key FROM {self.table} "
            "WHERE source_ukprn = %s AND row_key = ANY(%s)",
            (self.source, keys),
        )
        return {key for (key,) in self.cursor.fetchall()}

    def _upsert_persons(self, rows: list[Row]) -> dict[str, int]:
        self.cursor.execute("TRUNCATE ingest_persons")
        source, feed_id, received = self.source, self.feed_id, self.received
        self._copy(
            "ingest_persons",
            PERSON_COLUMNS,
            (
                (source, *person, feed_id, number, received)
                for number, _, person, _ in rows
            ),
        )
        self.cursor.execute(self.upsert)
        return dict(self.cursor.fetchall())

    def _insert_records(self, rows: Sequence[Row], person_ids: dict[str, int]) -> None:
        source, feed_id, received = self.source, self.feed_id, self.received
        self._copy(
            self.table,
            self.columns,
            (
                (person_ids[person[0]], *record, source, feed_id, number, received, key)
                for number, key, person, record in rows
            ),
        )

    def quarantine(self, entries: Sequence[QuarantineEntry]) -> None:
        """Store quarantined problems with ``COPY``."""
        self._copy(
            "quarantined_rows",
            QUARANTINE_COLUMNS,
            ((self.feed_id, *entry) for entry in entries),
        )


def make_writer(
    connection: Connection,
    feed_type: str,
    source: str,
    feed_id: str,
    received: str,
) -> BulkWriter:
    """Return the writer for the connection's database."""
    name = connection.dialect.name
    if name == "sqlite":
        return SqliteWriter(connection, feed_type, source, feed_id, received)
    if name == "postgresql":
        return PostgresWriter(connection, feed_type, source, feed_id, received)
    raise NotImplementedError(f"bulk writing is not implemented for {name}")
