"""Per-client request rate limits: a token bucket per key (client id, address), held in this process.

`acquire` takes one request from a bucket; `wait` only looks (the token endpoint looks at an
address's bucket of failed assertions before verifying, and takes from it only on a failure).

The limit is per process: N API processes allow up to N times the configured rate in total.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

MAX_TRACKED_CLIENTS = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(slots=True)
class RateLimiter:
    """`per_minute` requests per client per minute, with bursts up to `per_minute`; 0 turns it off."""

    per_minute: int
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def acquire(self, client_id: str, now: float | None = None) -> int | None:
        """Take one request from the client's bucket; return None, or the seconds to wait (Retry-After)."""
        return self._use(client_id, now, take=True)

    def wait(self, key: str, now: float | None = None) -> int | None:
        """None when the bucket of `key` has a request left (taking nothing), else the seconds to wait."""
        return self._use(key, now, take=False)

    def _use(self, client_id: str, now: float | None, *, take: bool) -> int | None:
        if self.per_minute <= 0:
            return None
        now = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        bucket = self._buckets.get(client_id)
        if bucket is None:
            if not take:
                return None
            if len(self._buckets) >= MAX_TRACKED_CLIENTS:
                self._forget_idle(now, rate)
            bucket = self._buckets[client_id] = _Bucket(tokens=float(self.per_minute), updated=now)
        else:
            bucket.tokens = min(float(self.per_minute), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            if take:
                bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / rate))

    def _forget_idle(self, now: float, rate: float) -> None:
        # A bucket that has refilled completely carries no information: drop it.
        full = [cid for cid, b in self._buckets.items() if b.tokens + (now - b.updated) * rate >= self.per_minute]
        for client_id in full:
            del self._buckets[client_id]
        if len(self._buckets) >= MAX_TRACKED_CLIENTS:
            self._buckets.clear()
