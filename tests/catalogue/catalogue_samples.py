"""Synthetic catalogue records and schema helpers shared by the catalogue tests."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

COUNCIL_FEEDS = "oruk_council_service_feeds"
BRISTOL = "bristol_city_council_services_2024-12-18.json"
NORTH_LINCS = "north_lincolnshire_council_services_2024-12-18.json"

# Live Aberdeen postcodes from the ONS Postcode Directory extract.
ABERDEEN_CENTRE = "AB10 1AB"
ABERDEEN_WEST = "AB16 9WL"


def schema_errors(validator: Draft202012Validator, document: Any) -> list[str]:
    """Return every schema error of ``document`` as 'path: message'."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def aberdeen_service(number: int = 1, **changes: Any) -> dict[str, Any]:
    """Return a synthetic ORUK 3.0 service held at a location in Aberdeen."""
    service: dict[str, Any] = {
        "id": f"00000000-0000-4000-8000-{number:012d}",
        "name": f"Digital skills drop-in {number}",
        "description": "Help with computers, e-mail and online forms.",
        "status": "active",
        "url": "https://example.org/drop-in",
        "email": "dropin@example.org",
        "minimum_age": 16,
        "maximum_age": 99,
        "organization": {
            "id": "10000000-0000-4000-8000-000000000001",
            "name": "Example Learning Trust",
            "description": "A charity that runs learning drop-ins.",
        },
        "schedules": [
            {
                "id": f"20000000-0000-4000-8000-{number:012d}",
                "freq": "WEEKLY",
                "byday": "MO,WE",
                "opens_at": "10:00:00",
                "closes_at": "16:00:00",
            }
        ],
        "service_at_locations": [
            {
                "id": f"30000000-0000-4000-8000-{number:012d}",
                "location": {
                    "id": f"40000000-0000-4000-8000-{number:012d}",
                    "location_type": "physical",
                    "name": "Central Library",
                    "addresses": [
                        {
                            "id": f"50000000-0000-4000-8000-{number:012d}",
                            "address_1": "Rosemount Viaduct",
                            "city": "Aberdeen",
                            "state_province": "Aberdeen City",
                            "postal_code": ABERDEEN_CENTRE,
                            "country": "GB",
                            "address_type": "physical",
                        }
                    ],
                },
            }
        ],
        "contacts": [
            {
                "id": f"60000000-0000-4000-8000-{number:012d}",
                "name": "Front desk",
                "phones": [
                    {
                        "id": f"70000000-0000-4000-8000-{number:012d}",
                        "number": "01224 000000",
                    }
                ],
            }
        ],
        "cost_options": [
            {
                "id": f"80000000-0000-4000-8000-{number:012d}",
                "amount": 0,
                "option": "Everyone",
            }
        ],
    }
    service.update(changes)
    return service
