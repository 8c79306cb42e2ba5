"""The OpenAPI document an integrator generates a client from: descriptions everywhere, FHIR errors as
OperationOutcomes, real request examples, problem+json elsewhere, the OAuth2 client-credentials scheme."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
OUTCOME = {"$ref": "#/components/schemas/OperationOutcome"}
PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, o) for p, ms in schema["paths"].items() for m, o in ms.items()]


async def _schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


async def test_every_operation_has_a_description(client: httpx.AsyncClient) -> None:
    missing = [(m, p) for m, p, o in _operations(await _schema(client)) if not o.get("description", "").strip()]
    assert missing == []


async def test_fhir_operations_show_real_examples_and_operation_outcome_errors(client: httpx.AsyncClient) -> None:
    paths = (await _schema(client))["paths"]
    for path, example in (
        ("/fhir/Claim/$submit", "pas/approve.json"),
        ("/fhir/Claim/$inquire", "pas/inquire.json"),
        ("/fhir/Claim/$validate", "pas/approve.json"),
        ("/fhir/Subscription", "fhir/subscription.json"),
    ):
        operation = paths[path]["post"]
        content = operation["requestBody"]["content"]["application/fhir+json"]
        values = [e["value"] for e in content["examples"].values()]
        assert orjson.loads((EXAMPLES / example).read_bytes()) in values, path
        for code in ("400", "409", "413", "415", "422"):
            assert operation["responses"][code]["content"] == {"application/fhir+json": {"schema": OUTCOME}}, (
                path,
                code,
            )
    assert "HTTPValidationError" not in orjson.dumps(paths).decode()


async def test_other_routes_document_problem_json_instead_of_fastapis_validation_shape(
    client: httpx.AsyncClient,
) -> None:
    schema = await _schema(client)
    listed = schema["paths"]["/authorizations"]["get"]["responses"]["422"]
    assert listed["content"] == {"application/problem+json": {"schema": PROBLEM}}
    response = await client.get("/authorizations", params={"limit": "many"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert {"title", "status", "issues"} <= set(response.json())


async def test_an_oauth2_client_credentials_scheme_points_at_the_token_route(client: httpx.AsyncClient) -> None:
    schema = await _schema(client)
    scheme = schema["components"]["securitySchemes"]["smartBackendServices"]
    assert scheme["type"] == "oauth2"
    assert scheme["flows"]["clientCredentials"]["tokenUrl"] == "/auth/token"
    assert "system/Claim.write" in scheme["flows"]["clientCredentials"]["scopes"]
    submit = schema["paths"]["/fhir/Claim/$submit"]["post"]
    assert {"smartBackendServices": []} in submit["security"]
