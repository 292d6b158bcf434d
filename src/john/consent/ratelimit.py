"""Per-verifier rate limits: a token bucket per organisation, in process memory.

NOTE: buckets live in one process, so running several server processes
multiplies the limit by their number.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from john.errors import TooManyRequests


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allow ``per_minute`` requests per key, with bursts up to ``burst``."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float | None = None) -> None:
        """Spend one token for ``key`` or raise :class:`TooManyRequests`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(float(self.burst), now)
            bucket.tokens = min(
                float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate
            )
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return
            wait = math.ceil((1.0 - bucket.tokens) / self.rate) if self.rate else 60
        error = TooManyRequests(
            f"rate limit of {self.rate * 60:.0f} verification requests a minute "
            f"reached; retry after {wait} seconds"
        )
        error.retry_after = wait  # type: ignore[attr-defined]
        raise error
