"""Users, sign-in with lockout, server-side sessions and machine clients."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from john.auth.models import ApiClient, User, WebSession
from john.auth.passwords import hash_secret, needs_rehash, verify_secret
from john.auth.principal import ROLE_SCOPES, ROLES, SCOPES, Principal
from john.auth.settings import AuthSettings
from john.db import new_public_id, utcnow
from john.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorised

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12


def check_binding(
    role: str, learner_id: str | None, ukprn: str | None, organisation: str | None
) -> None:
    """Raise InvalidInput unless the role is known and has what it acts for."""
    if role not in ROLES:
        raise InvalidInput(f"role {role!r} is unknown; use one of {', '.join(ROLES)}")
    if role == "learner" and not learner_id:
        raise InvalidInput("a learner account needs the learner id it belongs to")
    if role == "provider" and not ukprn:
        raise InvalidInput("a provider account needs its UKPRN; give the 8 digits")
    if role == "provider" and not (ukprn and ukprn.isdigit() and len(ukprn) == 8):
        raise InvalidInput(f"UKPRN {ukprn!r} is invalid; give the provider's 8 digits")
    if role in ("verifier", "adviser", "sponsor") and not organisation:
        raise InvalidInput(f"a {role} needs the organisation it acts for")


def create_user(
    session: Session,
    *,
    username: str,
    role: str,
    password: str | None = None,
    display_name: str = "",
    learner_id: str | None = None,
    ukprn: str | None = None,
    organisation: str | None = None,
    external_subject: str | None = None,
) -> User:
    """Add a user with a role and its binding; the caller commits."""
    check_binding(role, learner_id, ukprn, organisation)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"password is shorter than {MIN_PASSWORD_LENGTH} characters; "
            "choose a longer one"
        )
    if password is None and external_subject is None:
        raise InvalidInput("a user needs a password or an OpenID Connect subject")
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"user {username!r} already exists; choose another username")

    user = User(
        id=new_public_id("U"),
        username=username,
        display_name=display_name or username,
        role=role,
        password_hash=hash_secret(password) if password is not None else None,
        learner_id=learner_id,
        ukprn=ukprn,
        organisation=organisation,
        external_subject=external_subject,
    )
    session.add(user)
    session.flush()
    log.info("user %s created with role %s", user.id, role)
    return user


def authenticate_user(
    session: Session, settings: AuthSettings, username: str, password: str
) -> User:
    """Check a username and password, applying the lockout; commits the count.

    Every failure raises the same :class:`Unauthorised` message, so a caller
    cannot tell an unknown username from a wrong password or a locked account.
    """
    failure = Unauthorised("username or password is wrong, or the account is locked")
    user = session.scalar(select(User).where(User.username == username))
    now = utcnow()
    if user is None or not user.active:
        verify_secret(None, password)
        raise failure
    if user.locked_until is not None and user.locked_until > now:
        verify_secret(None, password)
        log.warning("sign-in rejected for locked user %s", user.id)
        raise failure

    if not verify_secret(user.password_hash, password):
        user.failed_attempts += 1
        if user.failed_attempts >= settings.lockout_failures:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            user.failed_attempts = 0
            log.warning("user %s locked after repeated failed sign-ins", user.id)
        session.commit()
        raise failure

    user.failed_attempts = 0
    user.locked_until = None
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_secret(password)
    session.flush()
    return user


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def start_session(session: Session, settings: AuthSettings, user: User) -> str:
    """Create a server-side session for ``user`` and return its secret token."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        WebSession(
            token_sha256=_sha256(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
        )
    )
    session.flush()
    return token


def end_session(session: Session, token: str) -> None:
    """Delete the session for ``token``; unknown tokens are ignored."""
    session.execute(delete(WebSession).where(WebSession.token_sha256 == _sha256(token)))
    session.flush()


def principal_for_user(user: User, session_id: str | None = None) -> Principal:
    """Build the principal a signed-in user acts as."""
    return Principal(
        subject=f"user:{user.id}",
        kind="user",
        role=user.role,
        scopes=ROLE_SCOPES[user.role],
        name=user.display_name,
        learner_id=user.learner_id,
        ukprn=user.ukprn,
        organisation=user.organisation,
        session_id=session_id,
    )


