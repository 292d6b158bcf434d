"""Feed ingestion: the public entry for the CLI, the API and the main job.

``ingest_feed`` reads a provider's file as a stream, validates every row,
stores accepted rows with their provenance and quarantines the rest, all in
one transaction per feed: a crash leaves the store as it was before the feed.
The same file sent again (same source, type and content) changes nothing and
returns the earlier feed's report.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, BinaryIO

import psycopg
from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from john.db import new_public_id, utcnow
from john.errors import Conflict, FeedError, FieldProblem, InvalidInput, NotFound
from john.records.feeds import (
    FeedReader,
    SourceRow,
    check_encoding,
    detect_format,
    open_reader,
)
from john.records.mappings import Mapping, check_feed_type, load_mapping
from john.records.models import Feed, QuarantinedRow
from john.records.store import QuarantineEntry, make_writer
from john.records.validation import RowValidator, ValidRow, identifiers, load_registers

log = logging.getLogger(__name__)

CHUNK_ROWS = 5000
PROGRESS_LOG_ROWS = 100_000
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024
# Distinct reasons kept per field in a report; the rest are counted together,
# so a feed with many different problems still has a small report.
MAX_REASONS_PER_FIELD = 20
OTHER_REASONS = "other reasons"

Progress = Callable[[int, int], None]
"""Called with (bytes read, rows read) after each chunk of rows."""


@dataclass
class FeedReport:
    """What happened to one feed: counts that add up, and why rows were quarantined.

    ``rows_read == rows_accepted + rows_quarantined + rows_duplicate``.
    ``quarantine_reasons`` maps each field to its reasons and how many rows
    each reason quarantined; a row with problems in two fields counts under
    both.
    """

    feed_id: str
    source: str
    feed_type: str
    file_format: str
    mapping: str
    received_at: datetime
    content_sha256: str
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    already_ingested: bool = False
    filename: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    columns_ignored: list[str] = field(default_factory=list)
    quarantine_reasons: dict[str, dict[str, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def quarantined_by_field(self) -> dict[str, int]:
        """Return how many problems each field had, summed over its reasons."""
        return {name: sum(r.values()) for name, r in self.quarantine_reasons.items()}


@dataclass
class QuarantinePage:
    """One page of a feed's quarantined problems, oldest row first."""

    feed_id: str
    total: int
    offset: int
    limit: int
    items: list[QuarantinedRow]


def ingest_feed(
    session_factory: sessionmaker[Session],
    source: str,
    feed_type: str,
    stream: BinaryIO,
    *,
    mapping: str | Mapping = "standard",
    file_format: str | None = None,
    filename: str | None = None,
    encoding: str = "utf-8",
    progress: Progress | None = None,
) -> FeedReport:
    """Ingest one feed file from ``source`` (its UKPRN) and return the report.

    Raises FeedError when the file as a whole cannot be taken (empty, no
    usable header, required columns missing, source not valid or not on the
    provider register), InvalidInput for a bad type or mapping, and Conflict
    when another feed from the same source stores the same rows at the same
    time.
    """
    check_feed_type(feed_type)
    chosen = (
        mapping if isinstance(mapping, Mapping) else load_mapping(mapping, feed_type)
    )
    source = _check_source(source)
    codec = check_encoding(encoding)
    if file_format is not None and file_format not in ("csv", "json"):
        raise InvalidInput(
            f"file format {file_format!r} is not supported; use csv or json",
            problems=[FieldProblem("format", "must be csv or json")],
        )

    body, digest, size, owned = _spool_and_hash(stream)
    try:
        if size == 0:
            raise FeedError(
                "feed file is empty; send a header row and at least one data row",
                problems=[FieldProblem("file", "empty")],
            )
        with session_factory() as session:
            earlier = _find_feed(session, source, feed_type, digest)
            if earlier is not None:
                log.info(
                    "feed %s received again from %s; nothing changed",
                    earlier.id,
                    source,
                )
                return _report_from_feed(earlier, already_ingested=True)
            registers = load_registers(session)
        if registers.providers_loaded and source not in registers.providers:
            raise FeedError(
                f"source UKPRN {source} is not on the provider register; check the "
                "UKPRN or load the current register",
                problems=[FieldProblem("source", "not on the provider register")],
            )

        start = body.tell()
        head = body.read(4096)
        body.seek(start)
        chosen_format = file_format or detect_format(head, filename)
        reader = open_reader(body, chosen_format, codec)
        bound = chosen.bind(reader.header)

        report = FeedReport(
            feed_id=new_public_id("F"),
            source=source,
            feed_type=feed_type,
            file_format=chosen_format,
            mapping=chosen.name,
            received_at=utcnow(),
            content_sha256=digest,
            filename=filename,
            encoding=codec,
            delimiter=reader.delimiter,
            columns_ignored=list(bound.ignored),
            notes=registers.notes(),
        )
        validator = RowValidator(feed_type, bound, registers, date.today())
        try:
            return _store_feed(
                session_factory, report, reader, validator, size, progress
            )
        except IntegrityError as error:
            return _after_integrity_error(session_factory, report, error)
        except (sqlite3.IntegrityError, psycopg.errors.UniqueViolation) as error:
            raise Conflict(
                f"another feed from {source} stored some of the same rows while this "
                "one was running; send this feed again",
            ) from error
    finally:
        if owned:
            body.close()


