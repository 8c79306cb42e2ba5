"""A stored authorization's PAS request, read back for a later payer call (follow-up, cancel)."""

from __future__ import annotations

from app.fhir.submit import ParsedSubmission, parse_submit
from app.payers import PayerReference
from app.store.models import Authorization


def stored_request(authorization: Authorization) -> tuple[ParsedSubmission, PayerReference]:
    """The request as submitted (parsed again from its stored bytes) and the payer's reference to it."""
    parsed = parse_submit(authorization.request_document)
    reference = PayerReference(
        str(authorization.id), authorization.payer_reference, parsed.request, authorization.request_document
    )
    return parsed, reference
