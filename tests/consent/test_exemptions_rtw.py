"""Exemption rules and right-to-work confirmations."""

from __future__ import annotations

from datetime import date, timedelta

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


def _publish(client, headers, code, requirement):
    return client.post(
        "/api/v1/exemption-rules",
        json={
            "module_code": code,
            "module_title": f"Module {code}",
            "requirement": requirement,
        },
        headers=headers,
    )


def test_rules_explain_what_satisfied_them(client, store, as_role) -> None:
    provider = as_role("provider")
    _publish(
        client,
        provider,
        "M101",
        {
            "kind": "qualification",
            "title_contains": "Mathematics",
            "min_level": 3,
            "min_grade": "C",
        },
    )
    _publish(
        client,
        provider,
        "M102",
        {"kind": "experience", "experience_kind": "employment", "min_months": 12},
    )
    _publish(
        client, provider, "M103", {"kind": "qualification", "title_contains": "Physics"}
    )
    response = client.get(
        f"/api/v1/learners/{store.ada}/exemptions?ukprn=10000001", headers=provider
    )
    assert response.status_code == 200
    outcomes = {r["module_code"]: r for r in response.json()["rules"]}
    assert outcomes["M101"]["status"] == "exempt"
    assert outcomes["M101"]["satisfied_by"]["achievement_id"] == store.a_level
    assert outcomes["M102"]["status"] == "exempt"
    assert outcomes["M102"]["satisfied_by"]["experience_id"] == store.job
    assert outcomes["M103"]["status"] == "not_exempt"


def test_exemptions_need_consent_for_new_provider(client, store, as_role) -> None:
    newcomer = as_role("provider", ukprn="10000003")
    denied = client.get(
        f"/api/v1/learners/{store.ada}/exemptions?ukprn=10000003", headers=newcomer
    )
    assert denied.status_code == 404
    client.post(
        "/api/v1/consents",
        json={
            "grantee": "ukprn:10000003",
            "grantee_role": "provider",
            "scope": "record",
            "purpose": "admission with exemptions",
            "valid_until": NEXT_YEAR,
        },
        headers=as_role("learner"),
    )
    allowed = client.get(
        f"/api/v1/learners/{store.ada}/exemptions?ukprn=10000003", headers=newcomer
    )
    assert allowed.status_code == 200


def _consent(client, as_role, organisation):
    client.post(
        "/api/v1/consents",
        json={
            "grantee": organisation,
            "grantee_role": "verifier",
            "scope": "record",
            "purpose": "right to work",
            "valid_until": NEXT_YEAR,
        },
        headers=as_role("learner"),
    )


def test_right_to_work_confirmed_to_next_employer(client, store, as_role) -> None:
    _consent(client, as_role, "First Employer")
    _consent(client, as_role, "Next Employer")
    first = as_role("verifier", organisation="First Employer")
    recorded = client.post(
        "/api/v1/right-to-work-checks",
        json={
            "learner_id": store.ada,
            "checked_by": "HR officer",
            "checked_on": date.today().isoformat(),
            "valid_until": NEXT_YEAR,
            "method": "online_share_code",
        },
        headers=first,
    )
    assert recorded.status_code == 201
    confirmed = client.get(
        f"/api/v1/learners/{store.ada}/right-to-work",
        headers=as_role("verifier", organisation="Next Employer"),
    ).json()
    assert confirmed["confirmed"] is True
    assert confirmed["checks"][0]["employer"] == "First Employer"
    assert confirmed["checks"][0]["valid_until"] == NEXT_YEAR


def test_right_to_work_rejects_immigration_fields(client, store, as_role) -> None:
    _consent(client, as_role, "First Employer")
    response = client.post(
        "/api/v1/right-to-work-checks",
        json={
            "learner_id": store.ada,
            "checked_by": "HR officer",
            "checked_on": date.today().isoformat(),
            "method": "passport_scan",
        },
        headers=as_role("verifier", organisation="First Employer"),
    )
    assert response.status_code == 422


def test_right_to_work_without_consent_404(client, store, as_role) -> None:
    response = client.get(
        f"/api/v1/learners/{store.ada}/right-to-work",
        headers=as_role("verifier", organisation="Stranger Ltd"),
    )
    assert response.status_code == 404
