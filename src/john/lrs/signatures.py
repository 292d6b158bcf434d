"""Signed statements: a JWS in an attachment part (xAPI 2.0 §4.2.6).

The LRS checks that the JWS is well formed, uses an RSA algorithm, carries the
statement itself as its payload and, when the header contains an ``x5c``
certificate chain, that the signature verifies against the first certificate.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from john.lrs.attachments import Part
from john.lrs.statements import content_hash, normalise
from john.lrs.validation import SIGNATURE_USAGE, StatementInvalid

ALGORITHMS: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "RS256": hashes.SHA256,
    "RS384": hashes.SHA384,
    "RS512": hashes.SHA512,
}


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def check_signatures(
    statements: list[dict[str, Any]], parts: list[Part], version: str
) -> None:
    """Raise :class:`StatementInvalid` for any signature that does not hold."""
    by_hash = {part.sha2: part for part in parts}
    for statement in statements:
        for item in statement.get("attachments") or []:
            if not isinstance(item, dict) or item.get("usageType") != SIGNATURE_USAGE:
                continue
            part = by_hash.get(item.get("sha2", ""))
            if part is None:
                continue
            if item.get("contentType") != "application/octet-stream":
                raise StatementInvalid(
                    "a signature attachment must declare contentType "
                    "application/octet-stream"
                )
            _check_one(statement, item, part.content, version)


def _check_one(
    statement: dict[str, Any], item: dict[str, Any], token: bytes, version: str
) -> None:
    try:
        header_b64, payload_b64, signature_b64 = (
            token.decode("ascii").strip().split(".")
        )
        header = json.loads(_b64url(header_b64))
        payload = json.loads(_b64url(payload_b64))
        signature = _b64url(signature_b64)
    except (ValueError, UnicodeDecodeError, binascii.Error) as error:
        raise StatementInvalid(
            "the signature attachment is not a JWS in compact serialisation"
        ) from error
    if not isinstance(header, dict) or header.get("alg") not in ALGORITHMS:
        raise StatementInvalid(
            "the signature's JWS header must name alg RS256, RS384 or RS512"
        )
    if not isinstance(payload, dict) or not _same_statement(
        payload, statement, item, version
    ):
        raise StatementInvalid(
            "the signature's JWS payload differs from the statement it signs"
        )
    chain = header.get("x5c")
    if chain:
        _verify_x5c(chain, header["alg"], f"{header_b64}.{payload_b64}", signature)


def _same_statement(
    payload: dict[str, Any],
    statement: dict[str, Any],
    signature_item: dict[str, Any],
    version: str,
) -> bool:
    unsigned = dict(statement)
    others = [a for a in statement.get("attachments") or [] if a is not signature_item]
    if others:
        unsigned["attachments"] = others
    else:
        unsigned.pop("attachments", None)
    signed = dict(payload)
    kept = [
        a
        for a in signed.pop("attachments", None) or []
        if not (isinstance(a, dict) and a.get("usageType") == SIGNATURE_USAGE)
    ]
    if kept:
        signed["attachments"] = kept
    if "id" in signed and "id" in statement and signed["id"] != statement["id"]:
        return False
    return content_hash(normalise(signed, version)) == content_hash(
        normalise(unsigned, version)
    )


def _verify_x5c(chain: Any, alg: str, signing_input: str, signature: bytes) -> None:
    try:
        certificate = x509.load_der_x509_certificate(base64.b64decode(chain[0]))
        key = certificate.public_key()
    except (ValueError, TypeError, IndexError, binascii.Error) as error:
        raise StatementInvalid(
            "the signature's x5c header does not hold an X.509 certificate"
        ) from error
    if not isinstance(key, rsa.RSAPublicKey):
        raise StatementInvalid("the signature's certificate must hold an RSA key")
    try:
        key.verify(
            signature, signing_input.encode(), padding.PKCS1v15(), ALGORITHMS[alg]()
        )
    except InvalidSignature as error:
        raise StatementInvalid(
            "the statement's JWS signature does not verify against its x5c certificate"
        ) from error
