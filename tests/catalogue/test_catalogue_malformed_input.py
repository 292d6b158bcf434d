"""Malformed URLs and ids give a reason or a 422, never a server error."""

from __future__ import annotations

from john.auth.testing import bearer_headers
from john.catalogue.cleaning import clean_url


def test_clean_url_unmatched_bracket() -> None:
    assert clean_url("http://[abc") == (None, "not a web address")


def test_import_id_beyond_32_bits(client, session_factory) -> None:
    headers = bearer_headers(client, session_factory, "curator")
    response = client.get(f"/api/v1/catalogue/imports/{2**31}", headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.report_id"
