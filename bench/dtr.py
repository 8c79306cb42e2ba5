"""Benchmark of DTR `Questionnaire/$questionnaire-package` (run: `.venv/bin/python -m bench.dtr`).

(a) `POST /fhir/Questionnaire/$questionnaire-package` with the shipped example
    (examples/dtr/questionnaire-package.json: a Coverage and a power wheelchair order, one package
    back: Questionnaire, two Libraries, a ValueSet and the prefilled QuestionnaireResponse);
(b) in the same run, the JSON-only floor route (`bench.serve`) with the same body;
(c) the ratio a/b of server CPU per call (goal: within 3x; the packages are static, built at load).
The service runs as one uvicorn process (`bench.serve`) on PostgreSQL (the operation reads no table
unless `context` is given); this script is the load generator (loopback only).
PostgreSQL: EPA_BENCH_POSTGRES_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres),
where `--database` is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

from bench.load import run_load
from bench.metering import Meter
from bench.submit import create_database, free_port, metered, process, service_env

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"content-type": "application/fhir+json"}
PATH = "/fhir/Questionnaire/$questionnaire-package"


async def measure(base: str, body: bytes, total: int, concurrency: int, meter: Meter) -> None:
    def same(_: int) -> bytes:
        return body

    await run_load("warm-up", base, PATH, same, total=50, concurrency=4, headers=HEADERS)
    floor, f_cost = await metered(
        meter,
        run_load("(b) JSON-only floor", base, "/bench/json-only", same, total=total, concurrency=concurrency,
                 headers=HEADERS),
    )  # fmt: skip
    package, p_cost = await metered(
        meter,
        run_load("(a) $questionnaire-package", base, PATH, same, total=total, concurrency=concurrency, headers=HEADERS),
    )
    print(floor.line())
    print(f_cost.line())
    print(package.line())
    print(p_cost.line())
    print(
        f"(c) $questionnaire-package: {p_cost.total_cpu_ms:.2f} ms server CPU per call, "
        f"{p_cost.total_cpu_ms / f_cost.total_cpu_ms:.2f}x the JSON-only floor's (goal: within 3x); "
        f"p99/p50 {package.percentile(0.99) / package.percentile(0.5):.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database", default="epa_bench_dtr", help="PostgreSQL database to create and drop")
    args = parser.parse_args()
    body = (ROOT / "examples" / "dtr" / "questionnaire-package.json").read_bytes()
    admin = os.environ.get("EPA_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    url = asyncio.run(create_database(admin, args.database))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    print(f"DTR $questionnaire-package, {args.requests} calls at concurrency {args.concurrency}, PostgreSQL")
    with process(
        ["-m", "bench.serve", str(port)], service_env(url, EPA_EMBEDDED_WORKER="false"), f"{base}/healthz"
    ) as proc:
        asyncio.run(measure(base, body, args.requests, args.concurrency, Meter(proc.pid, base, url)))


if __name__ == "__main__":
    main()
