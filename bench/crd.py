"""Benchmark of the CRD `order-sign` CDS Hooks service (run: `.venv/bin/python -m bench.crd`).

(a) `POST /cds-services/crd-order-sign` with the shipped example (examples/cds-hooks/order-sign.json,
    each call its own hookInstance), prefetch included, the shipped coverage rules; (b) in the same
    run, a route of the same service that only parses the same JSON body (the HTTP and JSON floor);
    (c) the ratio a/b; with `--signed`, (d) the calls of (a) each signed by a registered EHR (a CDS
    client JWT, `--alg` ES384 or RS384, its own jti), as every call outside development mode is.
    Server CPU per request (the service process, and its PostgreSQL backends), SQL statements and
    commits per request beside req/s and p50/p99, on SQLite (a temporary file) and on PostgreSQL in
    one run (`--backend` picks one). The service runs as one uvicorn process (`bench.serve`) per
    backend; this script is the load generator (loopback only).
PostgreSQL: EPA_BENCH_POSTGRES_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/postgres),
where `--database` is created and dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.security.principal import CLAIM_WRITE
from app.security.registry import add_client
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


EHR = "bench-ehr"


class SignedCalls:
    """The EHR's key, registered in the service's database, and one signed JWT per call (signed ahead of the load)."""

    def __init__(self, alg: str) -> None:
        self.alg = alg
        self.key = (
            ec.generate_private_key(ec.SECP384R1())
            if alg == "ES384"
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        self.tokens: list[str] = []

    async def register(self, url: str) -> None:
        public = json.loads(jwt.get_algorithm_by_name(self.alg).to_jwk(self.key.public_key()))
        jwks = {"keys": [{**public, "kid": "bench-key", "alg": self.alg, "use": "sig"}]}
        engine = create_engine(url)
        async with async_sessionmaker(engine)() as session:
            await add_client(session, EHR, scopes=[CLAIM_WRITE], jwks=jwks)
            await session.commit()
        await engine.dispose()

    def sign(self, audience: str, count: int) -> None:
        now = int(time.time())
        claims = {"iss": EHR, "aud": audience, "exp": now + 280, "iat": now}  # at most five minutes ahead
        self.tokens = [
            jwt.encode({**claims, "jti": uuid.uuid4().hex}, self.key, algorithm=self.alg, headers={"kid": "bench-key"})
            for _ in range(count)
        ]

    def headers(self, i: int) -> dict[str, str]:
        return {"authorization": f"Bearer {self.tokens[i]}"}


async def measure(
    base: str, template: dict[str, object], total: int, concurrency: int, meter: Meter, signed: SignedCalls | None
) -> None:
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
    if signed is None:
        return
    signed.sign(f"{base}{path}", total)
    ehr, e_cost = await metered(
        meter,
        run_load(f"(d) order-sign, {signed.alg}-signed", base, path, body, total=total, concurrency=concurrency,
                 headers=HEADERS, headers_for=signed.headers),
    )  # fmt: skip
    print(ehr.line())
    print(e_cost.line())
    extra = e_cost.total_cpu_ms - c_cost.total_cpu_ms
    print(
        f"(d) a signed call: {e_cost.total_cpu_ms:.2f} ms server CPU, {extra:+.2f} ms for checking its JWT "
        "(registration read, signature, jti recorded once)"
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
    parser.add_argument("--signed", action="store_true", help="also (d): each call signed by a registered EHR")
    parser.add_argument("--alg", choices=["ES384", "RS384"], default="ES384", help="the EHR's signing algorithm")
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
            signed = SignedCalls(args.alg) if args.signed else None
            if signed is not None:
                asyncio.run(signed.register(url))
            print(f"--- {name}")
            # the JWTs' aud; the per-client rate limit still runs, high enough for the load (the EHR is one client)
            env = service_env(
                url, EPA_EMBEDDED_WORKER="false", EPA_PUBLIC_BASE_URL=base, EPA_RATE_LIMIT_PER_MINUTE="10000000"
            )
            with process(["-m", "bench.serve", str(port)], env, f"{base}/healthz") as proc:
                meter = Meter(proc.pid, base, url)
                asyncio.run(measure(base, template, args.requests, args.concurrency, meter, signed))


if __name__ == "__main__":
    main()
