"""Made-up feed rows and helpers shared by the feed tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from john.identity import identifiers
from john.records.mappings import fields_for

SOURCE = "10000001"


def identifier_message(check: Callable[[str], str], value: str) -> str:
    """Return the value-free message that ``check`` raises for ``value``."""
    try:
        check(value)
    except identifiers.InvalidIdentifier as error:
        return error.safe_message
    raise AssertionError("value passed its check")


ULN_CHECK_DIGIT = identifier_message(identifiers.validate_uln, "1234567890")


def achievement_row(**changes: str) -> dict[str, str]:
    """Return a valid achievements row of a made-up person, with ``changes``."""
    row = {
        "source_person_ref": "L0001",
        "given_name": "Alex",
        "family_name": "Archer",
        "date_of_birth": "2001-02-03",
        "postcode": "LS1 4AP",
        "email": "alex.archer@example.org",
        "uln": "1234567899",
        "upn": "",
        "ni_number": "AB123456C",
        "ucas_id": "",
        "husid": "",
        "kind": "qualification",
        "qualification_number": "601/8830/6",
        "title": "Certificate in Applied Science",
        "level": "3",
        "grade": "Merit",
        "awarded_on": "2019-08-20",
        "awarding_body": "Example Awarding Organisation",
        "provider_ukprn": "10000002",
    }
    row.update(changes)
    return row


def experience_row(**changes: str) -> dict[str, str]:
    """Return a valid experiences row of a made-up person, with ``changes``."""
    row = {
        "source_person_ref": "L0001",
        "given_name": "Alex",
        "family_name": "Archer",
        "date_of_birth": "2001-02-03",
        "kind": "volunteering",
        "organisation": "Riverside Library",
        "role": "Reading helper",
        "started_on": "2020-01-06",
        "ended_on": "2020-07-31",
        "hours": "120",
    }
    row.update(changes)
    return row


def csv_bytes(
    rows: list[dict[str, str]],
    *,
    delimiter: str = ",",
    columns: list[str] | None = None,
    feed_type: str = "achievements",
) -> bytes:
    """Return rows as CSV bytes with a header (all standard columns by default)."""
    out = io.StringIO()
    names = columns or list(fields_for(feed_type))
    writer = csv.DictWriter(
        out, fieldnames=names, delimiter=delimiter, extrasaction="ignore"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in names})
    return out.getvalue().encode("utf-8")


def count_rows(session_factory: sessionmaker[Session], table: str) -> int:
    """Return the number of rows in a table of the store."""
    with session_factory() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
