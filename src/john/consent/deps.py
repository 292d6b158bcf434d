"""FastAPI dependencies that check object-level access and write the audit trail.

Other capabilities' routers put these on their decorators, so a learner id or
feed id in a path is checked before the handler runs. A caller who may not see
the object gets 404, the same as for an object that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from john.auth.deps import require
from john.auth.principal import Principal
from john.consent.access import STAFF_ROLES, Visibility, require_visibility
from john.consent.audit import AuditEvent, EventType, append
from john.errors import Forbidden, NotFound
from john.records.models import Feed

# Roles that may ever read a joined-up record; consent narrows it further.
RECORD_READERS = (
    "learner",
    "provider",
    "verifier",
    "adviser",
    "curator",
    "administrator",
)


def learner_access(
    action: str, *, whole_record: bool = True
) -> Callable[..., Visibility]:
    """Build a dependency admitting callers who may see the path's learner.

    With ``whole_record`` the caller must see everything: the learner, staff,
    or a grant of the whole record. A partial view counts as none, because the
    handler shows the full record. Each admitted read is audited.
    """

    def dependency(
        request: Request,
        principal: Annotated[Principal, Depends(require(roles=RECORD_READERS))],
    ) -> Visibility:
        learner_id = str(request.path_params.get("learner_id", ""))
        with request.app.state.sessions() as session:
            seen = require_visibility(session, principal, learner_id, action)
            if whole_record and not seen.whole_record:
                append(
                    session,
                    AuditEvent.by(
                        principal,
                        EventType.ACCESS_DENIED,
                        action,
                        learner_id=learner_id,
                        outcome="denied",
                    ),
                )
                session.commit()
                raise NotFound(
                    f"learner {learner_id} not found, or you have no consent to "
                    "see the whole record"
                )
            append(
                session,
                AuditEvent.by(
                    principal,
                    EventType.RECORD_READ,
                    action,
                    learner_id=learner_id,
                    purpose="; ".join(seen.purposes) or f"{principal.role} access",
                    object_ids=(learner_id,),
                    detail={"grants": seen.grant_ids},
                ),
            )
            session.commit()
        return seen

    return dependency


def feed_access(
    request: Request,
    principal: Annotated[
        Principal, Depends(require(roles=("provider", *sorted(STAFF_ROLES))))
    ],
) -> Principal:
    """Admit staff, or the provider whose UKPRN sent the path's feed (else 404)."""
    if principal.role in STAFF_ROLES:
        return principal
    feed_id = str(request.path_params.get("feed_id", ""))
    with request.app.state.sessions() as session:
        feed = session.get(Feed, feed_id)
    if feed is None or feed.source_ukprn != principal.ukprn:
        raise NotFound(f"feed {feed_id} not found")
    return principal


_STAFF_ONLY = require(roles=sorted(STAFF_ROLES))
_read_joined_record = learner_access("read joined record")


def check_learner_search(request: Request) -> None:
    """Admit only curators and administrators (searches, catalogue changes)."""
    _STAFF_ONLY(request)


def check_learner_read(request: Request) -> None:
    """Admit callers who may see the path's whole learner record, and audit."""
    principal = require(roles=RECORD_READERS)(request)
    _read_joined_record(request, principal)


def _query_source_matches(request: Request, principal: Principal) -> bool:
    return request.query_params.get("source") == principal.ukprn


def check_feed_send(request: Request) -> None:
    """Admit administrators, or a provider sending a feed as its own UKPRN."""
    principal = require("feeds:write", roles=("provider", "administrator"))(request)
    if principal.role == "provider" and not _query_source_matches(request, principal):
        raise Forbidden(
            f"a provider sends feeds as its own UKPRN {principal.ukprn}; set "
            "source to it"
        )


def check_feed_list(request: Request) -> None:
    """Admit staff, or a provider listing its own feeds (``source`` = its UKPRN)."""
    principal = require(roles=("provider", *sorted(STAFF_ROLES)))(request)
    if principal.role == "provider" and not _query_source_matches(request, principal):
        raise Forbidden(
            f"a provider lists only its own feeds; set source={principal.ukprn}"
        )


def check_feed_read(request: Request) -> None:
    """Admit staff, or the provider that sent the path's feed (else 404)."""
    principal = require(roles=("provider", *sorted(STAFF_ROLES)))(request)
    feed_access(request, principal)


_LINKAGE_STAFF = require("linkage:write", roles=sorted(STAFF_ROLES))


def check_linkage(request: Request) -> None:
    """Admit curators and administrators to linkage runs and match reviews."""
    _LINKAGE_STAFF(request)


ACCESS_CHECKS: dict[str, Callable[[Request], None]] = {
    "staff": check_learner_search,
    "learner_search": check_learner_search,
    "learner_read": check_learner_read,
    "feed_send": check_feed_send,
    "feed_list": check_feed_list,
    "feed_read": check_feed_read,
    "linkage": check_linkage,
}
