"""OpenID Connect sign-in against a small provider served on 127.0.0.1."""

from __future__ import annotations

import base64
import hashlib
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from john.auth.deps import SESSION_COOKIE
from john.auth.settings import AuthSettings

CLIENT_ID = "john-hub"
CLIENT_SECRET = "provider-side-secret"
SUBJECT = "staff-0042"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _provider_app(issuer: str, key: RSAKey, nonce_override: str | None) -> FastAPI:
    """Build a minimal OpenID provider: discovery, authorize, token, JWKS."""
    app = FastAPI()
    codes: dict[str, dict[str, str]] = {}

    @app.get("/.well-known/openid-configuration")
    def discovery() -> dict[str, str]:
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
        }

    @app.get("/authorize")
    def authorize(request: Request) -> RedirectResponse:
        query = request.query_params
        code = secrets.token_urlsafe(16)
        codes[code] = dict(query)
        target = f"{query['redirect_uri']}?" + urlencode(
            {"code": code, "state": query["state"]}
        )
        return RedirectResponse(target, status_code=303)

    @app.post("/token")
    def token(
        request: Request,
        code: str = Form(),
        code_verifier: str = Form(),
        redirect_uri: str = Form(),
    ) -> JSONResponse:
        expected = (
            "Basic "
            + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        )
        saved = codes.pop(code, None)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if (
            request.headers.get("authorization") != expected
            or saved is None
            or saved["code_challenge"] != challenge
            or saved["redirect_uri"] != redirect_uri
        ):
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": CLIENT_ID,
            "sub": SUBJECT,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce_override or saved["nonce"],
        }
        id_token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        return JSONResponse({"id_token": id_token, "token_type": "Bearer"})

    @app.get("/jwks")
    def jwks() -> dict[str, object]:
        return {"keys": [key.as_dict(private=False, kid="k1")]}

    return app


def _serve(app: FastAPI, port: int) -> Iterator[None]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield
    server.should_exit = True
    thread.join()


def _start_provider(nonce_override: str | None) -> Iterator[str]:
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    app = _provider_app(issuer, RSAKey.generate_key(2048), nonce_override)
    for _ in _serve(app, port):
        yield issuer


@pytest.fixture
def provider() -> Iterator[str]:
    yield from _start_provider(None)


@pytest.fixture
def lying_provider() -> Iterator[str]:
    yield from _start_provider("replayed")


def _configure(client, issuer: str) -> None:
    client.app.state.auth_settings = AuthSettings(
        oidc_issuer=issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET
    )


def _run_flow(client) -> httpx.Response:
    start = client.get("/signin/oidc?next=/api/v1/whoami", follow_redirects=False)
    assert start.status_code == 303
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    callback = urlparse(at_provider.headers["location"])
    return client.get(f"{callback.path}?{callback.query}", follow_redirects=False)


def test_oidc_flow_signs_in_linked_user(client, session_factory, provider) -> None:
    from john.auth import service

    with session_factory() as db:
        service.create_user(
            db,
            username="olive",
            role="curator",
            external_subject=f"{provider}|{SUBJECT}",
        )
        db.commit()
    _configure(client, provider)
    response = _run_flow(client)
    assert response.status_code == 303
    assert response.headers["location"] == "/api/v1/whoami"
    assert SESSION_COOKIE in response.cookies
    assert client.get("/api/v1/whoami").json()["role"] == "curator"


def test_oidc_unlinked_subject_is_forbidden(client, provider) -> None:
    _configure(client, provider)
    response = _run_flow(client)
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.cookies


def test_oidc_wrong_nonce_is_rejected(client, session_factory, lying_provider) -> None:
    from john.auth import service

    with session_factory() as db:
        service.create_user(
            db,
            username="olive",
            role="curator",
            external_subject=f"{lying_provider}|{SUBJECT}",
        )
        db.commit()
    _configure(client, lying_provider)
    response = _run_flow(client)
    assert response.status_code == 401


def test_oidc_tampered_state_is_rejected(client, provider) -> None:
    _configure(client, provider)
    start = client.get("/signin/oidc", follow_redirects=False)
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    callback = urlparse(at_provider.headers["location"])
    code = parse_qs(callback.query)["code"][0]
    response = client.get(f"{callback.path}?code={code}&state=forged")
    assert response.status_code == 401


def test_oidc_unconfigured_is_not_found(client) -> None:
    response = client.get("/signin/oidc", follow_redirects=False)
    assert response.status_code == 404
    assert "not set up" in response.json()["detail"]
