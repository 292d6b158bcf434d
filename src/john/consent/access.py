"""Who may see which part of a learner's record, decided and audited.

The rules, in order: a learner sees their own record; curators and
administrators see any record; a provider sees the rows it sent itself for
learners it holds; a verifier, adviser or provider with a live consent grant
sees the parts the grant covers. Everyone else is told the learner does not
exist (404), so learner ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Select, bindparam, exists, select
from sqlalchemy.orm import Session

from john.auth.principal import Principal
from john.consent.audit import AuditEvent, EventType, append
from john.consent.models import ConsentGrant
from john.db import utcnow
from john.errors import NotFound
from john.identity.models import Learner, PersonRecord
from john.records.models import Achievement, Experience

STAFF_ROLES = frozenset({"curator", "administrator"})
CATEGORIES = ("achievements", "experiences")


def grantee_key(principal: Principal) -> str:
    """Return the name a consent grant uses for the principal's organisation.

    Providers are keyed by UKPRN (``ukprn:10000001``) because their name in a
    grant must not be spoofable by a verifier choosing the same display name.
    """
    if principal.role == "provider" and principal.ukprn:
        return f"ukprn:{principal.ukprn}"
    return principal.organisation or principal.subject


@dataclass
class Visibility:
    """Which parts of one learner's record a principal may see."""

    learner_id: str
    whole_record: bool = False
    categories: set[str] = field(default_factory=set)
    achievement_ids: set[int] = field(default_factory=set)
    experience_ids: set[int] = field(default_factory=set)
    own_source: str | None = None
    grant_ids: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        """Return whether any part is visible."""
        return bool(
            self.whole_record
            or self.own_source
            or self.categories
            or self.achievement_ids
            or self.experience_ids
        )

    def shows_achievement(self, achievement: Achievement) -> bool:
        """Return whether one achievement is visible."""
        return (
            self.whole_record
            or achievement.source_ukprn == self.own_source
            or "achievements" in self.categories
            or achievement.id in self.achievement_ids
        )

    def shows_experience(self, experience: Experience) -> bool:
        """Return whether one experience is visible."""
        return (
            self.whole_record
            or experience.source_ukprn == self.own_source
            or "experiences" in self.categories
            or experience.id in self.experience_ids
        )


def resolve_learner(session: Session, learner_id: str) -> Learner | None:
    """Return the learner, following merges to the surviving learner."""
    learner = session.get(Learner, learner_id)
    seen = set()
    while learner is not None and learner.merged_into and learner.id not in seen:
        seen.add(learner.id)
        learner = session.get(Learner, learner.merged_into)
    return learner


def _merged_learners() -> Select[tuple[str]]:
    # The learner itself and, transitively, every learner merged into it.
    merged = (
        select(Learner.id)
        .where(Learner.id == bindparam("learner_id"))
        .cte("merged", recursive=True)
    )
    merged = merged.union_all(
        select(Learner.id).where(Learner.merged_into == merged.c.id)
    )
    return select(merged.c.id)


# Built once, because every verification and record read runs it.
_LIVE_GRANTS = select(ConsentGrant).where(
    ConsentGrant.learner_id.in_(_merged_learners()),
    ConsentGrant.grantee == bindparam("grantee"),
    ConsentGrant.revoked_at.is_(None),
    ConsentGrant.valid_until >= bindparam("today"),
)


def live_grants(
    session: Session, learner_id: str, grantee: str, today: date | None = None
) -> list[ConsentGrant]:
    """Return the unrevoked, unexpired grants from a learner to a grantee.

    Grants given under a learner id that linkage later merged into this one
    count too, because the person who gave them is the same.
    """
    params = {
        "learner_id": learner_id,
        "grantee": grantee,
        "today": today or utcnow().date(),
    }
    return list(session.scalars(_LIVE_GRANTS, params))


def provider_holds_learner(session: Session, ukprn: str, learner_id: str) -> bool:
    """Return whether a provider has sent a record for this learner."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    PersonRecord.learner_id == learner_id,
                    PersonRecord.source_ukprn == ukprn,
                )
            )
        )
    )


def visibility(session: Session, principal: Principal, learner_id: str) -> Visibility:
    """Work out what ``principal`` may see of one learner's record."""
    seen = Visibility(learner_id=learner_id)
    if principal.role in STAFF_ROLES:
        seen.whole_record = True
        return seen
    if principal.role == "learner":
        # The account may hold a learner id that linkage has since merged.
        own = resolve_learner(session, principal.learner_id or "")
        seen.whole_record = own is not None and own.id == learner_id
        return seen
    if principal.role == "provider" and principal.ukprn:
        # Without consent a provider sees only the rows it sent itself.
        if provider_holds_learner(session, principal.ukprn, learner_id):
            seen.own_source = principal.ukprn

    if principal.role in ("verifier", "adviser", "provider"):
        for grant in live_grants(session, learner_id, grantee_key(principal)):
            seen.grant_ids.append(grant.id)
            seen.purposes.append(grant.purpose)
            if grant.scope == "record":
                seen.whole_record = True
            elif grant.scope == "category" and grant.scope_value in CATEGORIES:
                seen.categories.add(grant.scope_value)
            elif grant.scope == "achievement" and grant.scope_value:
                seen.achievement_ids.add(int(grant.scope_value))
            elif grant.scope == "experience" and grant.scope_value:
                seen.experience_ids.add(int(grant.scope_value))
    return seen


def require_visibility(
    session: Session, principal: Principal, learner_id: str, action: str
) -> Visibility:
    """Return what the principal may see, or raise 404 and audit the refusal."""
    learner = resolve_learner(session, learner_id)
    seen = (
        visibility(session, principal, learner.id)
        if learner is not None and learner.status != "erased"
        else Visibility(learner_id=learner_id)
    )
    if not seen.anything:
        append(
            session,
            AuditEvent.by(
                principal,
                EventType.ACCESS_DENIED,
                action,
                learner_id=learner.id if learner is not None else None,
                outcome="denied",
            ),
        )
        session.commit()
        raise NotFound(
            f"learner {learner_id} not found, or you have no consent to see them"
        )
    return seen


# Built once, because every verification reads a learner's achievements.
_ACHIEVEMENTS = (
    select(Achievement, PersonRecord)
    .join(PersonRecord, Achievement.person_record_id == PersonRecord.id)
    .where(PersonRecord.learner_id == bindparam("learner_id"))
    .order_by(Achievement.awarded_on, Achievement.id)
)
_EXPERIENCES = (
    select(Experience, PersonRecord)
    .join(PersonRecord, Experience.person_record_id == PersonRecord.id)
    .where(PersonRecord.learner_id == bindparam("learner_id"))
    .order_by(Experience.started_on, Experience.id)
)


def visible_achievements(
    session: Session, seen: Visibility
) -> list[tuple[Achievement, PersonRecord]]:
    """Return the learner's achievements that ``seen`` allows, oldest first."""
    rows = session.execute(_ACHIEVEMENTS, {"learner_id": seen.learner_id}).all()
    return [(a, p) for a, p in rows if seen.shows_achievement(a)]


def visible_experiences(
    session: Session, seen: Visibility
) -> list[tuple[Experience, PersonRecord]]:
    """Return the learner's experiences that ``seen`` allows, oldest first."""
    rows = session.execute(_EXPERIENCES, {"learner_id": seen.learner_id}).all()
    return [(e, p) for e, p in rows if seen.shows_experience(e)]
