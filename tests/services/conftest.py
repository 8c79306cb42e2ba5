"""Fixtures for the use cases: a runtime whose clock the test moves, and one whose payer is fhir-pas."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.payers import PayerRegistry, build_registry
from app.runtime import Runtime, build_runtime
from tests.support.clock import MovableClock
from tests.support.runtime import clock, development_settings, runtime
from tests.support.use_cases import PAYER

__all__ = ["MovableClock", "clock", "fhir_pas_runtime", "runtime"]


@pytest.fixture
async def fhir_pas_runtime(
    database_url: str, tmp_path: Path, engine: AsyncEngine, clock: MovableClock
) -> AsyncIterator[Runtime]:
    """A runtime (as `runtime`) whose one payer is `acme`, the fhir-pas payer at `PAYER` (mocked by the test)."""
    config = {"payer": [{"id": "acme", "adapter": "fhir-pas", "default": True, "settings": {"base_url": PAYER}}]}
    async with httpx.AsyncClient() as http:
        registry: PayerRegistry = build_registry(config, http, clock=clock)
        async with build_runtime(development_settings(database_url, tmp_path), payers=registry, clock=clock) as built:
            yield built
