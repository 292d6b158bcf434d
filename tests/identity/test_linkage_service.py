"""Linkage runs over the store: deterministic links, stable ids, reviews."""

from __future__ import annotations

from datetime import date

from tests.identity.conftest import person

from john.identity import service
from john.identity.models import PersonRecord

ULN_A = "1234567899"
ULN_B = "5555555554"


def _learner_of(session_factory, record_id: int) -> str | None:
    with session_factory() as session:
        return session.get(PersonRecord, record_id).learner_id


def test_shared_uln_links_records(session_factory, add_records) -> None:
    first, second = add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD", uln=ULN_A),
        person(
            "Zed",
            "Other",
            date(1999, 1, 2),
            "ZZ9 9ZZ",
            uln=ULN_A,
            source_ukprn="10000002",
        ),
    )
    report = service.run_linkage(session_factory)
    assert report.deterministic_links == 1
    assert report.learners_created == 1
    assert _learner_of(session_factory, first) == _learner_of(session_factory, second)
