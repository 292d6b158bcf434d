"""Curators add and edit catalogue entries through the API, with history."""

from __future__ import annotations

from typing import Any

import pytest
from catalogue_samples import schema_errors
from jsonschema import Draft202012Validator
from sqlalchemy.orm import Session

from john.auth.testing import bearer_headers
from john.catalogue.geocode import Geocoder
from john.catalogue.models import TaxonomyTerm
from john.catalogue.service import get_or_create_taxonomy

API = "/api/v1/catalogue"
CURATOR = {"X-John-Actor": "curator-7"}


@pytest.fixture
def api(client: Any, geocoder: Geocoder, session_factory: Any) -> Any:
    """Return a curator's test client whose geocoder reads the postcode files."""
    client.app.state.catalogue_geocoder = geocoder
    client.headers.update(bearer_headers(client, session_factory, "curator"))
    return client


def _create_service(api: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "Homework club",
        "description": "Quiet study after school.",
        "minimum_age": 11,
        "maximum_age": 16,
        "delivery_modes": ["in_person"],
        **fields,
    }
    response = api.post(f"{API}/services", json=body, headers=CURATOR)
    assert response.status_code == 201, response.text
    return response.json()


def test_created_service_is_valid_oruk(
    api: Any, oruk_validators: dict[str, Draft202012Validator]
) -> None:
    created = _create_service(api)
    served = api.get(f"/oruk/services/{created['id']}").json()
    assert schema_errors(oruk_validators["service"], served) == []
    assert served["name"] == "Homework club"
    assert served["minimum_age"] == 11


def test_edit_writes_revision(api: Any) -> None:
    created = _create_service(api)
    edited = api.patch(
        f"{API}/services/{created['id']}",
        json={"name": "Homework and reading club"},
        headers=CURATOR,
    )
    history = api.get(f"{API}/revisions/service/{created['id']}").json()
    assert edited.status_code == 200
    assert [entry["action"] for entry in history] == ["update", "create"]
    # The token's subject is recorded, not the X-John-Actor header it sent.
    assert history[0]["actor"] == api.get("/api/v1/whoami").json()["subject"]
    assert history[0]["changes"] == {
        "name": {"before": "Homework club", "after": "Homework and reading club"}
    }


def test_edit_is_searchable_at_once(api: Any) -> None:
    created = _create_service(api)
    api.patch(f"{API}/services/{created['id']}", json={"name": "Chess club"})
    found = api.get(f"{API}/search", params={"text": "chess"}).json()
    assert [hit["id"] for hit in found["results"]] == [created["id"]]


def test_bad_email_rejected_with_fix(api: Any) -> None:
    response = api.post(f"{API}/services", json={"name": "X", "email": "not-mail"})
    assert response.status_code == 422
    assert response.json()["detail"] == (
        "email 'not-mail' is not an e-mail address; give name@example.org"
    )


def test_impossible_ages_rejected(api: Any) -> None:
    response = api.post(
        f"{API}/services", json={"name": "X", "minimum_age": 20, "maximum_age": 10}
    )
    assert response.status_code == 422
    assert "minimum_age 20 is above maximum_age 10" in response.json()["detail"]


