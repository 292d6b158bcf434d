"""Incremental linkage: new records scored against existing learners."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from tests.identity.conftest import person

from john.identity import service
from john.identity.models import LinkageRun, MatchReview, PersonRecord


def _learners(session_factory) -> dict[int, str | None]:
    with session_factory() as session:
        rows = session.execute(select(PersonRecord.id, PersonRecord.learner_id)).all()
        return dict(rows)


def test_new_record_joins_learner(session_factory, add_records, crowd) -> None:
    (first,) = add_records(
        person("Robert", "Quartermain", date(1990, 3, 4), "SW1A 1AA")
    )
    service.run_linkage(session_factory)
    before = _learners(session_factory)

    (second,) = add_records(
        person(
            "Bob", "Quartermain", date(1990, 3, 4), "SW1A1AA", source_ukprn="10000002"
        )
    )
    report = service.run_linkage(session_factory, incremental=True)

    after = _learners(session_factory)
    assert report.learners_created == 0
    assert report.learners_merged == 0
    assert after[second] == before[first]
    assert {key: after[key] for key in before} == before


def test_stranger_gets_new_learner(session_factory, add_records, crowd) -> None:
    service.run_linkage(session_factory)
    before = _learners(session_factory)

    (stranger,) = add_records(person("Zebedee", "Quince", date(1961, 2, 3), "EH3 9XX"))
    report = service.run_linkage(session_factory, incremental=True)

    after = _learners(session_factory)
    assert report.learners_created == 1
    assert after[stranger] not in set(before.values())
    assert {key: after[key] for key in before} == before


def test_new_records_link_each_other(session_factory, add_records, crowd) -> None:
    service.run_linkage(session_factory)
    first, second = add_records(
        person("Imogen", "Thistlewood", date(1988, 7, 9), "LS1 4AP"),
        person(
            "Imogen",
            "Thistlewood",
            date(1988, 7, 9),
            "LS1 4AP",
            source_ukprn="10000002",
        ),
    )
    report = service.run_linkage(session_factory, incremental=True)

    after = _learners(session_factory)
    assert report.learners_created == 1
    assert after[first] == after[second]


def test_nothing_new_scores_nothing(session_factory, add_records, crowd) -> None:
    service.run_linkage(session_factory)
    before = _learners(session_factory)

    report = service.run_linkage(session_factory, incremental=True)

    assert report.probabilistic_links == 0
    assert report.reviews_created == 0
    assert report.learners_created == 0
    assert _learners(session_factory) == before


def test_existing_pairs_not_rescored(session_factory, add_records, crowd) -> None:
    # Two records of one person, each already in its own learner (as staff
    # might leave them): a full run would merge them, an incremental one
    # does not look at the pair.
    first, second = add_records(
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD"),
        person("Ada", "Lovelace", date(2001, 5, 6), "AB1 2CD", source_ukprn="10000002"),
    )
    service.run_linkage(session_factory)
    split_id = service.split_record(session_factory, second, "test", "kept apart")
    with session_factory() as session:
        session.execute(
            MatchReview.__table__.delete().where(MatchReview.record_b_id == second)
        )
        session.commit()

    report = service.run_linkage(session_factory, incremental=True)

    after = _learners(session_factory)
    assert report.learners_merged == 0
    assert after[second] == split_id
    assert after[first] != split_id
    assert service.run_linkage(session_factory).learners_merged == 1


def test_run_settings_record_incremental(session_factory, add_records) -> None:
    add_records(person("Ada", "Lovelace", date(2001, 5, 6)))
    service.run_linkage(session_factory)
    add_records(person("Grace", "Hopper", date(1985, 12, 9)))

    report = service.run_linkage(session_factory, incremental=True)

    with session_factory() as session:
        run = session.get(LinkageRun, report.run_id)
        assert run.settings["incremental"] is True
        assert run.settings["new_records"] == 1
        assert "model" in run.settings
