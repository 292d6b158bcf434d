"""Attachments in multipart/mixed bodies, and signed statements."""

from __future__ import annotations

import base64
import datetime
import hashlib
import json

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from xapi_support import statement

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
BOUNDARY = "test-boundary-7f3a"


def _multipart(body, parts) -> tuple[bytes, dict[str, str]]:
    chunks = [
        f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(body).encode(),
        b"\r\n",
    ]
    for content_type, content in parts:
        sha2 = hashlib.sha256(content).hexdigest()
        chunks.append(
            f"--{BOUNDARY}\r\nContent-Type: {content_type}\r\n"
            f"Content-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha2}\r\n\r\n".encode()
        )
        chunks.extend([content, b"\r\n"])
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    headers = {"Content-Type": f'multipart/mixed; boundary="{BOUNDARY}"'}
    return b"".join(chunks), headers


def _attachment(
    content: bytes,
    content_type: str = "text/plain",
    usage: str = "http://example.com/usage/certificate",
) -> dict:
    return {
        "usageType": usage,
        "display": {"en-GB": "certificate"},
        "contentType": content_type,
        "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest(),
    }


def test_attachment_stored_and_returned(xapi) -> None:
    content = b"certificate of completion"
    body = statement(attachments=[_attachment(content)])
    data, headers = _multipart(body, [("text/plain", content)])
    posted = xapi.request("POST", "statements", content=data, headers=headers)
    statement_id = posted.json()[0]
    got = xapi.get_statements(statementId=statement_id, attachments="true")
    assert posted.status_code == 200
    assert got.headers["content-type"].startswith("multipart/mixed")
    assert content in got.content


def test_attachment_missing_part_rejected(xapi) -> None:
    body = statement(attachments=[_attachment(b"never sent")])
    response = xapi.post_statements(body)
    assert response.status_code == 400


def test_attachments_sharing_hash_stored_once(xapi) -> None:
    content = b"shared content"
    batch = [
        statement(attachments=[_attachment(content)]),
        statement(attachments=[_attachment(content)]),
    ]
    data, headers = _multipart(batch, [("text/plain", content)])
    posted = xapi.request("POST", "statements", content=data, headers=headers)
    assert posted.status_code == 200
    got = xapi.get_statements(attachments="true")
    assert got.content.count(content) == 1


def test_part_with_wrong_hash_rejected(xapi) -> None:
    body = statement(attachments=[_attachment(b"declared")])
    data, headers = _multipart(body, [("text/plain", b"different")])
    response = xapi.request("POST", "statements", content=data, headers=headers)
    assert response.status_code == 400


@pytest.fixture(scope="module")
def signing_key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "LRS test signer")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    der = certificate.public_bytes(serialization.Encoding.DER)
    return key, base64.b64encode(der).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _jws(key, chain: str, payload: dict) -> bytes:
    header = _b64url(json.dumps({"alg": "RS256", "x5c": [chain]}).encode())
    body = _b64url(json.dumps(payload).encode())
    signature = key.sign(
        f"{header}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    return f"{header}.{body}.{_b64url(signature)}".encode()


def _signed_request(signing_key, *, tamper=False, part_type=None):
    key, chain = signing_key
    unsigned = statement(id="4f0e2c84-7d59-4b0e-9a57-2b8d6f1c3e90")
    token = _jws(key, chain, unsigned)
    if tamper:
        token = token[:-6] + (b"AAAAAA" if not token.endswith(b"AAAAAA") else b"BBBBBB")
    body = dict(
        unsigned,
        attachments=[_attachment(token, "application/octet-stream", SIGNATURE)],
    )
    return _multipart(body, [(part_type or "application/octet-stream", token)])


def test_signed_statement_accepted(xapi, signing_key) -> None:
    data, headers = _signed_request(signing_key)
    response = xapi.request("POST", "statements", content=data, headers=headers)
    assert response.status_code == 200


def test_bad_signature_rejected(xapi, signing_key) -> None:
    data, headers = _signed_request(signing_key, tamper=True)
    response = xapi.request("POST", "statements", content=data, headers=headers)
    assert response.status_code == 400
    assert "signature" in response.json()["detail"]


def test_signature_part_wrong_type_rejected(xapi, signing_key) -> None:
    data, headers = _signed_request(signing_key, part_type="text/plain")
    response = xapi.request("POST", "statements", content=data, headers=headers)
    assert response.status_code == 400
    assert "application/octet-stream" in response.json()["detail"]
