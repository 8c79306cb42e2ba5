"""Fixtures for the use cases: a runtime whose clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.payers import PayerRegistry, build_registry
from app.runtime import Runtime, build_runtime
from app.settings import Settings

PAYER = "https://payer.example/fhir"


class MovableClock:
    def __init__(self) -> None:
        self.now = datetime(2030, 5, 2, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def runtime(settings: Settings, engine: Any, clock: MovableClock) -> AsyncIterator[Runtime]:
    async with build_runtime(settings, clock=clock) as built:
        yield built


@pytest.fixture
async def fhir_pas_runtime(settings: Settings, engine: Any, clock: MovableClock) -> AsyncIterator[Runtime]:
    config = {"payer": [{"id": "acme", "adapter": "fhir-pas", "default": True, "settings": {"base_url": PAYER}}]}
    async with httpx.AsyncClient() as http:
        registry: PayerRegistry = build_registry(config, http, clock=clock)
        async with build_runtime(settings, payers=registry, clock=clock) as built:
            yield built
