"""The /oruk/ endpoints: every body valid against the ORUK profile's schemas,
paging fields consistent, CORS open, and a valid OpenAPI document."""

from __future__ import annotations

import math
from typing import Any

import pytest
from catalogue_samples import aberdeen_service, schema_errors
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from sqlalchemy.orm import Session

from john.catalogue.geocode import Geocoder
from john.catalogue.oruk import import_oruk

PAGE_FIELDS = (
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
)


@pytest.fixture
def directory(council_services: Session, client: Any, geocoder: Geocoder) -> Any:
    """Return a client on a store with both council feeds and two local services."""
    import_oruk(
        council_services,
        [aberdeen_service(1), aberdeen_service(2)],
        "Example Learning Trust",
        geocoder,
    )
    council_services.commit()
    client.app.state.catalogue_geocoder = geocoder
    return client


def _get(client: Any, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    return response.json()


def _check_page(body: dict[str, Any], page: int, per_page: int) -> None:
    assert list(body) == list(PAGE_FIELDS)
    assert body["page_number"] == page
    assert body["size"] == len(body["contents"])
    assert body["total_pages"] == max(1, math.ceil(body["total_items"] / per_page))
    assert body["first_page"] is (page == 1)
    assert body["last_page"] is (page >= body["total_pages"])
    assert body["empty"] is (len(body["contents"]) == 0)


def _all_items(client: Any, url: str, per_page: int = 500) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        body = _get(
            client, f"{url}{'&' if '?' in url else '?'}page={page}&per_page={per_page}"
        )
        _check_page(body, page, per_page)
        items += body["contents"]
        if body["last_page"]:
            assert len(items) == body["total_items"]
            return items
        page += 1


def test_root_names_version_and_openapi(directory: Any) -> None:
    body = _get(directory, "/oruk/")
    assert body["version"] == "3.0"
    assert body["openapi_url"].endswith("/oruk/openapi.json")


def test_service_list_items_valid(
    directory: Any, oruk_validators: dict[str, Draft202012Validator]
) -> None:
    items = _all_items(directory, "/oruk/services")
    assert len(items) == 817 + 738 + 2
    errors = [
        e
        for item in items
        for e in schema_errors(oruk_validators["service_list"], item)
    ]
    assert errors == []


@pytest.mark.slow
def test_full_services_valid(
    directory: Any, oruk_validators: dict[str, Draft202012Validator]
) -> None:
    items = _all_items(directory, "/oruk/services")
    errors = []
    for item in items:
        body = _get(directory, f"/oruk/services/{item['id']}")
        errors += [
            f"{item['id']} {e}" for e in schema_errors(oruk_validators["service"], body)
        ]
    assert errors == []


def test_nested_service_keeps_parts(directory: Any) -> None:
    body = _get(directory, "/oruk/services/00000000-0000-4000-8000-000000000001")
    location = body["service_at_locations"][0]["location"]
    assert body["schedules"][0]["byday"] == "MO,WE"
    assert body["contacts"][0]["phones"][0]["number"] == "01224 000000"
    assert location["latitude"] == pytest.approx(57.149606)
    assert body["organization"]["name"] == "Example Learning Trust"


def test_paging_past_the_end_empty(directory: Any) -> None:
    body = _get(directory, "/oruk/services?page=99&per_page=50")
    _check_page(body, 99, 50)
    assert body["empty"] is True
    assert body["total_items"] == 1557


def test_paging_out_of_range_rejected(directory: Any) -> None:
    response = directory.get("/oruk/services?per_page=501")
    assert response.status_code == 422
    assert "per_page 501" in response.json()["detail"]


def test_unknown_service_not_found(directory: Any) -> None:
    response = directory.get("/oruk/services/00000000-0000-4000-8000-00000000dead")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_service_search_filters_text(directory: Any) -> None:
    body = _get(directory, "/oruk/services?search=advocacy&per_page=100")
    names = [item["name"] for item in body["contents"]]
    assert "Care Act Advocacy" in names
    assert all(
        "advocacy" in name.lower() or item.get("description")
        for name, item in zip(names, body["contents"], strict=True)
    )


def test_service_filter_by_day_time(directory: Any) -> None:
    body = _get(directory, "/oruk/services?day=Monday&start_time=09:00&end_time=17:00")
    assert [item["name"] for item in body["contents"]] == [
        "Digital skills drop-in 1",
        "Digital skills drop-in 2",
    ]
    closed = _get(directory, "/oruk/services?day=FR")
    assert closed["total_items"] == 0


def test_service_filter_by_taxonomy_term(directory: Any) -> None:
    terms = _get(directory, "/oruk/taxonomy_terms?search=Homeless&per_page=10")
    term_id = next(t["id"] for t in terms["contents"] if t["name"] == "Homeless")
    body = _get(directory, f"/oruk/services?taxonomy_term_id={term_id}&per_page=500")
    assert body["total_items"] > 5
    sample = _get(directory, f"/oruk/services/{body['contents'][0]['id']}")
    names = [a["taxonomy_term"]["name"] for a in sample["attributes"]]
    assert "Homeless" in names


def test_taxonomies_valid(
    directory: Any, oruk_validators: dict[str, Draft202012Validator]
) -> None:
    items = _all_items(directory, "/oruk/taxonomies")
    assert {"Target audience", "Service type"} <= {t["name"] for t in items}
    for item in items:
        assert schema_errors(oruk_validators["taxonomy"], item) == []
        single = _get(directory, f"/oruk/taxonomies/{item['id']}")
        assert schema_errors(oruk_validators["taxonomy"], single) == []


def test_taxonomy_terms_valid(
    directory: Any, oruk_validators: dict[str, Draft202012Validator]
) -> None:
    items = _all_items(directory, "/oruk/taxonomy_terms")
    assert len(items) == 43
    errors = [
        e
        for item in items
        for e in schema_errors(oruk_validators["taxonomy_term"], item)
    ]
    assert errors == []
    single = _get(directory, f"/oruk/taxonomy_terms/{items[0]['id']}")
    assert schema_errors(oruk_validators["taxonomy_term"], single) == []


def test_service_at_locations_valid(
    directory: Any, oruk_validators: dict[str, Draft202012Validator]
) -> None:
    items = _all_items(directory, "/oruk/service_at_locations")
    assert len(items) == 2
    for item in items:
        assert schema_errors(oruk_validators["service_at_location_list"], item) == []
        single = _get(directory, f"/oruk/service_at_locations/{item['id']}")
        assert schema_errors(oruk_validators["service_at_location"], single) == []
        assert single["location"]["addresses"][0]["postal_code"] == "AB10 1AB"


def test_service_at_locations_near_postcode(directory: Any) -> None:
    near = _get(
        directory, "/oruk/service_at_locations?postcode=AB16%209WL&proximity=5000"
    )
    far = _get(directory, "/oruk/service_at_locations?postcode=M1%201AD&proximity=5000")
    assert near["total_items"] == 2
    assert far["total_items"] == 0


def test_organizations_valid(
    directory: Any, oruk_validators: dict[str, Draft202012Validator]
) -> None:
    items = _all_items(directory, "/oruk/organizations")
    errors = [
        e
        for item in items
        for e in schema_errors(oruk_validators["organization_list"], item)
    ]
    assert errors == []
    org_id = next(i["id"] for i in items if i["name"] == "Example Learning Trust")
    single = _get(directory, f"/oruk/organizations/{org_id}")
    assert schema_errors(oruk_validators["organization"], single) == []
    assert len(single["services"]) == 2


def test_published_openapi_valid(directory: Any) -> None:
    document = _get(directory, "/oruk/openapi.json")
    validate(document)
    assert set(document["paths"]) >= {
        "/",
        "/services",
        "/services/{id}",
        "/taxonomies",
        "/taxonomies/{id}",
        "/taxonomy_terms",
        "/taxonomy_terms/{id}",
        "/service_at_locations",
        "/service_at_locations/{id}",
        "/organizations",
    }


def test_openapi_time_parameters_typed(directory: Any) -> None:
    document = _get(directory, "/oruk/openapi.json")
    for name in ("start_time", "end_time"):
        schema = document["components"]["parameters"][name]["schema"]
        assert schema == {"type": "string", "format": "time"}
