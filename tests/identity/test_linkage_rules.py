"""Pure linkage rules: identifier checks, aliases, clustering, thresholds."""

from __future__ import annotations

import pytest

from john.errors import ConfigurationError
from john.identity import clustering, linkage


@pytest.mark.parametrize(
    ("first_nine", "check"),
    [
        ("123456789", 9),
        ("555555555", 4),
        ("100000001", 9),
        ("987654321", None),
    ],
)
def test_uln_check_digit_rule(first_nine: str, check: int | None) -> None:
    assert linkage.uln_check_digit(first_nine) == check


@pytest.mark.parametrize(
    ("scheme", "value", "expected"),
    [
        ("uln", "1234567899", "1234567899"),
        ("uln", "1234567890", None),
        ("uln", " 12345 67899 ", "1234567899"),
        ("ni_number", "ab 12 34 56 c", "AB123456C"),
        ("ni_number", "GB123456C", None),
        ("ni_number", "AB123456E", None),
        ("ucas_id", "123-456-7890", "1234567890"),
        ("husid", "1234567890123", "1234567890123"),
        ("husid", "12345", None),
        ("upn", "", None),
        ("uln", None, None),
    ],
)
def test_identifier_normalisation(scheme: str, value: str | None, expected) -> None:
    assert linkage.normalise_identifier(scheme, value) == expected


def test_nickname_aliases_share_canonical() -> None:
    bob = set(linkage.given_name_aliases("Bob") or [])
    robert = set(linkage.given_name_aliases("Robert") or [])
    assert "robert" in bob
    assert bob & robert


def test_aliases_of_missing_name() -> None:
    assert linkage.given_name_aliases(None) is None
    assert linkage.given_name_aliases("  ") is None


def test_clusters_respect_cannot_link() -> None:
    clusters = clustering.cluster_records(
        [1, 2, 3], [[(1, 2)], [(2, 3)]], cannot_link=[(1, 3)]
    )
    assert clusters.find(1) == clusters.find(2)
    assert clusters.find(3) != clusters.find(1)


def test_clusters_join_chains() -> None:
    clusters = clustering.cluster_records([1, 2, 3, 4], [[(1, 2), (2, 3)]], [])
    assert sorted(map(sorted, clusters.clusters())) == [[1, 2, 3], [4]]


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ConfigurationError):
        linkage.Thresholds(match=0.4, review=0.6)


def test_spark_backend_not_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOHN_LINKAGE_BACKEND", "spark")
    with pytest.raises(ConfigurationError):
        linkage.selected_backend()


def test_unknown_backend_is_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOHN_LINKAGE_BACKEND", "oracle")
    with pytest.raises(ConfigurationError):
        linkage.selected_backend()
