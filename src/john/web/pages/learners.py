"""Pages for searching learners, reading a joined-up record, and feeds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from john.auth.deps import require
from john.consent.deps import feed_access, learner_access
from john.db import page_offset
from john.errors import InvalidInput, NotFound
from john.records.joined import (
    IDENTIFIER_LABELS,
    get_learner_record,
    provider_names,
    search_learners,
)
from john.records.models import Feed, QuarantinedRow
from john.web.deps import get_session
from john.web.templating import templates

router = APIRouter(include_in_schema=False)

ReadSession = Annotated[Session, Depends(get_session)]

PAGE_SIZE = 20
QUARANTINE_PAGE_SIZE = 100
FEEDS_SHOWN = 200

FIELD_LABELS = {
    "given_name": "Given name",
    "family_name": "Family name",
    "date_of_birth": "Date of birth",
    "postcode": "Postcode",
    **IDENTIFIER_LABELS,
}


@router.get(
    "/learners",
    response_class=HTMLResponse,
    dependencies=[Depends(require(roles=("curator", "administrator")))],
)
def learner_search_page(
    request: Request,
    session: ReadSession,
    q: str | None = Query(None),
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    """Render the search form and, when a query was sent, its results."""
    context: dict[str, object] = {"title": "Search learners", "q": q or ""}
    status = 200
    if q is not None:
        try:
            context["results"] = search_learners(
                session, q, limit=PAGE_SIZE, offset=page_offset(page, PAGE_SIZE)
            )
            context["page"] = page
        except InvalidInput as error:
            context["error"] = error.detail
            context["title"] = "Error: Search learners"
            status = 422
    return templates.TemplateResponse(
        request, "learners/search.html", context, status_code=status
    )


@router.get(
    "/learners/{learner_id}",
    response_class=HTMLResponse,
    dependencies=[Depends(learner_access("read joined record page"))],
)
def learner_page(
    request: Request, learner_id: str, session: ReadSession
) -> HTMLResponse:
    """Render one learner's joined-up record with provenance."""
    try:
        record = get_learner_record(session, learner_id)
    except NotFound as error:
        return templates.TemplateResponse(
            request,
            "learners/not_found.html",
            {"title": "Learner not found", "detail": error.detail},
            status_code=404,
        )
    return templates.TemplateResponse(
        request,
        "learners/record.html",
        {
            "title": "Learner record",
            "record": record,
            "identifier_labels": IDENTIFIER_LABELS,
            "disagreements": set(record.disagreements),
            "field_labels": FIELD_LABELS,
        },
    )


@router.get(
    "/feeds",
    response_class=HTMLResponse,
    dependencies=[Depends(require(roles=("curator", "administrator")))],
)
def feeds_page(request: Request, session: ReadSession) -> HTMLResponse:
    """Render the most recent feeds with their row counts."""
    total = session.scalar(select(func.count()).select_from(Feed)) or 0
    feeds = session.scalars(
        select(Feed).order_by(Feed.received_at.desc(), Feed.id).limit(FEEDS_SHOWN)
    ).all()
    names = provider_names(session, [feed.source_ukprn for feed in feeds])
    return templates.TemplateResponse(
        request,
        "feeds/list.html",
        {"title": "Feeds", "feeds": feeds, "names": names, "total": total},
    )


@router.get(
    "/feeds/{feed_id}",
    response_class=HTMLResponse,
    dependencies=[Depends(feed_access)],
)
def feed_page(
    request: Request,
    feed_id: str,
    session: ReadSession,
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    """Render one feed's counts and its quarantined rows with field and reason."""
    feed = session.get(Feed, feed_id)
    if feed is None:
        return templates.TemplateResponse(
            request,
            "learners/not_found.html",
            {
                "title": "Feed not found",
                "detail": f"no feed has id {feed_id!r}; choose one from the feeds list",
            },
            status_code=404,
        )
    rows = session.scalars(
        select(QuarantinedRow)
        .where(QuarantinedRow.feed_id == feed_id)
        .order_by(QuarantinedRow.row_number, QuarantinedRow.id)
        .limit(QUARANTINE_PAGE_SIZE)
        .offset(page_offset(page, QUARANTINE_PAGE_SIZE))
    ).all()
    problems = (
        session.scalar(
            select(func.count())
            .select_from(QuarantinedRow)
            .where(QuarantinedRow.feed_id == feed_id)
        )
        or 0
    )
    names = provider_names(session, [feed.source_ukprn])
    return templates.TemplateResponse(
        request,
        "feeds/detail.html",
        {
            "title": "Feed",
            "feed": feed,
            "source_name": names.get(feed.source_ukprn),
            "rows": rows,
            "problems": problems,
            "page": page,
            "page_size": QUARANTINE_PAGE_SIZE,
        },
    )
