"""Safe retries: a request sent again under the same key finds the first result."""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from john.errors import Conflict

Keyed = TypeVar("Keyed")


def body_sha256(body: Any) -> str:
    """Return the SHA-256 of a JSON-ready value in canonical form."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def find_retried(
    session: Session,
    model: type[Keyed],
    requester: str,
    idempotency_key: str,
    digest: str,
) -> Keyed | None:
    """Return the row stored under this requester's key, if any.

    Raises Conflict when the key was used before with a different request.
    """
    # Every keyed model maps requester, idempotency_key and request_sha256.
    table: Any = model
    earlier: Any = session.scalars(
        select(model).where(
            table.requester == requester,
            table.idempotency_key == idempotency_key,
        )
    ).first()
    if earlier is not None and earlier.request_sha256 != digest:
        raise Conflict(
            f"Idempotency-Key {idempotency_key!r} was used for a different "
            "request; send a new key for a new request"
        )
    return earlier
