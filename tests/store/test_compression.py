"""Migration 0023 on PostgreSQL: the document columns compress with lz4, the partitions of the timeline
included (those that exist and those created later), stored documents read back unchanged, and the
downgrade gives the columns back to the server's default."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.maintenance.repository import partitions
from app.store import migrate
from app.store.database import create_engine, create_session_factory
from tests.support.databases import POSTGRES_ENV, fresh_database, postgres_admin_url

DOCUMENT = b'{"resourceType":"Bundle","entry":[' + b",".join(b'{"n":%d}' % n for n in range(3000)) + b"]}"
MIGRATED = {
    ("authorizations", "request_document"),
    ("authorizations", "request_form"),
    ("authorizations", "response_document"),
    ("attachments", "content"),
    ("appeal_documents", "content"),
    ("webhook_deliveries", "payload"),
    ("jobs", "payload"),
    ("events", "detail"),
}


async def _methods(engine: AsyncEngine) -> dict[tuple[str, str], str]:
    """Each column's own compression method (`l` lz4, `p` pglz, `` the server's default), partitions included."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT c.relname, a.attname, a.attcompression::text FROM pg_attribute a "
                "JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE c.relnamespace IN ('public'::regnamespace, 'epa_partitions'::regnamespace) "
                "AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped "
                "AND a.atttypid IN ('bytea'::regtype, 'json'::regtype, 'jsonb'::regtype, 'text'::regtype)"
            )
        )
        return {(table, column): method for table, column, method in rows}


async def _store(engine: AsyncEngine, at: datetime) -> uuid.UUID:
    authorization = uuid.uuid4()
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO authorizations (id, client_id, payer_id, bundle_identifier, claim_identifier, kind, "
                "priority, status, received_at, created_at, updated_at, version, request_hash, request_document, "
                "response_status) VALUES (:id, 'c', 'sandbox', :b, 'urn:c|1', 'prior', 'standard', "
                "'approved', :now, :now, :now, 1, :hash, :doc, 200)"
            ),
            {"id": authorization, "b": f"urn:b|{authorization}", "now": at, "hash": "0" * 64, "doc": DOCUMENT},
        )
        await connection.execute(
            text(
                "INSERT INTO events (authorization_id, client_id, type, at, detail) "
                "VALUES (:a, 'c', 'received', :at, CAST(:detail AS json))"
            ),
            {"a": authorization, "at": at, "detail": DOCUMENT.decode()},
        )
    return authorization


async def _stored(engine: AsyncEngine, authorization: uuid.UUID) -> tuple[bytes, str, str, str]:
    async with engine.connect() as connection:
        row = (
            await connection.execute(
                text(
                    "SELECT a.request_document, e.detail::text, pg_column_compression(a.request_document), "
                    "pg_column_compression(e.detail) FROM authorizations a JOIN events e "
                    "ON e.authorization_id = a.id WHERE a.id = :id"
                ),
                {"id": authorization},
            )
        ).one()
        return bytes(row[0]), row[1], row[2], row[3]


async def test_0023_compresses_documents_with_lz4_on_every_partition_and_its_downgrade(tmp_path: Path) -> None:
    if postgres_admin_url() is None:
        pytest.skip(f"needs {POSTGRES_ENV}")
    async with fresh_database("postgresql", tmp_path) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine, "0022")
            before = await _stored(engine, await _store(engine, datetime.now(UTC)))
            assert before[0] == DOCUMENT
            assert before[2] == "pglz"
            assert before[1] == DOCUMENT.decode()  # the json type keeps the text as sent

            await migrate.upgrade(engine)
            async with create_session_factory(engine).begin() as session:  # a month created after the upgrade
                await partitions.create_month(session, "events", date(2099, 7, 1))
            methods = await _methods(engine)
            events = {table for table, column in methods if column == "detail" and table.startswith("events_")}
            assert "events_2099_07" in events  # the month created after the upgrade
            assert len(events) > 2  # and those 0019 created
            lz4 = {(table, column) for (table, column), method in methods.items() if method == "l"}
            partitioned = {(table, "detail") for table in events}
            assert lz4 == MIGRATED | partitioned  # those columns, and no other
            assert await _stored(engine, await _store(engine, datetime.now(UTC))) == (*before[:2], "lz4", "lz4")
            later = await _stored(engine, await _store(engine, datetime(2099, 7, 4, tzinfo=UTC)))
            assert later[3] == "lz4"  # written into the partition created after the upgrade

            await migrate.downgrade(engine, "0022")
            assert "l" not in (await _methods(engine)).values()
            assert await _stored(engine, await _store(engine, datetime.now(UTC))) == (*before[:2], "pglz", "pglz")
        finally:
            await engine.dispose()
