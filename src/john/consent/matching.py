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

from sqlalchemy import bindparam, func, select
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


_PEOPLE = PersonRecord.__table__
# Built once: the exact stage runs on every verification, and a prepared
# statement skips SQLAlchemy's per-call statement construction.
_BY_NAME = select(_PEOPLE.c.learner_id, _PEOPLE.c.postcode).where(
    _PEOPLE.c.date_of_birth == bindparam("date_of_birth"),
    func.lower(_PEOPLE.c.family_name) == bindparam("family_name"),
    func.lower(_PEOPLE.c.given_name) == bindparam("given_name"),
    _PEOPLE.c.learner_id.is_not(None),
)
_BY_IDENTIFIER = {
    scheme: select(_PEOPLE.c.learner_id).where(
        _PEOPLE.c[scheme] == bindparam("value"),
        _PEOPLE.c.date_of_birth == bindparam("date_of_birth"),
        _PEOPLE.c.learner_id.is_not(None),
    )
    for scheme in IDENTIFIER_COLUMNS
}


def _exact_candidates(
    session: Session,
    *,
    given_name: str,
    family_name: str,
    date_of_birth: date,
    postcode: str | None = None,
    identifiers: dict[str, str] | None = None,
) -> list[Candidate]:
    found: dict[str, Candidate] = {}
    connection = session.connection()
    by_name = connection.execute(
        _BY_NAME,
        {
            "date_of_birth": date_of_birth,
            "family_name": family_name.strip().lower(),
            "given_name": given_name.strip().lower(),
        },
    ).all()
    for learner_id, stored_postcode in by_name:
        fields = ["given_name", "family_name", "date_of_birth"]
        if postcode and stored_postcode and _same_postcode(postcode, stored_postcode):
            fields.append("postcode")
        found[learner_id] = Candidate(learner_id, 0.95, fields)

    for scheme, value in (identifiers or {}).items():
        if scheme not in IDENTIFIER_COLUMNS or not value:
            continue
        rows = connection.execute(
            _BY_IDENTIFIER[scheme],
            {"value": value.replace(" ", "").upper(), "date_of_birth": date_of_birth},
        )
        for (learner_id,) in rows:
            candidate = found.setdefault(
                learner_id, Candidate(learner_id, 0.99, ["date_of_birth"])
            )
            candidate.match_probability = 0.99
            candidate.matched_fields.append(scheme)
    return list(found.values())


def _same_postcode(left: str, right: str) -> bool:
    return left.replace(" ", "").upper() == right.replace(" ", "").upper()


def find_candidates(
    session_factory: sessionmaker[Session],
    session: Session | None = None,
    **identity: Any,
) -> list[Candidate]:
    """Return exact candidates, or the linkage model's when there are none.

    The exact stage reads through ``session`` when one is given, so a caller
    can keep one transaction for the whole request.
    """
    if session is not None:
        exact = _exact_candidates(session, **identity)
    else:
        with session_factory() as own:
            exact = _exact_candidates(own, **identity)
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
    session: Session | None = None,
) -> IdentityMatch:
    """Return the one learner the identity belongs to, or why there is none."""
    candidates = find_candidates(
        session_factory,
        session,
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
