"""A stored authorization's request, read back for a later payer call or a re-rendered answer.

Validate once: `$submit` stores the Bundle as sent plus its normalized form (the typed
`PriorAuthRequest` and the parse warnings, as JSON). Follow-ups, cancels and re-rendered answers
load the typed request from that form and decode the Bundle with orjson; no FHIR validation runs
again. Rows written before the normalized form existed are parsed once more as a fallback.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from pydantic import TypeAdapter

from app.domain.model import PriorAuthRequest
from app.errors import Issue
from app.fhir.submit import ParsedSubmission, parse_submit
from app.payers import PayerReference
from app.store.models import Authorization


@dataclass(frozen=True, slots=True)
class _Normalized:
    request: PriorAuthRequest
    warnings: list[Issue] = field(default_factory=list)


_FORM = TypeAdapter(_Normalized)


def normalized_form(parsed: ParsedSubmission) -> bytes:
    """The typed request and its warnings as JSON, stored beside the Bundle bytes."""
    return _FORM.dump_json(_Normalized(parsed.request, list(parsed.warnings)))


def stored_submission(authorization: Authorization) -> ParsedSubmission:
    """The request as accepted, from its normalized form (no validation), or parsed again for old rows."""
    if authorization.request_form is None:
        return parse_submit(authorization.request_document)
    form = _FORM.validate_json(authorization.request_form)
    bundle = orjson.loads(authorization.request_document)
    return ParsedSubmission(form.request, bundle, authorization.request_document, list(form.warnings))


def stored_request(authorization: Authorization) -> tuple[ParsedSubmission, PayerReference]:
    """The stored request and the payer's reference to it."""
    parsed = stored_submission(authorization)
    reference = PayerReference(
        str(authorization.id), authorization.payer_reference, parsed.request, authorization.request_document
    )
    return parsed, reference
