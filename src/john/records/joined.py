"""The joined-up learner record: everything the hub holds on one learner.

A learner is a cluster of person records that linkage joined. This module
reads, for one learner, every person record, achievement and experience that
any source sent, each with its provenance, and finds learners by identifier
or by name. It writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from john.db import check_window
from john.errors import InvalidInput, NotFound
from john.identity.models import Learner, PersonRecord
from john.records.models import Achievement, Experience
from john.reference.models import RegisteredProvider

MIN_NAME_QUERY = 2
MAX_LIMIT = 100

# Person record columns that carry an identifier, with the name staff know.
IDENTIFIER_LABELS: dict[str, str] = {
    "uln": "ULN",
    "upn": "UPN",
    "ni_number": "NI number",
    "ucas_id": "UCAS Personal ID",
    "husid": "HUSID",
}

# Shapes of each scheme after normalisation (upper case, no spaces or
# hyphens). A ULN and a UCAS Personal ID are both ten digits, so a ten-digit
# query looks in both columns.
_IDENTIFIER_SHAPES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"^\d{10}$"), ("uln", "ucas_id")),
    (re.compile(r"^\d{13}$"), ("husid",)),
    (re.compile(r"^[A-Z]\d{11}[0-9A-Z]$"), ("upn",)),
    (re.compile(r"^[A-Z]{2}\d{6}[A-D]?$"), ("ni_number",)),
]

_IDENTITY_FIELDS = ("given_name", "family_name", "date_of_birth", "postcode")


@dataclass(frozen=True)
class Provenance:
    """The origin of one row: source organisation, feed, row and arrival time."""

    source_ukprn: str
    source_name: str | None
    feed_id: str
    row_number: int
    received_at: datetime


@dataclass(frozen=True)
class PersonView:
    """One source's record of the learner, with the values as the source sent them."""

    id: int
    source_person_ref: str
    given_name: str | None
    family_name: str | None
    date_of_birth: date | None
    postcode: str | None
    email: str | None
    identifiers: dict[str, str]
    provenance: Provenance


@dataclass(frozen=True)
class AchievementView:
    """A qualification, award or unit, with the provider named in it."""

    id: int
    person_record_id: int
    kind: str
    qualification_number: str | None
    title: str
    level: str | None
    grade: str | None
    awarded_on: date | None
    awarding_body: str | None
    provider_ukprn: str | None
    provider_name: str | None
    provenance: Provenance


@dataclass(frozen=True)
class ExperienceView:
    """Employment, work experience, volunteering, an apprenticeship or CPD."""

    id: int
    person_record_id: int
    kind: str
    organisation: str
    role: str | None
    started_on: date | None
    ended_on: date | None
    hours: float | None
    provenance: Provenance


@dataclass(frozen=True)
class LearnerRecord:
    """The joined-up record of one learner across every source."""

    learner_id: str
    requested_id: str
    status: str
    persons: list[PersonView]
    achievements: list[AchievementView]
    experiences: list[ExperienceView]
    merged_ids: list[str] = field(default_factory=list)

    @property
    def was_merged(self) -> bool:
        """Whether the requested id named a learner since merged into this one."""
        return self.requested_id != self.learner_id

    @property
    def source_ukprns(self) -> list[str]:
        """UKPRNs of every source organisation that sent a person record."""
        return sorted({person.provenance.source_ukprn for person in self.persons})

    @property
    def disagreements(self) -> list[str]:
        """Identity fields on which the sources sent different values."""
        differing = []
        for name in _IDENTITY_FIELDS:
            values = {
                _comparable(getattr(person, name))
                for person in self.persons
                if getattr(person, name) is not None
            }
            if len(values) > 1:
                differing.append(name)
        for column in IDENTIFIER_LABELS:
            values = {
                person.identifiers[column]
                for person in self.persons
                if column in person.identifiers
            }
            if len(values) > 1:
                differing.append(column)
        return differing


@dataclass(frozen=True)
class LearnerMatch:
    """One learner found by a search, with what the sources call them."""

    learner_id: str
    names: list[str]
    dates_of_birth: list[date]
    source_ukprns: list[str]
    source_names: list[str]


