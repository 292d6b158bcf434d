"""Linkage accuracy on FEBRL4 rows and on generated UK records."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import select

from john.cli.demo_feeds import febrl_address_fields
from john.identity import comparisons, linkage, service
from john.identity.models import PersonRecord
from john.identity.synthetic import generate_people


def _pairs(groups) -> set[tuple[str, str]]:
    pairs = set()
    for members in groups:
        ordered = sorted(members)
        pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1 :])
    return pairs


def _learner_pairs(session_factory) -> set[tuple[str, str]]:
    groups = defaultdict(list)
    with session_factory() as session:
        rows = session.execute(
            select(PersonRecord.source_person_ref, PersonRecord.learner_id)
        ).all()
    for ref, learner_id in rows:
        groups[learner_id].append(ref)
    return _pairs(groups.values())


def _febrl_rows(
    path, ukprn: str, numbers: set[str], *, address: bool = False
) -> list[dict]:
    frame = pd.read_csv(path, skipinitialspace=True, dtype=str).fillna("")
    rows = []
    for row in frame.to_dict("records"):
        if re.match(r"rec-(\d+)", row["rec_id"]).group(1) not in numbers:
            continue
        try:
            born = datetime.strptime(row["date_of_birth"], "%Y%m%d").date()
        except ValueError:
            born = None
        fields = febrl_address_fields(row) if address else {}
        rows.append(
            {
                "source_ukprn": ukprn,
                "source_person_ref": row["rec_id"],
                "given_name": row["given_name"] or None,
                "family_name": row["surname"] or None,
                "date_of_birth": born,
                "postcode": row["postcode"] or None,
                **{name: value or None for name, value in fields.items()},
            }
        )
    return rows


def _link_febrl_sample(
    folder, session_factory, add_records, *, address: bool
) -> tuple[set, set]:
    numbers = {str(n) for n in range(0, 5000, 25)}
    left = _febrl_rows(folder / "dataset4a.csv", "10000001", numbers, address=address)
    right = _febrl_rows(folder / "dataset4b.csv", "10000002", numbers, address=address)
    add_records(*left, *right)

    service.run_linkage(session_factory)

    truth = {
        tuple(sorted((a["source_person_ref"], b["source_person_ref"])))
        for a in left
        for b in right
        if a["source_person_ref"].split("-")[1] == b["source_person_ref"].split("-")[1]
    }
    return _learner_pairs(session_factory), truth


def test_febrl_sample_links_well(shared_data, session_factory, add_records) -> None:
    found, truth = _link_febrl_sample(
        shared_data / "febrl", session_factory, add_records, address=False
    )
    hits = len(found & truth)
    assert len(truth) == 200
    assert hits / len(found) >= 0.97
    assert hits / len(truth) >= 0.85


def test_febrl_sample_with_address(shared_data, session_factory, add_records) -> None:
    found, truth = _link_febrl_sample(
        shared_data / "febrl", session_factory, add_records, address=True
    )
    hits = len(found & truth)
    assert len(truth) == 200
    assert hits / len(found) >= 0.99
    assert hits / len(truth) >= 0.98


@pytest.mark.slow
def test_trained_model_links_uk_records(session_factory, add_records) -> None:
    records = generate_people(700, seed=5)
    add_records(
        *({k: v for k, v in record.items() if k != "person_key"} for record in records)
    )

    report = service.run_linkage(session_factory)

    groups = defaultdict(list)
    for record in records:
        groups[record["person_key"]].append(record["source_person_ref"])
    truth = _pairs(groups.values())
    found = _learner_pairs(session_factory)
    hits = len(found & truth)
    assert report.model_trained is True
    assert hits / len(found) >= 0.97
    assert hits / len(truth) >= 0.93


@pytest.mark.slow
def test_training_without_dates_keeps_prior() -> None:
    records = [
        {k: v for k, v in record.items() if k != "person_key"}
        for record in generate_people(1300, seed=3)
        if record["source_person_ref"].endswith("-0")
    ]
    frame = pd.DataFrame(records)
    frame["id"] = range(1, len(frame) + 1)
    frame["date_of_birth"] = None
    for scheme in ("upn", "ucas_id", "husid"):
        frame[scheme] = None

    outcome = linkage.link_records(frame)

    assert outcome.trained is True
    assert "prior match probability kept: no agreeing pairs" in outcome.notes
    assert 0 < outcome.model["probability_two_random_records_match"] < 1


@pytest.mark.slow
def test_failed_em_session_keeps_comparisons() -> None:
    # Without dates of birth the EM session blocked on them has no pairs and
    # fails, which must not drop the date comparison from the model.
    records = [
        {k: v for k, v in record.items() if k != "person_key"}
        for record in generate_people(1300, seed=3)
        if record["source_person_ref"].endswith("-0")
    ]
    frame = pd.DataFrame(records)
    frame["id"] = range(1, len(frame) + 1)
    frame["date_of_birth"] = None

    outcome = linkage.link_records(frame)

    assert any(note.startswith("EM session skipped") for note in outcome.notes)
    assert comparisons.has_current_comparisons(outcome.model)
