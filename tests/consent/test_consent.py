"""Consent grants, receipts, revocation and consent requests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def _grant(client, headers, **overrides):
    body = {
        "grantee": "Acme Recruiting",
        "grantee_role": "verifier",
        "scope": "record",
        "purpose": "pre-employment checks",
        "valid_until": NEXT_YEAR,
        **overrides,
    }
    return client.post("/api/v1/consents", json=body, headers=headers)


def test_verifier_without_grant_gets_404(client, store, as_role) -> None:
    response = client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("verifier")
    )
    assert response.status_code == 404


def test_grant_opens_whole_record(client, store, as_role) -> None:
    assert _grant(client, as_role("learner")).status_code == 201
    response = client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("verifier")
    )
    assert response.status_code == 200
    assert len(response.json()["achievements"]) == 2
    assert len(response.json()["experiences"]) == 1


def test_single_achievement_grant_shows_one(client, store, as_role) -> None:
    _grant(
        client, as_role("learner"), scope="achievement", scope_value=str(store.degree)
    )
    body = client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("verifier")
    ).json()
    assert [a["id"] for a in body["achievements"]] == [store.degree]
    assert body["experiences"] == []


def test_category_grant_shows_category(client, store, as_role) -> None:
    _grant(client, as_role("learner"), scope="category", scope_value="experiences")
    body = client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("verifier")
    ).json()
    assert body["achievements"] == []
    assert [e["id"] for e in body["experiences"]] == [store.job]


def test_revocation_takes_effect_at_once(client, store, as_role) -> None:
    learner = as_role("learner")
    verifier = as_role("verifier")
    grant_id = _grant(client, learner).json()["grant"]["id"]
    path = f"/api/v1/learners/{store.ada}/shared-record"
    assert client.get(path, headers=verifier).status_code == 200
    revoked = client.post(f"/api/v1/consents/{grant_id}/revoke", headers=learner)
    assert revoked.json()["status"] == "revoked"
    assert client.get(path, headers=verifier).status_code == 404


def test_expired_grant_gives_no_access(client, store, as_role, session_factory) -> None:
    from john.consent.models import ConsentGrant

    grant_id = _grant(client, as_role("learner")).json()["grant"]["id"]
    with session_factory() as db:
        db.get(ConsentGrant, grant_id).valid_until = date.today() - timedelta(days=1)
        db.commit()
    response = client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("verifier")
    )
    assert response.status_code == 404


def test_grant_to_other_organisation_ignored(client, store, as_role) -> None:
    _grant(client, as_role("learner"), grantee="Someone Else Ltd")
    response = client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("verifier")
    )
    assert response.status_code == 404


def test_receipt_has_kantara_fields(client, store, as_role) -> None:
    receipt = _grant(client, as_role("learner")).json()["receipt"]
    for field in (
        "version",
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
        "piiPrincipalId",
        "piiControllers",
        "services",
        "sensitive",
    ):
        assert field in receipt, field
    purpose = receipt["services"][0]["purposes"][0]
    assert purpose["purpose"] == "pre-employment checks"
    assert purpose["thirdPartyName"] == "Acme Recruiting"
    assert receipt["piiPrincipalId"] == store.ada


def test_past_date_grant_rejected(client, store, as_role) -> None:
    response = _grant(client, as_role("learner"), valid_until="2001-01-01")
    assert response.status_code == 422
    assert "in the past" in response.json()["detail"]


def test_grant_of_foreign_achievement_rejected(client, store, as_role) -> None:
    response = _grant(
        client, as_role("learner"), scope="achievement", scope_value=str(store.bo_award)
    )
    assert response.status_code == 404


def test_learner_cannot_read_other_learner(client, store, as_role) -> None:
    response = client.get(
        f"/api/v1/learners/{store.bo}/shared-record", headers=as_role("learner")
    )
    assert response.status_code == 404


def test_provider_sees_only_own_rows(client, store, as_role) -> None:
    own = client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("provider")
    )
    other = client.get(
        f"/api/v1/learners/{store.bo}/shared-record", headers=as_role("provider")
    )
    assert own.status_code == 200
    assert other.status_code == 404


@pytest.fixture
def request_body() -> dict:
    return {
        "identity": {
            "given_name": "Ada",
            "family_name": "Testperson",
            "date_of_birth": "2001-02-03",
        },
        "purpose": "reference for a job offer",
        "valid_until": NEXT_YEAR,
    }


def test_consent_request_approved_creates_grant(
    client, store, as_role, request_body
) -> None:
    verifier = as_role("verifier")
    learner = as_role("learner")
    made = client.post("/api/v1/consent-requests", json=request_body, headers=verifier)
    assert made.status_code == 202
    assert made.json()["learner_id"] is None
    pending = client.get("/api/v1/consent-requests", headers=learner).json()
    assert [p["id"] for p in pending] == [made.json()["id"]]
    approved = client.post(
        f"/api/v1/consent-requests/{made.json()['id']}/approve", headers=learner
    )
    assert approved.json()["status"] == "approved"
    state = client.get(
        f"/api/v1/consent-requests/{made.json()['id']}", headers=verifier
    ).json()
    assert state["learner_id"] == store.ada
    shared = client.get(f"/api/v1/learners/{store.ada}/shared-record", headers=verifier)
    assert shared.status_code == 200


def test_unmatched_request_looks_the_same(client, store, as_role, request_body) -> None:
    request_body["identity"]["family_name"] = "Nobody"
    made = client.post(
        "/api/v1/consent-requests", json=request_body, headers=as_role("verifier")
    )
    assert made.status_code == 202
    assert made.json()["status"] == "pending"


def test_declined_request_gives_no_access(client, store, as_role, request_body) -> None:
    verifier = as_role("verifier")
    learner = as_role("learner")
    made = client.post("/api/v1/consent-requests", json=request_body, headers=verifier)
    client.post(
        f"/api/v1/consent-requests/{made.json()['id']}/decline", headers=learner
    )
    again = client.post(
        f"/api/v1/consent-requests/{made.json()['id']}/approve", headers=learner
    )
    assert again.status_code == 409
    shared = client.get(f"/api/v1/learners/{store.ada}/shared-record", headers=verifier)
    assert shared.status_code == 404


def test_other_verifier_cannot_see_request(
    client, store, as_role, request_body
) -> None:
    made = client.post(
        "/api/v1/consent-requests", json=request_body, headers=as_role("verifier")
    )
    rival = as_role("verifier", organisation="Rival Checks")
    response = client.get(
        f"/api/v1/consent-requests/{made.json()['id']}", headers=rival
    )
    assert response.status_code == 404
