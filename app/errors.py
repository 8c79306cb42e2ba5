"""The project's error tree. One handler (app.api.errors) renders every EpaError.

    EpaError                      base; carries an HTTP status and a list of Issues
    ├── InvalidRequest            400  the input breaks a rule (FHIR: OperationOutcome lists all issues)
    ├── Unauthorized              401
    ├── Forbidden                 403
    ├── NotFound                  404  (also for another client's resources: existence never leaks)
    ├── NotAcceptable             406  a format (Accept, _format) or FHIR version the service cannot give
    ├── Conflict                  409  e.g. a Claim identifier reused by a different Bundle
    ├── PreconditionFailed        412  an If-Match naming a version that is no longer current
    ├── PayloadTooLarge           413
    ├── UnsupportedMediaType      415
    ├── Unprocessable             422  valid FHIR the service cannot act on (no payer matches, ...)
    ├── RateLimited               429
    └── ServiceUnavailable        503  e.g. database down, schema not current

On FHIR routes the handler renders an OperationOutcome (`application/fhir+json`); elsewhere
`application/problem+json`. Payer adapters have their own tree (app.payers.errors) that the
services translate into these at their boundary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem found, with a FHIRPath `expression` saying where when it is about input."""

    text: str
    code: str = "invalid"  # FHIR issue-type: invalid, structure, required, value, not-found, ...
    severity: Severity = "error"
    expression: str | None = None


class EpaError(Exception):
    status_code: ClassVar[int] = 500
    default_code: ClassVar[str] = "exception"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self, message: str, *, issues: list[Issue] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.issues = issues or [Issue(text=message, code=self.default_code)]
        self.headers = headers or {}


class InvalidRequest(EpaError):
    status_code = 400
    default_code = "invalid"
    title = "Invalid request"


class Unauthorized(EpaError):
    status_code = 401
    default_code = "login"
    title = "Unauthorized"


class Forbidden(EpaError):
    status_code = 403
    default_code = "forbidden"
    title = "Forbidden"


class NotFound(EpaError):
    status_code = 404
    default_code = "not-found"
    title = "Not found"


class NotAcceptable(EpaError):
    status_code = 406
    default_code = "not-supported"
    title = "Not acceptable"


class Conflict(EpaError):
    status_code = 409
    default_code = "conflict"
    title = "Conflict"


class PreconditionFailed(EpaError):
    status_code = 412
    default_code = "conflict"
    title = "Precondition failed"


class PayloadTooLarge(EpaError):
    status_code = 413
    default_code = "too-costly"
    title = "Payload too large"


class UnsupportedMediaType(EpaError):
    status_code = 415
    default_code = "not-supported"
    title = "Unsupported media type"


class Unprocessable(EpaError):
    status_code = 422
    default_code = "processing"
    title = "Unprocessable request"


class RateLimited(EpaError):
    status_code = 429
    default_code = "throttled"
    title = "Too many requests"


class ServiceUnavailable(EpaError):
    status_code = 503
    default_code = "transient"
    title = "Service unavailable"
