"""LRS clients: registration, Basic authentication and scopes."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import threading
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from john.errors import Forbidden, InvalidInput, Unauthorised
from john.lrs.models import LrsClient

SCOPES = (
    "statements/read",
    "statements/read/mine",
    "statements/write",
    "state",
    "profile",
    "define",
    "all/read",
    "all",
)
# The homePage of the account that names a client in ``authority``.
AUTHORITY_HOME_PAGE = "https://john.example/lrs/clients"

# OWASP's minimum Argon2id setting (19 MiB, two passes, one lane): client
# secrets are 192 random bits, so the hash guards a leaked table, not a
# guessable password.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Verified secrets, keyed by client key, as SHA-256 digests: Argon2 costs tens
# of milliseconds per check, too much for every request of a busy client.
_verified: dict[str, tuple[bytes, ClientIdentity]] = {}
_verified_lock = threading.Lock()


@dataclass(frozen=True)
class ClientIdentity:
    """The authenticated client of one request."""

    id: int
    key: str
    source_ukprn: str
    scopes: frozenset[str]

    @property
    def authority(self) -> dict[str, object]:
        """Return the Agent the LRS puts in ``authority`` for this client."""
        return {
            "objectType": "Agent",
            "name": f"LRS client {self.key}",
            "account": {"homePage": AUTHORITY_HOME_PAGE, "name": self.key},
        }

    def require(self, *wanted: str) -> None:
        """Raise :class:`Forbidden` unless the client holds one of ``wanted``."""
        if "all" in self.scopes:
            return
        if any(scope in self.scopes for scope in wanted):
            return
        if "all/read" in self.scopes and all(w.endswith("read") for w in wanted):
            return
        raise Forbidden(
            f"client {self.key} lacks the scope {' or '.join(wanted)}; "
            "register a client with that scope"
        )


def add_client(
    session: Session, source_ukprn: str, scopes: list[str], name: str | None = None
) -> tuple[str, str]:
    """Create a client and return its key and secret (the secret is not kept)."""
    if not (len(source_ukprn) == 8 and source_ukprn.isdigit()):
        raise InvalidInput(
            f"UKPRN {source_ukprn!r} is not 8 digits; give the source "
            "organisation's UK Provider Reference Number"
        )
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise InvalidInput(
            f"scopes {unknown or scopes} are not valid; choose from {', '.join(SCOPES)}"
        )
    key = secrets.token_hex(10)
    secret = secrets.token_urlsafe(24)
    session.add(
        LrsClient(
            key=key,
            secret_hash=_hasher.hash(secret),
            source_ukprn=source_ukprn,
            name=name,
            scopes=" ".join(scopes),
        )
    )
    session.commit()
    return key, secret


def authenticate(session: Session, header: str | None) -> ClientIdentity:
    """Return the client named by an ``Authorization: Basic`` header."""
    if not header or not header.lower().startswith("basic "):
        raise Unauthorised(
            "the LRS needs HTTP Basic authentication with a client key and secret"
        )
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as error:
        raise Unauthorised("the Basic credentials are not valid base64") from error
    key, _, secret = decoded.partition(":")
    digest = hashlib.sha256(secret.encode()).digest()

    with _verified_lock:
        cached = _verified.get(key)
    if cached is not None and secrets.compare_digest(cached[0], digest):
        return cached[1]

    client = session.scalar(
        select(LrsClient).where(LrsClient.key == key, LrsClient.active.is_(True))
    )
    if client is None or not _secret_matches(client.secret_hash, secret):
        raise Unauthorised("the client key or secret is wrong")
    identity = ClientIdentity(
        id=client.id,
        key=client.key,
        source_ukprn=client.source_ukprn,
        scopes=frozenset(client.scopes.split()),
    )
    with _verified_lock:
        _verified[key] = (digest, identity)
    return identity


def _secret_matches(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerifyMismatchError, InvalidHashError):
        return False


def forget_verified_secrets() -> None:
    """Drop the cache of verified secrets (after a client is changed)."""
    with _verified_lock:
        _verified.clear()
