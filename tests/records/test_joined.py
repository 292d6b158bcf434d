"""The joined-up learner record and learner search, on rows written directly."""

from __future__ import annotations

import pytest

from john.errors import InvalidInput, NotFound
from john.records.joined import (
    get_learner_record,
    identifier_columns,
    search_learners,
)
from sample_learners import CRANFIELD, OPEN_UNIVERSITY, seed


@pytest.fixture
def seeded(session_factory):
    return seed(session_factory)


def test_record_joins_both_sources(session, seeded) -> None:
    record = get_learner_record(session, seeded.joined_learner)
    assert record.learner_id == "L-joined"
    assert record.source_ukprns == [OPEN_UNIVERSITY, CRANFIELD]
    assert len(record.persons) == 2
    assert len(record.achievements) == 2
    assert len(record.experiences) == 1


def test_record_achievements_carry_provenance(session, seeded) -> None:
    record = get_learner_record(session, seeded.joined_learner)
    latest = record.achievements[0]
    assert latest.title == "MSc Aerospace Dynamics"
    assert latest.provenance.source_ukprn == CRANFIELD
    assert latest.provenance.source_name == "Cranfield University"
    assert latest.provenance.feed_id == "F-b"
    assert latest.provenance.row_number == 2
    assert latest.provider_name == "Cranfield University"
    assert latest.provenance.received_at.tzinfo is not None


def test_merged_id_resolves_to_survivor(session, seeded) -> None:
    record = get_learner_record(session, seeded.merged_learner)
    assert record.learner_id == "L-joined"
    assert record.requested_id == "L-old"
    assert record.was_merged
    assert get_learner_record(session, "L-joined").merged_ids == ["L-old"]


def test_record_lists_disagreements(session, seeded) -> None:
    record = get_learner_record(session, seeded.joined_learner)
    assert "date_of_birth" in record.disagreements
    # Names differing only in case are the same name.
    assert "given_name" not in record.disagreements
    assert "uln" not in record.disagreements


def test_unknown_learner_raises_not_found(session, seeded) -> None:
    with pytest.raises(NotFound, match="L-nobody"):
        get_learner_record(session, "L-nobody")


def test_unregistered_source_has_no_name(session, seeded) -> None:
    record = get_learner_record(session, seeded.single_learner)
    assert record.persons[0].provenance.source_name == "Cranfield University"
    assert record.achievements == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quell", ["L-joined"]),
        ("QUELLWORTH", ["L-joined"]),
        ("ada", ["L-joined"]),
        ("ada quell", ["L-joined"]),
        ("quellworth ada", ["L-joined"]),
        ("Quellworth, Ada", ["L-joined"]),
        ("qua", ["L-single"]),
        ("q", None),
        ("bram quell", []),
        ("unlinked", []),
    ],
)
def test_search_by_name_table(session, seeded, query, expected) -> None:
    if expected is None:
        with pytest.raises(InvalidInput, match="too short"):
            search_learners(session, query)
        return
    found = search_learners(session, query)
    assert [match.learner_id for match in found.learners] == expected
    assert found.total == len(expected)
    assert found.matched_on == "name"


def test_search_by_uln_normalised(session, seeded) -> None:
    found = search_learners(session, " 999 000 0017 ")
    assert [match.learner_id for match in found.learners] == ["L-joined"]
    assert found.matched_on == "ULN or UCAS Personal ID"


def test_search_by_ni_number(session, seeded) -> None:
    found = search_learners(session, "qq 12 34 56 c")
    assert [match.learner_id for match in found.learners] == ["L-joined"]


def test_search_match_summarises_sources(session, seeded) -> None:
    match = search_learners(session, "ada").learners[0]
    assert match.names == ["Ada Quellworth"]
    assert len(match.dates_of_birth) == 2
    assert match.source_names == ["The Open University", "Cranfield University"]


def test_search_pages_by_limit_offset(session, seeded) -> None:
    page_one = search_learners(session, "qu", limit=1, offset=0)
    page_two = search_learners(session, "qu", limit=1, offset=1)
    assert page_one.total == 2
    assert [m.learner_id for m in page_one.learners] == ["L-single"]
    assert [m.learner_id for m in page_two.learners] == ["L-joined"]


def test_search_rejects_bad_limit(session, seeded) -> None:
    with pytest.raises(InvalidInput, match="limit 0"):
        search_learners(session, "ada", limit=0)


def test_search_prefix_escapes_wildcards(session, seeded) -> None:
    assert search_learners(session, "q%").total == 0
    assert search_learners(session, "q_").total == 0


@pytest.mark.parametrize(
    ("query", "columns"),
    [
        ("9990000017", ("uln", "ucas_id")),
        ("123-456-7890", ("uln", "ucas_id")),
        ("1234567890123", ("husid",)),
        ("A12345678901B", ("upn",)),
        ("QQ123456C", ("ni_number",)),
        ("QQ123456", ("ni_number",)),
        ("Ada", None),
    ],
)
def test_identifier_columns_by_shape(query, columns) -> None:
    assert identifier_columns(query) == columns


def test_identifier_of_no_scheme_rejected() -> None:
    with pytest.raises(InvalidInput, match="not a full identifier"):
        identifier_columns("12345")
