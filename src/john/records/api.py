"""The feeds API: send a feed, read reports and quarantined rows.

A feed arrives as the request body (``text/csv``, ``application/json`` or
``application/x-ndjson``) or as a multipart upload with a ``file`` part and
an optional ``mapping`` part (a TOML or JSON mapping file).
"""

from __future__ import annotations

import tempfile
from typing import IO, Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from john.deps import RowOffset, access_check
from john.errors import FieldProblem, InvalidInput
from john.records.mappings import Mapping, load_mapping_text
from john.records.schemas import FeedListOut, FeedReportOut, QuarantinePageOut
from john.records.service import (
    MAX_FEEDS_PAGE,
    MAX_QUARANTINE_PAGE,
    get_feed_report,
    ingest_feed,
    list_feeds,
    quarantine_page,
)

router = APIRouter(prefix="/api/v1/feeds", tags=["feeds"])

BODY_FORMATS = {
    "text/csv": "csv",
    "text/tab-separated-values": "csv",
    "application/json": "json",
    "application/x-ndjson": "json",
    "application/jsonl": "json",
}
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024


@router.post(
    "",
    status_code=201,
    response_model=FeedReportOut,
    responses={200: {"model": FeedReportOut, "description": "Already ingested."}},
    summary="Send a feed",
    dependencies=[Depends(access_check("feed_send"))],
)
async def post_feed(
    request: Request,
    response: Response,
    source: Annotated[str, Query(description="UKPRN of the sending organisation.")],
    feed_type: Annotated[
        str, Query(alias="type", description="achievements or experiences.")
    ],
    mapping: Annotated[
        str, Query(description="'standard', or send a mapping part in multipart.")
    ] = "standard",
    encoding: Annotated[str, Query(description="Text encoding of the file.")] = "utf-8",
) -> FeedReportOut:
    """Ingest a feed and return its report: 201 when stored, 200 for a repeat."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    content_type = content_type.lower()
    chosen: str | Mapping = mapping
    if mapping != "standard":
        raise InvalidInput(
            f"mapping {mapping!r} cannot be named over the API; use 'standard' or "
            "send the mapping file as the 'mapping' part of a multipart upload",
            problems=[FieldProblem("mapping", "must be 'standard'")],
        )

    if content_type == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput(
                "multipart upload has no 'file' part; send the feed as a part "
                "named file",
                problems=[FieldProblem("file", "missing")],
            )
        mapping_part = form.get("mapping")
        if isinstance(mapping_part, UploadFile):
            chosen = await _read_mapping(mapping_part, feed_type)
        stream: IO[bytes] = upload.file
        filename = upload.filename
        part_type = (upload.content_type or "").split(";")[0].strip().lower()
        file_format = BODY_FORMATS.get(part_type)
    else:
        file_format = BODY_FORMATS.get(content_type)
        if file_format is None:
            raise InvalidInput(
                f"content type {content_type or 'none'!r} is not a feed; send "
                "text/csv, application/json, application/x-ndjson or multipart",
                problems=[FieldProblem("content-type", "not a feed format")],
            )
        stream = await _spool_body(request)
        filename = None

    try:
        report = await run_in_threadpool(
            ingest_feed,
            request.app.state.sessions,
            source,
            feed_type,
            stream,  # type: ignore[arg-type]
            mapping=chosen,
            file_format=file_format,
            filename=filename,
            encoding=encoding,
        )
    finally:
        stream.close()
    response.status_code = 200 if report.already_ingested else 201
    response.headers["Location"] = f"/api/v1/feeds/{report.feed_id}"
    return FeedReportOut.from_report(report)


async def _spool_body(request: Request) -> IO[bytes]:
    """Copy the request body to a spool file, so large feeds never sit in memory."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
    async for chunk in request.stream():
        spool.write(chunk)
    spool.seek(0)
    return spool  # type: ignore[return-value]


async def _read_mapping(part: UploadFile, feed_type: str) -> Mapping:
    data = await part.read()
    name = part.filename or "uploaded"
    suffix = ".json" if name.lower().endswith(".json") else ".toml"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            "mapping part is not UTF-8 text; save the mapping file as UTF-8",
            problems=[FieldProblem("mapping", "not UTF-8")],
        ) from error
    return load_mapping_text(
        text, feed_type, name=name.rsplit(".", 1)[0], suffix=suffix
    )


@router.get(
    "",
    response_model=FeedListOut,
    summary="List feeds",
    dependencies=[Depends(access_check("feed_list"))],
)
def get_feeds(
    request: Request,
    source: Annotated[str | None, Query(description="Only this UKPRN's feeds.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEEDS_PAGE)] = 50,
    offset: RowOffset = 0,
) -> FeedListOut:
    """List feed reports, newest first."""
    total, reports = list_feeds(
        request.app.state.sessions, source=source, limit=limit, offset=offset
    )
    return FeedListOut(
        total=total,
        limit=limit,
        offset=offset,
        items=[FeedReportOut.from_report(report) for report in reports],
    )


@router.get(
    "/{feed_id}",
    response_model=FeedReportOut,
    summary="Read a feed's report",
    dependencies=[Depends(access_check("feed_read"))],
)
def get_feed(request: Request, feed_id: str) -> FeedReportOut:
    """Return one feed's report."""
    return FeedReportOut.from_report(
        get_feed_report(request.app.state.sessions, feed_id)
    )


@router.get(
    "/{feed_id}/quarantine",
    response_model=QuarantinePageOut,
    summary="Page through a feed's quarantined rows",
    dependencies=[Depends(access_check("feed_read"))],
)
def get_quarantine(
    request: Request,
    feed_id: str,
    limit: Annotated[int, Query(ge=1, le=MAX_QUARANTINE_PAGE)] = 100,
    offset: RowOffset = 0,
) -> QuarantinePageOut:
    """Return one page of the feed's quarantined problems with the raw rows."""
    page = quarantine_page(
        request.app.state.sessions, feed_id, offset=offset, limit=limit
    )
    return QuarantinePageOut.from_page(page)
