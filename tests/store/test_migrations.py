"""Alembic owns the schema: upgrade head matches the models, downgrade base removes it all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select
from sqlalchemy.engine import Connection

from app.store import migrate
from app.store.database import create_engine
from app.store.models import Authorization, AuthorizationIdentifier, Base
from tests.support.databases import BACKENDS, POSTGRES_ENV, fresh_database, postgres_admin_url


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


@pytest.mark.parametrize("backend", BACKENDS)
async def test_upgrade_matches_models_and_downgrade_empties(backend: str, tmp_path: Path) -> None:
    if backend == "postgresql" and postgres_admin_url() is None:
        pytest.skip(f"needs {POSTGRES_ENV}")
    async with fresh_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            assert await migrate.current_revision(engine) is None
            await migrate.upgrade(engine)
            assert await migrate.is_current(engine)
            async with engine.connect() as connection:
                assert await connection.run_sync(_differences) == []
                assert {"authorizations", "authorization_items", "events", "jobs"} <= await connection.run_sync(_tables)
            await migrate.downgrade(engine, "base")
            assert await migrate.current_revision(engine) is None
            async with engine.connect() as connection:
                assert await connection.run_sync(_tables) <= {"alembic_version"}
        finally:
            await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_0008_gives_existing_authorizations_their_member_id_as_a_searchable_identifier(
    backend: str, tmp_path: Path
) -> None:
    if backend == "postgresql" and postgres_admin_url() is None:
        pytest.skip(f"needs {POSTGRES_ENV}")
    now = datetime.now(UTC)
    row = {
        "client_id": "ehr-1",
        "payer_id": "sandbox",
        "bundle_identifier": "urn:b|B-1",
        "claim_identifier": "urn:c|C-1",
        "kind": "prior",
        "priority": "standard",
        "status": "approved",
        "received_at": now,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "request_hash": "0" * 64,
        "request_document": b"{}",
        "response_status": 200,
    }
    with_member, without = uuid.uuid4(), uuid.uuid4()
    async with fresh_database(backend, tmp_path) as url:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine, "0007")
            async with engine.begin() as connection:
                await connection.execute(
                    insert(Authorization),
                    [
                        {**row, "id": with_member, "patient_member_id": "M-OLD"},
                        {**row, "id": without, "bundle_identifier": "urn:b|B-2", "patient_member_id": None},
                    ],
                )
            await migrate.upgrade(engine)
            async with engine.connect() as connection:
                found = (await connection.execute(select(AuthorizationIdentifier))).all()
            assert [(r.authorization_id, r.client_id, r.role, r.system, r.value) for r in found] == [
                (with_member, "ehr-1", "member", None, "M-OLD")
            ]
        finally:
            await engine.dispose()
