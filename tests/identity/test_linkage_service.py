"""Linkage runs over the store: links, stable ids, reviews, merge and split."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from tests.identity.conftest import person

from john.errors import Conflict, InvalidInput, NotFound
from john.identity import service
from john.identity.linkage import Thresholds
from john.identity.models import Learner, LinkageEvent, MatchReview, PersonRecord

ULN_A = "1234567899"
ULN_B = "5555555554"
# A band so wide that every scored pair below near-certainty goes to review.
WIDE_REVIEW = Thresholds(match=0.999999999, review=0.01)


def _learner_of(session_factory, record_id: int) -> str | None:
    with session_factory() as session:
        return session.get(PersonRecord, record_id).learner_id


def _events(session_factory, kind: str) -> list[LinkageEvent]:
    with session_factory() as session:
        return list(
            session.scalars(select(LinkageEvent).where(LinkageEvent.kind == kind))
        )


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


def test_invalid_uln_does_not_link(session_factory, add_records) -> None:
    first, second = add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD", uln="1234567890"),
        person("Zed", "Other", date(1999, 1, 2), "ZZ9 9ZZ", uln="1234567890"),
    )
    report = service.run_linkage(session_factory)
    assert report.deterministic_links == 0
    assert _learner_of(session_factory, first) != _learner_of(session_factory, second)


def test_nickname_pair_links_probabilistically(
    session_factory, add_records, crowd
) -> None:
    first, second = add_records(
        person("Robert", "Quartermain", date(1990, 3, 4), "SW1A 1AA"),
        person(
            "Bob", "Quartermain", date(1990, 3, 4), "SW1A1AA", source_ukprn="10000002"
        ),
    )
    report = service.run_linkage(session_factory)
    assert report.probabilistic_links >= 1
    assert _learner_of(session_factory, first) == _learner_of(session_factory, second)


def test_different_people_stay_apart(session_factory, add_records, crowd) -> None:
    first, second = add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD"),
        person("Grace", "Hopper", date(1985, 12, 9), "EH3 9XX"),
    )
    service.run_linkage(session_factory)
    assert _learner_of(session_factory, first) != _learner_of(session_factory, second)


def test_rerun_keeps_learner_ids(session_factory, add_records, crowd) -> None:
    service.run_linkage(session_factory)
    with session_factory() as session:
        before = dict(
            session.execute(select(PersonRecord.id, PersonRecord.learner_id)).all()
        )
    report = service.run_linkage(session_factory)
    with session_factory() as session:
        after = dict(
            session.execute(select(PersonRecord.id, PersonRecord.learner_id)).all()
        )
    assert report.learners_created == 0
    assert report.learners_merged == 0
    assert after == before


def test_new_record_joins_existing_learner(session_factory, add_records) -> None:
    (first,) = add_records(person("Ada", "Lovelace", date(2001, 5, 6), uln=ULN_A))
    service.run_linkage(session_factory)
    learner = _learner_of(session_factory, first)
    (second,) = add_records(
        person("Ada", "King", date(2001, 5, 6), uln=ULN_A, source_ukprn="10000002")
    )
    report = service.run_linkage(session_factory)
    assert report.learners_created == 0
    assert _learner_of(session_factory, second) == learner
    assert _learner_of(session_factory, first) == learner


def test_bridge_record_merges_into_oldest(session_factory, add_records) -> None:
    (first,) = add_records(person("Ada", "Lovelace", date(2001, 5, 6), uln=ULN_A))
    service.run_linkage(session_factory)
    (second,) = add_records(
        person("Augusta", "King", date(1999, 1, 1), ni_number="AB123456C")
    )
    service.run_linkage(session_factory)
    oldest = _learner_of(session_factory, first)
    younger = _learner_of(session_factory, second)
    add_records(
        person("Ada", "King", date(2001, 5, 6), uln=ULN_A, ni_number="AB123456C")
    )
    report = service.run_linkage(session_factory)
    with session_factory() as session:
        merged = session.get(Learner, younger)
        assert merged.status == "merged"
        assert merged.merged_into == oldest
        assert service.resolve_learner_id(session, younger) == oldest
    assert report.learners_merged == 1
    assert _learner_of(session_factory, second) == oldest
    assert [e.other_learner_id for e in _events(session_factory, "merge")] == [younger]


def _review_pair(session_factory, add_records) -> tuple[int, int, int]:
    first, second = add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD"),
        person("Ada", "Lovelace", date(2001, 6, 5), "ZZ9 9ZZ", source_ukprn="10000002"),
    )
    service.run_linkage(session_factory, thresholds=WIDE_REVIEW)
    with session_factory() as session:
        review = session.scalars(
            select(MatchReview).where(MatchReview.record_b_id == second)
        ).one()
    return first, second, review.id


def test_uncertain_pair_is_queued(session_factory, add_records, crowd) -> None:
    first, second, review_id = _review_pair(session_factory, add_records)
    with session_factory() as session:
        review = session.get(MatchReview, review_id)
        assert review.status == "pending"
        assert (review.record_a_id, review.record_b_id) == (first, second)
        assert 0.01 <= review.match_probability < 0.999999999
    assert _learner_of(session_factory, first) != _learner_of(session_factory, second)


def test_accept_review_merges_learners(session_factory, add_records, crowd) -> None:
    first, second, review_id = _review_pair(session_factory, add_records)
    older = _learner_of(session_factory, first)
    younger = _learner_of(session_factory, second)
    service.decide_review(session_factory, review_id, "accept", actor="staff")
    assert _learner_of(session_factory, second) == older
    with session_factory() as session:
        kinds = [event.kind for event in service.learner_history(session, older)]
        assert session.get(Learner, younger).merged_into == older
    assert "merge" in kinds
    assert "review_accept" in kinds


def test_accepted_pair_survives_rerun(session_factory, add_records, crowd) -> None:
    first, second, review_id = _review_pair(session_factory, add_records)
    service.decide_review(session_factory, review_id, "accept", actor="staff")
    service.run_linkage(session_factory, thresholds=WIDE_REVIEW)
    with session_factory() as session:
        assert len(service.list_reviews(session, status="accepted")) == 1
    assert _learner_of(session_factory, first) == _learner_of(session_factory, second)


def test_reject_review_keeps_apart(session_factory, add_records, crowd) -> None:
    first, second, review_id = _review_pair(session_factory, add_records)
    service.decide_review(session_factory, review_id, "reject", actor="staff")
    service.run_linkage(session_factory, thresholds=Thresholds(0.02, 0.01))
    assert _learner_of(session_factory, first) != _learner_of(session_factory, second)
    assert len(_events(session_factory, "review_reject")) == 1


def test_reject_splits_linked_pair(session_factory, add_records, crowd) -> None:
    first, second, review_id = _review_pair(session_factory, add_records)
    # Staff link the pair by an identifier before deciding the older review.
    with session_factory() as session:
        for record_id in (first, second):
            session.get(PersonRecord, record_id).uln = ULN_B
        session.commit()
    service.run_linkage(session_factory, thresholds=WIDE_REVIEW)
    assert _learner_of(session_factory, first) == _learner_of(session_factory, second)
    service.decide_review(session_factory, review_id, "reject", actor="staff")
    assert _learner_of(session_factory, first) != _learner_of(session_factory, second)
    assert len(_events(session_factory, "split")) == 1
    service.run_linkage(session_factory, thresholds=WIDE_REVIEW)
    assert _learner_of(session_factory, first) != _learner_of(session_factory, second)


def test_decision_is_final(session_factory, add_records, crowd) -> None:
    _, _, review_id = _review_pair(session_factory, add_records)
    service.decide_review(session_factory, review_id, "reject", actor="staff")
    with pytest.raises(Conflict):
        service.decide_review(session_factory, review_id, "accept", actor="staff")


def test_unknown_decision_is_invalid(session_factory) -> None:
    with pytest.raises(InvalidInput):
        service.decide_review(session_factory, 1, "maybe", actor="staff")


def test_unknown_review_not_found(session_factory) -> None:
    with pytest.raises(NotFound):
        service.decide_review(session_factory, 999, "accept", actor="staff")


def test_unknown_review_status_invalid(session) -> None:
    with pytest.raises(InvalidInput):
        service.list_reviews(session, status="maybe")


def test_split_record_stays_split(session_factory, add_records) -> None:
    first, second = add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), uln=ULN_A),
        person("Ada", "Lovelace", date(2001, 5, 6), uln=ULN_A, source_ukprn="10000002"),
    )
    service.run_linkage(session_factory)
    original = _learner_of(session_factory, first)
    new_id = service.split_record(session_factory, second, "staff", "two people")
    assert _learner_of(session_factory, second) == new_id
    report = service.run_linkage(session_factory)
    assert report.learners_merged == 0
    assert _learner_of(session_factory, second) == new_id
    assert _learner_of(session_factory, first) == original
    with session_factory() as session:
        (event,) = [
            e for e in service.learner_history(session, new_id) if e.kind == "split"
        ]
    assert event.other_learner_id == original
    assert event.actor == "staff"


def test_split_lone_record_conflicts(session_factory, add_records) -> None:
    (first,) = add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    service.run_linkage(session_factory)
    with pytest.raises(Conflict):
        service.split_record(session_factory, first, "staff", "no reason")


def test_resolve_unknown_learner_not_found(session) -> None:
    with pytest.raises(NotFound):
        service.resolve_learner_id(session, "L-missing")


def test_candidates_find_stored_learner(session_factory, add_records, crowd) -> None:
    (first,) = add_records(
        person("Elizabeth", "Quartermain", date(1990, 3, 4), "SW1A 1AA", uln=ULN_A)
    )
    service.run_linkage(session_factory)
    candidates = service.find_learner_candidates(
        session_factory,
        given_name="Liz",
        family_name="Quartermain",
        date_of_birth=date(1990, 3, 4),
        postcode="SW1A 1AA",
        identifiers={"uln": ULN_A},
    )
    assert candidates[0].learner_id == _learner_of(session_factory, first)
    assert candidates[0].match_probability > 0.99
    assert "date_of_birth" in candidates[0].matched_fields
    assert "uln" in candidates[0].matched_fields
    assert "given_name" in candidates[0].matched_fields


def test_candidates_empty_for_stranger(session_factory, add_records, crowd) -> None:
    service.run_linkage(session_factory)
    candidates = service.find_learner_candidates(
        session_factory,
        given_name="Zebedee",
        family_name="Nobody",
        date_of_birth=date(1950, 1, 1),
    )
    assert candidates == []


def test_candidates_reject_unknown_scheme(session_factory) -> None:
    with pytest.raises(InvalidInput):
        service.find_learner_candidates(
            session_factory,
            given_name="Ada",
            family_name="Lovelace",
            date_of_birth=date(2001, 5, 6),
            identifiers={"passport": "123"},
        )


def test_run_logs_no_personal_data(
    session_factory, add_records, crowd, captured_logs
) -> None:
    add_records(
        person(
            "Sentinelgiven", "Sentinelfamily", date(1977, 7, 7), "SE1 7TT", uln=ULN_A
        )
    )
    service.run_linkage(session_factory)
    text = "\n".join(record.getMessage() for record in captured_logs.records)
    assert "Sentinel".lower() not in text.lower()
    assert ULN_A not in text
    assert "1977" not in text
    assert "SE1 7TT" not in text
