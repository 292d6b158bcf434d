"""Feed reports: what happened to a feed, built fresh or read back from the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from john.records.models import Feed, QuarantinedRow


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


def report_from_feed(feed: Feed, *, already_ingested: bool = False) -> FeedReport:
    """Rebuild the report of a stored feed."""
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