def _check_source(source: str) -> str:
    try:
        return identifiers.validate_ukprn(source)
    except identifiers.InvalidIdentifier as error:
        raise FeedError(
            f"source {error.safe_message}; pass the sending organisation's UKPRN "
            "(8 digits starting with 1)",
            problems=[FieldProblem("source", error.safe_message)],
        ) from error


def _spool_and_hash(stream: BinaryIO) -> tuple[IO[bytes], str, int, bool]:
    """Hash the stream's content, copying it to a spool file if it cannot seek.

    Returns the stream to read from (at its start), the SHA-256, the size in
    bytes and whether the caller must close the returned stream.
    """
    digest = hashlib.sha256()
    size = 0
    if stream.seekable():
        start = stream.tell()
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
        stream.seek(start)
        return stream, digest.hexdigest(), size, False

    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
    while chunk := stream.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
        spool.write(chunk)
    spool.seek(0)
    return spool, digest.hexdigest(), size, True


def _find_feed(
    session: Session, source: str, feed_type: str, digest: str
) -> Feed | None:
    return session.scalars(
        select(Feed).where(
            Feed.source_ukprn == source,
            Feed.feed_type == feed_type,
            Feed.content_sha256 == digest,
        )
    ).first()


def _after_integrity_error(
    session_factory: sessionmaker[Session], report: FeedReport, error: IntegrityError
) -> FeedReport:
    """Return the earlier report when a concurrent request stored the same file."""
    with session_factory() as session:
        earlier = _find_feed(
            session, report.source, report.feed_type, report.content_sha256
        )
    if earlier is None:
        raise Conflict(
            f"feed from {report.source} clashed with stored rows; send it again"
        ) from error
    log.info("feed %s stored by a concurrent request; nothing changed", earlier.id)
    return _report_from_feed(earlier, already_ingested=True)


def _store_feed(
    session_factory: sessionmaker[Session],
    report: FeedReport,
    reader: FeedReader,
    validator: RowValidator,
    size: int,
    progress: Progress | None,
) -> FeedReport:
    started = time.perf_counter()
    reasons: dict[str, Counter[str]] = defaultdict(Counter)

    with session_factory() as session:
        session.execute(
            insert(Feed).values(
                id=report.feed_id,
                source_ukprn=report.source,
                feed_type=report.feed_type,
                file_format=report.file_format,
                filename=report.filename,
                content_sha256=report.content_sha256,
                mapping=report.mapping,
                received_at=report.received_at,
                encoding=report.encoding,
                delimiter=report.delimiter,
            )
        )
        log.info(
            "feed %s started: source %s, %s, %s, %d bytes",
            report.feed_id,
            report.source,
            report.feed_type,
            report.file_format,
            size,
        )
        writer = make_writer(
            session.connection(),
            report.feed_type,
            report.source,
            report.feed_id,
            report.received_at,
        )

        accepted: list[ValidRow] = []
        quarantined: list[QuarantineEntry] = []
        read = rows_quarantined = duplicates = 0
        next_log = PROGRESS_LOG_ROWS
        encoding = report.encoding or "utf-8"
        for row in reader.rows():
            read += 1
            problems = _problems_of(row, validator, accepted)
            if problems:
                rows_quarantined += 1
                raw = _raw_text(row, encoding)
                for problem in problems:
                    quarantined.append(
                        (row.number, problem.field, problem.message, raw)
                    )
                    _count_reason(reasons[problem.field], problem.message)
                if len(quarantined) >= CHUNK_ROWS:
                    writer.quarantine(quarantined)
                    quarantined = []

            if len(accepted) >= CHUNK_ROWS:
                duplicates += writer.write(accepted)
                accepted = []
                if progress is not None:
                    progress(reader.bytes_read, read)
                if read >= next_log:
                    log.info("feed %s: %d rows read so far", report.feed_id, read)
                    next_log += PROGRESS_LOG_ROWS

        if accepted:
            duplicates += writer.write(accepted)
        if quarantined:
            writer.quarantine(quarantined)

        report.rows_read = read
        report.rows_quarantined = rows_quarantined
        report.rows_duplicate = duplicates
        report.rows_accepted = read - rows_quarantined - duplicates
        report.quarantine_reasons = {
            name: dict(counter.most_common())
            for name, counter in sorted(reasons.items())
        }
        report.columns_ignored = report.columns_ignored + [
            key for key in reader.extra_keys if key not in report.columns_ignored
        ]
        session.execute(
            update(Feed)
            .where(Feed.id == report.feed_id)
            .values(
                rows_read=report.rows_read,
                rows_accepted=report.rows_accepted,
                rows_quarantined=report.rows_quarantined,
                rows_duplicate=report.rows_duplicate,
                columns_ignored=report.columns_ignored,
                quarantine_reasons=report.quarantine_reasons,
                notes=report.notes,
            )
        )
        session.commit()

    if progress is not None:
        progress(reader.bytes_read, report.rows_read)
    elapsed = time.perf_counter() - started
    log.info(
        "feed %s stored in %.1f s: %d read, %d accepted, %d quarantined, %d duplicate",
        report.feed_id,
        elapsed,
        report.rows_read,
        report.rows_accepted,
        report.rows_quarantined,
        report.rows_duplicate,
    )
    return report