def principal_for_session(session: Session, token: str) -> Principal | None:
    """Return the principal of a live session token, or ``None``."""
    digest = _sha256(token)
    row = session.get(WebSession, digest)
    if row is None or row.expires_at <= utcnow():
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return principal_for_user(user, session_id=digest)


def find_user_by_subject(session: Session, external_subject: str) -> User:
    """Return the active user linked to an OpenID Connect subject."""
    user = session.scalar(select(User).where(User.external_subject == external_subject))
    if user is None or not user.active:
        raise Forbidden(
            "no JOHN account is linked to this OpenID Connect subject; an "
            "administrator links it with john users add --oidc-subject"
        )
    return user


@dataclass
class NewClient:
    """A client just created, with its secret shown once."""

    client: ApiClient
    secret: str


def create_client(
    session: Session,
    *,
    name: str,
    role: str,
    scopes: list[str] | None = None,
    ukprn: str | None = None,
    organisation: str | None = None,
    learner_id: str | None = None,
) -> NewClient:
    """Register a machine client; the secret is returned once and stored hashed."""
    check_binding(role, learner_id, ukprn, organisation)
    allowed = ROLE_SCOPES[role]
    granted = sorted(scopes) if scopes else sorted(allowed)
    for scope in granted:
        if scope not in SCOPES:
            raise InvalidInput(
                f"scope {scope!r} is unknown; use one of {sorted(SCOPES)}"
            )
        if scope not in allowed:
            raise InvalidInput(f"scope {scope!r} is not available to role {role}")

    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=new_public_id("C"),
        secret_hash=hash_secret(secret),
        name=name,
        role=role,
        scopes=granted,
        ukprn=ukprn,
        organisation=organisation,
        learner_id=learner_id,
    )
    session.add(client)
    session.flush()
    log.info("client %s created with role %s", client.client_id, role)
    return NewClient(client=client, secret=secret)


def authenticate_client(session: Session, client_id: str, secret: str) -> ApiClient:
    """Check a client's credentials; raise :class:`Unauthorised` when wrong."""
    client = session.get(ApiClient, client_id)
    if client is None or not client.active:
        verify_secret(None, secret)
        raise Unauthorised(f"client {client_id!r} is unknown or its secret is wrong")
    if not verify_secret(client.secret_hash, secret):
        raise Unauthorised(f"client {client_id!r} is unknown or its secret is wrong")
    return client


def grant_scopes(client: ApiClient, requested: str | None) -> list[str]:
    """Return the scopes to put in a token: the requested subset, or all granted."""
    if not requested:
        return list(client.scopes)
    wanted = requested.split()
    extra = [scope for scope in wanted if scope not in client.scopes]
    if extra:
        raise Forbidden(f"scope {' '.join(extra)} is not granted to this client")
    return wanted


def token_claims(client: ApiClient, scopes: list[str]) -> dict[str, object]:
    """Return the claims that bind a token to its client and role."""
    claims: dict[str, object] = {
        "sub": f"client:{client.client_id}",
        "client_id": client.client_id,
        "role": client.role,
        "scope": " ".join(scopes),
    }
    for key in ("ukprn", "organisation", "learner_id"):
        value = getattr(client, key)
        if value:
            claims[key] = value
    return claims


# Built once and read as a plain row, because every bearer request runs it.
_TOKEN_CLIENT = select(
    ApiClient.name,
    ApiClient.role,
    ApiClient.ukprn,
    ApiClient.organisation,
    ApiClient.learner_id,
    ApiClient.active,
).where(ApiClient.client_id == bindparam("client_id"))


def principal_for_claims(session: Session, claims: dict[str, object]) -> Principal:
    """Build the principal of a verified token, checking its client is active."""
    client_id = str(claims.get("client_id", ""))
    client = (
        session.connection().execute(_TOKEN_CLIENT, {"client_id": client_id}).first()
    )
    if client is None or not client.active:
        raise Unauthorised("the token's client is disabled; ask an administrator")
    role = str(claims["role"])
    if role != client.role:
        raise Unauthorised("the token's role no longer matches its client")
    return Principal(
        subject=str(claims["sub"]),
        kind="client",
        role=role,
        scopes=frozenset(str(claims.get("scope", "")).split()),
        name=client.name,
        learner_id=client.learner_id,
        ukprn=client.ukprn,
        organisation=client.organisation,
    )


def get_user(session: Session, username: str) -> User:
    """Return the user called ``username``."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"user {username!r} not found; list users with john users list")
    return user
