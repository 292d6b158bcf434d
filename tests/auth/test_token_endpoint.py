"""OAuth 2 client credentials at /api/v1/oauth/token and bearer tokens."""

from __future__ import annotations

import base64
import json
import time

import pytest

from john.auth.testing import add_client
from john.auth.tokens import issue_token


@pytest.fixture
def provider_client(session_factory) -> tuple[str, str]:
    return add_client(session_factory, "provider", ukprn="10000001")


def test_basic_auth_issues_token(client, provider_client) -> None:
    client_id, secret = provider_client
    response = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert "feeds:write" in body["scope"].split()
    assert response.headers["cache-control"] == "no-store"


def test_post_body_credentials_issue_token(client, provider_client) -> None:
    client_id, secret = provider_client
    response = client.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": "feeds:read",
        },
    )
    assert response.status_code == 200
    assert response.json()["scope"] == "feeds:read"


def test_wrong_secret_is_invalid_client(client, provider_client) -> None:
    client_id, _ = provider_client
    response = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, "wrong"),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


def test_unknown_grant_type_rejected(client, provider_client) -> None:
    client_id, secret = provider_client
    response = client.post(
        "/api/v1/oauth/token", data={"grant_type": "password"}, auth=(client_id, secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_scope_beyond_grant_rejected(client, provider_client) -> None:
    client_id, secret = provider_client
    response = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials", "scope": "audit:read"},
        auth=(client_id, secret),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_missing_credentials_is_invalid_client(client) -> None:
    response = client.post(
        "/api/v1/oauth/token", data={"grant_type": "client_credentials"}
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_expired_token_is_unauthorised(client, settings, provider_client) -> None:
    from john.auth.settings import load_secret_key

    client_id, _ = provider_client
    claims = {
        "sub": f"client:{client_id}",
        "client_id": client_id,
        "role": "provider",
        "scope": "feeds:read",
    }
    token = issue_token(load_secret_key(settings), claims, -10)
    response = client.get(
        "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_forged_token_is_unauthorised(client, provider_client) -> None:
    client_id, _ = provider_client
    claims = {
        "sub": f"client:{client_id}",
        "client_id": client_id,
        "role": "administrator",
        "scope": "users:write",
    }
    token = issue_token(b"not the hub key", claims, 60)
    response = client.get(
        "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


def test_whoami_shows_binding(client, provider_client) -> None:
    client_id, secret = provider_client
    token = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    ).json()["access_token"]
    response = client.get(
        "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["role"] == "provider"
    assert response.json()["ukprn"] == "10000001"


def test_disabled_client_token_stops_working(
    client, session_factory, provider_client
) -> None:
    from john.auth.models import ApiClient

    client_id, secret = provider_client
    token = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    ).json()["access_token"]
    with session_factory() as db:
        db.get(ApiClient, client_id).active = False
        db.commit()
    response = client.get(
        "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 401


def test_token_lifetime_is_short(client, provider_client) -> None:
    client_id, secret = provider_client
    token = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    ).json()["access_token"]
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["exp"] - int(time.time()) <= 300
    assert claims["ukprn"] == "10000001"
