"""Chunk validation gives what row validation gives, row for row."""

from __future__ import annotations

import gc
from datetime import date, timedelta
from itertools import islice

import pytest
from feed_samples import ULN_CHECK_DIGIT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from john.errors import FieldProblem
from john.records.mappings import REQUIRED_FIELDS, fields_for, standard_mapping
from john.records.synthetic import synthetic_rows
from john.records.validation import MAX_LENGTHS, Registers, RowValidator

TODAY = date(2026, 6, 1)
FEED_TYPES = ("achievements", "experiences")
SAMPLES = {
    feed_type: list(synthetic_rows(40, feed_type, seed=7)) for feed_type in FEED_TYPES
}
REGISTERS = Registers(
    providers=frozenset({"10000001", "10000003"}),
    qualifications=frozenset(
        row["qualification_number"].replace("/", "")
        for row in SAMPLES["achievements"][:30]
    ),
)

# Values that row validation rejects, accepts in another form, or accepts at
# a limit, by field. Every field may also be blanked, padded or lower-cased.
FIELD_VALUES: dict[str, list[str]] = {
    "source_person_ref": ["x" * 100, "x" * 101, "  ", "L-0001"],
    "given_name": ["x" * 200, "x" * 201, "Zoë"],
    "family_name": ["x" * 201, "O'Neill"],
    "date_of_birth": [
        "20010203",
        "2001-02-30",
        "2001-13-01",
        "0000-01-01",
        "2027-01-01",
        "1900-01-01",
        "1926-06-01",
        "1926-06-02",
        "2016-06-01",
        "2016-06-02",
        "2000-02-29",
        "1999-02-29",
        "2001-W05-1",
        "٢٠٠١-٠٢-٠٣",
        "2001-02-03T00:00",
        "2001-02-0\n",
    ],
    "postcode": ["ls1 4ap", "LS14AP", "GIR 0AA", "gir0aa", "NOT A CODE", "EC1A 1BB"],
    "email": [
        "alex at example",
        "a@b.c",
        "a@@b.co",
        "a@b.",
        "@b.co",
        "a b@c.de",
        "a@.b",
        "a@b..c",
        "x" * 315 + "@b.co",
        "x" * 316 + "@b.co",
    ],
    "uln": [
        "1234567890",
        "1234567899",
        "0123456789",
        "123456789",
        "12345678901",
        "١٢٣٤٥٦٧٨٩٩",
        "1000000001",
        "12345\n7899",
    ],
    "upn": ["P207000016049", "p207000016049", "A12345678901Z", "12345"],
    "ni_number": [
        "QQ123456C",
        "AB 12 34 56 C",
        "ab123456c",
        "BG123456A",
        "NC123456A",
        "AB123456",
        "AO123456A",
    ],
    "ucas_id": ["1234567890", "123-456-7890", "0000000000", "12345"],
    "husid": ["1234567890123", "0000000000000", "12345"],
    "address_line_1": ["x" * 200, "x" * 201, "12 Pinkerton Circuit"],
    "address_line_2": ["x" * 150],
    "locality": ["x" * 100, "x" * 101],
    "region": ["x" * 101, "VIC"],
    "other_identifier": ["4066625", "x" * 40, "x" * 41],
    "other_identifier_scheme": ["candidate-number", "x" * 41],
    "kind": [
        "Qualification",
        "AWARD",
        "work experience",
        "Work-Experience",
        "volunteering",
        "certificate",
        "unit",
    ],
    "qualification_number": [
        "60188306",
        "601/8830/X",
        "601/8830/x",
        "601-8830-6",
        "60/1",
        "999/9999/9",
    ],
    "title": ["x" * 5000],
    "level": ["x" * 40, "x" * 41],
    "grade": ["x" * 41],
    "awarded_on": ["20190820", "2027-01-01", "2026-06-01", "0001-01-01", "2019-02-29"],
    "awarding_body": ["x" * 300, "x" * 301],
    "provider_ukprn": ["01234567", "10000002", "10000003", "1000000", "1000000X"],
    "organisation": ["x" * 300, "x" * 301],
    "role": ["x" * 301],
    "started_on": ["2027-01-01", "20200106", "1990-01-01", "2026-06-01"],
    "ended_on": ["1990-01-01", "2100-01-01", "2020-02-30", "20200731"],
    "hours": [
        "37.5",
        "0120",
        "1e3",
        "-1",
        "1_000",
        "1234567",
        "123456.1234",
        "1.23456",
        "inf",
        "٤٠",
        "0",
    ],
}


def make_validator(feed_type: str, registers: Registers, header: list[str]):
    bound = standard_mapping(feed_type).bind(header)
    return RowValidator(feed_type, bound, registers, TODAY)


def rows_by_validate(validator: RowValidator, numbers, rows):
    """Return what validate_chunk must return, from one validate call per row."""
    valid = []
    problems = {}
    for position, (number, row) in enumerate(zip(numbers, rows, strict=True)):
        result, found = validator.validate(number, row)
        if result is None:
            problems[position] = found
        else:
            valid.append(result)
    return valid, problems


