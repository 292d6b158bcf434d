"""FastAPI dependencies that resolve and check the caller.

Routers declare ``principal: Principal = Depends(require(scope=..., roles=...))``.
A bearer token (``Authorization: Bearer``) identifies a machine client; a
signed session cookie identifies a person signed in to the pages.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable

from fastapi import HTTPException, Request
from itsdangerous import BadSignature, URLSafeSerializer

from john.auth import service
from john.auth.principal import Principal
from john.auth.settings import AuthSettings, load_secret_key
from john.auth.tokens import read_token
from john.errors import Forbidden, Unauthorised

SESSION_COOKIE = "john_session"
PRESESSION_COOKIE = "john_presession"


def auth_settings(request: Request) -> AuthSettings:
    """Return the application's sign-in settings, read once per application."""
    state = request.app.state
    if getattr(state, "auth_settings", None) is None:
        state.auth_settings = AuthSettings()
    settings: AuthSettings = state.auth_settings
    return settings


def secret_key(request: Request) -> bytes:
    """Return the application's secret key, loaded once per application."""
    state = request.app.state
    if getattr(state, "secret_key", None) is None:
        state.secret_key = load_secret_key(state.settings)
    key: bytes = state.secret_key
    return key


def cookie_serializer(request: Request) -> URLSafeSerializer:
    """Return the signer for session cookies."""
    return URLSafeSerializer(secret_key(request), salt="john-session")


def session_token(request: Request) -> str | None:
    """Return the session token from the signed cookie, or ``None``."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token = cookie_serializer(request).loads(raw)
    except BadSignature:
        return None
    return token if isinstance(token, str) else None


def csrf_token(request: Request) -> str:
    """Return the CSRF token that forms on this page must send back.

    The token is an HMAC of the session cookie (or, before sign-in, of the
    pre-session cookie), so it needs no storage and dies with the session.
    """
    basis = request.cookies.get(SESSION_COOKIE) or request.cookies.get(
        PRESESSION_COOKIE, ""
    )
    return expected_csrf(secret_key(request), basis)


def expected_csrf(key: bytes, basis: str) -> str:
    """Return the CSRF token bound to a cookie value."""
    return hmac.new(key, b"csrf:" + basis.encode(), hashlib.sha256).hexdigest()


def current_principal(request: Request) -> Principal | None:
    """Return who is calling, or ``None`` for an anonymous request."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached

    principal: Principal | None = None
    header = request.headers.get("authorization", "")
    factory = request.app.state.sessions
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorised("Authorization header must be 'Bearer <token>'")
        claims = read_token(secret_key(request), value.strip())
        with factory() as db:
            principal = service.principal_for_claims(db, claims)
    else:
        token = session_token(request)
        if token:
            with factory() as db:
                principal = service.principal_for_session(db, token)
    request.state.principal = principal
    return principal


def _sign_in_redirect(request: Request) -> HTTPException:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    from urllib.parse import quote

    return HTTPException(
        status_code=303,
        detail="sign in to see this page",
        headers={"Location": f"/signin?next={quote(target, safe='')}"},
    )


def require(
    scope: str | None = None, roles: Iterable[str] | None = None
) -> Callable[[Request], Principal]:
    """Build a dependency that admits callers with ``scope`` and one of ``roles``.

    An anonymous caller gets 401 on the API and a redirect to the sign-in page
    on the pages; a known caller without the role or scope gets 403.
    """
    allowed_roles = frozenset(roles) if roles else None

    def dependency(request: Request) -> Principal:
        principal = current_principal(request)
        if principal is None:
            if request.url.path.startswith("/api/"):
                raise Unauthorised(
                    "this endpoint needs a bearer token; request one at "
                    "/api/v1/oauth/token"
                )
            raise _sign_in_redirect(request)
        if allowed_roles is not None and principal.role not in allowed_roles:
            raise Forbidden(
                f"role {principal.role} may not use this endpoint; it is for "
                f"{', '.join(sorted(allowed_roles))}"
            )
        if scope is not None and not principal.has_scope(scope):
            raise Forbidden(f"this endpoint needs the scope {scope!r}")
        return principal

    dependency.john_scope = scope  # type: ignore[attr-defined]
    dependency.john_roles = allowed_roles  # type: ignore[attr-defined]
    return dependency


def optional_principal(request: Request) -> Principal | None:
    """Return the caller if signed in, without demanding it."""
    return current_principal(request)
