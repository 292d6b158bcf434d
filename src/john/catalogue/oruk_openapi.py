"""The OpenAPI 3.0 document of the ``/oruk/`` endpoints.

It follows the ORUK profile's own ``openapi.json`` (version 3.0) with two
repairs that make it valid OpenAPI: ``start_time`` and ``end_time`` are
``type: string, format: time`` (the profile writes ``type: time``, which
is not a JSON Schema type), and item schemas are inline summaries that point
to the compiled ORUK schemas instead of remote ``$ref`` URLs, so a validator
needs no network.
"""

from __future__ import annotations

from typing import Any

COMPILED = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"


def _parameter(
    name: str, description: str, schema: dict[str, Any], where: str = "query"
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema,
    }


PARAMETERS: dict[str, dict[str, Any]] = {
    "search": _parameter("search", "Full text search.", {"type": "string"}),
    "page": _parameter(
        "page", "Page number, from 1.", {"type": "integer", "minimum": 1}
    ),
    "per_page": _parameter(
        "per_page",
        "Number of results in one page (1-500).",
        {"type": "integer", "minimum": 1, "maximum": 500},
    ),
    "taxonomy_term_id": _parameter(
        "taxonomy_term_id", "Services with this taxonomy term.", {"type": "string"}
    ),
    "taxonomy_id": _parameter(
        "taxonomy_id", "Services with any term of this taxonomy.", {"type": "string"}
    ),
    "organization_id": _parameter(
        "organization_id", "Services of this organization.", {"type": "string"}
    ),
    "minimum_age": _parameter(
        "minimum_age",
        "Services whose minimum age is at or above this value.",
        {"type": "number"},
    ),
    "maximum_age": _parameter(
        "maximum_age",
        "Services whose maximum age is at or below this value.",
        {"type": "number"},
    ),
    "start_time": _parameter(
        "start_time",
        "Services opening at or after this time (HH:MM:SS).",
        {"type": "string", "format": "time"},
    ),
    "end_time": _parameter(
        "end_time",
        "Services closing at or before this time (HH:MM:SS).",
        {"type": "string", "format": "time"},
    ),
    "day": _parameter(
        "day", "Services open on this weekday (Monday or MO).", {"type": "string"}
    ),
    "postcode": _parameter(
        "postcode",
        "A UK postcode; with proximity, results within that distance of its centroid.",
        {"type": "string"},
    ),
    "proximity": _parameter(
        "proximity",
        "Distance from the postcode, in metres.",
        {"type": "number", "minimum": 0},
    ),
}

FILTERS = [
    "search",
    "page",
    "per_page",
    "taxonomy_term_id",
    "taxonomy_id",
    "organization_id",
    "minimum_age",
    "maximum_age",
    "start_time",
    "end_time",
    "day",
]


def _item(required: list[str], compiled: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"Validated against {COMPILED}{compiled}",
        "required": required,
        "properties": {name: {"type": "string"} for name in required},
        "additionalProperties": True,
    }


def _page_of(item: str) -> dict[str, Any]:
    return {
        "allOf": [
            {"$ref": "#/components/schemas/Page"},
            {
                "type": "object",
                "properties": {
                    "contents": {
                        "type": "array",
                        "items": {"$ref": f"#/components/schemas/{item}"},
                    }
                },
            },
        ]
    }


def _get(
    summary: str,
    operation_id: str,
    schema: dict[str, Any],
    parameters: list[str] | None = None,
    path_id: bool = False,
) -> dict[str, Any]:
    refs = [{"$ref": f"#/components/parameters/{name}"} for name in parameters or []]
    if path_id:
        refs.append(_parameter("id", "The object's id.", {"type": "string"}, "path"))
    responses: dict[str, Any] = {
        "200": {
            "description": summary,
            "content": {"application/json": {"schema": schema}},
        }
    }
    if path_id:
        responses["404"] = {"description": "No object with this id."}
    operation: dict[str, Any] = {
        "summary": summary,
        "operationId": operation_id,
        "responses": responses,
    }
    if refs:
        operation["parameters"] = refs
    return {"get": operation}


