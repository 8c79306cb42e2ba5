"""Schemathesis against the app's own OpenAPI schema, in-process, with a valid admin token.

Every operation gets a few generated requests (derandomized, bounded), on SQLite and on
PostgreSQL; the test fails on any 5xx, on any response that breaks the documented schema, and
on any log line (debug level) that repeats a value the request sent. Run alone with:

    .venv/bin/pytest -q tests/security/test_schemathesis.py
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.security.principal import ADMIN, ALL_SCOPES
from tests.support.auth import bearer, token_for
from tests.support.logs import captured_logs
from tests.support.secure import secure_settings_for

EXAMPLES_PER_OPERATION = 10


def _cases(operation: Any) -> list[Any]:
    """Generate the cases first (Hypothesis runs synchronously), send them afterwards (asynchronously)."""
    cases: list[Any] = []

    @given(operation.as_strategy())
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def gather(case: Any) -> None:
        cases.append(case)

    gather()
    return cases


async def _send(http: httpx.AsyncClient, case: Any, token: str) -> httpx.Response:
    kwargs = case.as_transport_kwargs(base_url=str(http.base_url))
    body = kwargs.get("data")
    return await http.request(
        kwargs["method"],
        kwargs["url"],
        headers={**dict(kwargs.get("headers") or {}), **bearer(token)},
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=body if isinstance(body, dict) else None,
        content=body if isinstance(body, bytes | str) else None,
    )


def _sent_strings(value: Any) -> Iterator[str]:
    """Every string a case sends in its query or body (the values a leak would show)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _sent_strings(key)
            yield from _sent_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _sent_strings(item)


def _echoed(case: Any, known: str, texts: list[str]) -> list[str]:
    """Strings the case sent (8+ characters, not words of the schema itself) that appear in a log line."""
    sent = {v for v in _sent_strings([case.query, case.body]) if len(v.strip()) >= 8 and v not in known}
    return [v for v in sent if any(v in text for text in texts)]


@pytest.fixture
async def fuzzed_app(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    settings = secure_settings_for(
        database_url, tmp_path, rate_limit_per_minute=0, token_rate_limit_per_address_per_minute=0
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_no_operation_answers_5xx_or_breaks_its_schema_or_logs_what_it_was_sent(fuzzed_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_dict(fuzzed_app.openapi())
    known = orjson.dumps(fuzzed_app.openapi()).decode()
    failures: list[str] = []
    echoed: list[str] = []
    transport = httpx.ASGITransport(app=fuzzed_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        token = await token_for(http, fuzzed_app, "fuzzer", sorted(ALL_SCOPES | {ADMIN}), admin=True)
        results = list(schema.get_all_operations())
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        assert operations
        assert len(operations) == len(results), "some operations have an invalid schema"
        labels = " ".join(operation.label for operation in operations)
        for added in ("$submit-attachment", "/appeal", "/usage", "/fhir/ChargeItem", "/carried-over", "/attachments"):
            assert added in labels, f"the fuzzed schema misses {added}"
        with captured_logs() as logs:
            for operation in operations:
                for case in _cases(operation):
                    seen = len(logs.texts)
                    response = await _send(http, case, token)
                    try:
                        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])
                    except AssertionError as exc:
                        failures.append(f"{operation.label}: {str(exc).splitlines()[0]} ({response.status_code})")
                    echoed += [f"{operation.label}: {v[:60]!r}" for v in _echoed(case, known, logs.texts[seen:])]
    assert failures == []
    assert echoed == [], "request values appear in log lines"
