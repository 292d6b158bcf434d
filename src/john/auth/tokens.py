"""Short-lived JWT access tokens (RFC 9068 profile, HS256 with the hub key)."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

from john.errors import Unauthorised

ISSUER = "john"
AUDIENCE = "john-api"
_ALGORITHM = "HS256"


@functools.lru_cache(maxsize=8)
def _signing_key(secret_key: bytes) -> OctKey:
    # A key derived for tokens only, so a leaked token key says nothing about
    # the cookie-signing key and the other way round.
    derived = hmac.new(secret_key, b"john access tokens", hashlib.sha256).digest()
    return OctKey.import_key(derived)


def issue_token(
    secret_key: bytes, claims: dict[str, Any], lifetime_seconds: int
) -> str:
    """Sign an access token carrying ``claims`` for ``lifetime_seconds``."""
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + lifetime_seconds,
        "jti": secrets.token_hex(12),
        **claims,
    }
    return jwt.encode(
        {"alg": _ALGORITHM, "typ": "at+jwt"}, payload, _signing_key(secret_key)
    )


def read_token(secret_key: bytes, token: str) -> dict[str, Any]:
    """Verify an access token's signature, issuer, audience and expiry."""
    try:
        decoded = jwt.decode(token, _signing_key(secret_key), algorithms=[_ALGORITHM])
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": AUDIENCE},
            exp={"essential": True},
            sub={"essential": True},
        )
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise Unauthorised(
            f"bearer token is invalid or expired ({error.__class__.__name__}); "
            "request a new one at /api/v1/oauth/token"
        ) from error
    return dict(decoded.claims)
