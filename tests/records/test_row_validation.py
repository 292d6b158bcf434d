"""Row validation rules, as a table of field values and the problems they give."""

from __future__ import annotations

from datetime import date

import pytest
from feed_samples import achievement_row, experience_row

from john.records.mappings import PERSON_FIELDS, RECORD_FIELDS, standard_mapping
from john.records.validation import Registers, RowValidator

TODAY = date(2026, 6, 1)


def validate(row: dict[str, str], feed_type: str = "achievements", registers=None):
    header = list(PERSON_FIELDS + RECORD_FIELDS[feed_type])
    validator = RowValidator(
        feed_type,
        standard_mapping(feed_type).bind(header),
        registers or Registers(),
        TODAY,
    )
    return validator.validate(1, [row.get(name, "") for name in header])


def problems_of(row: dict[str, str], **options) -> dict[str, str]:
    _, problems = validate(row, **options)
    return {problem.field: problem.message for problem in problems}


def test_valid_achievement_accepted() -> None:
    valid, problems = validate(achievement_row())
    assert problems == []
    assert valid is not None
    assert valid.person[0] == "L0001"
    assert valid.person[3] == "2001-02-03"
    assert valid.record[5] == "2019-08-20"
    assert len(valid.row_key) == 64


def test_address_and_other_identifier_kept() -> None:
    row = achievement_row(
        address_line_1="12 Pinkerton Circuit",
        address_line_2="Bega Flats",
        locality="Richlands",
        region="VIC",
        other_identifier="4066625",
        other_identifier_scheme="candidate-number",
    )
    valid, problems = validate(row)
    assert problems == []
    assert valid is not None
    person = dict(zip(PERSON_FIELDS, valid.person, strict=True))
    assert person["address_line_1"] == "12 Pinkerton Circuit"
    assert person["address_line_2"] == "Bega Flats"
    assert person["locality"] == "Richlands"
    assert person["region"] == "VIC"
    assert person["other_identifier"] == "4066625"
    assert person["other_identifier_scheme"] == "candidate-number"


def test_missing_address_stored_as_none() -> None:
    valid, _ = validate(achievement_row(other_identifier_scheme="unused"))
    assert valid is not None
    person = dict(zip(PERSON_FIELDS, valid.person, strict=True))
    assert person["address_line_1"] is None
    assert person["locality"] is None
    assert person["other_identifier_scheme"] is None


def test_other_identifier_needs_scheme() -> None:
    found = problems_of(achievement_row(other_identifier="4066625"))
    assert found == {"other_identifier_scheme": "is required with other_identifier"}


def test_valid_experience_accepted() -> None:
    valid, problems = validate(experience_row(), feed_type="experiences")
    assert problems == []
    assert valid is not None
    assert valid.record == (
        "volunteering",
        "Riverside Library",
        "Reading helper",
        "2020-01-06",
        "2020-07-31",
        120.0,
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("uln", "1234567890", "Invalid ULN (Unique Learner Number): the check"),
        ("uln", "12345", "Invalid ULN (Unique Learner Number): it has 5"),
        ("ni_number", "QQ123456C", "Invalid National Insurance number"),
        ("upn", "A12345678901Z", "Invalid UPN"),
        ("ucas_id", "12345", "Invalid UCAS Personal ID"),
        ("husid", "12345", "Invalid HUSID"),
        ("provider_ukprn", "01234567", "Invalid UKPRN"),
        ("qualification_number", "60/1", "Invalid Ofqual qualification number"),
        ("kind", "certificate", "is not one of award, qualification, unit"),
        ("kind", "", "is required"),
        ("title", "", "is required"),
        ("source_person_ref", "", "is required"),
        ("awarded_on", "20/08/2019", "is not an ISO 8601 date (YYYY-MM-DD)"),
        ("awarded_on", "2027-01-01", "is in the future"),
        ("date_of_birth", "2027-01-01", "is in the future"),
        ("postcode", "NOT A CODE", "is not a UK postcode"),
        ("postcode", "LS1 4A\u1e9e", "is not a UK postcode"),
        ("postcode", "ls1 4\ufb00", "is not a UK postcode"),
        ("email", "alex at example", "is not an email address"),
        ("grade", "x" * 41, "is longer than 40 characters"),
        ("address_line_1", "x" * 201, "is longer than 200 characters"),
        ("locality", "x" * 101, "is longer than 100 characters"),
        ("region", "x" * 101, "is longer than 100 characters"),
        ("other_identifier", "x" * 41, "is longer than 40 characters"),
        ("other_identifier_scheme", "x" * 41, "is longer than 40 characters"),
    ],
)
def test_achievement_field_rejected(field: str, value: str, message: str) -> None:
    found = problems_of(achievement_row(**{field: value}))
    assert field in found
    assert found[field].startswith(message)


