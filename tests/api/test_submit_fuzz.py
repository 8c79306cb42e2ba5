"""Property: whatever a client sends to $submit or $inquire, the answer is never a 5xx, on both backends,
and the PHI the mutated Bundles carry never reaches a log line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from tests.support.fuzz import mutated_bundles
from tests.support.logs import CapturedLogs, captured_logs, marked_bundle, phi_in

HEADERS = {"content-type": "application/fhir+json"}
MARKED = marked_bundle()


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    with captured_logs() as handler:
        yield handler


@pytest.fixture
def http(settings: Settings, engine: AsyncEngine, logs: CapturedLogs) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


def _fresh(bundle: dict[str, Any]) -> dict[str, Any]:
    if isinstance(bundle.get("identifier"), dict):
        bundle["identifier"]["value"] = uuid.uuid4().hex  # most mutants are new requests, not replays
    return bundle


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(bundle=mutated_bundles(MARKED), path=st.sampled_from(["/fhir/Claim/$submit", "/fhir/Claim/$inquire"]))
def test_mutated_bundles_never_get_a_server_error(
    http: TestClient, logs: CapturedLogs, bundle: dict[str, Any], path: str
) -> None:
    response = http.post(path, content=orjson.dumps(_fresh(bundle)), headers=HEADERS)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.json()["resourceType"] == "OperationOutcome"
    assert phi_in(logs.texts) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=512))
def test_arbitrary_bytes_never_get_a_server_error(http: TestClient, body: bytes) -> None:
    response = http.post("/fhir/Claim/$submit", content=body, headers=HEADERS)
    assert 400 <= response.status_code < 500
    assert response.json()["resourceType"] == "OperationOutcome"
