"""Migration 0019 on a filled PostgreSQL database: every row of the partitioned tables survives the upgrade
and the downgrade, old and future rows included, and ids carry on from the same sequences."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.store import migrate
from app.store.database import create_engine
from tests.support.databases import POSTGRES_ENV, fresh_database, postgres_admin_url

TABLES = ("events", "audit_records", "coverage_assertions", "subscription_notifications")
# ten years back at most get a month (older rows go to the default partition), and three months ahead
MOMENTS = [datetime(2012, 1, 1, tzinfo=UTC), datetime(2019, 3, 1, tzinfo=UTC)]
MOMENTS += [datetime.now(UTC).replace(microsecond=0), datetime(2099, 7, 4, tzinfo=UTC)]


async def _fill(engine: AsyncEngine) -> None:
    authorization, subscription = uuid.uuid4(), uuid.uuid4()
    async with engine.begin() as connection:
        run = connection.execute
        now = MOMENTS[2]
        await run(
            text(
                "INSERT INTO authorizations (id, client_id, payer_id, bundle_identifier, claim_identifier, kind, "
                "priority, status, received_at, created_at, updated_at, version, request_hash, request_document, "
                "response_status) VALUES (:id, 'c', 'sandbox', 'urn:b|1', 'urn:c|1', 'prior', 'standard', "
                "'approved', :now, :now, :now, 1, :hash, '\\x7b7d', 200)"
            ),
            {"id": authorization, "now": now, "hash": "0" * 64},
        )
        await run(
            text(
                "INSERT INTO fhir_subscriptions (id, client_id, status, topic, endpoint, content, content_type, "
                "headers, events_since_start, resource, version, created_at, updated_at) VALUES (:id, 'c', "
                "'active', 't', 'https://e.example', 'full-resource', 'application/fhir+json', '[]', 0, '{}', 1, "
                ":now, :now)"
            ),
            {"id": subscription, "now": now},
        )
        for n, at in enumerate(MOMENTS):
            await run(
                text(
                    "INSERT INTO events (authorization_id, client_id, type, at, detail) "
                    "VALUES (:a, 'c', 'received', :at, '{\"n\": 1}')"
                ),
                {"a": authorization, "at": at},
            )
            await run(
                text(
                    "INSERT INTO audit_records (at, client_id, operation, resource_ids, outcome) "
                    "VALUES (:at, 'c', 'claim.submit', '[]', 200)"
                ),
                {"at": at},
            )
            await run(
                text(
                    "INSERT INTO coverage_assertions (id, client_id, payer_id, hook, product_code, covered, "
                    "created_at) VALUES (:id, 'c', 'sandbox', 'order-sign', '97110', 'covered', :at)"
                ),
                {"id": f"ca-{n}", "at": at},
            )
            await run(
                text(
                    "INSERT INTO subscription_notifications (subscription_id, client_id, kind, state, attempts, "
                    "occurred_at, created_at) VALUES (:s, 'c', 'heartbeat', 'delivered', 1, :at, :at)"
                ),
                {"s": subscription, "at": at},
            )


async def _contents(engine: AsyncEngine) -> dict[str, list[Any]]:
    async with engine.connect() as connection:
        return {
            table: [tuple(row) for row in (await connection.execute(text(f"SELECT * FROM {table} ORDER BY id")))]  # noqa: S608
            for table in TABLES
        }


async def _kinds(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as connection:
        found = await connection.execute(
            text(
                "SELECT relkind::text FROM pg_class WHERE relname = ANY(:t) AND relnamespace = 'public'::regnamespace"
            ),
            {"t": list(TABLES)},
        )
        return {str(kind) for (kind,) in found}


async def test_0019_partitions_a_filled_database_keeping_every_row_and_its_downgrade_too(tmp_path: Path) -> None:
    if postgres_admin_url() is None:
        pytest.skip(f"needs {POSTGRES_ENV}")
    async with fresh_database("postgresql", tmp_path) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine, "0018")
            await _fill(engine)
            before = await _contents(engine)
            assert all(len(rows) == len(MOMENTS) for rows in before.values())
            await migrate.upgrade(engine)
            assert await _kinds(engine) == {"p"}
            assert await _contents(engine) == before
            async with engine.connect() as connection:
                where = await connection.scalars(text("SELECT tableoid::regclass::text FROM events ORDER BY at"))
                assert where.all() == [
                    "epa_partitions.events_default",
                    "epa_partitions.events_2019_03",
                    f"epa_partitions.events_{MOMENTS[2]:%Y_%m}",
                    "epa_partitions.events_default",
                ]
            await migrate.downgrade(engine, "0018")
            assert await _kinds(engine) == {"r"}
            assert await _contents(engine) == before
            async with engine.begin() as connection:  # the sequence still hands out the next id
                new = await connection.scalar(
                    text(
                        "INSERT INTO audit_records (at, client_id, operation, resource_ids, outcome) "
                        "VALUES (now(), 'c', 'x', '[]', 200) RETURNING id"
                    )
                )
            assert new == max(row[0] for row in before["audit_records"]) + 1
        finally:
            await engine.dispose()
