"""API shapes for feeds: reports, lists and pages of quarantined rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from john.records.reports import FeedReport, QuarantinePage


class FeedReportOut(BaseModel):
    """The report of one feed; ``rows_read`` is the sum of the other three counts."""

    feed_id: str
    source: str = Field(description="UKPRN of the organisation that sent the feed.")
    feed_type: str
    file_format: str
    mapping: str
    received_at: datetime
    content_sha256: str
    filename: str | None
    encoding: str | None
    delimiter: str | None = Field(description="CSV delimiter used; null for JSON.")
    rows_read: int
    rows_accepted: int
    rows_quarantined: int
    rows_duplicate: int
    already_ingested: bool = Field(
        description="True when the same file was stored before; nothing changed."
    )
    columns_ignored: list[str]
    quarantine_reasons: dict[str, dict[str, int]] = Field(
        description="Per field, each reason and the number of rows it quarantined."
    )
    notes: list[str]

    @classmethod
    def from_report(cls, report: FeedReport) -> FeedReportOut:
        """Build the API shape of a service report."""
        return cls(
            feed_id=report.feed_id,
            source=report.source,
            feed_type=report.feed_type,
            file_format=report.file_format,
            mapping=report.mapping,
            received_at=report.received_at,
            content_sha256=report.content_sha256,
            filename=report.filename,
            encoding=report.encoding,
            delimiter=report.delimiter,
            rows_read=report.rows_read,
            rows_accepted=report.rows_accepted,
            rows_quarantined=report.rows_quarantined,
            rows_duplicate=report.rows_duplicate,
            already_ingested=report.already_ingested,
            columns_ignored=report.columns_ignored,
            quarantine_reasons=report.quarantine_reasons,
            notes=report.notes,
        )


class FeedListOut(BaseModel):
    """One page of feed reports, newest first."""

    total: int
    limit: int
    offset: int
    items: list[FeedReportOut]


class QuarantinedRowOut(BaseModel):
    """One problem of one quarantined row, with the row as it arrived."""

    row_number: int = Field(
        description="Data row number; 1 is the first after any header."
    )
    field: str
    reason: str
    raw: str | None


class QuarantinePageOut(BaseModel):
    """One page of a feed's quarantined problems, in row order."""

    feed_id: str
    total: int
    limit: int
    offset: int
    items: list[QuarantinedRowOut]

    @classmethod
    def from_page(cls, page: QuarantinePage) -> QuarantinePageOut:
        """Build the API shape of a service page."""
        return cls(
            feed_id=page.feed_id,
            total=page.total,
            limit=page.limit,
            offset=page.offset,
            items=[
                QuarantinedRowOut(
                    row_number=item.row_number,
                    field=item.field,
                    reason=item.reason,
                    raw=item.raw,
                )
                for item in page.items
            ],
        )