@dataclass(frozen=True)
class LearnerSearch:
    """One page of search results and the total number of learners found."""

    query: str
    matched_on: str
    total: int
    limit: int
    offset: int
    learners: list[LearnerMatch]


def _comparable(value: object) -> object:
    if isinstance(value, str):
        return " ".join(value.casefold().split())
    return value


def resolve_learner(session: Session, learner_id: str) -> Learner:
    """Follow merges from ``learner_id`` to the surviving learner.

    Raises NotFound when no learner has the id. A merge chain that loops
    back on itself is a corrupt store, reported as NotFound on the id.
    """
    learner = session.get(Learner, learner_id)
    if learner is None:
        raise NotFound(
            f"no learner has id {learner_id!r}; search for the learner by name "
            "or identifier at /learners"
        )
    seen = {learner.id}
    while learner.merged_into is not None:
        successor = session.get(Learner, learner.merged_into)
        if successor is None or successor.id in seen:
            raise NotFound(
                f"learner {learner_id!r} was merged into {learner.merged_into!r}, "
                "which cannot be found; run linkage again to repair the chain"
            )
        seen.add(successor.id)
        learner = successor
    return learner


def _merged_into(session: Session, survivor_id: str) -> list[str]:
    """Return every learner id whose merge chain ends at ``survivor_id``."""
    found: list[str] = []
    frontier = [survivor_id]
    seen = {survivor_id}
    while frontier:
        rows = session.scalars(
            select(Learner.id).where(Learner.merged_into.in_(frontier))
        ).all()
        frontier = [row for row in rows if row not in seen]
        seen.update(frontier)
        found.extend(frontier)
    return sorted(found)


def provider_names(session: Session, ukprns: Iterable[str | None]) -> dict[str, str]:
    """Return the register's name for each UKPRN it holds; others are left out."""
    wanted = sorted({ukprn for ukprn in ukprns if ukprn})
    if not wanted:
        return {}
    rows = session.execute(
        select(RegisteredProvider.ukprn, RegisteredProvider.name).where(
            RegisteredProvider.ukprn.in_(wanted)
        )
    ).all()
    return {ukprn: name for ukprn, name in rows}


def get_learner_record(session: Session, learner_id: str) -> LearnerRecord:
    """Read the joined-up record of a learner, following merges to the survivor.

    Raises NotFound naming the id when no learner has it.
    """
    survivor = resolve_learner(session, learner_id)
    merged = _merged_into(session, survivor.id)
    cluster = [survivor.id, *merged]

    persons = session.scalars(
        select(PersonRecord)
        .where(PersonRecord.learner_id.in_(cluster))
        .order_by(PersonRecord.source_ukprn, PersonRecord.received_at, PersonRecord.id)
    ).all()
    person_ids = [person.id for person in persons]
    achievements = _rows_for(session, Achievement, Achievement.awarded_on, person_ids)
    experiences = _rows_for(session, Experience, Experience.started_on, person_ids)

    names = provider_names(
        session,
        [p.source_ukprn for p in persons]
        + [a.source_ukprn for a in achievements]
        + [a.provider_ukprn for a in achievements]
        + [e.source_ukprn for e in experiences],
    )
    return LearnerRecord(
        learner_id=survivor.id,
        requested_id=learner_id,
        status=survivor.status,
        persons=[_person_view(person, names) for person in persons],
        achievements=[_achievement_view(row, names) for row in achievements],
        experiences=[_experience_view(row, names) for row in experiences],
        merged_ids=merged,
    )


def _rows_for(
    session: Session,
    model: type[Achievement] | type[Experience],
    date_column: InstrumentedAttribute[date | None],
    person_ids: Sequence[int],
) -> list[Any]:
    if not person_ids:
        return []
    return list(
        session.scalars(
            select(model)
            .where(model.person_record_id.in_(person_ids))
            .order_by(date_column.desc(), model.source_ukprn, model.id)
        ).all()
    )


def _provenance(
    row: PersonRecord | Achievement | Experience, names: dict[str, str]
) -> Provenance:
    return Provenance(
        source_ukprn=row.source_ukprn,
        source_name=names.get(row.source_ukprn),
        feed_id=row.feed_id,
        row_number=row.row_number,
        received_at=row.received_at,
    )


