"""Time the CMS-0057-F report (`app.reports.prior_auth`) over a million authorizations on PostgreSQL.

    .venv/bin/python -m bench.report [--generate] [--rows 1000000] [--database epa_bench_report] [--runs 3]

With --generate the database is (re)filled by bench.generate_authorizations first (about five
minutes for a million rows); without it an earlier fill is reused. Each report is run `--runs`
times (bounded: at most 10) and the best and median wall times are printed, with the figures'
grand total so a reader can see what was counted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from app.reports.prior_auth import PriorAuthReport, ReportQuery, prior_auth_report
from app.store.database import create_engine, create_session_factory
from app.store.models import Authorization
from bench.generate_authorizations import ADMIN_URL, NOW, generate


async def _timed(url: str, query: ReportQuery, runs: int) -> tuple[list[float], PriorAuthReport]:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    timings: list[float] = []
    try:
        for _ in range(runs):
            async with sessions() as session:
                started = time.perf_counter()
                report = await prior_auth_report(session, query)
                timings.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return timings, report


async def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            return int(await session.scalar(select(func.count()).select_from(Authorization)) or 0)
    finally:
        await engine.dispose()


async def bench(admin_url: str, database: str, rows: int, runs: int, fill: bool) -> None:
    url = await generate(admin_url, database, rows) if fill else make_url(admin_url).set(database=database)
    url = url if isinstance(url, str) else url.render_as_string(hide_password=False)
    total_rows = await _count(url)
    print(f"report benchmark on {total_rows:,} authorizations (PostgreSQL, database {database})")
    cases = {
        "two years, every payer": ReportQuery(start=NOW - timedelta(days=731), end=NOW + timedelta(seconds=1)),
        "one year, every payer": ReportQuery(start=NOW - timedelta(days=365), end=NOW),
        "one year, one payer": ReportQuery(start=NOW - timedelta(days=365), end=NOW, payer_id="acme"),
        "one quarter, one client": ReportQuery(start=NOW - timedelta(days=91), end=NOW, client_id="clinic-a"),
    }
    for name, query in cases.items():
        timings, report = await _timed(url, query, runs)
        total = report.total
        print(
            f"  {name:<26} best {min(timings):6.2f} s  median {statistics.median(timings):6.2f} s  "
            f"({total.requests:,} requests, {len(report.groups)} groups, median decision "
            f"{(total.median_decision_seconds or 0) / 3600:.1f} h, {total.late_decisions:,} late)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--database", default="epa_bench_report")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--generate", action="store_true", help="(re)fill the database first")
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    random.seed(args.seed)
    asyncio.run(bench(args.admin_url, args.database, args.rows, max(1, min(args.runs, 10)), args.generate))


if __name__ == "__main__":
    main()
