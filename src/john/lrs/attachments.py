"""Attachments in ``multipart/mixed`` bodies (xAPI 2.0 §4.1.3.2)."""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from john.lrs.validation import SIGNATURE_USAGE, StatementInvalid


@dataclass
class Part:
    """One attachment part: its declared hash, media type and bytes."""

    sha2: str
    content_type: str
    content: bytes


def parse_multipart(content_type: str, body: bytes) -> tuple[Any, list[Part]]:
    """Split a ``multipart/mixed`` body into the statement JSON and its parts."""
    if "boundary=" not in content_type:
        raise StatementInvalid(
            "multipart/mixed request has no boundary parameter in Content-Type"
        )
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise StatementInvalid("multipart/mixed request has no parts")
    parts = list(message.iter_parts())
    if not parts:
        raise StatementInvalid("multipart/mixed request has no parts")

    first = parts[0]
    if first.get_content_type() != "application/json":
        raise StatementInvalid(
            "the first part of a multipart/mixed request must be application/json"
        )
    try:
        statements = json.loads(_payload(first))
    except ValueError as error:
        raise StatementInvalid(f"the statement part is not JSON: {error}") from error

    found = []
    for index, part in enumerate(parts[1:], start=1):
        sha2 = part.get("X-Experience-API-Hash")
        if not sha2:
            raise StatementInvalid(
                f"attachment part {index} has no X-Experience-API-Hash header"
            )
        encoding = (part.get("Content-Transfer-Encoding") or "binary").lower()
        if encoding != "binary":
            raise StatementInvalid(
                f"attachment part {index} must use Content-Transfer-Encoding binary"
            )
        content = _payload(part)
        found.append(
            Part(
                sha2=sha2.strip(), content_type=part.get_content_type(), content=content
            )
        )
    return statements, found


def _payload(part: Any) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def match_parts(statements: list[dict[str, Any]], parts: list[Part]) -> None:
    """Check that parts and declared attachments correspond one to one by hash."""
    declared: dict[str, dict[str, Any]] = {}
    for statement in statements:
        for item in statement.get("attachments") or []:
            if isinstance(item, dict) and isinstance(item.get("sha2"), str):
                declared.setdefault(item["sha2"], item)
    needed = {sha2 for sha2, item in declared.items() if "fileUrl" not in item}
    given = {part.sha2 for part in parts}
    for part in parts:
        if part.sha2 not in declared:
            raise StatementInvalid(
                f"attachment part with hash {part.sha2} matches no attachment in "
                "the statements"
            )
        actual = hashlib.sha256(part.content).hexdigest()
        if len(part.sha2) == 64 and actual != part.sha2.lower():
            raise StatementInvalid(
                f"attachment part with hash {part.sha2} has content whose SHA-256 "
                f"is {actual}"
            )
        item = declared[part.sha2]
        if item.get("usageType") == SIGNATURE_USAGE and (
            part.content_type != "application/octet-stream"
        ):
            raise StatementInvalid(
                "a signature part must have Content-Type application/octet-stream"
            )
    missing = needed - given
    if missing:
        raise StatementInvalid(
            f"attachments {sorted(missing)} have no fileUrl and no part in the "
            "request; send each as a multipart/mixed part"
        )


def build_multipart(result: Any, parts: list[Part]) -> tuple[bytes, str]:
    """Return a ``multipart/mixed`` body and its Content-Type header value."""
    boundary = "xapi-" + secrets.token_hex(12)
    chunks = [
        f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(),
        json.dumps(result).encode(),
        b"\r\n",
    ]
    for part in parts:
        chunks.append(
            (
                f"--{boundary}\r\nContent-Type: {part.content_type}\r\n"
                "Content-Transfer-Encoding: binary\r\n"
                f"X-Experience-API-Hash: {part.sha2}\r\n\r\n"
            ).encode()
        )
        chunks.append(part.content)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f'multipart/mixed; boundary="{boundary}"'
