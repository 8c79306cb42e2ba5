"""Alembic owns the schema: upgrade head matches the models, downgrade base removes it all."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from app.store import migrate
from app.store.database import create_engine
from app.store.models import Base
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
