"""Find the learner a claimed identity belongs to.

Two stages: an exact match on folded name and date of birth, or on an
identifier and date of birth, resolves most requests from indexed columns. Only
when it finds nothing does the linkage model (``find_learner_candidates``)
score the claim, because that scores the claim against every stored person
record and takes seconds on a large store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from john.identity.models import PersonRecord

log = logging.getLogger(__name__)

# Candidates at or above this probability count as the learner; two or more
# distinct learners above it make the identity ambiguous.
MATCH_THRESHOLD = 0.9

IDENTIFIER_COLUMNS = ("uln", "upn", "ni_number", "ucas_id", "husid")


@dataclass
class Candidate:
    """A learner that may be the claimed person, as linkage returns it."""

    learner_id: str
    match_probability: float
    matched_fields: list[str] = field(default_factory=list)


@dataclass
class IdentityMatch:
    """The outcome of matching one claimed identity."""

    learner_id: str | None
    matched_fields: list[str]
    ambiguous_learner_ids: list[str] = field(default_factory=list)

    @property
    def ambiguous(self) -> bool:
        """Return whether two or more learners match equally well."""
        return len(self.ambiguous_learner_ids) > 1


def _exact_candidates(
    session_factory: sessionmaker[Session],
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    postcode: str | None = None,
    identifiers: dict[str, str] | None = None,
) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    with session_factory() as session:
        by_name = session.execute(
            select(PersonRecord.learner_id, PersonRecord.postcode).where(
                PersonRecord.date_of_birth == date_of_birth,
                func.lower(PersonRecord.family_name) == family_name.strip().lower(),
                func.lower(PersonRecord.given_name) == given_name.strip().lower(),
                PersonRecord.learner_id.is_not(None),
            )
        ).all()
        for learner_id, stored_postcode in by_name:
            fields = ["given_name", "family_name", "date_of_birth"]
            if (
                postcode
                and stored_postcode
                and _same_postcode(postcode, stored_postcode)
            ):
                fields.append("postcode")
            found[learner_id] = Candidate(learner_id, 0.95, fields)

        for scheme, value in (identifiers or {}).items():
            if scheme not in IDENTIFIER_COLUMNS or not value:
                continue
            column = getattr(PersonRecord, scheme)
            for (learner_id,) in session.execute(
                select(PersonRecord.learner_id).where(
                    column == value.replace(" ", "").upper(),
                    PersonRecord.date_of_birth == date_of_birth,
                    PersonRecord.learner_id.is_not(None),
                )
            ):
                candidate = found.setdefault(
                    learner_id, Candidate(learner_id, 0.99, ["date_of_birth"])
                )
                candidate.match_probability = 0.99
                candidate.matched_fields.append(scheme)
    return list(found.values())


def _same_postcode(left: str, right: str) -> bool:
    return left.replace(" ", "").upper() == right.replace(" ", "").upper()


def find_candidates(
    session_factory: sessionmaker[Session], **identity: Any
) -> list[Candidate]:
    """Return exact candidates, or the linkage model's when there are none."""
    exact = _exact_candidates(session_factory, **identity)
    if exact:
        return exact
    from john.identity.service import find_learner_candidates

    found = find_learner_candidates(session_factory, **identity)
    return [
        Candidate(c.learner_id, float(c.match_probability), list(c.matched_fields))
        for c in found
    ]


def match_identity(
    session_factory: sessionmaker[Session],
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    postcode: str | None = None,
    identifiers: dict[str, str] | None = None,
) -> IdentityMatch:
    """Return the one learner the identity belongs to, or why there is none."""
    candidates = find_candidates(
        session_factory,
        given_name=given_name,
        family_name=family_name,
        date_of_birth=date_of_birth,
        postcode=postcode,
        identifiers=identifiers or None,
    )
    strong = sorted(
        (c for c in candidates if c.match_probability >= MATCH_THRESHOLD),
        key=lambda c: -c.match_probability,
    )
    distinct = list(dict.fromkeys(c.learner_id for c in strong))
    if len(distinct) == 1:
        return IdentityMatch(distinct[0], sorted(set(strong[0].matched_fields)))
    if len(distinct) > 1:
        return IdentityMatch(None, [], ambiguous_learner_ids=distinct)
    return IdentityMatch(None, [])