def oruk_openapi(server_url: str) -> dict[str, Any]:
    """Return the OpenAPI document of the ORUK endpoints served at ``server_url``."""
    ref = "#/components/schemas/"
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "JOHN catalogue: Open Referral UK API",
            "version": "3.0",
            "description": "Services, organisations and taxonomies in the Open "
            "Referral UK profile of HSDS 3.0.",
        },
        "servers": [{"url": server_url}],
        "paths": {
            "/": _get(
                "Information about this API.",
                "getAPIMetaInformation",
                {"$ref": ref + "ApiInfo"},
            ),
            "/services": _get(
                "Paged list of services.",
                "getPaginatedListOfServices",
                _page_of("ServiceListItem"),
                FILTERS,
            ),
            "/services/{id}": _get(
                "A fully nested service.",
                "getFullyNestedServiceById",
                {"$ref": ref + "Service"},
                path_id=True,
            ),
            "/taxonomies": _get(
                "Paged list of taxonomies.",
                "getPaginatedListOfTaxonomies",
                _page_of("Taxonomy"),
                ["page", "per_page"],
            ),
            "/taxonomies/{id}": _get(
                "A taxonomy.",
                "getTaxonomyById",
                {"$ref": ref + "Taxonomy"},
                path_id=True,
            ),
            "/taxonomy_terms": _get(
                "Paged list of taxonomy terms.",
                "getPaginatedListOfTaxonomyTerms",
                _page_of("TaxonomyTerm"),
                ["page", "per_page", "taxonomy_id", "search"],
            ),
            "/taxonomy_terms/{id}": _get(
                "A taxonomy term.",
                "getTaxonomyTermById",
                {"$ref": ref + "TaxonomyTerm"},
                path_id=True,
            ),
            "/service_at_locations": _get(
                "Paged list of services at locations.",
                "getPaginatedListOfServiceAtLocation",
                _page_of("ServiceAtLocationListItem"),
                [*FILTERS, "postcode", "proximity"],
            ),
            "/service_at_locations/{id}": _get(
                "A service at a location, fully nested.",
                "getServiceAtLocationWithNestedDataById",
                {"$ref": ref + "ServiceAtLocation"},
                path_id=True,
            ),
            "/organizations": _get(
                "Paged list of organizations.",
                "getPaginatedListOfOrganizations",
                _page_of("OrganizationListItem"),
                ["page", "per_page"],
            ),
            "/organizations/{id}": _get(
                "An organization with its services.",
                "getOrganizationById",
                {"$ref": ref + "Organization"},
                path_id=True,
            ),
        },
        "components": {
            "parameters": PARAMETERS,
            "schemas": {
                "ApiInfo": {
                    "type": "object",
                    "properties": {
                        "version": {"type": "string"},
                        "profile": {"type": "string", "format": "uri"},
                        "openapi_url": {"type": "string", "format": "uri"},
                    },
                },
                "Page": {
                    "type": "object",
                    "required": [
                        "total_items",
                        "total_pages",
                        "page_number",
                        "size",
                        "first_page",
                        "last_page",
                        "empty",
                    ],
                    "properties": {
                        "total_items": {"type": "integer"},
                        "total_pages": {"type": "integer"},
                        "page_number": {"type": "integer"},
                        "size": {
                            "type": "integer",
                            "description": "Number of items in this page.",
                        },
                        "first_page": {"type": "boolean"},
                        "last_page": {"type": "boolean"},
                        "empty": {"type": "boolean"},
                    },
                },
                "ServiceListItem": _item(
                    ["id", "name", "status"], "compiled/service_list.json"
                ),
                "Service": _item(["id", "name", "status"], "compiled/service.json"),
                "ServiceAtLocationListItem": _item(
                    ["id"], "compiled/service_at_location_list.json"
                ),
                "ServiceAtLocation": _item(["id"], "compiled/service_at_location.json"),
                "Taxonomy": _item(["id", "name", "description"], "taxonomy.json"),
                "TaxonomyTerm": _item(
                    ["id", "name", "description"], "taxonomy_term.json"
                ),
                "OrganizationListItem": _item(
                    ["id", "name", "description"], "compiled/organization_list.json"
                ),
                "Organization": _item(
                    ["id", "name", "description"], "compiled/organization.json"
                ),
            },
        },
    }
