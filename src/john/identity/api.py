"""REST endpoints for linkage runs, match reviews and learner history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from john.deps import DatabaseId, RowOffset, access_check, get_session
from john.errors import Unauthorised
from john.identity import service
from john.identity.models import Learner, PersonRecord
from john.identity.schemas import (
    DecisionIn,
    FieldComparison,
    LearnerHistoryOut,
    LinkageEventOut,
    LinkageReportOut,
    LinkageRunOut,
    MatchReviewDetail,
    MatchReviewOut,
    PersonRecordOut,
    run_out,
)

SessionDep = Annotated[Session, Depends(get_session)]

# Linkage shows and changes personal data, so each route names its check:
# staff for runs and reviews, the learner-read check for a learner's history.
router = APIRouter(prefix="/api/v1", tags=["linkage"])


def request_actor(request: Request) -> str:
    """Return the audit name of the caller that the access check admitted."""
    principal = getattr(request.state, "principal", None)
    actor = getattr(principal, "actor", None)
    if not actor:
        raise Unauthorised("this endpoint needs a signed-in staff member or token")
    return str(actor)[:100]


@router.post(
    "/linkage/runs",
    response_model=LinkageReportOut,
    dependencies=[Depends(access_check("linkage"))],
)
def start_run(
    request: Request,
    incremental: Annotated[
        bool,
        Query(description="Score only records without a learner, with no training."),
    ] = False,
) -> LinkageReportOut:
    """Run linkage over every person record and return the counts."""
    report = service.run_linkage(request.app.state.sessions, incremental=incremental)
    return LinkageReportOut(**report.as_dict())


@router.get(
    "/linkage/runs",
    response_model=list[LinkageRunOut],
    dependencies=[Depends(access_check("linkage"))],
)
def list_runs(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: RowOffset = 0,
) -> list[LinkageRunOut]:
    """List linkage runs, newest first."""
    return [run_out(run) for run in service.list_runs(session, limit, offset)]


@router.get(
    "/reviews",
    response_model=list[MatchReviewOut],
    dependencies=[Depends(access_check("linkage"))],
)
def list_reviews(
    session: SessionDep,
    status: Annotated[
        str, Query(description="pending, accepted or rejected")
    ] = "pending",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: RowOffset = 0,
) -> list[MatchReviewOut]:
    """List match reviews with a status, most probable first."""
    reviews = service.list_reviews(session, status, limit, offset)
    return [MatchReviewOut.model_validate(review) for review in reviews]


def review_detail(session: Session, review_id: int) -> MatchReviewDetail:
    """Build a review with both records and the field comparisons."""
    review = service.get_review(session, review_id)
    record_a = session.get(PersonRecord, review.record_a_id)
    record_b = session.get(PersonRecord, review.record_b_id)
    comparison = service.review_comparison(session, review)
    return MatchReviewDetail(
        **MatchReviewOut.model_validate(review).model_dump(),
        record_a=PersonRecordOut.model_validate(record_a),
        record_b=PersonRecordOut.model_validate(record_b),
        comparison=[FieldComparison(**row) for row in comparison],
    )


@router.get(
    "/reviews/{review_id}",
    response_model=MatchReviewDetail,
    dependencies=[Depends(access_check("linkage"))],
)
def get_review(review_id: DatabaseId, session: SessionDep) -> MatchReviewDetail:
    """Return a review with both records side by side and the comparison."""
    return review_detail(session, review_id)


@router.post(
    "/reviews/{review_id}/decision",
    response_model=MatchReviewOut,
    dependencies=[Depends(access_check("linkage"))],
)
def decide(review_id: DatabaseId, body: DecisionIn, request: Request) -> MatchReviewOut:
    """Accept or reject a pending review and apply it to the learners."""
    review = service.decide_review(
        request.app.state.sessions,
        review_id,
        body.decision,
        request_actor(request),
        body.reason,
    )
    return MatchReviewOut.model_validate(review)


@router.get(
    "/learners/{learner_id}/history",
    response_model=LearnerHistoryOut,
    dependencies=[Depends(access_check("learner_read"))],
)
def history(learner_id: str, session: SessionDep) -> LearnerHistoryOut:
    """Return a learner's status and linkage events, oldest first."""
    events = service.learner_history(session, learner_id)
    learner = session.get(Learner, learner_id)
    assert learner is not None
    return LearnerHistoryOut(
        learner_id=learner.id,
        status=learner.status,
        resolved_id=service.resolve_learner_id(session, learner_id),
        events=[LinkageEventOut.model_validate(event) for event in events],
    )