def births_at_age_limits(record_date: str) -> list[str]:
    """Return dates of birth that put the age on ``record_date`` at 9, 10, 100, 101."""
    day = date.fromisoformat(record_date)
    births = []
    for years in (10, 100, 101):
        try:
            birth = day.replace(year=day.year - years)
        except ValueError:
            continue
        births += [birth.isoformat(), (birth + timedelta(days=1)).isoformat()]
    return births


@st.composite
def corrupted_row(draw, feed_type: str) -> dict[str, str]:
    row = dict(draw(st.sampled_from(SAMPLES[feed_type])))
    if draw(st.booleans()):
        record_date = row["awarded_on" if feed_type == "achievements" else "started_on"]
        row["date_of_birth"] = draw(st.sampled_from(births_at_age_limits(record_date)))
    fields = [name for name in fields_for(feed_type) if name in FIELD_VALUES]
    for name in draw(st.lists(st.sampled_from(fields), max_size=3)):
        original = row.get(name, "")
        row[name] = draw(
            st.sampled_from(
                [
                    *FIELD_VALUES[name],
                    "",
                    f" {original}\t",
                    original.lower(),
                    "\u00a0" + original,
                ]
            )
        )
    return row


@st.composite
def chunk(draw):
    feed_type = draw(st.sampled_from(FEED_TYPES))
    rows = draw(st.lists(corrupted_row(feed_type), min_size=1, max_size=25))
    registers = draw(st.sampled_from([Registers(), REGISTERS]))
    return feed_type, rows, registers


@given(chunk())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_chunk_matches_row_validation(case) -> None:
    feed_type, records, registers = case
    header = list(fields_for(feed_type))
    rows = [[record.get(name, "") for name in header] for record in records]
    numbers = list(range(2, len(rows) + 2))

    expected = rows_by_validate(
        make_validator(feed_type, registers, header), numbers, rows
    )
    found = make_validator(feed_type, registers, header).validate_chunk(numbers, rows)
    assert found[0] == expected[0]
    assert found[1] == expected[1]


@pytest.mark.parametrize("feed_type", FEED_TYPES)
def test_chunk_without_optional_columns(feed_type: str) -> None:
    header = [*REQUIRED_FIELDS[feed_type], "uln"]
    records = SAMPLES[feed_type][:5]
    rows = [[record.get(name, "") for name in header] for record in records]
    rows[3][header.index("uln")] = "1234567890"
    numbers = [10, 11, 12, 13, 14]

    validator = make_validator(feed_type, Registers(), header)
    valid, problems = validator.validate_chunk(numbers, rows)
    assert [row.number for row in valid] == [10, 11, 12, 14]
    assert problems == {3: [FieldProblem("uln", ULN_CHECK_DIGIT)]}
    assert (valid, problems) == rows_by_validate(validator, numbers, rows)


def test_empty_chunk_gives_nothing() -> None:
    header = list(fields_for("achievements"))
    validator = make_validator("achievements", Registers(), header)
    assert validator.validate_chunk([], []) == ([], {})


@pytest.mark.parametrize("feed_type", FEED_TYPES)
def test_planted_bad_rows_found(feed_type: str) -> None:
    header = list(fields_for(feed_type))
    records = list(islice(synthetic_rows(3000, feed_type, seed=3), 3000))
    for position in range(0, 3000, 100):
        uln = records[position]["uln"]
        records[position]["uln"] = uln[:9] + str((int(uln[9]) + 1) % 10)
    for position in range(50, 3000, 100):
        records[position]["postcode"] = records[position]["postcode"].lower()
    for position in range(75, 3000, 500):
        records[position]["source_person_ref"] = "x" * 101
    rows = [[record.get(name, "") for name in header] for record in records]
    numbers = list(range(2, 3002))

    validator = make_validator(feed_type, Registers(), header)
    valid, problems = validator.validate_chunk(numbers, rows)

    assert len(valid) == 2964
    assert sorted(problems) == sorted([*range(0, 3000, 100), *range(75, 3000, 500)])
    assert problems[100] == [FieldProblem("uln", ULN_CHECK_DIGIT)]
    length_limit = MAX_LENGTHS["source_person_ref"]
    assert problems[575] == [
        FieldProblem("source_person_ref", f"is longer than {length_limit} characters")
    ]
    by_number = {row.number: row for row in valid}
    assert by_number[52].person[4] == records[50]["postcode"].upper()
    assert by_number[3].person[0] == "S000000001"
    assert (valid, problems) == rows_by_validate(validator, numbers, rows)


@pytest.mark.parametrize("enabled", [True, False])
def test_chunk_restores_collector_state(enabled: bool) -> None:
    header = list(fields_for("achievements"))
    rows = [
        [record.get(name, "") for name in header] for record in SAMPLES["achievements"]
    ]
    validator = make_validator("achievements", Registers(), header)
    was_enabled = gc.isenabled()
    if not enabled:
        gc.disable()
    try:
        valid, _ = validator.validate_chunk(list(range(len(rows))), rows)
        assert gc.isenabled() is enabled
    finally:
        if was_enabled:
            gc.enable()
    assert len(valid) == len(rows)
