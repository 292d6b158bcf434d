"""Per-verifier rate limits: a token bucket per organisation, kept in the store.

Buckets are rows of ``consent_rate_buckets``, so every server process of one
store spends from the same bucket and a restart does not refill it. Each take
is one conditional ``UPDATE``, which the database applies atomically.
"""

from __future__ import annotations

import math
import time

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from john.consent.models import RateBucket
from john.db import serialised_writes
from john.errors import TooManyRequests

_ELAPSED = case(
    (
        bindparam("now") > RateBucket.refilled_at,
        bindparam("now") - RateBucket.refilled_at,
    ),
    else_=0.0,
)
_REFILLED = RateBucket.tokens + _ELAPSED * bindparam("rate")
_AVAILABLE = case((_REFILLED > bindparam("burst"), bindparam("burst")), else_=_REFILLED)
_SPEND = (
    update(RateBucket)
    .where(RateBucket.requester == bindparam("key"), _AVAILABLE >= 1.0)
    .values(tokens=_AVAILABLE - 1.0, refilled_at=bindparam("now"))
    .returning(RateBucket.tokens)
)
_READ = select(RateBucket.tokens, RateBucket.refilled_at).where(
    RateBucket.requester == bindparam("key")
)


class RateLimiter:
    """Allow ``per_minute`` requests per key, with bursts up to ``burst``."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst

    def take(self, session: Session, key: str, now: float | None = None) -> None:
        """Spend one token for ``key`` and commit, or raise TooManyRequests.

        ``now`` is in seconds since the Unix epoch, the clock that every
        process on one host shares.
        """
        now = time.time() if now is None else now
        params = {"key": key, "now": now, "rate": self.rate, "burst": self.burst}
        with serialised_writes(session):
            connection = session.connection()
            spent = connection.execute(_SPEND, params).first() is not None
            if not spent:
                spent = self._open_bucket(session, key, now)
            if spent:
                session.commit()
                return
            row = connection.execute(_READ, {"key": key}).one()
            session.rollback()
        available = min(
            float(self.burst), row.tokens + max(0.0, now - row.refilled_at) * self.rate
        )
        wait = math.ceil((1.0 - available) / self.rate) if self.rate else 60
        error = TooManyRequests(
            f"rate limit of {self.rate * 60:.0f} verification requests a minute "
            f"reached; retry after {wait} seconds"
        )
        error.retry_after = wait  # type: ignore[attr-defined]
        raise error

    def _open_bucket(self, session: Session, key: str, now: float) -> bool:
        # A key's first request creates its bucket. When another process
        # created it meanwhile, the insert does nothing and the spend is retried.
        if self.burst < 1:
            return False
        connection = session.connection()
        dialect_insert = (
            postgresql_insert
            if connection.dialect.name == "postgresql"
            else sqlite_insert
        )
        # RETURNING tells whether a row was added: rowcount is -1 after an
        # INSERT ... ON CONFLICT DO NOTHING through psycopg 3.
        created = connection.execute(
            dialect_insert(RateBucket)
            .values(requester=key, tokens=self.burst - 1.0, refilled_at=now)
            .on_conflict_do_nothing()
            .returning(RateBucket.requester)
        ).first()
        if created is not None:
            return True
        params = {"key": key, "now": now, "rate": self.rate, "burst": self.burst}
        return connection.execute(_SPEND, params).first() is not None