def _problems_of(
    row: SourceRow, validator: RowValidator, accepted: list[ValidRow]
) -> list[FieldProblem]:
    """Validate a row, appending it to ``accepted`` when it has no problem."""
    if row.problem is not None and not row.values:
        return [row.problem]
    valid, problems = validator.validate(row.number, row.values)
    if row.problem is not None:
        problems.insert(0, row.problem)
    if not problems and valid is not None:
        accepted.append(valid)
    return problems


def _raw_text(row: SourceRow, encoding: str) -> str | None:
    if row.raw_bytes is None:
        return None
    text = row.raw_bytes.decode(encoding, "replace").rstrip("\r\n")
    # PostgreSQL text cannot hold NUL characters.
    return text.replace("\x00", "\ufffd")


def _count_reason(counter: Counter[str], message: str) -> None:
    # Details in brackets (byte offsets) differ per row, so the report counts
    # the message without them.
    summary = message.split(" (", 1)[0].split(";", 1)[0]
    if summary in counter or len(counter) < MAX_REASONS_PER_FIELD:
        counter[summary] += 1
    else:
        counter[OTHER_REASONS] += 1


def _report_from_feed(feed: Feed, *, already_ingested: bool = False) -> FeedReport:
    return FeedReport(
        feed_id=feed.id,
        source=feed.source_ukprn,
        feed_type=feed.feed_type,
        file_format=feed.file_format,
        mapping=feed.mapping,
        received_at=feed.received_at,
        content_sha256=feed.content_sha256,
        rows_read=feed.rows_read,
        rows_accepted=feed.rows_accepted,
        rows_quarantined=feed.rows_quarantined,
        rows_duplicate=feed.rows_duplicate,
        already_ingested=already_ingested,
        filename=feed.filename,
        encoding=feed.encoding,
        delimiter=feed.delimiter,
        columns_ignored=list(feed.columns_ignored or []),
        quarantine_reasons=dict(feed.quarantine_reasons or {}),
        notes=list(feed.notes or []),
    )


def get_feed_report(session_factory: sessionmaker[Session], feed_id: str) -> FeedReport:
    """Return the stored report of one feed; raise NotFound for an unknown id."""
    with session_factory() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            raise NotFound(
                f"feed {feed_id} not found; list feeds with `john feeds list`",
                problems=[FieldProblem("feed_id", "not found")],
            )
        return _report_from_feed(feed)


def list_feeds(
    session_factory: sessionmaker[Session],
    *,
    source: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[FeedReport]]:
    """Return the number of feeds and one page of their reports, newest first."""
    with session_factory() as session:
        query = select(Feed)
        counted = select(func.count()).select_from(Feed)
        if source is not None:
            query = query.where(Feed.source_ukprn == source)
            counted = counted.where(Feed.source_ukprn == source)
        total = session.scalar(counted) or 0
        feeds = session.scalars(
            query.order_by(Feed.received_at.desc(), Feed.id).limit(limit).offset(offset)
        )
        return total, [_report_from_feed(feed) for feed in feeds]


def quarantine_page(
    session_factory: sessionmaker[Session],
    feed_id: str,
    *,
    offset: int = 0,
    limit: int = 100,
) -> QuarantinePage:
    """Return one page of a feed's quarantined problems in row order."""
    get_feed_report(session_factory, feed_id)
    with session_factory() as session:
        total = session.scalar(
            select(func.count())
            .select_from(QuarantinedRow)
            .where(QuarantinedRow.feed_id == feed_id)
        )
        items = list(
            session.scalars(
                select(QuarantinedRow)
                .where(QuarantinedRow.feed_id == feed_id)
                .order_by(QuarantinedRow.row_number, QuarantinedRow.id)
                .limit(limit)
                .offset(offset)
            )
        )
        session.expunge_all()
    return QuarantinePage(feed_id, total or 0, offset, limit, items)


__all__ = [
    "FeedReport",
    "Progress",
    "QuarantinePage",
    "get_feed_report",
    "ingest_feed",
    "list_feeds",
    "quarantine_page",
]
