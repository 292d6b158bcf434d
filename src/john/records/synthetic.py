"""Synthetic feeds of made-up people for benchmarks, tests and demonstrations.

Every person is invented from a seeded random generator: names come from
short fixed lists, identifiers are random numbers given valid check digits.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import TextIO

from john.records.mappings import fields_for

GIVEN_NAMES = ("Alex", "Sam", "Jo", "Priya", "Tomasz", "Aisha", "Owen", "Mei", "Kofi")
FAMILY_NAMES = ("Archer", "Baxter", "Chandra", "Dubois", "Evans", "Fenwick", "Ghosh")
TITLES = (
    "Certificate in Applied Science",
    "Diploma in Engineering",
    "Award in First Aid at Work",
    "Certificate in Digital Skills",
)
ORGANISATIONS = ("Riverside Library", "Northgate Garage", "Hillview Care Home")
POSTCODE_AREAS = ("LS", "M", "B", "NE", "CF", "EH", "BT", "SW")
NI_PREFIXES = ("AB", "CE", "JG", "KL", "PR", "SW", "TY")


def uln_with_check(first_nine: str) -> str | None:
    """Return a ULN for nine digits, or None where no check digit is possible."""
    total = sum(int(d) * w for d, w in zip(first_nine, range(10, 1, -1), strict=True))
    check = 10 - total % 11
    return None if check == 10 else first_nine + str(check)


def _uln(rng: random.Random) -> str:
    while True:
        uln = uln_with_check(str(rng.randrange(100_000_000, 1_000_000_000)))
        if uln is not None:
            return uln


def _person(rng: random.Random, index: int) -> dict[str, str]:
    birth = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 40 * 365))
    area = rng.choice(POSTCODE_AREAS)
    postcode = (
        f"{area}{rng.randrange(1, 20)} {rng.randrange(0, 10)}"
        f"{rng.choice('ABDEFGHJ')}{rng.choice('LNPQRSTUW')}"
    )
    given = rng.choice(GIVEN_NAMES)
    family = rng.choice(FAMILY_NAMES)
    return {
        "source_person_ref": f"S{index:09d}",
        "given_name": given,
        "family_name": family,
        "date_of_birth": birth.isoformat(),
        "postcode": postcode,
        "email": f"{given.lower()}.{family.lower()}{index}@example.org",
        "uln": _uln(rng),
        "upn": "",
        "ni_number": f"{rng.choice(NI_PREFIXES)}{rng.randrange(0, 1_000_000):06d}"
        f"{rng.choice('ABCD')}",
        "ucas_id": "",
        "husid": "",
    }


def _achievement(rng: random.Random, person: dict[str, str]) -> dict[str, str]:
    birth = date.fromisoformat(person["date_of_birth"])
    awarded = birth + timedelta(days=rng.randrange(18 * 365, 25 * 365))
    awarded = min(awarded, date(2025, 12, 31))
    return {
        "kind": "qualification",
        "qualification_number": (
            f"{rng.randrange(500, 700)}/{rng.randrange(0, 10000):04d}/"
            f"{rng.randrange(0, 10)}"
        ),
        "title": rng.choice(TITLES),
        "level": str(rng.randrange(1, 8)),
        "grade": rng.choice(("Pass", "Merit", "Distinction")),
        "awarded_on": awarded.isoformat(),
        "awarding_body": "Example Awarding Organisation",
        "provider_ukprn": "10000001",
    }


def _experience(rng: random.Random, person: dict[str, str]) -> dict[str, str]:
    birth = date.fromisoformat(person["date_of_birth"])
    started = min(
        birth + timedelta(days=rng.randrange(16 * 365, 30 * 365)), date(2025, 1, 1)
    )
    return {
        "kind": rng.choice(("employment", "volunteering", "work_experience")),
        "organisation": rng.choice(ORGANISATIONS),
        "role": "Assistant",
        "started_on": started.isoformat(),
        "ended_on": (started + timedelta(days=rng.randrange(30, 900))).isoformat(),
        "hours": str(rng.randrange(10, 2000)),
    }


def synthetic_rows(
    rows: int,
    feed_type: str = "achievements",
    seed: int = 0,
    max_records_per_person: int = 1,
) -> Iterator[dict[str, str]]:
    """Yield ``rows`` rows of made-up people, reproducibly.

    Each person has from 1 to ``max_records_per_person`` records, as many
    as a uniform draw gives, on adjacent rows as a provider's export lists
    them. With the default of 1 every row is another person.
    """
    rng = random.Random(seed)
    make_record = _achievement if feed_type == "achievements" else _experience
    index = written = 0
    while written < rows:
        person = _person(rng, index)
        index += 1
        records = 1
        if max_records_per_person > 1:
            records = rng.randint(1, max_records_per_person)
        for _ in range(min(records, rows - written)):
            yield {**person, **make_record(rng, person)}
            written += 1


def write_synthetic_csv(
    out: TextIO,
    rows: int,
    feed_type: str = "achievements",
    seed: int = 0,
    max_records_per_person: int = 1,
) -> None:
    """Write a standard-mapping CSV feed of ``rows`` rows of made-up people."""
    writer = csv.DictWriter(out, fieldnames=list(fields_for(feed_type)))
    writer.writeheader()
    writer.writerows(synthetic_rows(rows, feed_type, seed, max_records_per_person))
