"""Linkage on address lines, locality, region and identifiers of other schemes."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd
from tests.identity.conftest import person

from john.db import utcnow
from john.identity import comparisons, linkage, service
from john.identity.models import LinkageRun, PersonRecord

SCHEME = "candidate-number"


def _prepared(**fields: object) -> dict[str, object]:
    frame = pd.DataFrame([{"id": 1, "source_ukprn": "10000001", **fields}])
    connection = duckdb.connect()
    try:
        linkage.prepare_records(connection, frame)
        cursor = connection.execute("select * from prepared_records")
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))
    finally:
        connection.close()


def _learner_of(session_factory, record_id: int) -> str | None:
    with session_factory() as session:
        return session.get(PersonRecord, record_id).learner_id


def test_address_gives_house_number_and_street() -> None:
    row = _prepared(address_line_1="12 Pinkerton  Circuit,", locality="Bega Flats")
    assert row["address"] == "12 pinkerton circuit"
    assert row["house_number"] == "12"
    assert row["street"] == "pinkerton circuit"
    assert row["locality"] == "bega flats"


def test_flat_number_taken_as_house_number() -> None:
    row = _prepared(address_line_1="Flat 3, 12 High Street")
    assert row["house_number"] == "3"
    assert row["street"] == "flat high street"


def test_address_without_number_has_street() -> None:
    row = _prepared(address_line_1="Rose Cottage")
    assert row["house_number"] is None
    assert row["street"] == "rose cottage"


def test_other_identifier_normalised_with_scheme() -> None:
    row = _prepared(other_identifier="40 66-625", other_identifier_scheme=SCHEME)
    assert row["other_id"] == "4066625"
    assert row["other_id_scheme"] == SCHEME
    assert row["other_id_key"] == f"{SCHEME}:4066625"


def test_other_identifier_without_scheme_ignored() -> None:
    row = _prepared(other_identifier="4066625")
    assert row["other_id"] is None
    assert row["other_id_key"] is None


def _explained(first: dict, second: dict) -> dict[str, dict]:
    records = pd.DataFrame(
        [
            {"id": 1, "source_ukprn": "10000001", **first},
            {"id": 2, "source_ukprn": "10000002", **second},
        ]
    )
    rows = linkage.explain_pair(records, records, comparisons.prior_model())
    return {row["field"]: row for row in rows}


def test_other_scheme_identifier_has_no_weight() -> None:
    base = person("Ada", "Lovelace", date(2001, 5, 6), other_identifier="4066625")
    explained = _explained(
        {**base, "other_identifier_scheme": SCHEME},
        {**base, "other_identifier_scheme": "another-scheme"},
    )
    assert explained["other_identifier"]["match_weight"] == 0
    assert explained["other_identifier"]["level"] == "missing on one side"


def test_mistyped_identifier_of_scheme_scores() -> None:
    base = person("Ada", "Lovelace", date(2001, 5, 6), other_identifier_scheme=SCHEME)
    explained = _explained(
        {**base, "other_identifier": "4066625"},
        {**base, "other_identifier": "4066652"},
    )
    assert explained["other_identifier"]["level"] == "Two characters differ"
    assert explained["other_identifier"]["match_weight"] > 0


def test_street_typo_with_same_number_scores() -> None:
    base = person("Ada", "Lovelace", date(2001, 5, 6))
    explained = _explained(
        {**base, "address_line_1": "12 Pinkerton Circuit", "locality": "Richlands"},
        {**base, "address_line_1": "12 Pinkerotn Circuit", "locality": "Richlnads"},
    )
    address = explained["address"]
    assert address["level"] == "Same house number, street within a typing error"
    assert address["match_weight"] > 0
    assert explained["locality"]["match_weight"] > 0


def test_address_and_identifier_link_pair(session_factory, add_records, crowd) -> None:
    # Typing errors in both names and the date of birth, no postcode: only the
    # address and the candidate number carry the pair.
    first, second = add_records(
        person(
            "Michaela",
            "Neumann",
            date(1985, 11, 11),
            address_line_1="8 Stanley Street",
            locality="Winston Hills",
            region="NSW",
            other_identifier="5304218",
            other_identifier_scheme=SCHEME,
        ),
        person(
            "Micheala",
            "Nuemann",
            date(1985, 11, 17),
            address_line_1="8 Stanley Street",
            locality="Winston Hills",
            region="NSW",
            other_identifier="5304218",
            other_identifier_scheme=SCHEME,
            source_ukprn="10000002",
        ),
    )
    service.run_linkage(session_factory)
    assert _learner_of(session_factory, first) == _learner_of(session_factory, second)


def test_same_address_strangers_stay_apart(session_factory, add_records, crowd) -> None:
    first, second = add_records(
        person(
            "Ada",
            "Lovelace",
            date(2001, 5, 6),
            address_line_1="8 Stanley Street",
            locality="Winston Hills",
        ),
        person(
            "Grace",
            "Hopper",
            date(1975, 12, 9),
            address_line_1="8 Stanley Street",
            locality="Winston Hills",
            source_ukprn="10000002",
        ),
    )
    service.run_linkage(session_factory)
    assert _learner_of(session_factory, first) != _learner_of(session_factory, second)


def _store_model(session_factory, model: dict) -> dict | None:
    with session_factory() as session:
        session.add(LinkageRun(finished_at=utcnow(), settings={"model": model}))
        session.commit()
        return service.latest_model(session)


def test_current_model_reused(session_factory) -> None:
    model = comparisons.prior_model()
    assert _store_model(session_factory, model) == model


def test_model_without_address_not_reused(session_factory) -> None:
    old = comparisons.prior_model()
    old["comparisons"] = [
        c for c in old["comparisons"] if c["output_column_name"] != "address"
    ]
    assert _store_model(session_factory, old) is None
