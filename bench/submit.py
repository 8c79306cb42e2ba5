"""Benchmark of `Claim/$submit` (run: `.venv/bin/python -m bench.submit`).

(a) $submit of a 3-item PAS Bundle (~12 KB), sandbox payer deciding at once, on SQLite and on
    PostgreSQL; (b) in the same run, a baseline route of the same service that only does
    `Bundle.model_validate_json` on the same bytes; (c) the ratio a/b; (d) $submit with a
    fhir-pas payer on loopback that answers after 1 s, 200 concurrent clients; (e) on PostgreSQL, the floor
    of a minimal asyncpg write; (f) $submit and the baseline of a 1-item and a 10-item Bundle, and the
    CPU each extra item costs (the slope between them), with the validation's share of it.
The service runs as one uvicorn process; this script is the load generator (loopback only).
PostgreSQL: EPA_BENCH_POSTGRES_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres),
where a fresh database is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
import orjson
from sqlalchemy.engine import make_url

from app.store import migrate
from app.store.database import create_engine
from bench.load import LoadResult, run_load
from bench.metering import Cost, Meter, cpu_seconds
from bench.payload import pas_bundle

HEADERS = {"content-type": "application/fhir+json"}
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def process(args: list[str], env: dict[str, str], health_url: str) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 120  # a loaded 2-core machine starts slowly
        while True:
            try:
                if httpx.get(health_url, timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"could not start {args}")
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def service_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EPA_")}
    env.update({"EPA_DATABASE_URL": database_url, "EPA_DEVELOPMENT": "true", "EPA_LOG_LEVEL": "warning", **extra})
    return env


def bodies_for(template: bytes) -> Callable[[int], bytes]:
    """Body i: the template with its own Bundle and Claim identifiers (no replays) and one of 5,000 members."""
    run = uuid.uuid4().hex[:8]
    cache: dict[int, bytes] = {}

    def body(i: int) -> bytes:
        if i not in cache:
            cache[i] = (
                template.replace(b"BUNDLE-0001", f"B-{run}-{i}".encode())
                .replace(b"CLAIM-0001", f"C-{run}-{i}".encode())
                .replace(b"MEMBER-123", f"M-{run}-{i % 5000}".encode())
            )
        return cache[i]

    return body


async def create_database(admin: str, name: str) -> str:
    dsn = make_url(admin).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    return url


async def metered(meter: Meter, load: Awaitable[LoadResult]) -> tuple[LoadResult, Cost]:
    before = await meter.sample()
    result = await load
    return result, Meter.cost(before, await meter.sample(), result.requests)


async def analyze(url: str) -> str:
    """ANALYZE the bench database (what autovacuum does to a table once 50 rows and a tenth of it changed) and
    say whether autovacuum runs on this server: without statistics PostgreSQL's planner may read a unique
    look-up through another index of the client's rows (on a small table the costs tie), a cost that a
    deployment, whose autovacuum analyzes after its first 50 requests, does not pay."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute("ANALYZE")
        return str(await connection.fetchval("SHOW autovacuum"))
    finally:
        await connection.close()


async def measure(
    base: str, template: bytes, total: int, concurrency: int, meter: Meter, statistics_of: str | None = None
) -> tuple[tuple[LoadResult, Cost], tuple[LoadResult, Cost]]:
    """(b) and (a); `statistics_of`: the PostgreSQL database to ANALYZE after the warm-up."""
    body = bodies_for(template)
    await run_load("warm-up", base, "/fhir/Claim/$submit", body, total=50, concurrency=4, headers=HEADERS)
    if statistics_of is not None:
        autovacuum = await analyze(statistics_of)
        print(f"(PostgreSQL statistics gathered after the warm-up; this server's autovacuum is {autovacuum})")
    baseline = await metered(
        meter,
        run_load(
            "(b) validate-only baseline",
            base,
            "/bench/validate-only",
            body,
            total=total,
            concurrency=concurrency,
            headers=HEADERS,
        ),
    )
    submit = await metered(
        meter,
        run_load(
            "(a) $submit",
            base,
            "/fhir/Claim/$submit",
            lambda i: body(i + 100),
            total=total,
            concurrency=concurrency,
            headers=HEADERS,
        ),
    )
    return baseline, submit