def test_unknown_field_rejected(api: Any) -> None:
    response = api.post(f"{API}/services", json={"name": "X", "colour": "red"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "colour"


def test_schedules_replace_and_serve(api: Any) -> None:
    created = _create_service(api)
    response = api.put(
        f"{API}/services/{created['id']}/schedules",
        json=[{"byday": "TU,TH", "opens_at": "15:30", "closes_at": "17:30"}],
    )
    schedules = response.json()["schedules"]
    assert response.status_code == 200
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in schedules] == [
        ("TU,TH", "15:30:00", "17:30:00")
    ]


def test_exception_needs_hours_or_closed(api: Any) -> None:
    created = _create_service(api)
    response = api.post(
        f"{API}/services/{created['id']}/exceptions",
        json={"starts_on": "2026-12-24", "ends_on": "2026-12-24", "closed": False},
    )
    assert response.status_code == 422
    assert "opens_at and closes_at are missing" in response.json()["detail"]


def test_venue_placed_by_postcode(api: Any) -> None:
    response = api.post(
        f"{API}/venues",
        json={
            "name": "Airyhall Library",
            "postal_code": "ab16 9wl",
            "study_spaces": 12,
            "public_devices": 6,
            "wifi": True,
            "connectivity": "Free Wi-Fi",
            "safeguarding": "Staff hold PVG checks; children under 8 accompanied.",
        },
    )
    venue = response.json()
    assert response.status_code == 201
    assert venue["postal_code"] == "AB16 9WL"
    assert venue["coordinate_source"] == "postcode"
    assert venue["latitude"] == pytest.approx(57.153446)


def test_venue_falls_back_to_authority(api: Any) -> None:
    response = api.post(
        f"{API}/venues",
        json={
            "name": "Mobile library",
            "postal_code": "ZZ99 9ZZ",
            "local_authority": "Bristol, City of",
        },
    )
    venue = response.json()
    assert venue["coordinate_source"] == "local_authority_centroid"
    assert 51.3 < venue["latitude"] < 51.6


def test_course_with_esco_skill(api: Any, session: Session) -> None:
    taxonomy = get_or_create_taxonomy(session, "ESCO skills", "ESCO")
    uri = "http://data.europa.eu/esco/skill/000f1d3d-220f-4789-9c0a-cc742521fb02"
    session.add(
        TaxonomyTerm(
            id="e0000000-0000-4000-8000-000000000001",
            taxonomy_id=taxonomy.id,
            code=uri,
            name="Haskell",
            description="Haskell",
            term_uri=uri,
        )
    )
    session.commit()
    response = api.post(
        f"{API}/courses",
        json={
            "title": "Functional programming",
            "provider_ukprn": "10007773",
            "qualification_number": "603/1234/5",
            "level_framework": "RQF",
            "level": 4,
            "credits": 15,
            "guided_learning_hours": 60,
            "delivery_modes": ["online", "hybrid"],
            "online_equipment": "Laptop with 8 GB memory and a webcam",
            "online_min_mbps": 10,
            "cost": "250.00",
            "start_dates": ["2027-01-11"],
            "prerequisites": "Level 3 maths",
            "skills": [uri],
        },
    )
    course = response.json()
    assert response.status_code == 201, response.text
    assert course["skills"] == [
        {"id": "e0000000-0000-4000-8000-000000000001", "name": "Haskell", "uri": uri}
    ]
    assert course["delivery_modes"] == ["hybrid", "online"]
    assert course["start_dates"] == ["2027-01-11"]


def test_fheq_level_below_four_rejected(api: Any) -> None:
    response = api.post(
        f"{API}/courses", json={"title": "X", "level_framework": "FHEQ", "level": 3}
    )
    assert response.status_code == 422
    assert "FHEQ level 3 does not exist" in response.json()["detail"]


def test_funding_fit_endpoint_explains(api: Any) -> None:
    fund = api.post(
        f"{API}/funding-sources",
        json={
            "name": "Free courses for jobs",
            "funder": "Department for Education",
            "minimum_age": 19,
            "residency": ["england"],
            "prior_attainment_below": 3,
            "course_level_min": 3,
            "course_level_max": 3,
            "pays_for": ["tuition"],
            "how_to_apply": "Ask the college when you enrol.",
        },
    ).json()
    course = api.post(
        f"{API}/courses",
        json={"title": "Accounting", "level": 3, "level_framework": "RQF"},
    ).json()
    verdicts = api.post(
        f"{API}/funding-fit",
        json={
            "person": {"age": 24, "nation": "england", "highest_prior_level": 2},
            "course_id": course["id"],
        },
    ).json()
    assert verdicts == [
        {
            "funding_source_id": fund["id"],
            "name": "Free courses for jobs",
            "funder": "Department for Education",
            "fits": True,
            "reasons": [
                "age 24 is within 19 or over",
                "lives in an eligible area",
                "highest prior level 2 is below level 3",
                "course level 3 is within 3–3",
            ],
            "pays_for": ["tuition"],
            "cap_amount": None,
            "how_to_apply": "Ask the college when you enrol.",
        }
    ]


def test_search_api_funding_parameters(api: Any) -> None:
    api.post(
        f"{API}/funding-sources",
        json={"name": "Young adults fund", "funder": "Council", "maximum_age": 24},
    )
    api.post(f"{API}/courses", json={"title": "Barista skills", "level": 1})
    found = api.get(f"{API}/search", params={"fits_age": 20}).json()
    too_old = api.get(f"{API}/search", params={"fits_age": 40}).json()
    assert [hit["title"] for hit in found["results"]] == ["Barista skills"]
    assert found["results"][0]["reasons"] == ["funding that fits: Young adults fund"]
    assert too_old["total"] == 0
