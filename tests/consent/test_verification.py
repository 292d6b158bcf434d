"""Verification answers: matching, consent, claims, signing, fraud, rate limits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from john.consent.signing import read_answer

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()
ADA = {"given_name": "Ada", "family_name": "Testperson", "date_of_birth": "2001-02-03"}


@pytest.fixture
def consented(client, store, as_role) -> dict[str, str]:
    client.post(
        "/api/v1/consents",
        json={
            "grantee": "Acme Recruiting",
            "grantee_role": "verifier",
            "scope": "record",
            "purpose": "pre-employment checks",
            "valid_until": NEXT_YEAR,
        },
        headers=as_role("learner"),
    )
    return as_role("verifier")


def _verify(client, headers, claims, identity=None):
    return client.post(
        "/api/v1/verifications",
        json={
            "identity": identity or ADA,
            "claims": claims,
            "purpose": "job offer",
        },
        headers=headers,
    )


def _statuses(response) -> list[str]:
    return [claim["status"] for claim in response.json()["answer"]["claims"]]


# Claims and the expected answer for the fixture learner, who holds an A level
# in Mathematics (60112345, level 3, grade B, 2019), a BSc Computing (First,
# University of Exampleton, 2022) and works at Example Ltd since 2022-09-01.
CLAIM_TABLE = [
    ({"type": "qualification", "qualification_number": "60112345"}, "verified"),
    ({"type": "qualification", "qualification_number": "601/1234/5"}, "verified"),
    (
        {"type": "qualification", "title": "Mathematics", "min_grade": "C"},
        "verified",
    ),
    (
        {"type": "qualification", "title": "Mathematics", "min_grade": "A"},
        "not_verified",
    ),
    ({"type": "qualification", "title": "Mathematics", "min_level": 3}, "verified"),
    (
        {"type": "qualification", "title": "Mathematics", "min_level": 4},
        "not_verified",
    ),
    (
        {"type": "qualification", "title": "Mathematics", "min_grade": "Merit"},
        "pending_staff_check",
    ),
    ({"type": "qualification", "title": "Astrophysics"}, "not_verified"),
    (
        {
            "type": "award",
            "title": "BSc Computing",
            "institution": "University of Exampleton",
            "classification": "2:1",
            "year": 2022,
        },
        "verified",
    ),
    (
        {
            "type": "award",
            "title": "BSc Computing",
            "institution": "University of Exampleton",
            "year": 2021,
        },
        "not_verified",
    ),
    (
        {
            "type": "course",
            "title": "A level in Mathematics",
            "completed_from": "2019-01-01",
            "completed_to": "2019-12-31",
        },
        "verified",
    ),
    (
        {
            "type": "course",
            "title": "A level in Mathematics",
            "completed_from": "2020-01-01",
        },
        "not_verified",
    ),
    (
        {
            "type": "experience",
            "organisation": "Example Ltd",
            "kind": "employment",
            "started_on": "2023-01-01",
            "ended_on": "2024-01-01",
        },
        "verified",
    ),
    (
        {
            "type": "experience",
            "organisation": "Example Ltd",
            "kind": "volunteering",
        },
        "not_verified",
    ),
    (
        {
            "type": "experience",
            "organisation": "Example Ltd",
            "kind": "employment",
            "started_on": "2020-01-01",
        },
        "not_verified",
    ),
]


def test_claim_table_answers(client, consented) -> None:
    claims = [claim for claim, _ in CLAIM_TABLE]
    response = _verify(client, consented, claims[:20])
    assert response.status_code == 201
    for (claim, expected), got in zip(CLAIM_TABLE, _statuses(response), strict=True):
        assert got == expected, claim


def test_answer_names_matched_fields_only(client, consented) -> None:
    response = _verify(
        client,
        consented,
        [
            {
                "type": "qualification",
                "qualification_number": "60112345",
                "min_grade": "C",
            }
        ],
    )
    answer = response.json()["answer"]
    assert answer["claims"][0]["matched_fields"] == ["qualification_number", "grade"]
    assert answer["identity_matched_fields"] == [
        "date_of_birth",
        "family_name",
        "given_name",
    ]
    assert "B" not in str(answer["claims"])
    assert "learner_id" not in answer


def test_answer_signature_verifies_with_jwks(client, consented) -> None:
    response = _verify(client, consented, [CLAIM_TABLE[0][0]])
    jwks = client.get("/.well-known/jwks.json").json()
    payload = read_answer(jwks, response.json()["jws"])
    assert payload == response.json()["answer"]


def test_tampered_answer_fails_verification(client, consented) -> None:
    from john.errors import InvalidInput

    token = _verify(client, consented, [CLAIM_TABLE[0][0]]).json()["jws"]
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload[:-2]}AA.{signature}"
    with pytest.raises(InvalidInput):
        read_answer(client.get("/.well-known/jwks.json").json(), forged)


def test_answer_fetchable_again_by_id(client, consented) -> None:
    first = _verify(client, consented, [CLAIM_TABLE[0][0]]).json()
    again = client.get(f"/api/v1/verifications/{first['id']}", headers=consented)
    assert again.status_code == 200
    assert again.json()["jws"] == first["jws"]


def test_other_verifier_cannot_fetch_answer(client, consented, as_role) -> None:
    first = _verify(client, consented, [CLAIM_TABLE[0][0]]).json()
    rival = as_role("verifier", organisation="Rival Checks")
    response = client.get(f"/api/v1/verifications/{first['id']}", headers=rival)
    assert response.status_code == 404


def test_no_consent_same_as_no_match(client, store, as_role) -> None:
    verifier = as_role("verifier")
    known = _verify(client, verifier, [CLAIM_TABLE[0][0]]).json()["answer"]
    unknown = _verify(
        client, verifier, [CLAIM_TABLE[0][0]], {**ADA, "family_name": "Nobody"}
    ).json()["answer"]
    assert known["status"] == "consent_required"
    assert unknown["status"] == "consent_required"
    assert set(known) == set(unknown)


def test_category_consent_limits_claims(client, store, as_role) -> None:
    client.post(
        "/api/v1/consents",
        json={
            "grantee": "Acme Recruiting",
            "grantee_role": "verifier",
            "scope": "category",
            "scope_value": "achievements",
            "purpose": "qualification check",
            "valid_until": NEXT_YEAR,
        },
        headers=as_role("learner"),
    )
    response = _verify(
        client,
        as_role("verifier"),
        [
            CLAIM_TABLE[0][0],
            {"type": "experience", "organisation": "Example Ltd", "kind": "employment"},
        ],
    )
    assert _statuses(response) == ["verified", "consent_required"]


def test_identifier_matches_identity(client, consented) -> None:
    identity = {**ADA, "given_name": "Adaline", "identifiers": {"uln": "1234567890"}}
    response = _verify(client, consented, [CLAIM_TABLE[0][0]], identity)
    assert _statuses(response) == ["verified"]
    assert "uln" in response.json()["answer"]["identity_matched_fields"]


def test_twin_identity_pending_and_flagged(
    client, store, consented, session_factory, as_role
) -> None:
    from john.identity.models import Learner, PersonRecord

    with session_factory() as db:
        db.add(Learner(id="L-twin", status="active"))
        db.flush()
        db.add(
            PersonRecord(
                source_ukprn="10000002",
                source_person_ref="p9",
                given_name="Ada",
                family_name="Testperson",
                date_of_birth=date(2001, 2, 3),
                learner_id="L-twin",
                feed_id="F-2",
                row_number=9,
            )
        )
        db.commit()
    response = _verify(client, consented, [CLAIM_TABLE[0][0]])
    assert response.json()["answer"]["status"] == "pending_staff_check"
    signals = client.get("/api/v1/fraud-signals", headers=as_role("curator")).json()
    assert [s["kind"] for s in signals] == ["identity_matches_several_learners"]


def test_bogus_institution_flagged_not_verified(client, consented, as_role) -> None:
    curator = as_role("curator")
    listed = client.post(
        "/api/v1/bogus-institutions",
        json={"name": "University of Exampleton", "reason": "sells degrees"},
        headers=curator,
    )
    assert listed.status_code == 201
    response = _verify(client, consented, [CLAIM_TABLE[8][0]])
    assert _statuses(response) == ["not_verified"]
    signals = client.get("/api/v1/fraud-signals", headers=curator).json()
    assert signals[0]["kind"] == "bogus_institution"


def test_unregistered_institution_flagged(client, consented, as_role) -> None:
    claim = {"type": "award", "title": "MBA", "institution": "Nowhere Institute"}
    _verify(client, consented, [claim])
    signals = client.get("/api/v1/fraud-signals", headers=as_role("curator")).json()
    assert signals[0]["kind"] == "unregistered_institution"


def test_repeated_probing_flagged_once(client, consented, as_role) -> None:
    for _ in range(8):
        _verify(client, consented, [CLAIM_TABLE[0][0]])
    signals = client.get("/api/v1/fraud-signals", headers=as_role("curator")).json()
    assert [s["kind"] for s in signals] == ["repeated_probing"]


def test_rate_limit_returns_retry_after(client, consented) -> None:
    from john.consent.ratelimit import RateLimiter

    client.app.state.verification_limiter = RateLimiter(per_minute=1, burst=2)
    codes = [
        _verify(client, consented, [CLAIM_TABLE[0][0]]).status_code for _ in range(3)
    ]
    assert codes == [201, 201, 429]
    limited = _verify(client, consented, [CLAIM_TABLE[0][0]])
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) > 0


def test_learner_cannot_ask_verifications(client, store, as_role) -> None:
    response = _verify(client, as_role("learner"), [CLAIM_TABLE[0][0]])
    assert response.status_code == 403


def test_identity_not_stored_in_clear(client, consented, session_factory) -> None:
    from john.consent.models import Verification

    _verify(client, consented, [CLAIM_TABLE[0][0]])
    with session_factory() as db:
        stored = db.query(Verification).one()
    assert "Testperson" not in str(stored.answer)
    assert len(stored.identity_sha256) == 64


def test_grant_on_merged_learner_counts(client, store, as_role, session_factory):
    from john.consent.models import ConsentGrant
    from john.identity.models import Learner

    # L-older merged into L-old, which merged into the fixture learner L-ada.
    with session_factory() as db:
        db.add(Learner(id="L-old", status="merged"))
        db.add(Learner(id="L-older", status="merged"))
        db.flush()
        db.add(
            ConsentGrant(
                id="G-merged",
                learner_id="L-older",
                grantee="Acme Recruiting",
                grantee_role="verifier",
                scope="record",
                purpose="pre-employment checks",
                valid_until=date.today() + timedelta(days=30),
            )
        )
        db.get(Learner, "L-older").merged_into = "L-old"
        db.get(Learner, "L-old").merged_into = "L-ada"
        db.commit()

    response = _verify(client, as_role("verifier"), [CLAIM_TABLE[0][0]])
    assert response.status_code == 201
    assert response.json()["answer"]["status"] == "answered"
    assert _statuses(response) == ["verified"]


def test_rate_bucket_shared_between_limiters(session_factory) -> None:
    from john.consent.ratelimit import RateLimiter
    from john.errors import TooManyRequests

    # Two limiters on one store stand for two server processes, or one
    # process before and after a restart.
    first = RateLimiter(per_minute=1, burst=2)
    second = RateLimiter(per_minute=1, burst=2)
    with session_factory() as db:
        first.take(db, "Acme Recruiting", now=1000.0)
        second.take(db, "Acme Recruiting", now=1000.0)
        with pytest.raises(TooManyRequests):
            first.take(db, "Acme Recruiting", now=1000.0)
        with pytest.raises(TooManyRequests):
            second.take(db, "Acme Recruiting", now=1001.0)


def test_rate_bucket_refills_over_time(session_factory) -> None:
    from john.consent.ratelimit import RateLimiter
    from john.errors import TooManyRequests

    limiter = RateLimiter(per_minute=1, burst=1)
    with session_factory() as db:
        limiter.take(db, "Acme Recruiting", now=1000.0)
        with pytest.raises(TooManyRequests) as refused:
            limiter.take(db, "Acme Recruiting", now=1030.0)
        limiter.take(db, "Acme Recruiting", now=1061.0)
        limiter.take(db, "Other Verifier Ltd", now=1061.0)
    assert refused.value.retry_after == 30


def test_retry_with_same_key_returns_first_answer(
    client, consented, as_role, session_factory
) -> None:
    from john.consent.models import Verification

    headers = {**consented, "Idempotency-Key": "order-7f3a"}
    answers = [_verify(client, headers, [CLAIM_TABLE[0][0]]) for _ in range(8)]
    assert [a.status_code for a in answers] == [201] * 8
    assert len({a.json()["id"] for a in answers}) == 1
    assert len({a.json()["jws"] for a in answers}) == 1
    assert "idempotent-replayed" not in answers[0].headers
    assert answers[1].headers["idempotent-replayed"] == "true"
    with session_factory() as db:
        assert db.query(Verification).count() == 1
    # Eight sends of one request are not eight questions about the learner.
    signals = client.get("/api/v1/fraud-signals", headers=as_role("curator")).json()
    assert signals == []


def test_retry_key_reused_for_other_request_conflicts(client, consented) -> None:
    headers = {**consented, "Idempotency-Key": "order-7f3a"}
    first = _verify(client, headers, [CLAIM_TABLE[0][0]])
    other = _verify(client, headers, [CLAIM_TABLE[1][0]])
    assert first.status_code == 201
    assert other.status_code == 409
    assert "order-7f3a" in other.json()["detail"]


def test_retry_key_spends_no_rate_token(client, consented) -> None:
    from john.consent.ratelimit import RateLimiter

    client.app.state.verification_limiter = RateLimiter(per_minute=1, burst=1)
    headers = {**consented, "Idempotency-Key": "order-1"}
    codes = [
        _verify(client, headers, [CLAIM_TABLE[0][0]]).status_code for _ in range(3)
    ]
    assert codes == [201, 201, 201]
    fresh = _verify(client, consented, [CLAIM_TABLE[0][0]])
    assert fresh.status_code == 429


def test_retry_key_must_be_printable(client, consented) -> None:
    headers = {**consented, "Idempotency-Key": "x" * 201}
    assert _verify(client, headers, [CLAIM_TABLE[0][0]]).status_code == 422


def _ask_consent(client, headers):
    return client.post(
        "/api/v1/consent-requests",
        json={
            "identity": ADA,
            "scope": "record",
            "purpose": "pre-employment checks",
            "valid_until": NEXT_YEAR,
        },
        headers=headers,
    )


def test_consent_request_retry_stored_once(client, store, as_role) -> None:
    headers = {**as_role("verifier"), "Idempotency-Key": "ask-ada-1"}
    sent = [_ask_consent(client, headers) for _ in range(4)]
    assert [r.status_code for r in sent] == [202] * 4
    assert len({r.json()["id"] for r in sent}) == 1
    pending = client.get("/api/v1/consent-requests", headers=as_role("learner"))
    assert len(pending.json()) == 1


def test_consent_request_without_key_not_merged(client, store, as_role) -> None:
    verifier = as_role("verifier")
    first = _ask_consent(client, verifier)
    second = _ask_consent(client, verifier)
    assert first.json()["id"] != second.json()["id"]


def test_consent_request_key_reused_conflicts(client, store, as_role) -> None:
    headers = {**as_role("verifier"), "Idempotency-Key": "ask-ada-1"}
    assert _ask_consent(client, headers).status_code == 202
    changed = client.post(
        "/api/v1/consent-requests",
        json={
            "identity": ADA,
            "scope": "record",
            "purpose": "a different purpose",
            "valid_until": NEXT_YEAR,
        },
        headers=headers,
    )
    assert changed.status_code == 409
