"""Fixtures of the information-request tests: the lifecycle's payers (sandbox, respx fhir-pas `acme`), the
worker on a moved clock, and webhooks allowed to reach a loopback receiver. Both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import respx
from fastapi import FastAPI

from app.settings import Settings
from tests.authorizations.support import Driver, lifecycle_settings


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return lifecycle_settings(database_url, tmp_path, webhook_allow_private_targets=True, webhook_timeout_seconds=2.0)


@pytest.fixture
def acme() -> Iterator[respx.MockRouter]:
    """The fhir-pas payer `acme`; tests add its routes. Only calls to it are mocked (the receiver is real)."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        router.route(host="127.0.0.1").pass_through()
        yield router


@pytest.fixture
def driver(app: FastAPI) -> Driver:
    return Driver(app)
