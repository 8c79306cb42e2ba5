"""The one place errors become responses: OperationOutcome under /fhir, problem+json elsewhere."""

from __future__ import annotations

from http import HTTPStatus

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.errors import EpaError, Issue
from app.fhir.outcome import operation_outcome

FHIR_JSON = "application/fhir+json"
PROBLEM_JSON = "application/problem+json"


def is_fhir_path(path: str) -> bool:
    return path == "/fhir" or path.startswith("/fhir/")


def is_cds_path(path: str) -> bool:
    """CDS Hooks routes answer errors with an OperationOutcome too (CRD 2.2.1), as application/json."""
    return path == "/cds-services" or path.startswith("/cds-services/")


def error_response(
    request: Request, status: int, issues: list[Issue], headers: dict[str, str] | None = None
) -> Response:
    if is_fhir_path(request.url.path):
        body = orjson.dumps(operation_outcome(issues))
        return Response(body, status_code=status, media_type=FHIR_JSON, headers=headers)
    if is_cds_path(request.url.path):
        body = orjson.dumps(operation_outcome(issues))
        return Response(body, status_code=status, media_type="application/json", headers=headers)
    problem = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": "; ".join(issue.text for issue in issues),
        "issues": [
            {
                "text": i.text,
                "code": i.code,
                "severity": i.severity,
                **({"expression": i.expression} if i.expression else {}),
            }
            for i in issues
        ],
    }
    return Response(orjson.dumps(problem), status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _epa_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EpaError)
    return error_response(request, exc.status_code, exc.issues, exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not-found", 405: "not-supported"}.get(exc.status_code, "processing")
    return error_response(request, exc.status_code, [Issue(text=str(exc.detail), code=code)], dict(exc.headers or {}))


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    issues = [
        Issue(
            text=f"{_location(tuple(err['loc']))}: {err['msg']}",
            code="invalid",
            expression=_location(tuple(err["loc"])),
        )
        for err in exc.errors()
    ]
    return error_response(request, 422 if not is_fhir_path(request.url.path) else 400, issues)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(EpaError, _epa_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
