"""Pages for searching learners, reading a joined-up record, and feeds."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from john.auth.deps import require
from john.auth.principal import Principal
from john.consent.access import STAFF_ROLES
from john.deps import get_session
from john.errors import Forbidden, InvalidInput, NotFound
from john.records.joined import IDENTIFIER_LABELS, provider_names
from john.records.models import Feed, QuarantinedRow
from john.web.learner_access import read_learner, require_staff, search_learners
from john.web.templating import templates

router = APIRouter(include_in_schema=False)

ReadSession = Annotated[Session, Depends(get_session)]
RecordReader = Annotated[Principal, Depends(require(scope="records:read"))]
FeedReader = Annotated[Principal, Depends(require(scope="feeds:read"))]

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


@router.get("/learners", response_class=HTMLResponse)
def learner_search_page(
    request: Request,
    session: ReadSession,
    principal: RecordReader,
    q: str | None = Query(None),
    page: int = Query(1, ge=1),
) -> HTMLResponse:
    """Render the search form and, when a query was sent, its results."""
    require_staff(principal)
    context: dict[str, object] = {"title": "Search learners", "q": q or ""}
    status = 200
    if q is not None:
        try:
            context["results"] = search_learners(
                session,
                principal,
                q,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                action="page:learner_search",
            )
            context["page"] = page
        except InvalidInput as error:
            context["error"] = error.detail
            context["title"] = "Error: Search learners"
            status = 422
    return templates.TemplateResponse(
        request, "learners/search.html", context, status_code=status
    )


@router.get("/learners/{learner_id}", response_class=HTMLResponse)
def learner_page(
    request: Request, learner_id: str, session: ReadSession, principal: RecordReader
) -> HTMLResponse:
    """Render one learner's joined-up record with provenance."""
    try:
        record = read_learner(session, principal, learner_id, "page:learner_read")
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


@router.get("/feeds", response_class=HTMLResponse)
def feeds_page(
    request: Request, session: ReadSession, principal: FeedReader
) -> HTMLResponse:
    """Render the most recent feeds with their row counts.

    Staff see every feed, and a provider sees the feeds it sent.
    """
    visible = select(Feed)
    if principal.role not in STAFF_ROLES:
        visible = visible.where(Feed.source_ukprn == (principal.ukprn or ""))
    total = session.scalar(select(func.count()).select_from(visible.subquery())) or 0
    feeds = session.scalars(
        visible.order_by(Feed.received_at.desc(), Feed.id).limit(FEEDS_SHOWN)
    ).all()
    names = provider_names(session, [feed.source_ukprn for feed in feeds])
    return templates.TemplateResponse(
        request,
        "feeds/list.html",
        {"title": "Feeds", "feeds": feeds, "names": names, "total": total},
    )


@router.get("/feeds/{feed_id}", response_class=HTMLResponse)
def feed_page(
    request: Request,
    feed_id: str,
    session: ReadSession,
    principal: FeedReader,
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
    _check_feed(principal, feed.source_ukprn)
    rows = session.scalars(
        select(QuarantinedRow)
        .where(QuarantinedRow.feed_id == feed_id)
        .order_by(QuarantinedRow.row_number, QuarantinedRow.id)
        .limit(QUARANTINE_PAGE_SIZE)
        .offset((page - 1) * QUARANTINE_PAGE_SIZE)
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


def _check_feed(principal: Principal, source_ukprn: str) -> None:
    """Raise Forbidden unless the caller is staff or the provider that sent it."""
    if principal.role in STAFF_ROLES:
        return
    if principal.role == "provider" and principal.ukprn == source_ukprn:
        return
    raise Forbidden(
        f"role {principal.role} may not read feeds from UKPRN {source_ukprn}; "
        "providers see their own feeds only"
    )
