"""Access rules for learner records and feeds.

Consortium staff (curators and administrators) may search learners and read
any record. A learner may read their own record. A provider may read its own
feeds. Everyone else is refused until consent grants decide their access.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from john.auth.principal import Principal
from john.errors import Forbidden
from john.records.joined import LearnerRecord, resolve_learner

STAFF_ROLES = frozenset({"curator", "administrator"})


def check_search(principal: Principal) -> None:
    """Raise Forbidden unless the caller is consortium staff."""
    if principal.role not in STAFF_ROLES:
        raise Forbidden(
            f"role {principal.role} may not search learners; searching is for "
            "curators and administrators"
        )


def check_record(session: Session, principal: Principal, record: LearnerRecord) -> None:
    """Raise Forbidden unless the caller is staff or the learner themselves.

    A learner account is bound to one learner id, which may since have been
    merged, so it is resolved before comparing.
    """
    if principal.role in STAFF_ROLES:
        return
    if principal.role == "learner" and principal.learner_id:
        own = resolve_learner(session, principal.learner_id)
        if own.id == record.learner_id:
            return
    # TODO: advisers and providers need a consent grant to read a record; until
    # consent checks exist they are refused.
    raise Forbidden(
        f"role {principal.role} may not read learner {record.requested_id}; ask "
        "the learner for consent or a curator for help"
    )


def check_feed(principal: Principal, source_ukprn: str) -> None:
    """Raise Forbidden unless the caller is staff or the provider that sent the feed."""
    if principal.role in STAFF_ROLES:
        return
    if principal.role == "provider" and principal.ukprn == source_ukprn:
        return
    raise Forbidden(
        f"role {principal.role} may not read feeds from UKPRN {source_ukprn}; "
        "providers see their own feeds only"
    )
