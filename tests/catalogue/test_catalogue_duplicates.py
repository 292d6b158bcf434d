"""Duplicates across feeds: the same service published by two councils."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.catalogue.duplicates import decide, find_duplicates, list_candidates
from john.catalogue.models import Revision, SearchEntry
from john.errors import Conflict


def _pairs(session: Session) -> set[tuple[str, str]]:
    return {(view.first.name, view.second.name) for view in list_candidates(session)}


def test_council_feeds_share_four_services(council_services: Session) -> None:
    assert find_duplicates(council_services) == 4
    assert _pairs(council_services) == {
        ("Care Act Advocacy", "Care Act Advocacy"),
        ("The Carents Room", "The Carents Room"),
        (
            "Independent Mental Health Advocacy",
            "Independent Mental Health Advocacy (IMHA)",
        ),
        ("National Autistic Society", "The National Autistic Society"),
    }


def test_candidates_name_their_evidence(council_services: Session) -> None:
    find_duplicates(council_services)
    best = list_candidates(council_services)[0]
    assert best.candidate.score == 1.0
    assert best.candidate.reasons[0] == "names 100% similar"
    assert {best.first.source, best.second.source} == {
        "Bristol City Council",
        "North Lincolnshire Council",
    }


def test_same_name_alone_not_paired(council_services: Session) -> None:
    find_duplicates(council_services)
    names = {name for pair in _pairs(council_services) for name in pair}
    assert "Lunch Club" not in names


def test_merge_hides_second_from_search(council_services: Session) -> None:
    find_duplicates(council_services)
    view = list_candidates(council_services)[0]
    decide(council_services, view.candidate.id, "merged", "curator-1")
    hidden = council_services.scalars(
        select(SearchEntry).where(SearchEntry.entry_id == view.second.id)
    ).first()
    revision = council_services.scalars(
        select(Revision).where(Revision.entity_id == view.second.id)
    ).one()
    assert hidden is None
    assert revision.action == "merge"
    assert revision.changes == {"merged_into": {"before": None, "after": view.first.id}}


def test_kept_apart_survives_rerun(council_services: Session) -> None:
    find_duplicates(council_services)
    view = list_candidates(council_services)[0]
    decide(council_services, view.candidate.id, "kept_apart", "curator-1")
    assert find_duplicates(council_services) == 0
    assert len(list_candidates(council_services)) == 3
    assert len(list_candidates(council_services, "kept_apart")) == 1


def test_second_decision_conflicts(council_services: Session) -> None:
    find_duplicates(council_services)
    view = list_candidates(council_services)[0]
    decide(council_services, view.candidate.id, "kept_apart", "curator-1")
    with pytest.raises(Conflict, match="already kept_apart"):
        decide(council_services, view.candidate.id, "merged", "curator-2")
