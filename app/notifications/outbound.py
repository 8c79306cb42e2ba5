"""One outbound POST and what it means for the delivery: delivered, retry (when), or gone.

Shared by webhook deliveries and FHIR Subscription notifications. The attempt never raises:
transport errors and timeouts become an `AttemptResult` with no status code and a short,
PHI-free error (the exception type; receivers' bodies are never kept).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from app.notifications.schedule import parse_retry_after
from app.notifications.targets import UnsafeTarget, pinned_request, resolve_target

ERROR_LIMIT = 500


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one attempt gave: status code (None: no HTTP answer), latency, error text, Retry-After."""

    status_code: int | None
    latency_ms: int
    error: str | None = None
    retry_after: timedelta | None = None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        """410 Gone: the receiver asks never to be sent to again."""
        return self.status_code == 410

    @property
    def refused(self) -> bool:
        """The target was refused before sending (SSRF check): retrying cannot help."""
        return self.status_code is None and self.error is not None and self.error.startswith("UnsafeTarget")


async def post(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    attempt_seconds: float,
    development: bool,
    allow_private: bool,
    now: datetime,
) -> AttemptResult:
    """POST `body` to `url` once, within `attempt_seconds` in all (DNS included); never follows redirects.

    The connection goes to the address that was checked (see `targets`), not to a second lookup.
    """
    started = time.perf_counter()

    def elapsed() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        async with asyncio.timeout(attempt_seconds):
            address = await resolve_target(url, development=development, allow_private=allow_private)
            request = pinned_request(
                http, url, address, content=body, headers=headers, timeout=httpx.Timeout(attempt_seconds)
            )
            response = await http.send(request, follow_redirects=False)
    except TimeoutError:
        return AttemptResult(None, elapsed(), "timeout")
    except UnsafeTarget as exc:
        return AttemptResult(None, elapsed(), f"UnsafeTarget: {exc.message}"[:ERROR_LIMIT])
    except httpx.TimeoutException as exc:
        return AttemptResult(None, elapsed(), f"timeout ({type(exc).__name__})")
    except httpx.HTTPError as exc:
        return AttemptResult(None, elapsed(), type(exc).__name__)
    latency = elapsed()
    status = response.status_code
    if 200 <= status < 300:
        return AttemptResult(status, latency)
    retry_after = None
    if status in (429, 503):
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=now)
    return AttemptResult(status, latency, f"HTTP {status}", retry_after)
