"""A small synthetic store: two learners, their records, and signed-in callers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from argon2 import PasswordHasher, profiles

from john.auth.testing import bearer_headers
from john.identity.models import Learner, PersonRecord
from john.records.models import Achievement, Experience, Feed
from john.reference.models import RegisteredProvider

COLLEGE = "10000001"
OTHER_COLLEGE = "10000002"


@dataclass
class Store:
    """Ids of the rows the fixture inserted."""

    ada: str
    bo: str
    a_level: int
    degree: int
    job: int
    bo_award: int


def _feed(db, feed_id: str, ukprn: str) -> None:
    db.add(
        Feed(
            id=feed_id,
            source_ukprn=ukprn,
            feed_type="achievements",
            file_format="csv",
            content_sha256=feed_id.ljust(64, "0"),
            mapping="test",
        )
    )


def _person(db, ukprn, ref, learner_id, given, family, dob, feed_id, **ids):
    record = PersonRecord(
        source_ukprn=ukprn,
        source_person_ref=ref,
        given_name=given,
        family_name=family,
        date_of_birth=dob,
        learner_id=learner_id,
        feed_id=feed_id,
        row_number=1,
        **ids,
    )
    db.add(record)
    db.flush()
    return record


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch) -> None:
    """Use the cheapest Argon2 parameters, so each client costs microseconds."""
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr("john.auth.passwords._hasher", cheap)
    monkeypatch.setattr("john.auth.passwords._DUMMY_HASH", cheap.hash("dummy"))


@pytest.fixture
def store(session_factory) -> Store:
    with session_factory() as db:
        db.add_all(
            [
                Learner(id="L-ada", status="active"),
                Learner(id="L-bo", status="active"),
                RegisteredProvider(
                    ukprn="10007777", name="University of Exampleton", register="ukrlp"
                ),
            ]
        )
        _feed(db, "F-1", COLLEGE)
        _feed(db, "F-2", OTHER_COLLEGE)
        db.flush()
        ada = _person(
            db,
            COLLEGE,
            "p1",
            "L-ada",
            "Ada",
            "Testperson",
            date(2001, 2, 3),
            "F-1",
            uln="1234567890",
        )
        bo = _person(
            db, OTHER_COLLEGE, "p2", "L-bo", "Bo", "Sample", date(1999, 9, 9), "F-2"
        )
        a_level = Achievement(
            person_record_id=ada.id,
            kind="qualification",
            qualification_number="60112345",
            title="A level in Mathematics",
            level="Level 3",
            grade="B",
            awarded_on=date(2019, 8, 15),
            awarding_body="Example Awarding Body",
            source_ukprn=COLLEGE,
            feed_id="F-1",
            row_number=2,
            row_key="a1",
        )
        degree = Achievement(
            person_record_id=ada.id,
            kind="award",
            title="BSc Computing",
            level="Level 6",
            grade="First",
            awarded_on=date(2022, 7, 1),
            awarding_body="University of Exampleton",
            source_ukprn=COLLEGE,
            feed_id="F-1",
            row_number=3,
            row_key="a2",
        )
        job = Experience(
            person_record_id=ada.id,
            kind="employment",
            organisation="Example Ltd",
            role="Junior developer",
            started_on=date(2022, 9, 1),
            ended_on=None,
            source_ukprn=COLLEGE,
            feed_id="F-1",
            row_number=4,
            row_key="e1",
        )
        bo_award = Achievement(
            person_record_id=bo.id,
            kind="qualification",
            title="Diploma in Care",
            level="Level 2",
            grade="Pass",
            awarded_on=date(2018, 6, 1),
            source_ukprn=OTHER_COLLEGE,
            feed_id="F-2",
            row_number=2,
            row_key="b1",
        )
        db.add_all([a_level, degree, job, bo_award])
        db.commit()
        return Store("L-ada", "L-bo", a_level.id, degree.id, job.id, bo_award.id)


@pytest.fixture
def as_role(client, session_factory):
    """Return a function giving bearer headers for a new client of a role."""

    def headers(role: str, **binding) -> dict[str, str]:
        defaults = {
            "provider": {"ukprn": COLLEGE},
            "verifier": {"organisation": "Acme Recruiting"},
            "adviser": {"organisation": "Careers Hub"},
            "sponsor": {"organisation": "Sponsor Trust"},
            "learner": {"learner_id": "L-ada"},
        }
        return bearer_headers(
            client, session_factory, role, **(binding or defaults.get(role, {}))
        )

    return headers
