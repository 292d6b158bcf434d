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
import tempfile
from datetime import date
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from john.db import check_window, new_public_id, translate_errors, utcnow
from john.errors import Conflict, FeedError, FieldProblem, InvalidInput, NotFound
from john.records.feeds import check_encoding, detect_format, open_reader
from john.records.mappings import Mapping, check_feed_type, load_mapping
from john.records.models import Feed, QuarantinedRow
from john.records.pipeline import Progress, StoreClash, store_feed
from john.records.reports import FeedReport, QuarantinePage, report_from_feed
from john.records.validation import RowValidator, identifiers, load_registers

log = logging.getLogger(__name__)

SPOOL_MEMORY_BYTES = 8 * 1024 * 1024
# Largest pages of feed reports and of quarantined problems, as the API allows.
MAX_FEEDS_PAGE = 500
MAX_QUARANTINE_PAGE = 1000


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

    Raises FeedError when the file as a whole cannot be taken: it is empty,
    has no usable header or lacks required columns, or the source is not a
    valid UKPRN or not on the provider register. Raises InvalidInput for a bad
    type or mapping, and Conflict when another feed from the same source
    stores the same rows at the same time.
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
                return report_from_feed(earlier, already_ingested=True)
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
            with translate_errors():
                return store_feed(
                    session_factory, report, reader, validator, size, progress
                )
        except StoreClash as error:
            return _after_clash(session_factory, report, error)
    finally:
        if owned:
            body.close()


def _check_source(source: str) -> str:
    try:
        return identifiers.validate_ukprn(source)
    except identifiers.InvalidIdentifier as error:
        raise FeedError(
            f"source is not a valid UKPRN. {error.safe_message} Pass the sending "
            "organisation's UKPRN.",
            problems=[FieldProblem("source", error.safe_message)],
        ) from error


def _spool_and_hash(stream: BinaryIO) -> tuple[BinaryIO, str, int, bool]:
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
    return spool, digest.hexdigest(), size, True  # type: ignore[return-value]


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


def _after_clash(
    session_factory: sessionmaker[Session], report: FeedReport, error: StoreClash
) -> FeedReport:
    """Return the earlier report when a concurrent request stored the same file.

    Raises Conflict when the clash was with another file's rows.
    """
    with session_factory() as session:
        earlier = _find_feed(
            session, report.source, report.feed_type, report.content_sha256
        )
    if earlier is None:
        raise Conflict(
            f"another feed from {report.source} stored some of the same rows while "
            "this one was running; send this feed again"
        ) from error
    log.info("feed %s stored by a concurrent request; nothing changed", earlier.id)
    return report_from_feed(earlier, already_ingested=True)


def get_feed_report(session_factory: sessionmaker[Session], feed_id: str) -> FeedReport:
    """Return the stored report of one feed; raise NotFound for an unknown id."""
    with session_factory() as session:
        feed = session.get(Feed, feed_id)
        if feed is None:
            raise NotFound(
                f"feed {feed_id} not found; list feeds with `john feeds list`",
                problems=[FieldProblem("feed_id", "not found")],
            )
        return report_from_feed(feed)


def list_feeds(
    session_factory: sessionmaker[Session],
    *,
    source: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[FeedReport]]:
    """Return the number of feeds and one page of their reports, newest first."""
    check_window(limit, offset, MAX_FEEDS_PAGE)
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
        return total, [report_from_feed(feed) for feed in feeds]


def quarantine_page(
    session_factory: sessionmaker[Session],
    feed_id: str,
    *,
    offset: int = 0,
    limit: int = 100,
) -> QuarantinePage:
    """Return one page of a feed's quarantined problems in row order."""
    check_window(limit, offset, MAX_QUARANTINE_PAGE)
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