def _person_view(person: PersonRecord, names: dict[str, str]) -> PersonView:
    identifiers = {
        column: getattr(person, column)
        for column in IDENTIFIER_LABELS
        if getattr(person, column)
    }
    return PersonView(
        id=person.id,
        source_person_ref=person.source_person_ref,
        given_name=person.given_name,
        family_name=person.family_name,
        date_of_birth=person.date_of_birth,
        postcode=person.postcode,
        email=person.email,
        identifiers=identifiers,
        provenance=_provenance(person, names),
    )


def _achievement_view(row: Achievement, names: dict[str, str]) -> AchievementView:
    return AchievementView(
        id=row.id,
        person_record_id=row.person_record_id,
        kind=row.kind,
        qualification_number=row.qualification_number,
        title=row.title,
        level=row.level,
        grade=row.grade,
        awarded_on=row.awarded_on,
        awarding_body=row.awarding_body,
        provider_ukprn=row.provider_ukprn,
        provider_name=names.get(row.provider_ukprn or ""),
        provenance=_provenance(row, names),
    )


def _experience_view(row: Experience, names: dict[str, str]) -> ExperienceView:
    return ExperienceView(
        id=row.id,
        person_record_id=row.person_record_id,
        kind=row.kind,
        organisation=row.organisation,
        role=row.role,
        started_on=row.started_on,
        ended_on=row.ended_on,
        hours=row.hours,
        provenance=_provenance(row, names),
    )


def normalise_identifier(value: str) -> str:
    """Return an identifier in upper case without spaces or hyphens."""
    return re.sub(r"[\s-]+", "", value).upper()


def identifier_columns(query: str) -> tuple[str, ...] | None:
    """Return the person record columns an identifier of this shape can be in.

    Returns None when the query contains no digit, so it is a name. Raises
    InvalidInput when it contains a digit but fits no scheme.
    """
    normalised = normalise_identifier(query)
    if not any(character.isdigit() for character in normalised):
        return None
    for pattern, columns in _IDENTIFIER_SHAPES:
        if pattern.match(normalised):
            return columns
    raise InvalidInput(
        f"{query!r} is not a full identifier; enter a ULN or UCAS Personal ID "
        "(10 digits), a HUSID (13 digits), a UPN (a letter and 12 characters) "
        "or an NI number (such as QQ123456C), or search by name"
    )


def search_learners(
    session: Session, query: str, limit: int = 20, offset: int = 0
) -> LearnerSearch:
    """Find linked learners by identifier (exact) or by name (prefix).

    A query holding a digit is an identifier, matched exactly after
    normalisation. Otherwise it is a name. One word matches the start of a
    given or family name, and two or more words match the start of the given
    and family names in either order. Case is ignored. Raises InvalidInput
    for an empty or too short query, or a limit or offset out of range.
    """
    text = " ".join(query.split())
    check_window(limit, offset, MAX_LIMIT)
    # PostgreSQL cannot compare text holding NUL, and no name or identifier
    # holds a control character, so both stores reject them alike.
    if any(not character.isprintable() for character in text):
        raise InvalidInput(
            f"search {query!r} contains control characters; enter letters of a "
            "name or a full identifier"
        )
    if len(text) < MIN_NAME_QUERY:
        raise InvalidInput(
            f"search {query!r} is too short; enter at least {MIN_NAME_QUERY} "
            "characters of a name, or a full identifier"
        )

    columns = identifier_columns(text)
    if columns is not None:
        normalised = normalise_identifier(text)
        condition: ColumnElement[bool] = or_(
            *(getattr(PersonRecord, column) == normalised for column in columns)
        )
        matched_on = " or ".join(IDENTIFIER_LABELS[column] for column in columns)
    else:
        condition = _name_condition(session, text)
        matched_on = "name"

    # A learner merged into another still owns its person records until
    # linkage moves them, so results group by the learner each record's
    # learner was merged into.
    owner = _owner_column()
    matching = (
        select(owner.label("owner"))
        .select_from(PersonRecord)
        .join(Learner, Learner.id == PersonRecord.learner_id)
        .where(condition)
        .distinct()
        .subquery()
    )
    total = session.scalar(select(func.count()).select_from(matching)) or 0

    ordered = session.execute(
        select(
            owner.label("owner"),
            func.min(func.lower(PersonRecord.family_name)).label("family"),
            func.min(func.lower(PersonRecord.given_name)).label("given"),
        )
        .select_from(PersonRecord)
        .join(Learner, Learner.id == PersonRecord.learner_id)
        .where(condition)
        .group_by(owner)
        .order_by("family", "given", "owner")
        .limit(limit)
        .offset(offset)
    ).all()
    page_ids = [row[0] for row in ordered]
    return LearnerSearch(
        query=text,
        matched_on=matched_on,
        total=total,
        limit=limit,
        offset=offset,
        learners=_summarise(session, page_ids),
    )


