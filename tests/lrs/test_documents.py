"""State, Activity Profile and Agent Profile documents with ETags."""

from __future__ import annotations

import json

ACTIVITY = "http://example.com/activities/first-aid"
AGENT = json.dumps({"mbox": "mailto:ada@example.com"})
STATE = {"activityId": ACTIVITY, "agent": AGENT, "stateId": "bookmark"}
PROFILE = {"activityId": ACTIVITY, "profileId": "settings"}


def test_state_round_trip_has_quoted_etag(xapi) -> None:
    put = xapi.request("PUT", "activities/state", params=STATE, json={"page": 3})
    got = xapi.request("GET", "activities/state", params=STATE)
    assert put.status_code == 204
    assert got.json() == {"page": 3}
    assert got.headers["etag"].startswith('"')
    assert got.headers["etag"].endswith('"')


def test_post_merges_json_objects(xapi) -> None:
    xapi.request("POST", "activities/state", params=STATE, json={"page": 3})
    xapi.request("POST", "activities/state", params=STATE, json={"score": 7})
    got = xapi.request("GET", "activities/state", params=STATE)
    assert got.json() == {"page": 3, "score": 7}


def test_post_onto_text_rejected(xapi) -> None:
    xapi.request(
        "PUT",
        "activities/state",
        params=STATE,
        content=b"plain",
        headers={"Content-Type": "text/plain", "If-None-Match": "*"},
    )
    response = xapi.request("POST", "activities/state", params=STATE, json={"a": 1})
    assert response.status_code == 400


def test_if_match_wrong_etag_fails(xapi) -> None:
    xapi.request("POST", "activities/profile", params=PROFILE, json={"a": 1})
    response = xapi.request(
        "PUT",
        "activities/profile",
        params=PROFILE,
        json={"a": 2},
        headers={"If-Match": '"0000"'},
    )
    assert response.status_code == 412
    got = xapi.request("GET", "activities/profile", params=PROFILE)
    assert got.json() == {"a": 1}


def test_if_match_current_etag_replaces(xapi) -> None:
    xapi.request("POST", "activities/profile", params=PROFILE, json={"a": 1})
    etag = xapi.request("GET", "activities/profile", params=PROFILE).headers["etag"]
    response = xapi.request(
        "PUT",
        "activities/profile",
        params=PROFILE,
        json={"a": 2},
        headers={"If-Match": etag},
    )
    assert response.status_code == 204
    got = xapi.request("GET", "activities/profile", params=PROFILE)
    assert got.json() == {"a": 2}


def test_if_none_match_on_existing_fails(xapi) -> None:
    xapi.request("POST", "activities/profile", params=PROFILE, json={"a": 1})
    response = xapi.request(
        "PUT",
        "activities/profile",
        params=PROFILE,
        json={"a": 2},
        headers={"If-None-Match": "*"},
    )
    assert response.status_code == 412


def test_put_without_condition_conflicts(xapi) -> None:
    xapi.request("POST", "activities/profile", params=PROFILE, json={"a": 1})
    response = xapi.request("PUT", "activities/profile", params=PROFILE, json={"b": 2})
    assert response.status_code == 409


def test_agent_profile_lists_ids(xapi) -> None:
    for profile_id in ("alpha", "beta"):
        xapi.request(
            "POST",
            "agents/profile",
            params={"agent": AGENT, "profileId": profile_id},
            json={"id": profile_id},
        )
    listed = xapi.request("GET", "agents/profile", params={"agent": AGENT})
    assert listed.json() == ["alpha", "beta"]


def test_state_delete_clears_scope(xapi) -> None:
    for state_id in ("one", "two"):
        xapi.request(
            "POST",
            "activities/state",
            params={**STATE, "stateId": state_id},
            json={"x": 1},
        )
    scope = {"activityId": ACTIVITY, "agent": AGENT}
    deleted = xapi.request("DELETE", "activities/state", params=scope)
    listed = xapi.request("GET", "activities/state", params=scope)
    assert deleted.status_code == 204
    assert listed.json() == []


def test_missing_document_not_found(xapi) -> None:
    response = xapi.request("GET", "activities/state", params=STATE)
    assert response.status_code == 404


def test_state_needs_agent(xapi) -> None:
    response = xapi.request("GET", "activities/state", params={"activityId": ACTIVITY})
    assert response.status_code == 400
