"""REST API for finding learners and reading their joined-up record.

Both endpoints need a token with ``records:read``. Searching is for curators
and administrators. What a record read shows is decided by
:mod:`john.consent.access`, and each read is written to the audit trail. A
caller who may see nothing of a learner gets 404, as for an unknown id.

The router lives in the web face, not in ``records``, because it applies
consent, which builds on ``records``.

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

from john.auth.deps import require
from john.auth.principal import Principal
from john.deps import get_session
from john.records.joined import MAX_LIMIT
from john.records.learner_schemas import LearnerOut, LearnerSearchOut
from john.web.learner_access import read_learner, search_learners

router = APIRouter(prefix="/api/v1/learners", tags=["learners"])

ReadSession = Annotated[Session, Depends(get_session)]
RecordReader = Annotated[Principal, Depends(require(scope="records:read"))]


@router.get("", response_model=LearnerSearchOut)
def search(
    session: ReadSession,
    principal: RecordReader,
    q: str = Query(
        min_length=1,
        description="A name (start of given and/or family name) or a full "
        "identifier: ULN, UPN, NI number, UCAS Personal ID or HUSID.",
    ),
    limit: int = Query(20, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0),
) -> LearnerSearchOut:
    """Find learners by name or identifier."""
    found = search_learners(
        session, principal, q, limit=limit, offset=offset, action="api:learner_search"
    )
    return LearnerSearchOut.of(found)


@router.get("/{learner_id}", response_model=LearnerOut)
def read(
    learner_id: str,
    response: Response,
    session: ReadSession,
    principal: RecordReader,
) -> LearnerOut:
    """Read a learner's joined-up record, following merges to the survivor."""
    record = read_learner(session, principal, learner_id, action="api:learner_read")
    if record.was_merged:
        response.headers["Content-Location"] = f"/api/v1/learners/{record.learner_id}"
    return LearnerOut.of(record)
