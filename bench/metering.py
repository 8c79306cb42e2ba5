"""Server-side cost of a benchmark scenario: CPU of the service process and of its PostgreSQL backends,
SQL statements and commits (counted inside the service by `bench.serve`), per request.

CPU time is read from /proc (utime + stime of the process, and of every PostgreSQL backend connected
to the benchmark database), so it does not depend on how busy the rest of the machine is. A backend
that both opens and closes between two samples (a pool's overflow connection) is not seen: the line
then says how many connections were opened and closed meanwhile, so an undercount shows (the service's
`EPA_DATABASE_POOL_SIZE` keeps them open).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import asyncpg
import httpx
from sqlalchemy.engine import make_url

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


@dataclass(frozen=True)
class Sample:
    server_cpu: float
    database_cpu: dict[int, float]
    statements: int
    commits: int
    transactions: int  # PostgreSQL xact_commit + xact_rollback of the database (0 on SQLite)
    sessions: int = 0  # PostgreSQL sessions ever established to the database (the sampler's own included)


@dataclass(frozen=True)
class Cost:
    requests: int
    server_cpu_ms: float
    database_cpu_ms: float
    statements: float
    commits: float
    transactions: float
    connections_opened: int = 0  # opened and closed again between the samples: their CPU is not counted

    def line(self) -> str:
        database = f" + {self.database_cpu_ms:5.2f} ms PostgreSQL" if self.database_cpu_ms else ""
        pg = f", {self.transactions:4.1f} PG transactions" if self.transactions else ""
        churn = (
            f"\n    {self.connections_opened} database connections opened and closed meanwhile: their PostgreSQL"
            " CPU is not counted"
            if self.connections_opened
            else ""
        )
        return (
            f"    server CPU {self.server_cpu_ms:5.2f} ms{database} per request; "
            f"{self.statements:4.1f} SQL statements, {self.commits:3.1f} commits per request{pg}{churn}"
        )

    @property
    def total_cpu_ms(self) -> float:
        return self.server_cpu_ms + self.database_cpu_ms


class Meter:
    """Samples the service (`pid`, whose `/bench/counters` route counts SQL) and its database."""

    def __init__(self, pid: int, base_url: str, database_url: str) -> None:
        self.pid, self.base_url = pid, base_url
        url = make_url(database_url)
        self.postgres = url.get_backend_name() == "postgresql"
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.database = url.database

    async def sample(self) -> Sample:
        async with httpx.AsyncClient(base_url=self.base_url) as client:
            counters = (await client.get("/bench/counters")).json()
        backends: dict[int, float] = {}
        transactions = sessions = 0
        if self.postgres:
            connection = await asyncpg.connect(self.dsn)
            try:
                pids = await connection.fetch(
                    "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", self.database
                )
                backends = {row["pid"]: cpu_seconds(row["pid"]) for row in pids}
                totals = await connection.fetchrow(
                    "SELECT xact_commit + xact_rollback AS transactions, sessions FROM pg_stat_database"
                    " WHERE datname = $1",
                    self.database,
                )
                transactions, sessions = int(totals["transactions"]), int(totals["sessions"])
            finally:
                await connection.close()
        return Sample(
            cpu_seconds(self.pid), backends, counters["statements"], counters["commits"], transactions, sessions
        )

    @staticmethod
    def cost(before: Sample, after: Sample, requests: int) -> Cost:
        database = sum(cpu - before.database_cpu.get(pid, 0.0) for pid, cpu in after.database_cpu.items())
        # the sampling itself: one counters request, one PostgreSQL connection with two queries
        n = max(requests, 1)
        return Cost(
            requests,
            (after.server_cpu - before.server_cpu) * 1000 / n,
            database * 1000 / n,
            (after.statements - before.statements) / n,
            (after.commits - before.commits) / n,
            max(after.transactions - before.transactions - 2, 0) / n,
            # opened meanwhile (less the sampler's own for `after`) and not among the backends seen at the end
            max(after.sessions - before.sessions - 1 - len(after.database_cpu.keys() - before.database_cpu.keys()), 0),
        )
