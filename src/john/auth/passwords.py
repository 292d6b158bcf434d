"""Argon2id password and client-secret hashing (argon2-cffi defaults, RFC 9106)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# A hash verified when the account does not exist, so a missing user costs as
# much time as a wrong password and usernames cannot be probed by timing. It is
# made on first use so that importing the module stays cheap.
_DUMMY_HASH: str | None = None


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _hasher.hash("not-a-real-password")
    return _DUMMY_HASH


def hash_secret(secret: str) -> str:
    """Hash a password or client secret with Argon2id."""
    return _hasher.hash(secret)


def verify_secret(stored_hash: str | None, secret: str) -> bool:
    """Return whether ``secret`` matches ``stored_hash``; ``None`` never matches."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), secret) and bool(
            stored_hash
        )
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Return whether the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(stored_hash)
