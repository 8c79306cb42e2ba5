"""Fixtures of the lifecycle tests. Every test runs on SQLite and on PostgreSQL (via `database_url`).

End to end through the app: `settings` give it a sandbox and a respx-mocked fhir-pas payer (`acme`),
`driver` runs its worker on a moved clock. Through the use cases (no HTTP): `runtime` and
`fhir_pas_runtime` are built on the development settings, not on `settings`, with a `clock` the test
moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import respx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from app.payers import PayerRegistry, build_registry
from app.runtime import Runtime, build_runtime
from app.settings import Settings
from tests.authorizations.support import PAYER, Driver, lifecycle_settings
from tests.support import use_cases
from tests.support.clock import MovableClock
from tests.support.runtime import clock, development_settings, runtime

__all__ = ["acme", "clock", "driver", "fhir_pas_runtime", "runtime", "settings", "sync_budget"]


@pytest.fixture
def sync_budget() -> float:
    """payer_sync_budget_seconds of the app; a module overrides this fixture to make payers "slow"."""
    return 10.0


@pytest.fixture
def settings(database_url: str, tmp_path: Path, sync_budget: float) -> Settings:
    return lifecycle_settings(database_url, tmp_path, payer_sync_budget_seconds=sync_budget)


@pytest.fixture
def acme() -> Iterator[respx.MockRouter]:
    """The fhir-pas payer `acme`; tests add its routes. Only calls to it are mocked."""
    with respx.mock(base_url=PAYER, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def driver(app: FastAPI) -> Driver:
    return Driver(app)


@pytest.fixture
async def fhir_pas_runtime(
    database_url: str, tmp_path: Path, engine: AsyncEngine, clock: MovableClock
) -> AsyncIterator[Runtime]:
    """A runtime (as `runtime`) whose one payer is `acme`, the fhir-pas payer at `use_cases.PAYER`, which the
    test mocks."""
    config = {
        "payer": [{"id": "acme", "adapter": "fhir-pas", "default": True, "settings": {"base_url": use_cases.PAYER}}]
    }
    async with httpx.AsyncClient() as http:
        registry: PayerRegistry = build_registry(config, http, clock=clock)
        async with build_runtime(development_settings(database_url, tmp_path), payers=registry, clock=clock) as built:
            yield built
