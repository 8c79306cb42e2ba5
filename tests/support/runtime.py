"""A runtime built outside the app, on a clock the test moves: for tests that call use cases and run the
worker themselves (the lifecycle's use cases, retention, the operator commands).

`development_settings` are the settings of the root conftest's `settings` fixture. The `runtime` fixture
builds on them rather than on `settings`, so a directory whose `settings` configure its app (the
lifecycle's payers file, in tests/authorizations) does not change the runtime its use-case tests get.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from app.runtime import Runtime, build_runtime
from app.settings import Settings
from tests.support.clock import MovableClock


def development_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Development mode on `database_url`, no embedded worker, nothing read from the environment file."""
    values: dict[str, Any] = {"development": True, "embedded_worker": False, **overrides}
    return Settings(database_url=database_url, data_dir=data_dir, _env_file=None, **values)


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
async def runtime(
    database_url: str, tmp_path: Path, engine: AsyncEngine, clock: MovableClock
) -> AsyncIterator[Runtime]:
    """The runtime of `development_settings` on `clock`; its tables are cleared after the test (via `engine`)."""
    async with build_runtime(development_settings(database_url, tmp_path), clock=clock) as built:
        yield built
