"""The Ed25519 key that signs verification answers, and its JWKS.

The private key lives in ``data_dir/verification-signing-key.json`` (created on
first use, mode 0600); the public half is published as a JSON Web Key Set so a
relying party can check an answer offline (RFC 7517, RFC 8037).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from john.errors import InvalidInput

if TYPE_CHECKING:
    from joserfc.jwk import KeySetSerialization

KEY_FILE = "verification-signing-key.json"
_lock = threading.Lock()
_cache: dict[Path, OKPKey] = {}
_key_ids: dict[int, tuple[OKPKey, str]] = {}


def load_signing_key(data_dir: Path) -> OKPKey:
    """Return the hub's Ed25519 signing key, creating it on first use."""
    cached = _cache.get(Path(data_dir))
    if cached is not None:
        return cached
    path = (Path(data_dir) / KEY_FILE).resolve()
    with _lock:
        if path in _cache:
            _cache[Path(data_dir)] = _cache[path]
            return _cache[path]
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            key = OKPKey.generate_key("Ed25519")
            data = key.as_dict(private=True)
            data["kid"] = key.thumbprint()
            # O_EXCL makes a second process that races us fail, not overwrite.
            try:
                handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump(data, out)
        stored = json.loads(path.read_text(encoding="utf-8"))
        key = OKPKey.import_key(stored)
        _cache[path] = _cache[Path(data_dir)] = key
        return key


def key_id(key: OKPKey) -> str:
    """Return the key's id: its RFC 7638 thumbprint, computed once per key."""
    found = _key_ids.get(id(key))
    if found is None or found[0] is not key:
        found = _key_ids[id(key)] = (key, key.thumbprint())
    return found[1]


def public_jwks(key: OKPKey) -> dict[str, Any]:
    """Return the JSON Web Key Set with the public key only."""
    public = key.as_dict(private=False)
    public.update({"kid": key_id(key), "use": "sig", "alg": "Ed25519"})
    return {"keys": [public]}


def sign_answer(key: OKPKey, payload: dict[str, Any]) -> str:
    """Sign ``payload`` as a compact JWS with the Ed25519 algorithm (RFC 9864)."""
    header = {"alg": "Ed25519", "kid": key_id(key), "typ": "john-verification+json"}
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return jws.serialize_compact(header, body, key, algorithms=["Ed25519"])


def read_answer(jwks: dict[str, Any], token: str) -> dict[str, Any]:
    """Check a signed answer against a JWKS and return its payload."""
    from joserfc.jwk import KeySet

    try:
        keys = KeySet.import_key_set(cast("KeySetSerialization", jwks))
        verified = jws.deserialize_compact(token, keys, algorithms=["Ed25519"])
    except (JoseError, ValueError) as error:
        raise InvalidInput(
            f"the signed answer does not verify ({error.__class__.__name__})"
        ) from error
    payload: dict[str, Any] = json.loads(verified.payload)
    return payload
