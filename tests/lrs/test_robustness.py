"""Odd and hostile input gets a 4xx answer, never a 500."""

from __future__ import annotations

import json

import pytest
from xapi_support import statement

LONG_IRI = "http://example.com/activities/" + "a" * 5000

BODIES = [
    ("array of numbers", [1, 2, 3]),
    ("empty array", []),
    ("null body", None),
    ("string body", "statement"),
    ("nested arrays", [[statement()]]),
    ("object is a number", statement(object=7)),
    ("actor is a list", statement(actor=[{"mbox": "mailto:a@example.com"}])),
    (
        "interaction type object",
        statement(
            object={
                "id": "http://example.com/a",
                "definition": {"interactionType": {"kind": "choice"}},
            }
        ),
    ),
    ("huge number score", statement(result={"score": {"raw": 1e308, "max": 1e309}})),
    ("context activities string", statement(context={"contextActivities": "x"})),
    (
        "components not objects",
        statement(
            object={
                "id": "http://example.com/a",
                "definition": {"interactionType": "choice", "choices": ["a", "b"]},
            }
        ),
    ),
    ("nul character", statement(result={"response": "a\u0000b"})),
]


@pytest.mark.parametrize(("case", "body"), BODIES, ids=[row[0] for row in BODIES])
def test_odd_statement_never_500(xapi, case, body) -> None:
    response = xapi.request(
        "POST",
        "statements",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500


def test_long_activity_id_stored(xapi) -> None:
    body = statement(object={"id": LONG_IRI, "definition": {"name": {"en": "Long"}}})
    posted = xapi.post_statements(body)
    found = xapi.get_statements(activity=LONG_IRI)
    activity = xapi.request("GET", "activities", params={"activityId": LONG_IRI})
    assert posted.status_code == 200
    assert len(found.json()["statements"]) == 1
    assert activity.json()["definition"]["name"] == {"en": "Long"}


def test_long_state_activity_stored(xapi) -> None:
    params = {
        "activityId": LONG_IRI,
        "agent": json.dumps({"mbox": "mailto:ada@example.com"}),
        "stateId": "bookmark",
    }
    put = xapi.request("PUT", "activities/state", params=params, json={"p": 1})
    got = xapi.request("GET", "activities/state", params=params)
    assert put.status_code == 204
    assert got.json() == {"p": 1}


def test_broken_multipart_rejected(xapi) -> None:
    response = xapi.request(
        "POST",
        "statements",
        content=b"--x\r\nnot a part",
        headers={"Content-Type": "multipart/mixed; boundary=x"},
    )
    assert response.status_code == 400


def test_multipart_without_boundary_rejected(xapi) -> None:
    response = xapi.request(
        "POST",
        "statements",
        content=b"{}",
        headers={"Content-Type": "multipart/mixed"},
    )
    assert response.status_code == 400
