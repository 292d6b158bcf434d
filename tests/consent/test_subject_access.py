"""Subject access export, rectification routing and erasure."""

from __future__ import annotations

from sqlalchemy import func, select

from john.consent.audit import verify_chain
from john.identity.models import Learner, PersonRecord
from john.records.models import Achievement


def test_export_holds_every_table(client, store, as_role) -> None:
    response = client.get(
        f"/api/v1/learners/{store.ada}/export", headers=as_role("learner")
    )
    assert response.status_code == 200
    tables = response.json()["tables"]
    assert len(tables["achievements"]) == 2
    assert len(tables["experiences"]) == 1
    assert tables["person_records"][0]["family_name"] == "Testperson"


def test_export_hides_credential_hashes(
    client, store, as_role, session_factory
) -> None:
    from john.auth.testing import add_user

    add_user(session_factory, "ada", "learner", learner_id=store.ada)
    tables = client.get(
        f"/api/v1/learners/{store.ada}/export", headers=as_role("learner")
    ).json()["tables"]
    assert tables["auth_users"][0]["username"] == "ada"
    assert "password_hash" not in tables["auth_users"][0]


def test_export_of_other_learner_is_404(client, store, as_role) -> None:
    response = client.get(
        f"/api/v1/learners/{store.bo}/export", headers=as_role("learner")
    )
    assert response.status_code == 404


def test_rectification_routes_to_source(client, store, as_role) -> None:
    made = client.post(
        f"/api/v1/learners/{store.ada}/rectifications",
        json={
            "object_kind": "achievement",
            "object_id": store.a_level,
            "message": "grade should be A",
        },
        headers=as_role("learner"),
    )
    assert made.status_code == 201
    assert made.json()["routed_to_ukprn"] == "10000001"
    inbox = client.get("/api/v1/rectifications", headers=as_role("provider")).json()
    assert [r["object_id"] for r in inbox] == [store.a_level]
    other = as_role("provider", ukprn="10000002")
    assert client.get("/api/v1/rectifications", headers=other).json() == []


def test_erasure_removes_and_reports(client, store, as_role, session_factory) -> None:
    learner = as_role("learner")
    client.get(f"/api/v1/learners/{store.ada}/shared-record", headers=learner)
    response = client.post(
        f"/api/v1/learners/{store.ada}/erasure", headers=as_role("administrator")
    )
    assert response.status_code == 201
    report = response.json()
    assert report["removed"]["achievements"] == 2
    assert report["removed"]["person_records"] == 1
    assert "consent_audit_entries" in report["kept"]
    with session_factory() as db:
        assert (
            db.scalar(
                select(func.count())
                .select_from(PersonRecord)
                .where(PersonRecord.learner_id == store.ada)
            )
            == 0
        )
        assert db.scalar(select(func.count()).select_from(Achievement)) == 1
        assert db.get(Learner, store.ada).status == "erased"
        assert verify_chain(db).intact


def test_erased_learner_reads_as_404(client, store, as_role) -> None:
    client.post(
        f"/api/v1/learners/{store.ada}/erasure", headers=as_role("administrator")
    )
    response = client.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("curator")
    )
    assert response.status_code == 404


def test_erasure_only_for_administrator(client, store, as_role) -> None:
    response = client.post(
        f"/api/v1/learners/{store.ada}/erasure", headers=as_role("curator")
    )
    assert response.status_code == 403
