"""Right-to-work checks an employer recorded, confirmable to the next employer.

Only who checked, when, how and until when is stored. The immigration data
seen during the check (documents, share codes, nationality, visa details)
never enters the hub, so it cannot be confirmed onward either.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.auth.principal import Principal
from john.consent.access import grantee_key, require_visibility
from john.consent.audit import AuditEvent, EventType, append
from john.consent.models import RightToWorkCheck
from john.db import new_public_id, utcnow
from john.errors import InvalidInput


class RightToWorkIn(BaseModel):
    """An employer's record of a check it made."""

    learner_id: str = Field(min_length=1, max_length=40)
    checked_by: str = Field(
        min_length=1, max_length=200, description="Name or role of who checked."
    )
    checked_on: date
    valid_until: date | None = Field(
        default=None, description="End of a time-limited right; empty if unlimited."
    )
    method: Literal["online_share_code", "manual_document", "employer_checking_service"]


def record_check(
    session: Session, employer: Principal, check: RightToWorkIn
) -> RightToWorkCheck:
    """Store a check for a learner the employer may see; the caller commits."""
    require_visibility(session, employer, check.learner_id, "record right to work")
    today = utcnow().date()
    if check.checked_on > today:
        raise InvalidInput(f"checked_on {check.checked_on} is in the future")
    if check.valid_until is not None and check.valid_until < check.checked_on:
        raise InvalidInput("valid_until is before checked_on; check the dates")
    stored = RightToWorkCheck(
        id=new_public_id("W"),
        learner_id=check.learner_id,
        employer=grantee_key(employer),
        checked_by=check.checked_by,
        checked_on=check.checked_on,
        valid_until=check.valid_until,
        method=check.method,
        recorded_by=employer.subject,
        created_at=utcnow(),
    )
    session.add(stored)
    session.flush()
    append(
        session,
        AuditEvent.by(
            employer,
            EventType.RIGHT_TO_WORK_RECORDED,
            "record right to work",
            learner_id=check.learner_id,
            purpose="right to work check",
            object_ids=(stored.id,),
        ),
    )
    return stored


def confirm_checks(
    session: Session, employer: Principal, learner_id: str
) -> dict[str, Any]:
    """Return the current checks other employers recorded, with consent."""
    require_visibility(session, employer, learner_id, "confirm right to work")
    today = utcnow().date()
    rows = session.scalars(
        select(RightToWorkCheck)
        .where(RightToWorkCheck.learner_id == learner_id)
        .order_by(RightToWorkCheck.checked_on.desc())
    ).all()
    current = [
        {
            "id": row.id,
            "employer": row.employer,
            "checked_by": row.checked_by,
            "checked_on": row.checked_on.isoformat(),
            "valid_until": row.valid_until.isoformat() if row.valid_until else None,
            "method": row.method,
        }
        for row in rows
        if row.valid_until is None or row.valid_until >= today
    ]
    append(
        session,
        AuditEvent.by(
            employer,
            EventType.RIGHT_TO_WORK_CONFIRMED,
            "confirm right to work",
            learner_id=learner_id,
            purpose="right to work check",
            object_ids=tuple(item["id"] for item in current),
            outcome="confirmed" if current else "none",
        ),
    )
    return {"learner_id": learner_id, "confirmed": bool(current), "checks": current}
