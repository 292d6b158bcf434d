"""Repairs of feed values: ids, URLs, e-mails, HTML, times, postcodes, distance."""

from __future__ import annotations

import pytest

from john.catalogue.cleaning import (
    clean_byday,
    clean_email,
    clean_time,
    clean_url,
    derived_uuid,
    html_to_text,
    is_uuid,
)
from john.catalogue.geocode import (
    authority_key,
    bounding_box,
    haversine_km,
    normalise_postcode,
)
from john.catalogue.registers import parse_opening_hours

URL_CASES = [
    # (as published, as stored, reason) - all from the council feeds.
    ("https://www.northlincs.gov.uk/", "https://www.northlincs.gov.uk/", None),
    (
        "www.samaritans.org/branches/bristol/",
        "https://www.samaritans.org/branches/bristol/",
        "URL had no scheme",
    ),
    (
        "http:www.yateandsodburydc.co.uk",
        "http://www.yateandsodburydc.co.uk",
        "URL scheme was malformed",
    ),
    (
        "https:/holisuntherapies.co.uk",
        "https://holisuntherapies.co.uk",
        "URL scheme was malformed",
    ),
    ("Warmley Community Centre", None, "not a web address"),
    ("", None, None),
]


@pytest.mark.parametrize(("given", "stored", "reason"), URL_CASES)
def test_clean_url_cases(given: str, stored: str | None, reason: str | None) -> None:
    assert clean_url(given) == (stored, reason)


@pytest.mark.parametrize(
    ("given", "stored", "reason"),
    [
        ("victorhouse@northlincs.gov.uk", "victorhouse@northlincs.gov.uk", None),
        ("mailto:a@example.org", "a@example.org", "mailto: removed"),
        ("call 01234", None, "not an e-mail address"),
        ("  ", None, None),
    ],
)
def test_clean_email_cases(given: str, stored: str | None, reason: str | None) -> None:
    assert clean_email(given) == (stored, reason)


def test_html_empty_paragraph_becomes_empty() -> None:
    assert html_to_text("<p><br></p>") == ("", True)


def test_html_entities_become_characters() -> None:
    text, changed = html_to_text("<p>Drug &amp; Alcohol&nbsp;support</p>")
    assert text == "Drug & Alcohol support"
    assert changed is True


def test_plain_text_left_unchanged() -> None:
    assert html_to_text("Plain words") == ("Plain words", False)


def test_uuid_check_rejects_feed_codes() -> None:
    assert is_uuid("ac148810-d857-441c-9679-408f346de14b") is True
    assert is_uuid("22538") is False
    assert is_uuid(None) is False


def test_derived_uuid_is_stable() -> None:
    first = derived_uuid("feed", "22538")
    assert first == derived_uuid("feed", "22538")
    assert is_uuid(first)
    assert first != derived_uuid("feed", "22539")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("10:00:00", "10:00"),
        ("9:30Z", "09:30"),
        ("17:45+01:00", "17:45"),
        ("25:00", None),
        ("noon", None),
        (None, None),
    ],
)
def test_clean_time_cases(given: str | None, expected: str | None) -> None:
    assert clean_time(given) == expected


def test_byday_drops_unknown_codes() -> None:
    assert clean_byday("mo, TU,XX,1FR") == "MO,TU,FR"
    assert clean_byday("XX") is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("ab101ab", "AB10 1AB"),
        ("AB10  1AB", "AB10 1AB"),
        ("M1 1AD", "M1 1AD"),
        ("SE1P 5ZZ", "SE1P 5ZZ"),
        ("XYZ", None),
        ("", None),
    ],
)
def test_normalise_postcode_cases(given: str, expected: str | None) -> None:
    assert normalise_postcode(given) == expected


def test_haversine_london_to_paris() -> None:
    distance = haversine_km(51.5074, -0.1278, 48.8566, 2.3522)
    assert abs(distance - 343.5) < 1.0


def test_haversine_same_point_zero() -> None:
    assert haversine_km(57.15, -2.1, 57.15, -2.1) == 0.0


def test_bounding_box_contains_radius() -> None:
    min_lat, max_lat, min_lon, max_lon = bounding_box(57.15, -2.1, 10.0)
    assert haversine_km(57.15, -2.1, max_lat, -2.1) == pytest.approx(10.0, rel=1e-3)
    assert haversine_km(57.15, -2.1, 57.15, max_lon) >= 9.99
    assert min_lat < 57.15 < max_lat
    assert min_lon < -2.1 < max_lon


def test_authority_key_matches_council_names() -> None:
    assert authority_key("Aberdeen City Council") == authority_key("Aberdeen City")
    assert authority_key("Bristol, City of") == "bristol"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("09:00-19:00", [("09:00", "19:00")]),
        ("10:00-13:00,14:00-17:00", [("10:00", "13:00"), ("14:00", "17:00")]),
        ("Closed", []),
        ("", []),
        ("18:00-09:00", []),
    ],
)
def test_parse_opening_hours_cases(given: str, expected: list[tuple[str, str]]) -> None:
    assert parse_opening_hours(given) == expected
