"""The OpenAPI document states what is actually sent: schemathesis's examples and coverage phases over every
documented route, in-process with an admin token, on both backends; any answer whose status code, content
type or body the document does not declare for that route is a failure (and any 5xx). Bounded: at most
`CASES_PER_OPERATION` cases per route, derandomized."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.security.principal import ADMIN, ALL_SCOPES
from tests.support.auth import bearer, token_for
from tests.support.secure import secure_settings_for

CASES_PER_OPERATION = 40
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _cases(schema: Any, operation: Any) -> list[Any]:
    """The cases of the examples and coverage phases (generated synchronously, sent afterwards)."""
    cases: list[Any] = []

    def collect(case: Any) -> None:
        cases.append(case)

    config = HypothesisTestConfig(
        project=schema.config,
        modes=[HypothesisTestMode.EXAMPLES, HypothesisTestMode.COVERAGE],
        settings=hypothesis.settings(
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.explicit],
            suppress_health_check=list(HealthCheck),
        ),
    )
    create_test(operation=operation, test_func=collect, config=config)()
    return cases[:CASES_PER_OPERATION]


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


@pytest.fixture
async def documented_app(database_url: str, tmp_path: Path, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    settings = secure_settings_for(
        database_url, tmp_path, rate_limit_per_minute=0, token_rate_limit_per_address_per_minute=0
    )
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def test_no_documented_route_answers_what_the_openapi_document_does_not_declare(documented_app: FastAPI) -> None:
    schema = schemathesis.openapi.from_dict(documented_app.openapi())
    failures: set[str] = set()
    transport = httpx.ASGITransport(app=documented_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        token = await token_for(http, documented_app, "conformance", sorted(ALL_SCOPES | {ADMIN}), admin=True)
        results = list(schema.get_all_operations())
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        assert len(operations) == len(results), "some operations have an invalid schema"
        for operation in operations:
            for case in _cases(schema, operation):
                response = await _send(http, case, token)
                try:
                    case.validate_response(response, checks=CHECKS)
                except FailureGroup as group:
                    failures |= {
                        f"{operation.label}: {type(e).__name__} ({response.status_code})" for e in group.exceptions
                    }
    assert not failures, "\n".join(sorted(failures))
