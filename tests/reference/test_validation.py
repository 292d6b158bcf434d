"""Format rules for the identifiers and values in register files."""

from __future__ import annotations

import pytest

from john.reference import validation as check

POSTCODES = [
    ("ab10 1aa", "AB10 1AA"),
    ("AB101AA", "AB10 1AA"),
    ("  M1   1AD ", "M1 1AD"),
    ("sw1a2aa", "SW1A 2AA"),
    ("EC1A 1BB", "EC1A 1BB"),
]
BAD_POSTCODES = ["", "AB10", "1AB 1AA", "AB10 AA1", "ABC1 1AA", "AB10 1AAA"]


@pytest.mark.parametrize(("raw", "expected"), POSTCODES)
def test_postcode_normalised(raw: str, expected: str) -> None:
    assert check.parse_postcode(raw) == expected


@pytest.mark.parametrize("raw", BAD_POSTCODES)
def test_postcode_format_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="not in UK postcode format"):
        check.parse_postcode(raw)


@pytest.mark.parametrize("raw", ["10007773", " 10000975 "])
def test_ukprn_accepted(raw: str) -> None:
    assert check.parse_ukprn(raw) == raw.strip()


@pytest.mark.parametrize("raw", ["20007773", "1000777", "100077731", "1000777A", ""])
def test_ukprn_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="not 8 digits starting with 1"):
        check.parse_ukprn(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("601/2977/3", "601/2977/3"),
        ("60129773", "601/2977/3"),
        ("500/1234/x", "500/1234/X"),
    ],
)
def test_qualification_number_normalised(raw: str, expected: str) -> None:
    assert check.parse_qualification_number(raw) == expected


@pytest.mark.parametrize("raw", ["601/297/3", "6012/977/3", "601-2977-3", "601/2977/A"])
def test_qualification_number_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match="NNN/NNNN/C"):
        check.parse_qualification_number(raw)


@pytest.mark.parametrize(
    ("raw", "valid"),
    [("100000", True), ("12345", False), ("1234567", False), ("12345A", False)],
)
def test_urn_six_digits(raw: str, valid: bool) -> None:
    if valid:
        assert check.parse_urn(raw) == raw
    else:
        with pytest.raises(ValueError, match="not 6 digits"):
            check.parse_urn(raw)


def test_coordinates_in_range() -> None:
    assert check.parse_coordinates("57.101474", "-2.242851") == (57.101474, -2.242851)


def test_coordinates_both_empty() -> None:
    assert check.parse_coordinates("", " ") == (None, None)


@pytest.mark.parametrize(
    ("latitude", "longitude", "message"),
    [
        ("91", "0", "latitude '91.0' is outside"),
        ("51", "-181", "longitude '-181.0' is outside"),
        ("north", "0", "is not a number"),
        ("51.5", "", "is not a number"),
    ],
)
def test_coordinates_rejected(latitude: str, longitude: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check.parse_coordinates(latitude, longitude)


def test_uk_box_spots_swap() -> None:
    assert check.is_in_uk(57.24, -2.63)
    assert not check.is_in_uk(-2.63, 57.24)


@pytest.mark.parametrize(
    ("raw", "valid"), [("S12000033", True), ("E0600001", False), ("12000033S", False)]
)
def test_gss_code_format(raw: str, valid: bool) -> None:
    if valid:
        assert check.parse_gss_code(raw) == raw
    else:
        with pytest.raises(ValueError, match="GSS code"):
            check.parse_gss_code(raw)