@pytest.mark.parametrize(
    ("birth", "awarded"),
    [
        ("2015-01-01", "2019-08-20"),
        ("1900-01-01", "2019-08-20"),
        ("2012-06-02", "2022-06-01"),
    ],
)
def test_implausible_birth_rejected(birth: str, awarded: str) -> None:
    found = problems_of(achievement_row(date_of_birth=birth, awarded_on=awarded))
    assert "date_of_birth" in found
    assert "outside 10 to 100 years" in found["date_of_birth"]


def test_birth_age_ten_accepted() -> None:
    found = problems_of(
        achievement_row(date_of_birth="2012-06-01", awarded_on="2022-06-01")
    )
    assert found == {}


def test_birth_checked_against_today_without_date() -> None:
    found = problems_of(achievement_row(date_of_birth="2020-01-01", awarded_on=""))
    assert "date_of_birth" in found


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hours", "-1", "is not a plain non-negative number"),
        ("hours", "nan", "is not a plain non-negative number"),
        ("hours", "ten", "is not a plain non-negative number"),
        ("hours", "1_000", "is not a plain non-negative number"),
        ("hours", "1e23", "is not a plain non-negative number"),
        ("started_on", "0001-01-01", "is before the learner's date_of_birth"),
        ("started_on", "2030-01-01", "is in the future"),
        ("ended_on", "2019-01-01", "is before started_on"),
        ("kind", "hobby", "is not one of"),
        ("organisation", "", "is required"),
    ],
)
def test_experience_field_rejected(field: str, value: str, message: str) -> None:
    found = problems_of(experience_row(**{field: value}), feed_type="experiences")
    assert field in found
    assert found[field].startswith(message)


def test_every_problem_in_row_collected() -> None:
    row = achievement_row(uln="1", awarded_on="2030-01-01", kind="x", postcode="?")
    found = problems_of(row)
    assert set(found) == {"uln", "awarded_on", "kind", "postcode"}


def test_messages_never_contain_values() -> None:
    row = achievement_row(uln="9999999999", ni_number="ZZ999999Z", email="z@z")
    _, problems = validate(row)
    for problem in problems:
        assert "9999999999" not in problem.message
        assert "ZZ999999Z" not in problem.message


def test_kind_spelling_normalised() -> None:
    valid, _ = validate(experience_row(kind="Work Experience"), feed_type="experiences")
    assert valid is not None
    assert valid.record[0] == "work_experience"


def test_identifiers_normalised() -> None:
    valid, _ = validate(achievement_row(ni_number="ab 12 34 56 c", postcode="ls14ap"))
    assert valid is not None
    assert valid.person[8] == "AB123456C"
    assert valid.person[4] == "LS1 4AP"


def test_unknown_provider_rejected_when_loaded() -> None:
    registers = Registers(providers=frozenset({"10000003"}))
    found = problems_of(achievement_row(), registers=registers)
    assert found["provider_ukprn"] == "is not on the provider register"


def test_unknown_qualification_rejected_when_loaded() -> None:
    registers = Registers(qualifications=frozenset({"50012345"}))
    found = problems_of(achievement_row(), registers=registers)
    assert found["qualification_number"] == "is not on the qualification register"


def test_registered_codes_accepted() -> None:
    registers = Registers(
        providers=frozenset({"10000002"}), qualifications=frozenset({"60188306"})
    )
    assert problems_of(achievement_row(), registers=registers) == {}


def test_row_key_ignores_person_details() -> None:
    first, _ = validate(achievement_row(postcode="LS1 4AP"))
    second, _ = validate(achievement_row(postcode="M1 1AE"))
    assert first is not None
    assert second is not None
    assert first.row_key == second.row_key


def test_row_key_follows_record_content() -> None:
    first, _ = validate(achievement_row(grade="Merit"))
    second, _ = validate(achievement_row(grade="Pass"))
    assert first is not None
    assert second is not None
    assert first.row_key != second.row_key


def test_implausible_birth_date_blamed_on_birth() -> None:
    found = problems_of(achievement_row(date_of_birth="1801-02-03"))
    assert set(found) == {"date_of_birth"}
    assert found["date_of_birth"].startswith("gives an age outside")


def test_decimal_hours_kept() -> None:
    valid, problems = validate(experience_row(hours="37.5"), feed_type="experiences")
    assert problems == []
    assert valid is not None
    assert valid.record[-1] == 37.5
