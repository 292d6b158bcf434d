"""The OAuth 2 token endpoint for machine clients (RFC 6749 §4.4)."""

from __future__ import annotations

import base64
import binascii
import logging
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from john.auth import service
from john.auth.deps import auth_settings, require, secret_key
from john.auth.principal import Principal
from john.auth.tokens import issue_token
from john.errors import Forbidden, Unauthorised

log = logging.getLogger(__name__)

router = APIRouter(tags=["auth"])


class TokenResponse(BaseModel):
    """A successful token response (RFC 6749 §5.1)."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    scope: str


def _oauth_error(
    status: int, error: str, description: str, basic: bool
) -> JSONResponse:
    # RFC 6749 §5.2 fixes this body shape for the token endpoint, so it is not
    # a problem detail; 401 with WWW-Authenticate when Basic auth was tried.
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401 and basic:
        headers["WWW-Authenticate"] = 'Basic realm="john"'
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers=headers,
    )


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


@router.post(
    "/api/v1/oauth/token",
    response_model=TokenResponse,
    responses={400: {"description": "OAuth error"}, 401: {"description": "bad client"}},
)
def issue_access_token(
    request: Request,
    key: Annotated[bytes, Depends(secret_key)],
    grant_type: Annotated[str, Form()],
    scope: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    """Issue a short-lived bearer token for a client's credentials."""
    basic = _basic_credentials(request.headers.get("authorization", ""))
    if basic is not None and client_secret is not None:
        return _oauth_error(
            400, "invalid_request", "use one client authentication method", False
        )
    if basic is not None:
        client_id, client_secret = basic
    if not client_id or client_secret is None:
        return _oauth_error(
            401, "invalid_client", "client authentication is missing", True
        )
    if grant_type != "client_credentials":
        return _oauth_error(
            400,
            "unsupported_grant_type",
            f"grant_type {grant_type!r} is not supported; use client_credentials",
            False,
        )

    settings = auth_settings(request)
    with request.app.state.sessions() as db:
        try:
            client = service.authenticate_client(db, client_id, client_secret)
        except Unauthorised as error:
            log.warning("token request rejected: invalid client credentials")
            return _oauth_error(401, "invalid_client", error.detail, basic is not None)
        try:
            scopes = service.grant_scopes(client, scope)
        except Forbidden as error:
            return _oauth_error(400, "invalid_scope", error.detail, False)
        claims = service.token_claims(client, scopes)

    token = issue_token(key, claims, settings.token_seconds)
    log.info("token issued to client %s", client.client_id)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": settings.token_seconds,
            "scope": " ".join(scopes),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


class WhoAmI(BaseModel):
    """The caller as the hub sees it."""

    subject: str
    kind: str
    role: str
    scopes: list[str]
    learner_id: str | None = None
    ukprn: str | None = None
    organisation: str | None = None


@router.get("/api/v1/whoami", response_model=WhoAmI)
def whoami(principal: Annotated[Principal, Depends(require())]) -> WhoAmI:
    """Return the caller's role, scopes and binding."""
    return WhoAmI(
        subject=principal.subject,
        kind=principal.kind,
        role=principal.role,
        scopes=sorted(principal.scopes),
        learner_id=principal.learner_id,
        ukprn=principal.ukprn,
        organisation=principal.organisation,
    )
