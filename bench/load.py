"""A small closed-loop HTTP load generator (httpx, asyncio) for loopback benchmarks."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class LoadResult:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: Sequence[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def line(self) -> str:
        return (
            f"{self.name:<34} {self.rps:9.1f} req/s   p50 {self.percentile(0.50):8.1f} ms   "
            f"p99 {self.percentile(0.99):8.1f} ms   errors {self.errors}/{self.requests}"
        )


async def run_load(
    name: str,
    base_url: str,
    path: str,
    bodies: Callable[[int], bytes],
    *,
    total: int,
    concurrency: int,
    headers: dict[str, str],
    expect: int = 200,
    timeout: float = 30.0,
    headers_for: Callable[[int], dict[str, str]] | None = None,
) -> LoadResult:
    """POST `total` requests (body i = bodies(i)) with `concurrency` clients; count non-`expect` answers as errors.

    `headers_for(i)`, when given, adds request i's own headers (a signed token each, say) to `headers`."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:

        async def one_client() -> None:
            nonlocal errors
            for i in counter:
                started = time.perf_counter()
                try:
                    own = headers if headers_for is None else {**headers, **headers_for(i)}
                    response = await client.post(path, content=bodies(i), headers=own)
                    ok = response.status_code == expect
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += 0 if ok else 1

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return LoadResult(name, total, errors, seconds, latencies)


def median_of(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
