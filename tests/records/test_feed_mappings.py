"""Column mappings: the standard mapping, mapping files, missing and extra columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from john.errors import FeedError, InvalidInput
from john.records.mappings import load_mapping, standard_mapping

MAPPING_TOML = """
feed_type = "achievements"
name = "college-export"

[columns]
"Learner Ref" = "source_person_ref"
"Forename" = "given_name"
"Award Type" = "kind"
"Qualification Title" = "title"
"""


def test_standard_mapping_binds_header() -> None:
    bound = standard_mapping("achievements").bind(
        ["source_person_ref", "kind", "title"]
    )
    assert bound.positions == {"source_person_ref": 0, "kind": 1, "title": 2}
    assert bound.ignored == []


def test_header_match_ignores_case() -> None:
    bound = standard_mapping("achievements").bind(
        [" Source_Person_Ref ", "KIND", "Title"]
    )
    assert set(bound.positions) == {"source_person_ref", "kind", "title"}


def test_extra_columns_ignored_and_listed() -> None:
    header = ["source_person_ref", "kind", "title", "shoe_size", "notes"]
    bound = standard_mapping("achievements").bind(header)
    assert bound.ignored == ["shoe_size", "notes"]


def test_missing_columns_reject_feed() -> None:
    with pytest.raises(FeedError) as raised:
        standard_mapping("achievements").bind(["source_person_ref", "grade"])
    assert "kind, title" in raised.value.detail
    assert "'standard'" in raised.value.detail
    assert [p.field for p in raised.value.problems] == ["kind", "title"]


def test_toml_mapping_file_loaded(tmp_path: Path) -> None:
    path = tmp_path / "college.toml"
    path.write_text(MAPPING_TOML, encoding="utf-8")
    mapping = load_mapping(path, "achievements")
    bound = mapping.bind(["Learner Ref", "Award Type", "Qualification Title", "Year"])
    assert mapping.name == "college-export"
    assert bound.positions == {"source_person_ref": 0, "kind": 1, "title": 2}
    assert bound.ignored == ["Year"]


def test_json_mapping_file_loaded(tmp_path: Path) -> None:
    path = tmp_path / "volunteers.json"
    path.write_text(
        '{"columns": {"Ref": "source_person_ref", "Type": "kind", '
        '"Where": "organisation"}}',
        encoding="utf-8",
    )
    mapping = load_mapping(path, "experiences")
    assert mapping.name == "volunteers"
    assert mapping.columns["Where"] == "organisation"


def test_mapping_missing_column_named_as_source(tmp_path: Path) -> None:
    path = tmp_path / "college.toml"
    path.write_text(MAPPING_TOML, encoding="utf-8")
    with pytest.raises(FeedError) as raised:
        load_mapping(path, "achievements").bind(["Learner Ref", "Award Type"])
    assert "Qualification Title" in raised.value.detail
    assert "college-export" in raised.value.detail


def test_mapping_unknown_field_rejected(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('[columns]\n"Ref" = "learner_ref"\n', encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        load_mapping(path, "achievements")
    assert raised.value.problems[0].field == "mapping.columns.Ref"


def test_mapping_other_feed_type_rejected(tmp_path: Path) -> None:
    path = tmp_path / "college.toml"
    path.write_text(MAPPING_TOML, encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        load_mapping(path, "experiences")
    assert "feed type 'achievements'" in raised.value.detail


def test_mapping_file_missing_rejected(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as raised:
        load_mapping(tmp_path / "absent.toml", "achievements")
    assert "cannot be read" in raised.value.detail


def test_mapping_invalid_toml_rejected(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[columns\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as raised:
        load_mapping(path, "achievements")
    assert "not valid TOML" in raised.value.detail


def test_unknown_feed_type_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        load_mapping("standard", "grades")
    assert raised.value.problems[0].field == "type"
