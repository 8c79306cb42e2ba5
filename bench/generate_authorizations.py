"""Fill a PostgreSQL database with authorizations for the operations benchmark (COPY through asyncpg).

    .venv/bin/python -m bench.generate_authorizations [--rows 1000000] [--database epa_bench]

Re-runnable: the database is dropped, created and migrated (app.store.migrate.upgrade) each
time. Secondary indexes are dropped during the load and rebuilt after it (much faster than
maintaining them row by row), then the tables are analyzed. Half the rows belong to the
`development` client that the benchmark's service acts as; the rest to two other clients.
Request documents are a small placeholder (the operations API never reads them).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from app.maintenance.partitions import ensure_months
from app.store import migrate
from app.store.database import create_engine, create_session_factory

ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
CHUNK = 100_000
NOW = datetime.now(UTC).replace(microsecond=0)

CLIENTS = (("development", 50), ("clinic-a", 30), ("clinic-b", 20))
PAYERS = (("sandbox", 40), ("acme", 30), ("bluecross", 20), ("umbrella", 10))
KINDS = (("prior", 80), ("concurrent", 8), ("retrospective", 5), ("referral", 4), ("specialty", 3))
PRIORITIES = (("standard", 85), ("expedited", 15))
STATUSES = (
    ("approved", 52),
    ("denied", 10),
    ("pended", 8),
    ("expired", 7),
    ("not-required", 6),
    ("partially-approved", 5),
    ("cancelled", 4),
    ("modified", 3),
    ("received", 1),
    ("error", 1),
)
DECISION: dict[str, str | None] = {
    "approved": "A1",
    "denied": "A3",
    "pended": "A4",
    "expired": "A1",
    "not-required": "NA",
}
DECISION |= {"partially-approved": "A2", "cancelled": "C", "modified": "A6", "received": None, "error": None}
OPEN = {"pended", "received"}
AUTHORIZATION_COLUMNS = [
    "id",
    "client_id",
    "payer_id",
    "bundle_identifier",
    "claim_identifier",
    "patient_member_id",
    "provider_identifier",
    "kind",
    "priority",
    "status",
    "preauth_ref",
    "replaced_by_id",
    "received_at",
    "due_at",
    "decided_at",
    "expires_at",
    "created_at",
    "updated_at",
    "version",
    "request_hash",
    "request_document",
    "response_status",
]
ITEM_COLUMNS = ["authorization_id", "sequence", "product_system", "product_code", "quantity", "cancelled"]
ITEM_COLUMNS += ["decision_code", "authorization_number", "authorized_start", "authorized_end"]
EVENT_COLUMNS = ["authorization_id", "client_id", "type", "at", "from_status", "to_status", "detail"]


def _choices(spread: tuple[tuple[str, int], ...], k: int) -> list[str]:
    return random.choices([v for v, _ in spread], weights=[w for _, w in spread], k=k)


Rows = list[tuple[Any, ...]]


def _chunk(start: int, size: int, days: int) -> tuple[Rows, Rows, Rows]:
    authorizations: Rows = []
    items: Rows = []
    events: Rows = []
    columns = zip(
        _choices(CLIENTS, size),
        _choices(PAYERS, size),
        _choices(KINDS, size),
        _choices(PRIORITIES, size),
        _choices(STATUSES, size),
        strict=True,
    )
    for n, (client, payer, kind, priority, status) in enumerate(columns, start):
        ident = uuid.uuid4()
        received = NOW - timedelta(seconds=random.randint(0, days * 86400))
        due = received + (timedelta(hours=72) if priority == "expedited" else timedelta(days=7))
        decided = None if status in OPEN else received + timedelta(seconds=random.randint(1, 5 * 86400))
        approved = status in ("approved", "partially-approved", "modified", "expired")
        expires = (decided or received) + timedelta(days=90) if approved else None
        if status == "expired":
            expires = min(expires or NOW, NOW - timedelta(days=1))
        updated = min(NOW, decided or received + timedelta(seconds=random.randint(0, 3600)))
        replaced = uuid.uuid4() if random.random() < 0.03 else None
        number = f"AUTH-{n}" if approved else None
        authorizations.append(
            (ident, client, payer, f"urn:bench|B{n}", f"urn:bench|C{n}", f"M{random.randint(1, 200_000)}",
             f"http://hl7.org/fhir/sid/us-npi|{1_000_000_000 + random.randint(1, 2_000)}", kind, priority, status,
             number, replaced, received, due, decided, expires, received, updated, 2 if decided else 1,
             "0" * 64, b"{}", 200)
        )  # fmt: skip
        for sequence in range(1, random.choice((1, 1, 1, 2, 2, 3)) + 1):
            end = expires.date() if expires else None
            items.append(
                (ident, sequence, "http://www.ama-assn.org/go/cpt", random.choice(("99212", "97110", "E0470")),
                 1, status == "cancelled", DECISION[status], number, received.date() if end else None, end)
            )  # fmt: skip
        events.append((ident, client, "received", received, None, "received", f'{{"kind": "{kind}"}}'))
        if status != "received":
            to = "pended" if status == "pended" else status
            events.append((ident, client, "payer-answered", decided or received, "received", to, None))
        if status in OPEN and due < NOW:
            events.append((ident, client, "overdue", due, None, None, None))
    return authorizations, items, events


def _chunks(rows: int, days: int) -> Iterator[tuple[Rows, Rows, Rows]]:
    for start in range(0, rows, CHUNK):
        yield _chunk(start, min(CHUNK, rows - start), days)


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _recreate(admin_url: str, database: str) -> str:
    connection = await asyncpg.connect(_dsn(admin_url))
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    url = make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    return url


async def _partitions(url: str, since: datetime) -> None:
    """The monthly partitions of the years filled (migration 0019 made the current month and three ahead)."""
    engine = create_engine(url)
    try:
        async with create_session_factory(engine).begin() as session:
            await ensure_months(session, now=NOW, since=since)
    finally:
        await engine.dispose()


async def generate(admin_url: str, database: str, rows: int, years: int = 2) -> str:
    started = time.perf_counter()
    url = await _recreate(admin_url, database)
    await _partitions(url, NOW - timedelta(days=365 * years))
    connection = await asyncpg.connect(_dsn(url))
    try:
        tables = ("authorizations", "authorization_items", "events")
        indexes = await connection.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY($1::text[]) "
            "AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'",
            list(tables),
        )
        for index in indexes:
            await connection.execute(f'DROP INDEX "{index["indexname"]}"')
        for authorizations, items, events in _chunks(rows, 365 * years):
            await connection.copy_records_to_table(
                "authorizations", records=authorizations, columns=AUTHORIZATION_COLUMNS
            )
            await connection.copy_records_to_table("authorization_items", records=items, columns=ITEM_COLUMNS)
            await connection.copy_records_to_table("events", records=events, columns=EVENT_COLUMNS)
            print(
                f"  {len(authorizations):,} authorizations copied ({time.perf_counter() - started:.0f} s)", flush=True
            )
        await connection.execute("SET maintenance_work_mem = '256MB'")
        for index in indexes:  # a partitioned table's index is built on every partition, not ON ONLY the parent
            await connection.execute(index["indexdef"].replace(" ON ONLY ", " ON "))
        for table in tables:
            await connection.execute(f"ANALYZE {table}")
        counts = [await connection.fetchval(f"SELECT count(*) FROM {table}") for table in tables]  # noqa: S608
    finally:
        await connection.close()
    print(
        f"generated {counts[0]:,} authorizations, {counts[1]:,} items, {counts[2]:,} events "
        f"in {time.perf_counter() - started:.0f} s ({len(indexes)} indexes rebuilt)"
    )
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--database", default="epa_bench")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=2, help="received over the last N years")
    parser.add_argument("--seed", type=int, default=20261127)
    args = parser.parse_args()
    random.seed(args.seed)
    asyncio.run(generate(args.admin_url, args.database, args.rows, args.years))


if __name__ == "__main__":
    main()
