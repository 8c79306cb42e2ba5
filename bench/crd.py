"""Benchmark of the CRD `order-sign` CDS Hooks service (run: `.venv/bin/python -m bench.crd`).

(a) `POST /cds-services/crd-order-sign` with the shipped example (examples/cds-hooks/order-sign.json,
    each call its own hookInstance), prefetch included, the shipped coverage rules; (b) in the same
    run, a route of the same service that only parses the same JSON body (the HTTP and JSON floor);
    (c) the ratio a/b. Server CPU per request (the service process, and its PostgreSQL backends),
    SQL statements and commits per request beside req/s and p50/p99, on SQLite (a temporary file)
    and on PostgreSQL in one run (`--backend` picks one). The service runs as one uvicorn process
    (`bench.serve`) per backend; this script is the load generator (loopback only).
PostgreSQL: EPA_BENCH_POSTGRES_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres),
where `--database` is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import orjson

from app.store import migrate
from app.store.database import create_engine
from bench.load import run_load
from bench.metering import Meter
from bench.submit import create_database, free_port, metered, process, service_env

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"content-type": "application/json"}


def bodies(template: dict[str, object]) -> Callable[[int], bytes]:
    run = uuid.uuid4().hex[:8]

    def body(i: int) -> bytes:
        return orjson.dumps({**template, "hookInstance": f"{run}-{i:08d}-0000-4000-8000-000000000000"[:36]})

    return body


async def measure(base: str, template: dict[str, object], total: int, concurrency: int, meter: Meter) -> None:
    body = bodies(template)
    path = "/cds-services/crd-order-sign"
    await run_load("warm-up", base, path, body, total=50, concurrency=4, headers=HEADERS)
    floor, f_cost = await metered(
        meter,
        run_load("(b) JSON-only floor", base, "/bench/json-only", body, total=total, concurrency=concurrency,
                 headers=HEADERS),
    )  # fmt: skip
    crd, c_cost = await metered(
        meter,
        run_load("(a) CRD order-sign", base, path, body, total=total, concurrency=concurrency, headers=HEADERS),
    )
    print(floor.line())
    print(f_cost.line())
    print(crd.line())
    print(c_cost.line())
    print(
        f"(c) order-sign: {c_cost.total_cpu_ms:.2f} ms server CPU per call, "
        f"{c_cost.total_cpu_ms / f_cost.total_cpu_ms:.2f}x the JSON-only floor's (goal: at most 1.5 ms); "
        f"p99/p50 {crd.percentile(0.99) / crd.percentile(0.5):.1f}"
    )


async def sqlite_database(directory: str) -> str:
    url = f"sqlite+aiosqlite:///{directory}/bench.sqlite3"
    engine = create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--backend", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--database", default="epa_bench_crd", help="PostgreSQL database to create and drop")
    args = parser.parse_args()
    template = orjson.loads((ROOT / "examples" / "cds-hooks" / "order-sign.json").read_bytes())
    admin = os.environ.get("EPA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    print(f"CRD order-sign, {args.requests} calls at concurrency {args.concurrency}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("SQLite", "PostgreSQL"):
            if args.backend not in ("both", name.lower()):
                continue
            make = sqlite_database(tmp) if name == "SQLite" else create_database(admin, args.database)
            url = asyncio.run(make)
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            print(f"--- {name}")
            with process(
                ["-m", "bench.serve", str(port)], service_env(url, EPA_EMBEDDED_WORKER="false"), f"{base}/healthz"
            ) as proc:
                asyncio.run(measure(base, template, args.requests, args.concurrency, Meter(proc.pid, base, url)))


if __name__ == "__main__":
    main()
