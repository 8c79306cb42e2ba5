"""Settings for delivery tests: loopback targets allowed, short timeouts, an accelerated retry schedule."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from app.runtime import Runtime
from app.settings import Settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        development=True,
        data_dir=tmp_path,
        embedded_worker=False,
        webhook_allow_private_targets=True,
        webhook_timeout_seconds=2.0,
        webhook_retry_schedule=[0.05, 0.05, 0.1, 0.1, 0.2, 0.2, 0.2, 0.2],
        _env_file=None,
    )


@pytest.fixture
def runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime
