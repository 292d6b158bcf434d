"""Statements that break the specification get 400 naming the property."""

from __future__ import annotations

import pytest
from xapi_support import statement

ACTIVITY = "http://example.com/activities/first-aid"


def _with_extensions(extensions):
    return statement(object={"id": ACTIVITY, "definition": {"extensions": extensions}})


REJECTED = [
    (
        "timestamp without seconds",
        statement(timestamp="2026-03-01T10:15Z"),
        "timestamp",
    ),
    ("timestamp with space", statement(timestamp="2026-03-01 10:15:30Z"), "timestamp"),
    (
        "timestamp unknown offset",
        statement(timestamp="2026-03-01T10:15:30-00:00"),
        "timestamp",
    ),
    ("timestamp not a date", statement(timestamp="yesterday"), "timestamp"),
    (
        "language tag invalid",
        statement(verb={"id": "http://example.com/v", "display": {"not a tag": "x"}}),
        "verb.display.not a tag",
    ),
    (
        "language tag too long",
        statement(
            verb={"id": "http://example.com/v", "display": {"englishlanguage": "x"}}
        ),
        "verb.display.englishlanguage",
    ),
    (
        "extension key not iri",
        _with_extensions({"colour": "red"}),
        "object.definition.extensions.colour",
    ),
    ("verb id not iri", statement(verb={"id": "completed"}), "verb.id"),
    (
        "actor two identifiers",
        statement(
            actor={"mbox": "mailto:a@example.com", "openid": "http://example.com/a"}
        ),
        "actor",
    ),
    ("mbox without mailto", statement(actor={"mbox": "a@example.com"}), "actor.mbox"),
    ("unknown property", statement(colour="red"), "colour"),
    (
        "score above max",
        statement(result={"score": {"raw": 11, "max": 10}}),
        "result.score.raw",
    ),
    (
        "scaled above one",
        statement(result={"score": {"scaled": 1.5}}),
        "result.score.scaled",
    ),
    (
        "duration not iso",
        statement(result={"duration": "90 minutes"}),
        "result.duration",
    ),
    (
        "registration not uuid",
        statement(context={"registration": "abc"}),
        "context.registration",
    ),
    ("id not uuid", statement(id="not-a-uuid"), "id"),
    (
        "substatement nested",
        statement(
            object={
                "objectType": "SubStatement",
                "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": "http://example.com/v"},
                "object": {"objectType": "SubStatement"},
            }
        ),
        "object.object.objectType",
    ),
    (
        "revision on agent object",
        statement(
            object={"objectType": "Agent", "mbox": "mailto:b@example.com"},
            context={"revision": "2"},
        ),
        "context.revision",
    ),
]

ACCEPTED = [
    ("timestamp with offset", statement(timestamp="2026-03-01T10:15:30+05:30")),
    (
        "timestamp seven fraction digits",
        statement(timestamp="2026-03-01T10:15:30.1234567Z"),
    ),
    (
        "extension value empty object",
        _with_extensions({"http://example.com/ext/a": {}}),
    ),
    ("extension value null", _with_extensions({"http://example.com/ext/a": None})),
    (
        "extension value empty string",
        _with_extensions({"http://example.com/ext/a": ""}),
    ),
    ("duration high precision", statement(result={"duration": "PT1.123456789S"})),
    (
        "language tag with region",
        statement(verb={"id": "http://example.com/v", "display": {"zh-Hant-TW": "x"}}),
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "field"), REJECTED, ids=[row[0] for row in REJECTED]
)
def test_invalid_statement_rejected(xapi, case, body, field) -> None:
    response = xapi.post_statements(body)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    fields = [problem["field"] for problem in response.json()["errors"]]
    assert field in fields


@pytest.mark.parametrize(("case", "body"), ACCEPTED, ids=[row[0] for row in ACCEPTED])
def test_valid_statement_accepted(xapi, case, body) -> None:
    response = xapi.post_statements(body)
    assert response.status_code == 200


def test_high_precision_duration_compares_truncated(xapi) -> None:
    first = statement(
        id="5c3d9d6e-4c8a-4f43-9a0b-3d1f0c9e2a11", result={"duration": "PT1.234567S"}
    )
    second = dict(first, result={"duration": "PT1.2399S"})
    assert xapi.post_statements(first).status_code == 200
    assert xapi.post_statements(second).status_code == 200


def test_invalid_json_rejected(xapi) -> None:
    response = xapi.request(
        "POST",
        "statements",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


def test_wrong_content_type_rejected(xapi) -> None:
    response = xapi.request(
        "POST",
        "statements",
        content=b"<statement/>",
        headers={"Content-Type": "application/xml"},
    )
    assert response.status_code == 400


def test_bad_agent_parameter_rejected(xapi) -> None:
    response = xapi.get_statements(agent="{not json")
    assert response.status_code == 400


def test_unknown_parameter_rejected(xapi) -> None:
    response = xapi.get_statements(colour="red")
    assert response.status_code == 400


def test_tampered_more_token_rejected(xapi) -> None:
    response = xapi.get_statements(more="bm90IGEgdG9rZW4")
    assert response.status_code == 400
