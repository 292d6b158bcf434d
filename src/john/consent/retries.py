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
    table: Any = model
    earlier = session.scalars(
        select(model).where(
            table.requester == requester,
            table.idempotency_key == idempotency_key,
        )
    ).first()
    if earlier is not None and table_digest(earlier) != digest:
        raise Conflict(
            f"Idempotency-Key {idempotency_key!r} was used for a different "
            "request; send a new key for a new request"
        )
    return earlier


def table_digest(row: Any) -> str | None:
    """Return the request digest stored on a keyed row."""
    return row.request_sha256  # type: ignore[no-any-return]
