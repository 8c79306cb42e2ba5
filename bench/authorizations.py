"""Benchmark of the operations API on a million authorizations (PostgreSQL).

    .venv/bin/python -m bench.generate_authorizations        # once: fills epa_bench (a few minutes)
    .venv/bin/python -m bench.authorizations                 # this script

Starts the service (`bench.serve`, which counts SQL statements) as one uvicorn process on 127.0.0.1
(development mode, no embedded worker) against that database, then, as a separate process, drives it
with `--concurrency` httpx clients: `/healthz` (the baseline), `GET /authorizations/{id}` (full
detail, and the polling form with If-None-Match answered 304), and filtered `GET /authorizations`
pages (first pages and cursor pages). Prints requests/s, p50 and p99 with the ratio to the baseline,
and the server CPU (and its PostgreSQL backends' CPU), SQL statements and commits per request of
each scenario, and the EXPLAIN of each worklist filter's query. Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, Executable

from app.operations.queries import AuthorizationFilter, list_statement
from app.store.database import create_engine
from bench.metering import Cost, Meter

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/epa_bench"
CLIENT = "development"
FILTERS: dict[str, AuthorizationFilter] = {
    "status=pended&status=received": AuthorizationFilter(statuses=["pended", "received"]),
    "status=approved&payer=acme": AuthorizationFilter(statuses=["approved"], payer_id="acme"),
    "payer=bluecross": AuthorizationFilter(payer_id="bluecross"),
    "kind=retrospective": AuthorizationFilter(kind="retrospective"),
    "priority=expedited": AuthorizationFilter(priority="expedited"),
    "overdue=true": AuthorizationFilter(overdue=True),
    "expiring_before=+30d": AuthorizationFilter(expiring_before=datetime.now(UTC) + timedelta(days=30)),
    "updated_since=-3d": AuthorizationFilter(updated_since=datetime.now(UTC) - timedelta(days=3)),
    "member_id=M4242": AuthorizationFilter(member_id="M4242"),
    "provider=...|1000000042": AuthorizationFilter(provider_identifier="http://hl7.org/fhir/sid/us-npi|1000000042"),
    "needs attention (console)": AuthorizationFilter(attention_before=datetime.now(UTC) + timedelta(hours=1)),
}


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms) or [float("nan")]
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def drive(
    name: str,
    base_url: str,
    requests: Sequence[tuple[str, dict[str, str]]],
    *,
    expect: int,
    concurrency: int,
    limit_s: float,
) -> Result:
    """Send the requests (path, headers) with `concurrency` clients; stop early after `limit_s` seconds."""
    latencies: list[float] = []
    errors = 0
    queue = iter(requests)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=30.0, limits=limits) as client:
        deadline = time.perf_counter() + limit_s

        async def worker() -> None:
            nonlocal errors
            for path, headers in queue:
                if time.perf_counter() > deadline:
                    return
                started = time.perf_counter()
                try:
                    ok = (await client.get(path, headers=headers)).status_code == expect
                except httpx.HTTPError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += 0 if ok else 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return Result(name, len(latencies), errors, seconds, latencies)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def service(database_url: str, port: int) -> Iterator[tuple[str, int]]:
    """`bench.serve` (the app plus the SQL counters route) as one uvicorn process; yields its URL and pid."""
    env = {**os.environ, "EPA_DATABASE_URL": database_url, "EPA_DEVELOPMENT": "true", "EPA_EMBEDDED_WORKER": "false"}
    env |= {"EPA_RATE_LIMIT_PER_MINUTE": "0", "EPA_LOG_LEVEL": "warning"}
    process = subprocess.Popen([sys.executable, "-m", "bench.serve", str(port)], cwd=ROOT, env=env)
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("the service did not become ready")
        yield base_url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


class Explain(Executable, ClauseElement):
    """`EXPLAIN (ANALYZE) <statement>` with the statement's own bind parameters."""

    inherit_cache = False

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain_sql(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXPLAIN (ANALYZE, COSTS OFF) {compiler.process(element.statement, **kw)}"


async def explain(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            for name, where in FILTERS.items():
                statement = list_statement(CLIENT, where, now=datetime.now(UTC), cursor=None, limit=51)
                print(f"\nEXPLAIN {name}")
                for (plan_line,) in await connection.execute(Explain(statement)):
                    print(f"  {plan_line}")
    finally:
        await engine.dispose()


async def sample(base_url: str, count: int) -> tuple[list[str], list[str]]:
    """Ids to read (drawn from the worklist pages) and list URLs (first pages and cursor pages)."""
    ids: list[str] = []
    urls: list[str] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        for query in ("status=pended&status=received", "payer=bluecross", "kind=retrospective", "overdue=true"):
            first = f"/authorizations?{query}&limit=50"
            urls.append(first)
            page = (await client.get(first)).json()
            if page["next_cursor"]:
                urls.append(f"{first}&cursor={page['next_cursor']}")
        cursor = None
        while len(ids) < count:
            page = (
                await client.get("/authorizations", params={"limit": 200, **({"cursor": cursor} if cursor else {})})
            ).json()
            ids.extend(a["id"] for a in page["authorizations"])
            cursor = page["next_cursor"]
        etags = [(await client.get(f"/authorizations/{i}")).headers["etag"] for i in ids[:200]]
    return ids, urls + etags  # the tail holds the ETags of the first 200 ids


def line(result: Result, baseline: Result | None, cost: Cost, baseline_cost: Cost | None) -> str:
    ratio = f"{result.rps / baseline.rps:6.1%} of baseline" if baseline else "baseline"
    cpu = f"; CPU {cost.total_cpu_ms / baseline_cost.total_cpu_ms:4.1f}x baseline's" if baseline_cost else ""
    return (
        f"{result.name:<40} {result.rps:8.1f} req/s  p50 {result.percentile(0.5):6.1f} ms  "
        f"p99 {result.percentile(0.99):6.1f} ms  errors {result.errors}/{result.requests}  {ratio}{cpu}\n"
        f"{cost.line()}"
    )


async def metered(meter: Meter, name: str, base_url: str, requests: Sequence[tuple[str, dict[str, str]]], *,
                  expect: int, concurrency: int, limit_s: float) -> tuple[Result, Cost]:  # fmt: skip
    before = await meter.sample()
    result = await drive(name, base_url, requests, expect=expect, concurrency=concurrency, limit_s=limit_s)
    return result, Meter.cost(before, await meter.sample(), result.requests)


async def run(args: argparse.Namespace) -> None:
    url = args.database_url
    print(f"database {make_url(url).database}; concurrency {args.concurrency}; {args.requests} requests per scenario")
    with service(url, _free_port()) as (base_url, pid):
        meter = Meter(pid, base_url, url)
        ids, mixed = await sample(base_url, 2000)
        urls, etags = mixed[:-200], mixed[-200:]
        n, c, limit_s = args.requests, args.concurrency, args.seconds
        plain: dict[str, str] = {}
        detail = [(f"/authorizations/{i}", plain) for i, _ in zip(cycle(ids), range(n), strict=False)]
        polls = [
            (f"/authorizations/{i}", {"if-none-match": t})
            for (i, t), _ in zip(cycle(zip(ids, etags, strict=False)), range(n), strict=False)
        ]
        lists = [(u, plain) for u, _ in zip(cycle(urls), range(n), strict=False)]
        await drive("warm-up", base_url, detail[:500] + lists[:200], expect=200, concurrency=c, limit_s=limit_s)
        baseline, baseline_cost = await metered(
            meter, "GET /healthz", base_url, [("/healthz", plain)] * n, expect=200, concurrency=c, limit_s=limit_s
        )
        scenarios = [
            ("GET /authorizations/{id}", detail, 200),
            ("GET /authorizations/{id} If-None-Match", polls, 304),
            ("GET /authorizations?filters (pages)", lists, 200),
        ]
        results = [
            await metered(meter, name, base_url, sent, expect=expect, concurrency=c, limit_s=limit_s)
            for name, sent, expect in scenarios
        ]
    print()
    print(line(baseline, None, baseline_cost, None))
    for result, cost in results:
        print(line(result, baseline, cost, baseline_cost))
    await explain(url)


def main() -> None:
    parser = argparse.ArgumentParser(description="Operations API benchmark (see bench/README.md)")
    parser.add_argument("--database-url", default=os.environ.get("EPA_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=8000, help="per scenario")
    parser.add_argument("--seconds", type=float, default=60.0, help="time limit per scenario")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
