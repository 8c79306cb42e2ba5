"""Fixtures of the lifecycle tests: the app with a sandbox and a respx-mocked fhir-pas payer, the
worker on a moved clock. Every test runs on SQLite and on PostgreSQL (via `database_url`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
from fastapi import FastAPI

from app.settings import Settings
from tests.lifecycle.support import PAYER, Driver, lifecycle_settings


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
