"""Fixtures for the use cases: a runtime whose clock the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from app.runtime import Runtime, build_runtime
from app.settings import Settings


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
