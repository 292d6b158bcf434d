"""OpenID Connect sign-in: discovery and the authorization-code flow with PKCE.

Follows OpenID Connect Core 1.0 §3.1 (code flow) and Discovery 1.0 §4; the
ID token is checked for signature (keys from the provider's JWKS), issuer,
audience, expiry and the nonce sent in the authorization request.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from john.auth.settings import AuthSettings
from john.errors import ConfigurationError, Unauthorised

log = logging.getLogger(__name__)

_TIMEOUT = httpx.Timeout(10.0)


@dataclass
class Provider:
    """The endpoints a provider publishes in its discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass
class PendingSignIn:
    """What the callback must compare: state, nonce and the PKCE verifier."""

    state: str
    nonce: str
    code_verifier: str
    next_path: str


def discover(settings: AuthSettings) -> Provider:
    """Fetch the provider's discovery document and check its issuer."""
    if not settings.oidc_enabled or settings.oidc_issuer is None:
        raise ConfigurationError(
            "OpenID Connect is not configured; set JOHN_OIDC_ISSUER and "
            "JOHN_OIDC_CLIENT_ID"
        )
    issuer = settings.oidc_issuer.rstrip("/")
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = httpx.get(url, timeout=_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as error:
        log.error("OpenID Connect discovery failed: %s", error.__class__.__name__)
        raise ConfigurationError(
            f"OpenID Connect discovery at {url} failed ({error}); check "
            "JOHN_OIDC_ISSUER"
        ) from error
    if str(document.get("issuer", "")).rstrip("/") != issuer:
        raise ConfigurationError(
            f"discovery document names issuer {document.get('issuer')!r}, not "
            f"{issuer!r}; check JOHN_OIDC_ISSUER"
        )
    return Provider(
        issuer=str(document["issuer"]),
        authorization_endpoint=str(document["authorization_endpoint"]),
        token_endpoint=str(document["token_endpoint"]),
        jwks_uri=str(document["jwks_uri"]),
    )


def _pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def start(
    settings: AuthSettings, provider: Provider, redirect_uri: str, next_path: str
) -> tuple[str, PendingSignIn]:
    """Return the authorization URL to send the browser to and what to remember."""
    pending = PendingSignIn(
        state=secrets.token_urlsafe(24),
        nonce=secrets.token_urlsafe(24),
        code_verifier=secrets.token_urlsafe(48),
        next_path=next_path,
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": settings.oidc_client_id,
            "redirect_uri": redirect_uri,
            "scope": settings.oidc_scope,
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": _pkce_challenge(pending.code_verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{provider.authorization_endpoint}?{query}", pending


def finish(
    settings: AuthSettings,
    provider: Provider,
    pending: PendingSignIn,
    *,
    code: str,
    state: str,
    redirect_uri: str,
) -> str:
    """Exchange the code, verify the ID token and return ``issuer|sub``."""
    if not secrets.compare_digest(state, pending.state):
        raise Unauthorised("sign-in state does not match; start signing in again")
    try:
        response = httpx.post(
            provider.token_endpoint,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": pending.code_verifier,
            },
            auth=(settings.oidc_client_id or "", settings.oidc_client_secret or ""),
            timeout=_TIMEOUT,
        )
        response.raise_for_status()
        id_token = str(response.json()["id_token"])
        keys = KeySet.import_key_set(
            httpx.get(provider.jwks_uri, timeout=_TIMEOUT).raise_for_status().json()
        )
    except (httpx.HTTPError, KeyError, ValueError) as error:
        log.error("OpenID Connect code exchange failed: %s", error.__class__.__name__)
        raise Unauthorised(
            "the sign-in provider did not accept the code "
            f"({error.__class__.__name__}); start signing in again"
        ) from error
    claims = _verify_id_token(settings, provider, keys, id_token, pending.nonce)
    return f"{provider.issuer}|{claims['sub']}"


def _verify_id_token(
    settings: AuthSettings,
    provider: Provider,
    keys: KeySet,
    id_token: str,
    nonce: str,
) -> dict[str, Any]:
    try:
        decoded = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "EdDSA"])
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": provider.issuer},
            aud={"essential": True, "value": settings.oidc_client_id or ""},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise Unauthorised(
            f"the ID token is not valid ({error.__class__.__name__}); start signing "
            "in again"
        ) from error
    return dict(decoded.claims)