def shifted(body: Callable[[int], bytes], offset: int) -> Callable[[int], bytes]:
    return lambda i: body(i + offset)


async def per_item(base: str, total: int, concurrency: int, meter: Meter) -> dict[int, tuple[Cost, Cost]]:
    """(f) Server + PostgreSQL CPU of $submit and of the validate-only baseline for 1- and 10-item Bundles."""
    costs: dict[int, tuple[Cost, Cost]] = {}
    for items in (1, 10):
        body = bodies_for(orjson.dumps(pas_bundle(items=items)))
        runs = []
        for name, path, offset in (
            ("baseline", "/bench/validate-only", 0),
            ("$submit", "/fhir/Claim/$submit", 1_000_000),
        ):
            run = run_load(
                f"(f) {name}, {items} item(s)",
                base,
                path,
                shifted(body, offset),
                total=total,
                concurrency=concurrency,
                headers=HEADERS,
            )
            runs.append((await metered(meter, run))[1])
        costs[items] = (runs[0], runs[1])
    return costs


def print_per_item(costs: dict[int, tuple[Cost, Cost]]) -> None:
    for items, (baseline, submit) in costs.items():
        print(f"(f) {items:2d} item(s): baseline {baseline.total_cpu_ms:5.2f} ms; $submit", submit.line().strip())
    (b1, s1), (b10, s10) = costs[1], costs[10]
    slope = (s10.total_cpu_ms - s1.total_cpu_ms) / 9
    validation = (b10.total_cpu_ms - b1.total_cpu_ms) / 9
    server = (s10.server_cpu_ms - s1.server_cpu_ms) / 9
    print(
        f"(f) each extra item: +{slope:.2f} ms server + PostgreSQL CPU (server +{server:.2f} ms, "
        f"+{validation:.2f} ms of it validation)"
    )


