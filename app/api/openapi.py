"""The OpenAPI document an integrator builds from: FastAPI's, completed once when first asked for.

- every operation has a description (its docstring, else its summary);
- FHIR routes (`/fhir/...`) list the errors they answer (400, 401, 403, 404, 409, 412, 413, 415,
  422) as `application/fhir+json` OperationOutcomes, instead of FastAPI's validation-error shape;
- the FHIR operations and the CDS Hooks call show real request examples from `examples/`;
- the CDS Hooks call (`POST /cds-services/{id}`) lists its errors (400 non-JSON body or bad
  context, 401, 403, 404 unknown service, 413, 422) as OperationOutcomes in `application/json`;
- the other routes document their errors as `application/problem+json` (what the one error
  handler, app.api.errors, answers), including the 400/409 a few of them answer (`_EXTRA_ERRORS`);
- an OAuth2 client-credentials scheme at `/auth/token` (SMART Backend Services; the assertion
  itself is described in docs/security.md) next to the bearer scheme.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import orjson
from fastapi import FastAPI

from app.security.principal import ALL_SCOPES

FHIR_JSON: Final = "application/fhir+json"
PROBLEM_JSON: Final = "application/problem+json"
EXAMPLES_DIR: Final = Path(__file__).resolve().parents[2] / "examples"
SCHEME: Final = "smartBackendServices"

_OUTCOME_REF: Final = {"$ref": "#/components/schemas/OperationOutcome"}
_PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}
_SCHEMAS: Final[dict[str, Any]] = {
    "OperationOutcome": {
        "type": "object",
        "description": "FHIR R4 OperationOutcome: every issue has a severity, a code and (for input) a FHIRPath "
        "expression.",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"type": "string", "enum": ["OperationOutcome"]},
            "issue": {"type": "array", "items": {"type": "object"}},
        },
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details, with the individual issues.",
        "required": ["title", "status"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "issues": {"type": "array", "items": {"type": "object"}},
        },
    },
}
_ERRORS: Final = {
    "400": "Invalid input (every issue listed, each with its FHIRPath expression)",
    "401": "No valid access token",
    "403": "The token lacks the scope this route needs",
    "404": "Unknown, malformed or another client's id",
    "409": "Conflict (e.g. a Bundle.identifier reused for a different request)",
    "412": "If-Match names a version that is no longer current",
    "413": "The body is larger than EPA_MAX_BODY_BYTES",
    "415": "The body is not application/fhir+json",
    "422": "Valid FHIR the service cannot act on (no payer matches, a business rule refuses it)",
}
_CDS_ERRORS: Final = ("400", "401", "403", "404", "413", "422")
# Non-FHIR routes that answer more than 401/403/404/422: (method, path) -> {code: why}
_EXTRA_ERRORS: Final = {
    ("get", "/authorizations"): {"400": "A malformed page cursor or filter"},
    ("get", "/jobs"): {"400": "A malformed page cursor or filter"},
    ("get", "/reports/prior-auth"): {"400": "A malformed period or filter"},
    ("post", "/jobs/{job_id}/retry"): {"409": "The job is not in a state that can be retried"},
    ("post", "/webhooks"): {"400": "The webhook URL is not acceptable (scheme, host or address)"},
    ("patch", "/webhooks/{endpoint_id}"): {"400": "The webhook URL is not acceptable (scheme, host or address)"},
}
_FHIR_READ_ERRORS: Final = ("400", "401", "403", "404")
_FHIR_WRITE_ERRORS: Final = ("400", "401", "403", "409", "413", "415", "422")
# (method, path) -> [(name, summary, file under examples/)]
_EXAMPLES: Final = {
    ("post", "/fhir/Claim/$submit"): [
        ("approve", "Approved (A1)", "pas/approve.json"),
        ("deny", "Denied (A3, with a reason)", "pas/deny.json"),
        ("pend", "Pended (A4)", "pas/pend.json"),
        ("update", "PASClaimUpdate of the approved request", "pas/update.json"),
        ("cancel", "Cancel of the whole request", "pas/cancel.json"),
    ],
    ("post", "/fhir/Claim/$inquire"): [("any-service", "Any service of a member", "pas/inquire.json")],
    ("post", "/fhir/Claim/$validate"): [("approve", "A request checked before sending", "pas/approve.json")],
    ("post", "/fhir/Subscription"): [("rest-hook", "PAS topic, full-resource", "fhir/subscription.json")],
    ("put", "/fhir/Subscription/{subscription_id}"): [
        ("rest-hook", "PAS topic, full-resource", "fhir/subscription.json")
    ],
    ("post", "/cds-services/{service_id}"): [("order-sign", "CRD order-sign", "cds-hooks/order-sign.json")],
}


def _example(name: str) -> Any:
    path = EXAMPLES_DIR / name
    return orjson.loads(path.read_bytes()) if path.is_file() else None


def _responses(operation: dict[str, Any], codes: tuple[str, ...], media: str, schema: dict[str, str]) -> None:
    responses = operation.setdefault("responses", {})
    validation = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if validation.get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    if not operation.get("security"):
        codes = tuple(c for c in codes if c not in ("401", "403"))
    for code in codes:
        if code not in responses:
            responses[code] = {"description": _ERRORS[code], "content": {media: {"schema": schema}}}


def _problems(method: str, path: str, operation: dict[str, Any]) -> None:
    """Non-FHIR routes: FastAPI's 422 becomes the problem+json the error handler answers, plus 401/403/404."""
    responses = operation.setdefault("responses", {})
    if "422" in responses:
        responses["422"] = {
            "description": "A parameter or body field is invalid (each issue names it)",
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
        }
    codes = (("401", "403") if operation.get("security") else ()) + (("404",) if "{" in path else ())
    for code in codes:
        responses.setdefault(code, {"description": _ERRORS[code], "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}})
    for code, why in _EXTRA_ERRORS.get((method, path), {}).items():
        responses.setdefault(code, {"description": why, "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}}})


def _request_examples(method: str, path: str, operation: dict[str, Any]) -> None:
    found = {
        name: {"summary": summary, "value": value}
        for name, summary, file in _EXAMPLES.get((method, path), [])
        if (value := _example(file)) is not None
    }
    if not found:
        return
    media_type = FHIR_JSON if path.startswith("/fhir/") else "application/json"
    body = operation.setdefault("requestBody", {"required": True, "content": {}})
    content = body.setdefault("content", {})
    if not content:
        content[media_type] = {"schema": {"type": "object"}}
    for media in content.values():
        media["examples"] = found


def _security(operation: dict[str, Any]) -> None:
    requirements = operation.get("security")
    if requirements and not any(SCHEME in r for r in requirements):
        requirements.append({SCHEME: []})


def complete_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """Complete FastAPI's document in place (see the module docstring) and return it."""
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.update(_SCHEMAS)
    components.setdefault("securitySchemes", {})[SCHEME] = {
        "type": "oauth2",
        "description": "SMART Backend Services: client_credentials with a signed JWT client assertion "
        "(private_key_jwt, RS384/ES384); `epa token --client ID --key FILE` gets one.",
        "flows": {"clientCredentials": {"tokenUrl": "/auth/token", "scopes": {s: s for s in sorted(ALL_SCOPES)}}},
    }
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            if not isinstance(operation, dict) or method not in ("get", "post", "put", "patch", "delete"):
                continue
            if not operation.get("description"):
                operation["description"] = f"{operation.get('summary', path)}."
            if path.startswith("/fhir/"):
                codes: tuple[str, ...] = _FHIR_WRITE_ERRORS if method in ("post", "put") else _FHIR_READ_ERRORS
                if method == "put":
                    codes = (*codes, "412")
                codes = (*codes, "404") if "{" in path else tuple(c for c in codes if c != "404")
                _responses(operation, codes, FHIR_JSON, _OUTCOME_REF)
            elif path.startswith("/cds-services/"):
                _responses(operation, _CDS_ERRORS, "application/json", _OUTCOME_REF)
            else:
                _problems(method, path, operation)
            _request_examples(method, path, operation)
            _security(operation)
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and unused.encode() not in orjson.dumps(schema.get("paths", {})):
            del schemas[unused]
    return schema


def install_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` return the completed document (built once, then cached by FastAPI)."""
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete_openapi(original())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