def _owner_column() -> ColumnElement[str]:
    # NOTE: follows one merge step; a learner merged twice before linkage
    # moves its records shows under the intermediate id, which still resolves.
    return func.coalesce(Learner.merged_into, Learner.id)


def _name_condition(session: Session, text: str) -> ColumnElement[bool]:
    words = [word.casefold() for word in text.replace(",", " ").split()]
    given = func.lower(PersonRecord.given_name)
    family = func.lower(PersonRecord.family_name)
    dialect = session.get_bind().dialect.name

    if len(words) == 1:
        return or_(
            _prefix(given, words[0], dialect), _prefix(family, words[0], dialect)
        )
    first, last = words[0], words[-1]
    return or_(
        and_(_prefix(given, first, dialect), _prefix(family, last, dialect)),
        and_(_prefix(family, first, dialect), _prefix(given, last, dialect)),
    )


def _prefix(
    expression: ColumnElement[str], prefix: str, dialect: str
) -> ColumnElement[bool]:
    """Match values starting with ``prefix`` in a way each backend can index.

    PostgreSQL plans ``LIKE 'abc%'`` on a ``text_pattern_ops`` index of
    ``lower(column)``. SQLite uses an index on ``lower(column)`` only for a
    range, which for a prefix under binary collation is exact.
    """
    if dialect == "postgresql":
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return expression.like(escaped + "%", escape="\\")
    upper_bound = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(expression >= prefix, expression < upper_bound)


def _summarise(session: Session, learner_ids: list[str]) -> list[LearnerMatch]:
    if not learner_ids:
        return []
    # Look the cluster up by indexed columns: each learner on the page and
    # the learners merged into it.
    merged = session.execute(
        select(Learner.id, Learner.merged_into).where(
            Learner.merged_into.in_(learner_ids)
        )
    ).all()
    owner_of = {learner_id: learner_id for learner_id in learner_ids}
    owner_of.update({child: str(parent) for child, parent in merged})
    persons = session.scalars(
        select(PersonRecord)
        .where(PersonRecord.learner_id.in_(list(owner_of)))
        .order_by(PersonRecord.id)
    ).all()
    rows = [(owner_of[str(person.learner_id)], person) for person in persons]
    names = provider_names(session, [person.source_ukprn for _, person in rows])

    by_learner: dict[str, list[PersonRecord]] = {key: [] for key in learner_ids}
    for learner_id, person in rows:
        by_learner[learner_id].append(person)

    matches = []
    for learner_id in learner_ids:
        group = by_learner[learner_id]
        full_names = [
            " ".join(part for part in (p.given_name, p.family_name) if part)
            for p in group
        ]
        ukprns = sorted({p.source_ukprn for p in group})
        matches.append(
            LearnerMatch(
                learner_id=learner_id,
                names=_unique([name for name in full_names if name]),
                dates_of_birth=sorted(
                    {p.date_of_birth for p in group if p.date_of_birth}
                ),
                source_ukprns=ukprns,
                source_names=[names.get(ukprn, f"UKPRN {ukprn}") for ukprn in ukprns],
            )
        )
    return matches


def _unique(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(_comparable(value), value)  # type: ignore[arg-type]
    return list(seen.values())
