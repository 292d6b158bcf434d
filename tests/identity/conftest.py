"""Helpers for linkage tests: synthetic person records written to the store."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from john.identity.models import PersonRecord
from john.identity.synthetic import generate_people

_refs = itertools.count(1)


@pytest.fixture
def add_records(
    session_factory: sessionmaker[Session],
) -> Callable[..., list[int]]:
    """Return a function that stores synthetic person records and their ids."""

    def add(*people: dict[str, Any]) -> list[int]:
        ids = []
        with session_factory() as session:
            for person in people:
                values = {
                    "source_ukprn": "10000001",
                    "source_person_ref": f"P{next(_refs)}",
                    "feed_id": "F-test",
                    "row_number": 1,
                    **person,
                }
                record = PersonRecord(**values)
                session.add(record)
                session.flush()
                ids.append(record.id)
            session.commit()
        return ids

    return add


def person(
    given: str,
    family: str,
    born: date,
    postcode: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Build a synthetic person record's fields."""
    return {
        "given_name": given,
        "family_name": family,
        "date_of_birth": born,
        "postcode": postcode,
        **extra,
    }


@pytest.fixture
def crowd(add_records: Callable[..., list[int]]) -> list[int]:
    """Store 80 distinct synthetic people so name frequencies look realistic."""
    people = [
        {key: value for key, value in record.items() if key != "person_key"}
        for record in generate_people(80, seed=11)
        if record["source_person_ref"].endswith("-0")
    ]
    for record in people:
        record["source_person_ref"] = "crowd-" + record["source_person_ref"]
    return add_records(*people)
