"""A small synthetic store: two providers, three learners, one merge.

Every person here is invented. Tests import :func:`seed` to write the rows
straight into the tables, so the read side is tested without ingest or
linkage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.orm import Session, sessionmaker

from john.identity.models import Learner, PersonRecord
from john.records.models import Achievement, Experience, Feed, QuarantinedRow
from john.reference.models import RegisteredProvider

OPEN_UNIVERSITY = "10007773"
CRANFIELD = "10007822"
UNREGISTERED = "10099999"
RECEIVED = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Seeded:
    """Ids of the rows that tests look for."""

    joined_learner: str
    single_learner: str
    merged_learner: str
    feed_a: str
    feed_b: str
    uln: str


def seed(factory: sessionmaker[Session]) -> Seeded:
    """Write the sample providers, feeds, learners and records; return their ids."""
    with factory.begin() as session:
        session.add_all(
            [
                RegisteredProvider(
                    ukprn=OPEN_UNIVERSITY, name="The Open University", register="dfe"
                ),
                RegisteredProvider(
                    ukprn=CRANFIELD, name="Cranfield University", register="dfe"
                ),
            ]
        )
        session.add_all([_feed("F-a", OPEN_UNIVERSITY), _feed("F-b", CRANFIELD)])
        session.add_all(
            [
                Learner(id="L-joined", status="active"),
                Learner(id="L-single", status="active"),
                Learner(id="L-old", status="merged", merged_into="L-joined"),
            ]
        )
        session.flush()

        ada_a = _person(1, OPEN_UNIVERSITY, "F-a", "Ada", "Quellworth", "L-joined")
        ada_a.date_of_birth = date(2001, 3, 14)
        ada_a.uln = "9990000017"
        ada_b = _person(2, CRANFIELD, "F-b", "ada", "Quellworth", "L-old")
        ada_b.date_of_birth = date(2001, 4, 14)
        ada_b.uln = "9990000017"
        ada_b.ni_number = "QQ123456C"
        bram = _person(3, CRANFIELD, "F-b", "Bramwell", "Quayle", "L-single")
        orphan = _person(4, UNREGISTERED, "F-b", "Ada", "Unlinked", None)
        session.add_all([ada_a, ada_b, bram, orphan])
        session.flush()

        session.add_all(
            [
                _achievement(ada_a, "F-a", "BSc (Hons) Mathematics", date(2023, 7, 1)),
                _achievement(ada_b, "F-b", "MSc Aerospace Dynamics", date(2024, 9, 30)),
                Experience(
                    person_record_id=ada_b.id,
                    kind="work_experience",
                    organisation="Quellworth Aero Ltd",
                    role="Test engineer",
                    started_on=date(2024, 1, 8),
                    ended_on=date(2024, 3, 29),
                    hours=120.0,
                    source_ukprn=CRANFIELD,
                    feed_id="F-b",
                    row_number=7,
                    received_at=RECEIVED,
                    row_key="x-1",
                ),
                QuarantinedRow(
                    feed_id="F-b",
                    row_number=9,
                    field="date_of_birth",
                    reason="date of birth 1890-01-01 is before 1900",
                ),
            ]
        )
    return Seeded(
        joined_learner="L-joined",
        single_learner="L-single",
        merged_learner="L-old",
        feed_a="F-a",
        feed_b="F-b",
        uln="9990000017",
    )


def _feed(feed_id: str, ukprn: str) -> Feed:
    return Feed(
        id=feed_id,
        source_ukprn=ukprn,
        feed_type="achievements",
        file_format="csv",
        filename=f"{feed_id}.csv",
        content_sha256=feed_id.ljust(64, "0"),
        mapping="standard",
        received_at=RECEIVED,
        rows_read=10,
        rows_accepted=9,
        rows_quarantined=1,
        rows_duplicate=0,
    )


def _person(
    row: int, ukprn: str, feed_id: str, given: str, family: str, learner: str | None
) -> PersonRecord:
    return PersonRecord(
        source_ukprn=ukprn,
        source_person_ref=f"P{row}",
        given_name=given,
        family_name=family,
        postcode="AB10 1AA",
        learner_id=learner,
        feed_id=feed_id,
        row_number=row,
        received_at=RECEIVED,
    )


def _achievement(
    person: PersonRecord, feed_id: str, title: str, awarded: date
) -> Achievement:
    return Achievement(
        person_record_id=person.id,
        kind="qualification",
        qualification_number="601/1234/5",
        title=title,
        level="Level 6",
        grade="Distinction",
        awarded_on=awarded,
        provider_ukprn=person.source_ukprn,
        source_ukprn=person.source_ukprn,
        feed_id=feed_id,
        row_number=person.row_number,
        received_at=RECEIVED,
        row_key=f"a-{person.row_number}",
    )
