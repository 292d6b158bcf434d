"""Timestamps that match the RFC 3339 pattern but name no real moment.

Year 0, 31 February, and an offset that carries the moment past year 9999
in UTC cannot be held by the store, so the LRS rejects them with 400 and
the property's path. A leap second (:60) is valid RFC 3339 and is stored.
"""

from __future__ import annotations

import uuid

import pytest

from john.lrs.clients import add_client

IMPOSSIBLE = [
    "0000-01-01T00:00:00Z",
    "2026-02-31T10:00:00Z",
    "9999-12-31T23:00:00-05:00",
    "0001-01-01T00:30:00+01:00",
]


@pytest.fixture
def lrs_auth(session_factory) -> tuple[str, str]:
    with session_factory() as session:
        return add_client(session, "10000001", ["all"])


def statement(timestamp: str) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"mbox": "mailto:zelphine@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "http://example.com/activities/qa"},
        "timestamp": timestamp,
    }


def post(client, auth: tuple[str, str], body: dict[str, object]):
    return client.post(
        "/xapi/statements",
        json=body,
        auth=auth,
        headers={"X-Experience-API-Version": "2.0.0"},
    )


@pytest.mark.parametrize("timestamp", IMPOSSIBLE)
def test_impossible_timestamp_rejected(client, lrs_auth, timestamp: str) -> None:
    response = post(client, lrs_auth, statement(timestamp))
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "timestamp"


@pytest.mark.parametrize("timestamp", IMPOSSIBLE)
def test_impossible_since_rejected(client, lrs_auth, timestamp: str) -> None:
    response = client.get(
        "/xapi/statements",
        params={"since": timestamp},
        auth=lrs_auth,
        headers={"X-Experience-API-Version": "2.0.0"},
    )
    assert response.status_code == 400
    assert "since" in response.json()["detail"]


def test_leap_second_stored(client, lrs_auth) -> None:
    body = statement("2016-12-31T23:59:60.5+00:00")
    posted = post(client, lrs_auth, body)
    fetched = client.get(
        "/xapi/statements",
        params={"statementId": body["id"]},
        auth=lrs_auth,
        headers={"X-Experience-API-Version": "2.0.0"},
    )
    assert posted.status_code == 200
    assert fetched.json()["timestamp"] == "2016-12-31T23:59:60.5Z"


def test_latest_moment_stored(client, lrs_auth) -> None:
    body = statement("9999-12-31T23:59:59.999Z")
    response = post(client, lrs_auth, body)
    assert response.status_code == 200
