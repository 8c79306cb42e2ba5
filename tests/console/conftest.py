"""A console app outside development mode: login needed, an admin client and an EHR client."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import Settings

SIGNING_KEY = "console-test-signing-key-0123456789abcdef"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        development=False,
        token_signing_key=SIGNING_KEY,
        data_dir=tmp_path,
        embedded_worker=False,
        rate_limit_per_minute=0,
        _env_file=None,
    )