async def minimal_write(url: str, writes: int) -> Cost:
    """(e) The floor for storing one request on PostgreSQL: one transaction of multi-row asyncpg inserts
    shaped like a $submit's (an authorization row with its documents, 3 items, an event, 2 jobs)."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(
            "CREATE TEMP TABLE w_a (id uuid PRIMARY KEY, doc bytea, form bytea, status text, at timestamptz);"
            "CREATE TEMP TABLE w_i (a uuid, seq int, code text, qty numeric(12,3));"
            "CREATE TEMP TABLE w_e (a uuid, type text, at timestamptz, detail jsonb);"
            "CREATE TEMP TABLE w_j (a uuid, kind text, run_at timestamptz, payload jsonb)"
        )
        backend = await connection.fetchval("SELECT pg_backend_pid()")
        doc, started = b"x" * 12000, cpu_seconds(backend)
        client = time.process_time()
        for _ in range(writes):
            key, now = uuid.uuid4(), datetime.now(UTC)
            async with connection.transaction():
                await connection.execute(
                    "INSERT INTO w_a VALUES ($1, $2, $3, 'approved', $4)", key, doc, doc[:2000], now
                )
                await connection.executemany(
                    "INSERT INTO w_i VALUES ($1, $2, $3, $4)", [(key, n, "99212", 1) for n in (1, 2, 3)]
                )
                await connection.execute("INSERT INTO w_e VALUES ($1, 'received', $2, '{}')", key, now)
                await connection.executemany(
                    "INSERT INTO w_j VALUES ($1, $2, $3, '{}')", [(key, k, now) for k in ("a", "b")]
                )
        database = (cpu_seconds(backend) - started) * 1000 / writes
        return Cost(writes, (time.process_time() - client) * 1000 / writes, database, 4.0, 1.0, 1.0)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--item-requests", type=int, default=600, help="requests per (f) scenario")
    parser.add_argument("--slow-requests", type=int, default=1000)
    parser.add_argument("--slow-concurrency", type=int, default=200)
    parser.add_argument("--only", choices=["all", "fast", "slow"], default="all")
    parser.add_argument("--database", default="epa_bench_submit", help="PostgreSQL database to create and drop")
    parser.add_argument(
        "--no-analyze", action="store_true", help="measure PostgreSQL without statistics (no ANALYZE after the warm-up)"
    )
    args = parser.parse_args()
    template = orjson.dumps(pas_bundle(items=3))
    print(f"request Bundle: {len(template)} bytes, 3 items; {args.requests} requests at concurrency {args.concurrency}")
    admin = os.environ.get("EPA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    with tempfile.TemporaryDirectory() as tmp:
        backends = {
            "SQLite": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
            "PostgreSQL": asyncio.run(create_database(admin, args.database)),
        }
        for name, url in backends.items() if args.only != "slow" else ():
            if name == "SQLite":
                engine = create_engine(url)
                asyncio.run(migrate.upgrade(engine))
                asyncio.run(engine.dispose())
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with process(
                ["-m", "bench.serve", str(port)], service_env(url, EPA_EMBEDDED_WORKER="false"), f"{base}/healthz"
            ) as proc:
                meter = Meter(proc.pid, base, url)
                (baseline, b_cost), (submit, s_cost) = asyncio.run(
                    measure(
                        base,
                        template,
                        args.requests,
                        args.concurrency,
                        meter,
                        url if name == "PostgreSQL" and not args.no_analyze else None,
                    )
                )
                items = asyncio.run(per_item(base, args.item_requests, args.concurrency, meter))
            print(f"--- {name}")
            print(baseline.line())
            print(b_cost.line())
            print(submit.line())
            print(s_cost.line())
            print(f"(c) ratio $submit / baseline: {submit.rps / baseline.rps:.2f} req/s, ", end="")
            print(f"{s_cost.total_cpu_ms / b_cost.total_cpu_ms:.2f}x the baseline's CPU per request; ", end="")
            print(f"p99/p50 {submit.percentile(0.99) / submit.percentile(0.5):.1f}")
            if name == "PostgreSQL":
                floor = asyncio.run(minimal_write(url, 500))
                print(
                    f"(e) minimal asyncpg write of one request: {floor.database_cpu_ms:.2f} ms PostgreSQL CPU, ", end=""
                )
                print(f"{floor.server_cpu_ms:.2f} ms client CPU per write (1 transaction, 4 statements)")
                print(
                    f"    limit ≈ baseline {b_cost.total_cpu_ms:.2f} ms + write {floor.total_cpu_ms:.2f} ms = "
                    f"{b_cost.total_cpu_ms + floor.total_cpu_ms:.2f} ms; $submit is "
                    f"{s_cost.total_cpu_ms / (b_cost.total_cpu_ms + floor.total_cpu_ms):.1f}x that"
                )
            print_per_item(items)

        if args.only == "fast":
            return
        payer_port, port = free_port(), free_port()
        payers = Path(tmp) / "payers.toml"
        payers.write_text(
            '[[payer]]\nid = "slow"\nadapter = "fhir-pas"\ndefault = true\n'
            f'[payer.settings]\nbase_url = "http://127.0.0.1:{payer_port}/fhir"\ntimeout_seconds = 5\n'
        )
        base = f"http://127.0.0.1:{port}"
        env = service_env(backends["PostgreSQL"], EPA_PAYERS_FILE=str(payers), EPA_EMBEDDED_WORKER="false")
        with (
            process(
                ["-m", "bench.slow_payer", str(payer_port), "1.0"], os.environ.copy(), f"http://127.0.0.1:{payer_port}/"
            ),
            process(["-m", "bench.serve", str(port)], env, f"{base}/healthz"),
        ):
            body = bodies_for(template)
            slow = asyncio.run(
                run_load(
                    "(d) $submit, payer answers in 1 s",
                    base,
                    "/fhir/Claim/$submit",
                    body,
                    total=args.slow_requests,
                    concurrency=args.slow_concurrency,
                    headers=HEADERS,
                )
            )
        print(f"--- PostgreSQL, fhir-pas payer on loopback answering after 1 s, {args.slow_concurrency} clients")
        print(slow.line())
        print(f"(d) ideal if only the payer's 1 s limited it: {args.slow_concurrency:.0f} req/s")


if __name__ == "__main__":
    main()
