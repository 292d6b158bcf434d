"""The learner's own pages: consent forms, receipts, requests, who looked."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from john.auth.testing import add_user, csrf_from, sign_in

NEXT_YEAR = (date.today() + timedelta(days=365)).isoformat()


@pytest.fixture
def ada_signed_in(client, store, session_factory):
    add_user(session_factory, "ada", "learner", learner_id=store.ada)
    sign_in(client, "ada")
    return client


def test_account_needs_sign_in(client, store) -> None:
    response = client.get("/account", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Faccount"


def test_account_is_for_learners_only(client, store, session_factory) -> None:
    add_user(session_factory, "cara", "curator")
    sign_in(client, "cara")
    response = client.get("/account", headers={"accept": "text/html"})
    assert response.status_code == 403
    assert "<h1" in response.text


def test_grant_form_shows_receipt(ada_signed_in, store) -> None:
    page = ada_signed_in.get("/account")
    response = ada_signed_in.post(
        "/account/consents",
        data={
            "csrf_token": csrf_from(page.text),
            "grantee": "Acme Recruiting",
            "grantee_role": "verifier",
            "part": f"achievement:{store.degree}",
            "purpose": "degree check",
            "valid_until": NEXT_YEAR,
        },
    )
    assert response.status_code == 200
    assert "Consent receipt" in response.text
    assert "degree check" in response.text
    assert f"achievement {store.degree}" in response.text


def test_grant_form_reports_bad_date(ada_signed_in, store) -> None:
    page = ada_signed_in.get("/account")
    response = ada_signed_in.post(
        "/account/consents",
        data={
            "csrf_token": csrf_from(page.text),
            "grantee": "Acme Recruiting",
            "part": "record",
            "purpose": "check",
            "valid_until": "2001-01-01",
        },
    )
    assert response.status_code == 422
    assert "in the past" in response.text


def test_revoke_button_revokes(ada_signed_in, store, as_role) -> None:
    page = ada_signed_in.get("/account")
    ada_signed_in.post(
        "/account/consents",
        data={
            "csrf_token": csrf_from(page.text),
            "grantee": "Acme Recruiting",
            "part": "record",
            "purpose": "check",
            "valid_until": NEXT_YEAR,
        },
    )
    verifier = as_role("verifier")
    path = f"/api/v1/learners/{store.ada}/shared-record"
    assert ada_signed_in.get(path, headers=verifier).status_code == 200
    page = ada_signed_in.get("/account")
    grant_id = re.search(r"/account/consents/([\w-]+)/revoke", page.text).group(1)
    ada_signed_in.post(
        f"/account/consents/{grant_id}/revoke",
        data={"csrf_token": csrf_from(page.text)},
    )
    assert ada_signed_in.get(path, headers=verifier).status_code == 404


def test_request_approved_on_page(ada_signed_in, store, as_role) -> None:
    made = ada_signed_in.post(
        "/api/v1/consent-requests",
        json={
            "identity": {
                "given_name": "Ada",
                "family_name": "Testperson",
                "date_of_birth": "2001-02-03",
            },
            "purpose": "job reference",
            "valid_until": NEXT_YEAR,
        },
        headers=as_role("verifier"),
    ).json()
    page = ada_signed_in.get("/account")
    assert "job reference" in page.text
    ada_signed_in.post(
        f"/account/requests/{made['id']}/approve",
        data={"csrf_token": csrf_from(page.text)},
    )
    after = ada_signed_in.get("/account")
    assert "No one is waiting for your consent." in after.text
    assert "active" in after.text


def test_page_shows_who_looked(ada_signed_in, store, as_role) -> None:
    ada_signed_in.get(
        f"/api/v1/learners/{store.ada}/shared-record", headers=as_role("provider")
    )
    page = ada_signed_in.get("/account")
    assert "10000001 (provider)" in page.text
    assert "read shared record" in page.text


def test_export_page_lists_tables(ada_signed_in, store) -> None:
    page = ada_signed_in.get("/account/export")
    assert page.status_code == 200
    assert "achievements (2)" in page.text
    assert "BSc Computing" in page.text
