"""Duplicates across feeds: the same service published by two councils."""

from __future__ import annotations

from typing import Any

import pytest
from catalogue_samples import aberdeen_service
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.catalogue.duplicates import (
    CandidateView,
    decide,
    find_duplicates,
    list_candidates,
    undo_merge,
)
from john.catalogue.geocode import Geocoder
from john.catalogue.models import (
    Attribute,
    Contact,
    Revision,
    SearchEntry,
    Service,
    ServiceAtLocation,
)
from john.catalogue.oruk import import_oruk
from john.catalogue.oruk_export import (
    ServiceFilter,
    list_services,
    organization_document,
    service_document,
)
from john.catalogue.service import list_revisions
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


def _parts(session: Session, service_id: str) -> dict[str, set[str]]:
    """Return the location ids, contact e-mails and term ids of a service."""
    return {
        "locations": set(
            session.scalars(
                select(ServiceAtLocation.location_id).where(
                    ServiceAtLocation.service_id == service_id
                )
            )
        ),
        "emails": {
            email
            for email in session.scalars(
                select(Contact.email).where(Contact.service_id == service_id)
            )
            if email
        },
        "terms": set(
            session.scalars(
                select(Attribute.taxonomy_term_id).where(
                    Attribute.link_type == "service", Attribute.link_id == service_id
                )
            )
        ),
    }


TWIN_TERM = {
    "id": "90000000-0000-4000-8000-000000000002",
    "taxonomy_term": {"name": "Digital inclusion", "taxonomy": "Service type"},
}


def _twin(number: int) -> dict[str, Any]:
    """Return the drop-in as a second trust publishes it, with its own parts."""
    twin = aberdeen_service(number, name="Digital skills drop-in 1")
    twin["contacts"][0]["email"] = f"desk{number}@example.org"
    twin["attributes"] = [TWIN_TERM]
    return twin


@pytest.fixture
def twins(session: Session, geocoder: Geocoder) -> Session:
    """Return a session on a store where two trusts publish the same drop-in."""
    import_oruk(session, [aberdeen_service(1)], "Trust A", geocoder)
    import_oruk(session, [_twin(2)], "Trust B", geocoder)
    session.commit()
    return session


def _merge_first(session: Session) -> CandidateView:
    find_duplicates(session)
    view = list_candidates(session)[0]
    decide(session, view.candidate.id, "merged", "curator-1")
    session.commit()
    return view


def test_merge_gives_kept_the_parts(twins: Session) -> None:
    find_duplicates(twins)
    view = list_candidates(twins)[0]
    kept_before = _parts(twins, view.first.id)
    other = _parts(twins, view.second.id)
    decide(twins, view.candidate.id, "merged", "curator-1")
    kept_after = _parts(twins, view.first.id)
    document = twins.get(Service, view.first.id).oruk_json
    document_locations = {
        link["location"]["id"] for link in document["service_at_locations"]
    }
    document_terms = {
        attribute["taxonomy_term"]["name"] for attribute in document["attributes"]
    }
    assert view.first.id == aberdeen_service(1)["id"]
    assert len(kept_after["locations"]) == 2
    assert kept_after["locations"] == kept_before["locations"] | other["locations"]
    assert kept_after["emails"] == kept_before["emails"] | other["emails"]
    assert kept_after["terms"] == kept_before["terms"] | other["terms"]
    assert document_locations == kept_after["locations"]
    assert document_terms == {"Digital inclusion"}
    assert "desk2@example.org" in {c.get("email") for c in document["contacts"]}


def test_merged_service_points_to_kept(twins: Session) -> None:
    view = _merge_first(twins)
    merged = twins.get(Service, view.second.id)
    assert merged.merged_into == view.first.id
    assert service_document(twins, view.second.id)["id"] == view.first.id
    listed = list_services(twins, ServiceFilter(), 1, 500)
    organization = organization_document(twins, merged.organization_id)
    assert view.second.id not in {item["id"] for item in listed["contents"]}
    assert [item["id"] for item in organization["services"]] == [view.first.id]


def test_merge_history_on_both_services(twins: Session) -> None:
    view = _merge_first(twins)
    kept_history = list_revisions(twins, "service", view.first.id)
    assert kept_history[0].action == "merge"
    assert kept_history[0].actor == "curator-1"
    assert kept_history[0].changes["merged_from"]["after"] == view.second.id
    assert kept_history[0].changes["added"]["after"]["service_at_locations"]


def test_undo_merge_restores_both(twins: Session) -> None:
    find_duplicates(twins)
    view = list_candidates(twins)[0]
    kept_before = _parts(twins, view.first.id)
    document_before = dict(twins.get(Service, view.first.id).oruk_json)
    decide(twins, view.candidate.id, "merged", "curator-1")
    undone = undo_merge(twins, view.candidate.id, "curator-2")
    kept = twins.get(Service, view.first.id)
    entry = twins.scalars(
        select(SearchEntry).where(SearchEntry.entry_id == view.second.id)
    ).first()
    assert undone.candidate.status == "pending"
    assert _parts(twins, view.first.id) == kept_before
    assert (
        kept.oruk_json["service_at_locations"]
        == (document_before["service_at_locations"])
    )
    assert kept.oruk_json["contacts"] == document_before["contacts"]
    assert kept.oruk_json.get("attributes", []) == []
    assert twins.get(Service, view.second.id).merged_into is None
    assert entry is not None
    assert list_revisions(twins, "service", view.first.id)[0].action == "unmerge"


def test_undo_needs_a_merge(council_services: Session) -> None:
    find_duplicates(council_services)
    view = list_candidates(council_services)[0]
    with pytest.raises(Conflict, match="only a merge can be undone"):
        undo_merge(council_services, view.candidate.id, "curator-1")


def test_reimport_keeps_merge(twins: Session, geocoder: Geocoder) -> None:
    view = _merge_first(twins)
    kept_after_merge = _parts(twins, view.first.id)
    import_oruk(twins, [aberdeen_service(1)], "Trust A", geocoder)
    import_oruk(twins, [_twin(2)], "Trust B", geocoder)
    twins.commit()
    kept = twins.get(Service, view.first.id)
    entry = twins.scalars(
        select(SearchEntry).where(SearchEntry.entry_id == view.second.id)
    ).first()
    assert _parts(twins, view.first.id) == kept_after_merge
    assert len(kept.oruk_json["service_at_locations"]) == 2
    assert entry is None
