"""Consent-checked, audited reads of learners for the pages and the API.

Both faces show learner records through these functions, so the rules in
:mod:`john.consent.access` decide what each caller sees, and every read and
every refusal is written to the audit trail.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.orm import Session

from john.auth.principal import Principal
from john.consent.access import STAFF_ROLES, Visibility, require_visibility
from john.consent.audit import AuditEvent, EventType, append
from john.errors import Forbidden
from john.records.joined import LearnerRecord, LearnerSearch, get_learner_record
from john.records.joined import search_learners as run_search


def read_learner(
    session: Session, principal: Principal, learner_id: str, action: str
) -> LearnerRecord:
    """Return the parts of a learner's record the caller may see, and audit it.

    Raises NotFound, audited as a refusal, when the learner does not exist or
    the caller may see none of the record, so ids cannot be probed.
    """
    seen = require_visibility(session, principal, learner_id, action)
    record = _visible_part(get_learner_record(session, learner_id), seen)
    append(
        session,
        AuditEvent.by(
            principal,
            EventType.RECORD_READ,
            action,
            learner_id=record.learner_id,
            purpose=", ".join(seen.purposes) or None,
            object_ids=tuple(seen.grant_ids),
        ),
    )
    session.commit()
    return record


def _visible_part(record: LearnerRecord, seen: Visibility) -> LearnerRecord:
    if seen.whole_record:
        return record
    # A provider without consent sees the person records it sent itself, and a
    # grant for some achievements or experiences shows no other source's
    # identity details.
    return replace(
        record,
        persons=[
            person
            for person in record.persons
            if person.provenance.source_ukprn == seen.own_source
        ],
        achievements=[
            row
            for row in record.achievements
            if row.provenance.source_ukprn == seen.own_source
            or "achievements" in seen.categories
            or row.id in seen.achievement_ids
        ],
        experiences=[
            row
            for row in record.experiences
            if row.provenance.source_ukprn == seen.own_source
            or "experiences" in seen.categories
            or row.id in seen.experience_ids
        ],
    )


def require_staff(principal: Principal) -> None:
    """Raise Forbidden unless the caller is a curator or an administrator."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(
            f"role {principal.role} may not search learners; searching is for "
            "curators and administrators"
        )


def search_learners(
    session: Session,
    principal: Principal,
    query: str,
    *,
    limit: int,
    offset: int,
    action: str,
) -> LearnerSearch:
    """Search learners for consortium staff, auditing which learners were listed.

    Raises Forbidden for any other role, and InvalidInput for a bad query.
    """
    require_staff(principal)
    found = run_search(session, query, limit=limit, offset=offset)
    append(
        session,
        AuditEvent.by(
            principal,
            EventType.RECORD_READ,
            action,
            object_ids=tuple(match.learner_id for match in found.learners),
            detail={"results": found.total},
        ),
    )
    session.commit()
    return found
