"""REST API for finding learners and reading their joined-up record.

A request for a learner that linkage has since merged into another returns
200 with the surviving learner, ``merged`` set and ``requested_id`` echoing
the old id, plus a ``Content-Location`` header naming the surviving record.
A redirect would hide the merge from clients that follow redirects silently,
and a client holding the old id needs to learn the new one to update it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from john.deps import RowOffset, access_check, get_session
from john.records.joined import MAX_LIMIT, get_learner_record, search_learners
from john.records.learner_schemas import LearnerOut, LearnerSearchOut

router = APIRouter(prefix="/api/v1/learners", tags=["learners"])


ReadSession = Annotated[Session, Depends(get_session)]


@router.get(
    "",
    response_model=LearnerSearchOut,
    dependencies=[Depends(access_check("learner_search"))],
)
def search(
    session: ReadSession,
    q: str = Query(
        min_length=1,
        description="A name (start of given and/or family name) or a full "
        "identifier: ULN, UPN, NI number, UCAS Personal ID or HUSID.",
    ),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    offset: RowOffset = 0,
) -> LearnerSearchOut:
    """Find learners by name or identifier."""
    return LearnerSearchOut.of(search_learners(session, q, limit=limit, offset=offset))


@router.get(
    "/{learner_id}",
    response_model=LearnerOut,
    dependencies=[Depends(access_check("learner_read"))],
)
def read(learner_id: str, response: Response, session: ReadSession) -> LearnerOut:
    """Read a learner's joined-up record, following merges to the survivor."""
    record = get_learner_record(session, learner_id)
    if record.was_merged:
        response.headers["Content-Location"] = f"/api/v1/learners/{record.learner_id}"
    return LearnerOut.of(record)
