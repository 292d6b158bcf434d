"""Mapping files that contradict themselves are rejected before any row is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from john.errors import InvalidInput
from john.records.mappings import load_mapping

CASE_CLASH = """
feed_type = "achievements"
name = "case-clash"

[columns]
"Learner Ref" = "source_person_ref"
" learner ref " = "given_name"
"""

SAME_FIELD = """
feed_type = "achievements"
name = "either-heading"

[columns]
"DOB" = "date_of_birth"
"Date of Birth" = "date_of_birth"
"Learner Ref" = "source_person_ref"
"learner ref" = "source_person_ref"
"""


def test_heading_case_clash_rejected(tmp_path: Path) -> None:
    path = tmp_path / "mapping.toml"
    path.write_text(CASE_CLASH)
    with pytest.raises(InvalidInput) as raised:
        load_mapping(path, "achievements")
    problem = raised.value.problems[0]
    assert problem.field == "mapping.columns. learner ref "
    assert "'Learner Ref'" in problem.message
    assert "'given_name'" in problem.message


def test_alternative_headings_accepted(tmp_path: Path) -> None:
    # Two headings for one field let one mapping serve files that name the
    # column either way; the header binds whichever it has.
    path = tmp_path / "mapping.toml"
    path.write_text(SAME_FIELD)
    mapping = load_mapping(path, "achievements")
    assert mapping.columns["DOB"] == "date_of_birth"
    assert mapping.columns["Date of Birth"] == "date_of_birth"
    assert mapping.columns["learner ref"] == "source_person_ref"
